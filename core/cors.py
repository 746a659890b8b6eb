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
    """Hooks of the console blueprint alone: the tenant API and the pages never pay for CORS.

    The preflight answer is put first, ahead of the console's authentication (a preflight
    carries no token); call this before the console blueprint is registered.
    """
    app.before_request_funcs.setdefault("console", []).insert(0, answer_preflight)
    app.after_request_funcs.setdefault("console", []).append(add_cors_headers)


def answer_preflight() -> Response | None:
    if request.method != "OPTIONS" or not _allowed_origin():
        return None
    if "Access-Control-Request-Method" not in request.headers:
        return None
    response = current_app.response_class(status=204)
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def add_cors_headers(response: Response) -> Response:
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
