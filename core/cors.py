"""CORS: the console API answers the configured dashboard origins; nothing else answers any.

The browser dashboard may live on another origin than the API (``CONSOLE_AUTHORIZED_PARTIES``
lists the origins allowed to hold session tokens, so the same list decides who may call
``/console/`` from a browser). The tenant API is server-to-server: it never sends CORS
headers, so a page on any origin cannot read its answers even with a stolen key.

Session tokens travel in ``Authorization``, never in cookies, so credentials mode is not
needed and ``Access-Control-Allow-Credentials`` is never sent.
"""

from __future__ import annotations

from flask import Response, current_app, request

CONSOLE_PREFIX = "/console/"
ALLOWED_METHODS = "GET, POST, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
EXPOSED_HEADERS = "X-Request-Id, Retry-After"
PREFLIGHT_MAX_AGE = "600"


def answer_preflight() -> Response | None:
    """The console blueprint's first ``before_request`` hook (the tenant API and the pages
    never pay for CORS), ahead of its authentication: a preflight carries no token. Answers
    a preflight from an allowed origin; ``add_cors_headers`` adds the origin's headers."""
    if (
        request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
        and _allowed_origin()
    ):
        response = current_app.response_class(status=204)
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
    return None


def add_cors_headers(response: Response) -> Response:
    """The console blueprint's ``after_request`` hook: every console answer, an error or a
    preflight included, names the origin that may read it (if any), and caches must not
    serve one origin's answer to another."""
    response.headers.add("Vary", "Origin")
    origin = _allowed_origin()
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _allowed_origin() -> str | None:
    """The request's ``Origin`` when it may read this console response, else None."""
    origin = request.environ.get("HTTP_ORIGIN")
    if not origin or not request.path.startswith(CONSOLE_PREFIX):
        return None
    return origin if origin in current_app.config["CONSOLE_AUTHORIZED_PARTIES"] else None
