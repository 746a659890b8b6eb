"""Request plumbing for every route: request ids, JSON bodies, response headers."""

from __future__ import annotations

import json
import random
import re
import time
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask.sessions import SessionInterface
from pydantic import BaseModel, ValidationError

from core.errors import ApiError
from core.logging import log_request

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
Body = TypeVar("Body", bound=BaseModel)


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
        context.request_id = sent if _REQUEST_ID.fullmatch(sent) else new_request_id()
        # Werkzeug enforces the limit only when a body is read; a route that ignores its body
        # (revoke) would otherwise act on a request the SPEC says is refused.
        declared = request.content_length
        if declared is not None and declared > app.config["MAX_CONTENT_LENGTH"]:
            raise ApiError("PAYLOAD_TOO_LARGE")

    @app.after_request
    def finish_response(response):
        headers = response.headers
        headers["X-Request-Id"] = g.get("request_id") or new_request_id()
        headers["X-Content-Type-Options"] = "nosniff"
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        log_request(response)
        return response


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
