"""Request plumbing for every route: the middleware, JSON bodies, public routes, list pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, current_app, request
from flask.sessions import NullSession, SessionInterface
from pydantic import BaseModel, ValidationError

from core.errors import ApiError
from core.extensions import db
from core.jsonprovider import OrjsonProvider
from core.middleware import RequestPlumbing
from tenants.pagination import paginate, parse_limit

PUBLIC_ENDPOINTS = "loopwave.public_endpoints"
Body = TypeVar("Body", bound=BaseModel)
View = TypeVar("View", bound=Callable[..., Any])


def public(view: View) -> View:
    """Mark ``view`` as reachable without credentials: the blueprints' auth hooks skip it.

    Deny by default stays the rule; this marker is the one, greppable, exception (the OpenAPI
    documents). The OpenAPI builder reads it too and documents the operation as public.
    """
    view.public = True  # type: ignore[attr-defined]
    return view


def collect_public_endpoints(app: Flask) -> None:
    """Note the endpoints whose views carry ``@public``, once every route is registered: the
    authentication hooks then ask ``is_public_endpoint``, a set lookup."""
    app.extensions[PUBLIC_ENDPOINTS] = frozenset(
        endpoint for endpoint, view in app.view_functions.items() if getattr(view, "public", False)
    )


def is_public_endpoint(app: Flask, this_request: Request) -> bool:
    """True when the matched view of ``this_request`` carries the ``@public`` marker."""
    return this_request.endpoint in app.extensions[PUBLIC_ENDPOINTS]


class LoopwaveFlask(Flask):
    """Flask, with JSON through orjson (``core.jsonprovider``) and its per-call coroutine
    check of hooks and views answered once per function.

    ``Flask.ensure_sync`` runs ``inspect.iscoroutinefunction`` on every hook and view of every
    request (about 5 us each, six times a request here). The answer never changes for a given
    function, so it is cached.
    """

    json_provider_class = OrjsonProvider

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


class SealedNullSession(NullSession):
    """Flask's null session, closed to ``|=`` as well (``NullSession`` refuses every other
    write), so that one instance can serve every request."""

    def __ior__(self, other):
        raise RuntimeError("Loopwave keeps no cookie sessions: the session cannot be written")


class StatelessSessions(SessionInterface):
    """No cookie sessions: the API authenticates by key, the console by bearer token.

    Flask's default opens a signed cookie session on every request once SECRET_KEY is set,
    which costs the hot path ~0.1 ms for state nothing here uses.
    """

    null_session_class = SealedNullSession

    def __init__(self) -> None:
        # Null sessions refuse every write, and ``save_session`` ignores them: one serves all.
        self._null_session = self.null_session_class()

    def open_session(self, app, request):
        return self._null_session

    def save_session(self, app, session, response) -> None:
        return None


def install_request_plumbing(app: Flask) -> None:
    """No cookie sessions; request ids, size limits, standard headers and the request log
    line in ``core.middleware``, around the whole application."""
    app.session_interface = StatelessSessions()
    app.wsgi_app = RequestPlumbing(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])


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


def list_page(
    statement, id_column, serialize: Callable, newest_first: bool = True, rows: bool = False
) -> dict:
    """One page of a tenant list as ``{"data": [...], "next_cursor": ...}``, from the request's
    ``limit`` and ``cursor``: the one shape of every list of both blueprints. ``rows``: the
    statement selects columns (``tenants.pagination.paginate``)."""
    page = paginate(
        db.session,
        statement,
        id_column,
        parse_limit(request.args.get("limit")),
        request.args.get("cursor"),
        newest_first,
        rows,
    )
    return {"data": [serialize(item) for item in page.items], "next_cursor": page.next_cursor}
