"""The console API for the browser dashboard (``/console``), authenticated by session JWTs."""

from flask import Blueprint

from core.cors import answer_cors

bp = Blueprint("console", __name__, url_prefix="/console")
# CORS first: a preflight carries no token, so it must be answered before authentication;
# the CORS headers of every other answer are added by the request plumbing (``core.cors``).
bp.before_request(answer_cors)

from console import alerts, auth, openapi, views, webhooks  # noqa: E402,F401  (registers the hooks and routes on bp)
