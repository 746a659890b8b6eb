"""Request plumbing for every route: the middleware, JSON bodies, public routes, list pages."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from functools import wraps
from inspect import CO_COROUTINE
from types import FunctionType, MethodType
from typing import Any, NoReturn, TypeVar

from flask import Flask, Request, Response, current_app, request
from flask.sessions import NullSession, SessionInterface, SessionMixin
from pydantic import BaseModel, ValidationError
from werkzeug.routing import Map

from core.clientip import client_ip_from
from core.database import read_only, read_rows
from core.errors import ApiError
from core.extensions import db
from core.jsonprovider import OrjsonProvider
from core.middleware import RequestPlumbing
from core.resources import Page
from tenants.keyformat import redact_keys
from tenants.pagination import AnySelect, IdColumn, PageQuery, paginate, paginate_query, parse_limit

PUBLIC_ENDPOINTS = "loopwave.public_endpoints"
# No body of either API nests deeper than an object holding a list or an object of strings.
# The limit leaves ample room and keeps everything that walks a parsed body (validation, the
# idempotency fingerprint's re-encoding) far from Python's recursion limit.
MAX_JSON_DEPTH = 32
Body = TypeVar("Body", bound=BaseModel)
View = TypeVar("View", bound=Callable[..., Any])
Result = TypeVar("Result")


def public(view: View) -> View:
    """Mark ``view`` as reachable without credentials: the blueprints' auth hooks skip it.

    Deny by default stays the rule; this marker is the one, greppable, exception (the OpenAPI
    documents). The OpenAPI builder reads it too and documents the operation as public.
    """
    view.__dict__["public"] = True  # a function attribute, as ``functools.wraps`` copies
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


class NoRedirectMap(Map):
    """Werkzeug's URL map without its two routing redirects.

    Werkzeug redirects ``/a//b`` to ``/a/b`` (merged slashes) and ``/dashboard`` to
    ``/dashboard/`` (a rule ending in a slash) with an absolute URL built from the request's
    ``Host`` header, so ``Host: evil.example`` made the app answer a 308 to another site.
    Here a doubled slash is simply not found (404), and a rule ending in a slash also matches
    without it. Set per map, before any rule is added: each rule copies both settings when it
    is bound.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        kw.setdefault("merge_slashes", False)
        kw.setdefault("strict_slashes", False)
        super().__init__(*args, **kw)


class LoopwaveFlask(Flask):
    """Flask, with JSON through orjson (``core.jsonprovider``), no routing redirects
    (``NoRedirectMap``) and a cheaper answer to "is this hook or view a coroutine function?"
    (``ensure_sync``)."""

    json_provider_class = OrjsonProvider
    url_map_class = NoRedirectMap

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """``Flask.ensure_sync``, the documented place to change how views and hooks are run.

        Flask asks ``inspect.iscoroutinefunction`` of every hook and view on every request.
        For a plain function (or a method of one) the answer is its code's
        ``CO_COROUTINE`` flag, read here directly; nothing is remembered between calls.
        Anything else (a partial, a callable object), and every function on Python 3.12 and
        later (where ``inspect.markcoroutinefunction`` can mark a plain function), takes
        Flask's own path.
        """
        plain = func.__func__ if type(func) is MethodType else func
        if (
            type(plain) is FunctionType
            and not plain.__code__.co_flags & CO_COROUTINE
            and not _COROUTINE_MARKS
        ):
            return func
        return super().ensure_sync(func)


# Python 3.12+ lets a plain function be marked a coroutine function without its code saying so.
_COROUTINE_MARKS = hasattr(inspect, "markcoroutinefunction")


class SealedNullSession(NullSession):
    """Flask's null session, closed to ``|=`` as well (``NullSession`` refuses every other
    write), so that one instance can serve every request."""

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]  # never returns, unlike dict's
        raise RuntimeError("Loopwave keeps no cookie sessions: the session cannot be written")


class StatelessSessions(SessionInterface):
    """No cookie sessions: the API authenticates by key, the console by bearer token.

    Flask's default opens a signed cookie session on every request once SECRET_KEY is set,
    which costs the hot path dearly (docs/performance.md) for state nothing here uses.
    """

    null_session_class = SealedNullSession

    def __init__(self) -> None:
        # Null sessions refuse every write, and ``save_session`` ignores them: one serves all.
        self._null_session = self.null_session_class()

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        return self._null_session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def install_request_plumbing(app: Flask) -> None:
    """No cookie sessions; request ids, size limits, standard headers and the request log
    line in ``core.middleware``, around the whole application."""
    app.session_interface = StatelessSessions()
    # Flask's documented way to add WSGI middleware ("Application Dispatching").
    app.wsgi_app = RequestPlumbing(  # type: ignore[method-assign]
        app.wsgi_app, app.config["MAX_CONTENT_LENGTH"]
    )


def accepts(
    model: type[BaseModel], optional: bool = False
) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Parse the JSON body into ``model`` and pass it to the view as ``body``.

    The model is named once, here: the OpenAPI builder reads ``request_model`` off the view
    to document the request body, so the schema is never written twice. ``optional``: an
    empty body means the model's defaults. The view takes ``body`` besides its URL
    arguments, which is all the wrapper takes: no ``ParamSpec`` can drop a keyword.
    """

    def decorate(view: Callable[..., Result]) -> Callable[..., Result]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Result:
            empty = optional and not request.content_length
            return view(*args, body=model() if empty else json_body(model), **kwargs)

        wrapper.__dict__.update(request_model=model, request_body_required=not optional)
        return wrapper

    return decorate


def json_body(model: type[Body]) -> Body:
    """The request body parsed into ``model``; 415, 400 or 413 envelopes otherwise."""
    if not request.is_json:
        raise ApiError("UNSUPPORTED_MEDIA_TYPE")
    # The body's size is settled before any view runs: core.middleware refuses a declared
    # length over the limit and reads a chunked body whole, refusing it past the limit.
    raw = request.get_data(cache=True)
    try:
        payload = parse_json(raw) if raw else None
    except NestingTooDeep as exc:
        raise ApiError(
            "VALIDATION_ERROR", f"The body nests deeper than {MAX_JSON_DEPTH} levels"
        ) from exc
    except ValueError as exc:  # UnicodeDecodeError included
        raise ApiError("VALIDATION_ERROR", "The body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise ApiError("VALIDATION_ERROR", "The body must be a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(
            "VALIDATION_ERROR", "Some fields are not valid", {"fields": field_errors(exc)}
        ) from exc


class NestingTooDeep(ValueError):
    """A JSON document nests arrays and objects deeper than ``MAX_JSON_DEPTH``."""


def parse_json(raw: bytes) -> Any:
    """``raw`` parsed as JSON; ``ValueError`` when it is not JSON or nests too deeply.

    The standard library's parser recurses once per level of nesting, so a small body of
    ~1,000 ``[`` raises ``RecursionError``, which no caller expects from bad input. Both that
    and a parsed document deeper than ``MAX_JSON_DEPTH`` become ``NestingTooDeep``, a
    ``ValueError`` like any other malformed JSON.
    """
    try:
        payload = json.loads(raw)
    except RecursionError as exc:
        raise NestingTooDeep() from exc
    if _nests_deeper_than(payload, MAX_JSON_DEPTH, raw):
        raise NestingTooDeep()
    return payload


def _nests_deeper_than(payload: Any, limit: int, raw: bytes) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # too few brackets to nest that deep: no walk (nearly every body)
    # A walk with its own stack, so that the depth of the document never meets the recursion
    # limit; only containers are pushed.
    pending = [(payload, 1)] if isinstance(payload, dict | list) else []
    while pending:
        container, depth = pending.pop()
        if depth > limit:
            return True
        children = container.values() if isinstance(container, dict) else container
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``[{"field": "phone", "message": "..."}]``, without echoing input.

    A field's name is client text too (an unknown field is named in its error), so names and
    messages go through ``redact_keys``.
    """
    return [
        {
            "field": redact_keys(".".join(str(part) for part in error["loc"])) or "body",
            "message": redact_keys(error["msg"]),
        }
        for error in exc.errors(include_url=False, include_input=False)
    ]


def client_ip() -> str | None:
    """The client address of this request, ``TRUSTED_PROXIES`` considered (``core.clientip``)."""
    return client_ip_from(request.environ, current_app.config["TRUSTED_PROXIES"])


def list_page(
    statement: AnySelect,
    id_column: IdColumn,
    serialize: Callable[[Any], dict[str, Any]],
    newest_first: bool = True,
    rows: bool = False,
) -> dict[str, Any]:
    """One page of a tenant list (``core.resources.Page``), from the request's ``limit`` and
    ``cursor``, each item shaped by ``serialize`` (a resource's ``of``, or ``of_row`` when
    ``rows``: the statement selects columns, ``tenants.pagination.paginate``)."""
    limit, cursor = parse_limit(request.args.get("limit")), request.args.get("cursor")
    page = read_only(
        lambda: paginate(db.session, statement, id_column, limit, cursor, newest_first, rows)
    )
    return Page.build(data=[serialize(item) for item in page.items], next_cursor=page.next_cursor)


def query_page(
    query: PageQuery,
    params: dict[str, Any],
    of_rows: Callable[..., list[dict[str, Any]]],
    **given: Any,
) -> dict[str, Any]:
    """``list_page`` of a list whose statements are built once (``PageQuery``) and select the
    columns of a resource (``Resource.columns``); ``params`` gives the values of the query's
    bound parameters for this request, ``of_rows`` shapes the rows (``Resource.of_rows``, or
    ``Resource.rows_given`` with the fields ``given`` that are the same in every row)."""
    limit, cursor = parse_limit(request.args.get("limit")), request.args.get("cursor")
    page = paginate_query(read_rows, query, params, limit, cursor)
    return Page.build(data=of_rows(page.items, **given), next_cursor=page.next_cursor)
