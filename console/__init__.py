"""The console API for the browser dashboard (``/console``), authenticated by session JWTs."""

from flask import Blueprint

from core.cors import apply_cors

bp = Blueprint("console", __name__, url_prefix="/console")
# CORS first: a preflight carries no token, so it must be answered before authentication.
bp.before_request(apply_cors)

from console import auth, openapi, views, webhooks  # noqa: E402,F401  (registers the hooks and routes on bp)
