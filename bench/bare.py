"""The baseline: a bare Flask JSON route, served with the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare():
    return {"status": "ok"}
