"""The console API for the browser dashboard (``/console``), authenticated by session JWTs."""

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console")

from console import auth, views  # noqa: E402,F401  (registers the hooks and routes on bp)
