"""CORS: the console API answers the configured dashboard origins; nothing else answers any.

The browser dashboard may live on another origin than the API (``CONSOLE_AUTHORIZED_PARTIES``
lists the origins allowed to hold session tokens, so the same list decides who may call
``/console/`` from a browser). The tenant API is server-to-server: it never sends CORS
headers, so a page on any origin cannot read its answers even with a stolen key.

Session tokens travel in ``Authorization``, never in cookies, so credentials mode is not
needed and ``Access-Control-Allow-Credentials`` is never sent.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from core.middleware import add_headers

CONSOLE_PREFIX = "/console/"
ALLOWED_METHODS = "GET, POST, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
EXPOSED_HEADERS = "X-Request-Id, Retry-After"
PREFLIGHT_MAX_AGE = "600"
VARY = ("Vary", "Origin")
NO_ORIGIN_HEADERS = (VARY,)


def answer_cors() -> Response | None:
    """The console blueprint's first ``before_request`` hook (the tenant API and the pages
    never pay for CORS), ahead of its authentication: a preflight carries no token.

    Every console answer (an error, a refusal of the authentication hook after this one, a
    preflight) names the origin that may read it, if any, and says that caches must not serve
    one origin's answer to another: the request plumbing adds these headers to whatever the
    answer turns out to be (``core.middleware.add_headers``), as an ``after_request`` hook
    would, for a hook call fewer. A preflight from an allowed origin is answered here."""
    this_request = request._get_current_object()  # type: ignore[attr-defined]  # one lookup
    environ = this_request.environ
    origin = _allowed_origin(environ)
    if origin is None:
        add_headers(environ, NO_ORIGIN_HEADERS)
        return None
    add_headers(
        environ,
        (
            VARY,
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        ),
    )
    if this_request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
        response = current_app.response_class(status=204)
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
    return None


def _allowed_origin(environ: dict[str, Any]) -> str | None:
    """The request's ``Origin`` when it may read this console response, else None."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin or not environ.get("PATH_INFO", "").startswith(CONSOLE_PREFIX):
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # one lookup
    return origin if origin in app.config["CONSOLE_AUTHORIZED_PARTIES"] else None
