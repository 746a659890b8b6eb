"""Request plumbing for every route: request ids, JSON bodies, header limits, response headers."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestHeaderFieldsTooLarge

from core.errors import ApiError
from tenants.keyformat import looks_like_key

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
Body = TypeVar("Body", bound=BaseModel)
View = TypeVar("View", bound=Callable[..., Any])

# The same bounds as gunicorn's defaults (limit_request_field_size=8190), enforced in the app
# too so every server in front of it (the dev server, a misconfigured proxy) gets them.
MAX_HEADER_FIELD_BYTES = 8190
MAX_HEADER_TOTAL_BYTES = 32 * 1024

# Every response: no MIME sniffing, no framing, no referrer leaks, no powerful browser
# features. A JSON response may run nothing at all; HTML pages set their own stricter policy.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DEFAULT_CSP = "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"


def public(view: View) -> View:
    """Mark ``view`` as reachable without credentials: the blueprints' auth hooks skip it.

    Deny by default stays the rule; this marker is the one, greppable, exception (the OpenAPI
    documents). The OpenAPI builder reads it too and documents the operation as public.
    """
    view.public = True  # type: ignore[attr-defined]
    return view


def is_public_endpoint() -> bool:
    """True when the matched view of this request carries the ``@public`` marker."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "public", False))


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        sent = request.headers.get("X-Request-Id", "")
        g.request_id = sent if _echoable(sent) else f"req_{secrets.token_hex(12)}"

    @app.before_request
    def limit_header_size() -> None:
        total = 0
        for name, value in request.headers.items():
            size = len(name) + len(value) + 4
            if size > MAX_HEADER_FIELD_BYTES:
                raise RequestHeaderFieldsTooLarge()
            total += size
        if total > MAX_HEADER_TOTAL_BYTES:
            raise RequestHeaderFieldsTooLarge()

    @app.after_request
    def add_standard_headers(response):
        response.headers["X-Request-Id"] = g.get("request_id") or f"req_{secrets.token_hex(12)}"
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "application/json":
            response.headers.setdefault("Content-Security-Policy", JSON_CSP)
            response.headers.setdefault("Cache-Control", "no-store")
        else:
            response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def _echoable(sent: str) -> bool:
    """A well-formed request id that is not (nearly) an API key: secrets are never echoed."""
    return bool(_REQUEST_ID.fullmatch(sent)) and not looks_like_key(
        sent, current_app.config["API_KEY_PREFIX"]
    )


def accepts(model: type[BaseModel]) -> Callable[[View], View]:
    """Parse the JSON body into ``model`` and pass it to the view as ``body``.

    The model is named once, here: the OpenAPI builder reads ``request_model`` off the view
    to document the request body, so the schema is never written twice.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, body=json_body(model), **kwargs)

        wrapper.request_model = model  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def json_body(model: type[Body]) -> Body:
    """The request body parsed into ``model``; 415, 400 or 413 envelopes otherwise."""
    if not request.is_json:
        raise ApiError("UNSUPPORTED_MEDIA_TYPE")
    raw = request.get_data(cache=True)
    try:
        payload = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("VALIDATION_ERROR", "The body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise ApiError("VALIDATION_ERROR", "The body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(
            "VALIDATION_ERROR", "Some fields are not valid", {"fields": field_errors(exc)}
        ) from exc


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``[{"field": "phone", "message": "..."}]``, without echoing input."""
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


def client_ip() -> str | None:
    return request.remote_addr
