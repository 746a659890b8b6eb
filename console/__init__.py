"""The console API for the browser dashboard (``/console``), authenticated by session JWTs."""

from flask import Blueprint

from core.cors import add_cors_headers, answer_preflight

bp = Blueprint("console", __name__, url_prefix="/console")
# CORS first: a preflight carries no token, so it must be answered before authentication.
bp.before_request(answer_preflight)
bp.after_request(add_cors_headers)

from console import alerts, auth, openapi, views, webhooks  # noqa: E402,F401  (registers the hooks and routes on bp)
