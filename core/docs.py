"""``/docs``: a small, self-written OpenAPI renderer. No CDN, works offline, no inline script.

The page fetches the public documents (``/api/v1/openapi.json``, ``/console/openapi.json``) and
renders their operations, scopes, parameters, bodies and responses in plain DOM. It is a
reading aid, not a console: it never sends credentials and has no "try it" button.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

from core.extensions import security_headers
from core.headers import DOCS_CSP

STATIC = Path(__file__).with_name("docs_static")

bp = Blueprint("docs", __name__)


security_headers.use_page_policy(bp, DOCS_CSP)


def _send(name: str):
    return send_from_directory(STATIC, name, max_age=300)


@bp.get("/docs")
def page():
    return _send("index.html")


@bp.get("/docs/<any('docs.js', 'docs.css'):asset>")
def asset(asset: str):
    return _send(asset)
