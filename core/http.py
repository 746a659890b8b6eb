"""Request plumbing for every route: request ids, JSON bodies, header limits, response headers."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask.sessions import SessionInterface
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestHeaderFieldsTooLarge

from core.errors import ApiError
from core.extensions import db
from core.logging import log_request
from tenants.keyformat import looks_like_key
from tenants.pagination import paginate, parse_limit

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
Body = TypeVar("Body", bound=BaseModel)
View = TypeVar("View", bound=Callable[..., Any])

# A backstop behind the server's own limits (gunicorn: limit_request_field_size=8190 and
# limit_request_fields=100 by default), so the dev server or a lax proxy cannot feed the app
# unbounded headers. Looser than gunicorn's, so the first refusal in production is gunicorn's
# and the app's own checks of its headers (key shape, token size) stay reachable in tests.
MAX_HEADER_FIELD_BYTES = 16 * 1024
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


def _defaults(csp: str) -> tuple[tuple[str, str, str], ...]:
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": csp, "Cache-Control": "no-store"}
    return tuple((name.lower(), name, value) for name, value in headers.items())


_JSON_DEFAULTS = _defaults(JSON_CSP)
_PAGE_DEFAULTS = _defaults(DEFAULT_CSP)


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


class LoopwaveFlask(Flask):
    """Flask, with its per-call coroutine check of hooks and views answered once per function.

    ``Flask.ensure_sync`` runs ``inspect.iscoroutinefunction`` on every hook and view of every
    request (about 5 us each, six times a request here). The answer never changes for a given
    function, so it is cached.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_callables: dict[Any, Any] = {}

    def ensure_sync(self, func):
        try:
            return self._sync_callables[func]
        except KeyError:
            wrapped = self._sync_callables[func] = super().ensure_sync(func)
            return wrapped
        except TypeError:  # unhashable callable
            return super().ensure_sync(func)


def new_request_id() -> str:
    # Request ids correlate logs; they need to be unique, not unpredictable.
    return f"req_{random.getrandbits(96):024x}"


class StatelessSessions(SessionInterface):
    """No cookie sessions: the API authenticates by key, the console by bearer token.

    Flask's default opens a signed cookie session on every request once SECRET_KEY is set,
    which costs the hot path ~0.1 ms for state nothing here uses.
    """

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        return None


def register_request_hooks(app: Flask) -> None:
    app.session_interface = StatelessSessions()

    # One hook on each side for every request: each hook costs ~10 us of Flask dispatch.
    @app.before_request
    def begin_request() -> None:
        context = g._get_current_object()
        context.request_started = time.perf_counter()
        sent = request.environ.get("HTTP_X_REQUEST_ID", "")
        context.request_id = sent if _echoable(sent) else new_request_id()
        _limit_header_size(request.environ)
        # Werkzeug enforces the limit only when a body is read; a route that ignores its body
        # (revoke) would otherwise act on a request the SPEC says is refused.
        declared = request.content_length
        if declared is not None and declared > app.config["MAX_CONTENT_LENGTH"]:
            raise ApiError("PAYLOAD_TOO_LARGE")

    @app.after_request
    def finish_response(response):
        headers = response.headers
        # A page (the dashboard, /docs) may have set its own: add only what is missing, in
        # one pass (Headers.set rescans the list for every name).
        present = {name.lower() for name, _ in headers.items()}
        json = (response.content_type or "").startswith("application/json")
        defaults = _JSON_DEFAULTS if json else _PAGE_DEFAULTS
        headers.extend([(name, value) for lower, name, value in defaults if lower not in present])
        headers.add("X-Request-Id", g.get("request_id") or new_request_id())
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        log_request(response)
        return response


def _limit_header_size(environ: dict[str, Any]) -> None:
    total = 0
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            size = len(name) + len(value)
            if size > MAX_HEADER_FIELD_BYTES:
                raise RequestHeaderFieldsTooLarge()
            total += size
    if total > MAX_HEADER_TOTAL_BYTES:
        raise RequestHeaderFieldsTooLarge()


def _echoable(sent: str) -> bool:
    """A well-formed request id that is not (nearly) an API key: secrets are never echoed."""
    return _REQUEST_ID.fullmatch(sent) is not None and not looks_like_key(sent)


def accepts(model: type[BaseModel], optional: bool = False) -> Callable[[View], View]:
    """Parse the JSON body into ``model`` and pass it to the view as ``body``.

    The model is named once, here: the OpenAPI builder reads ``request_model`` off the view
    to document the request body, so the schema is never written twice. ``optional``: an
    empty body means the model's defaults.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args, **kwargs):
            empty = optional and not request.content_length
            return view(*args, body=model() if empty else json_body(model), **kwargs)

        wrapper.request_model = model  # type: ignore[attr-defined]
        wrapper.request_body_required = not optional  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def json_body(model: type[Body]) -> Body:
    """The request body parsed into ``model``; 415, 400 or 413 envelopes otherwise."""
    if not request.is_json:
        raise ApiError("UNSUPPORTED_MEDIA_TYPE")
    raw = request.get_data(cache=True)
    if request.content_length is None and len(raw) >= current_app.config["MAX_CONTENT_LENGTH"]:
        # A streamed (chunked) body is cut at the limit rather than refused: refuse it here.
        raise ApiError("PAYLOAD_TOO_LARGE")
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


def list_page(statement, id_column, serialize: Callable, newest_first: bool = True) -> dict:
    """One page of a tenant list as ``{"data": [...], "next_cursor": ...}``, from the request's
    ``limit`` and ``cursor``: the one shape of every list of both blueprints."""
    page = paginate(
        db.session,
        statement,
        id_column,
        parse_limit(request.args.get("limit")),
        request.args.get("cursor"),
        newest_first,
    )
    return {"data": [serialize(item) for item in page.items], "next_cursor": page.next_cursor}
