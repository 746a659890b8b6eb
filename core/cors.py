"""CORS: the console API answers the configured dashboard origins; nothing else answers any.

The browser dashboard may live on another origin than the API (``CONSOLE_AUTHORIZED_PARTIES``
lists the origins allowed to hold session tokens, so the same list decides who may call
``/console/`` from a browser). The tenant API is server-to-server: it never sends CORS
headers, so a page on any origin cannot read its answers even with a stolen key.

Session tokens travel in ``Authorization``, never in cookies, so credentials mode is not
needed and ``Access-Control-Allow-Credentials`` is never sent.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONSOLE_PREFIX = "/console/"
ALLOWED_METHODS = "GET, POST, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
EXPOSED_HEADERS = "X-Request-Id, Retry-After"
PREFLIGHT_MAX_AGE = "600"


def register_cors(app: Flask) -> None:
    @app.before_request
    def answer_preflight() -> Response | None:
        """A preflight carries no token: answer it before the console authenticates."""
        if request.method != "OPTIONS" or not _allowed_origin():
            return None
        if "Access-Control-Request-Method" not in request.headers:
            return None
        response = current_app.response_class(status=204)
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        if request.path.startswith(CONSOLE_PREFIX):
            # Caches must not serve one origin's answer to another.
            response.vary.add("Origin")
        origin = _allowed_origin()
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response


def _allowed_origin() -> str | None:
    """The request's ``Origin`` when it may read this console response, else None."""
    if not request.path.startswith(CONSOLE_PREFIX):
        return None
    origin = request.headers.get("Origin", "")
    allowed = current_app.config["CONSOLE_AUTHORIZED_PARTIES"]
    return origin if origin and origin in allowed else None
