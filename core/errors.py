"""The one error envelope (SPEC §4) for every error of the application, any status."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from core.answers import json_answer
from core.jsonprovider import encode
from core.requestid import request_id
from core.resources import ErrorBody, ErrorEnvelope
from tenants import metrics
from tenants.errors import StoreError
from tenants.keyformat import redact_keys

log = logging.getLogger("loopwave.errors")

STATUS_BY_CODE = {
    "VALIDATION_ERROR": 400,
    "AUTH_INVALID_KEY": 401,
    "AUTH_INVALID_TOKEN": 401,
    "LICENSE_INACTIVE": 402,
    "AUTH_INSUFFICIENT_SCOPE": 403,
    "AUTH_FORBIDDEN": 403,
    "AUTH_NO_TENANT": 403,
    "AUTH_IP_NOT_ALLOWED": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
    "AUTH_PROVIDER_UNAVAILABLE": 503,
}

CODE_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "AUTH_INVALID_KEY",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}

MESSAGE_BY_CODE = {
    "VALIDATION_ERROR": "The request is not valid",
    "NOT_FOUND": "The requested resource does not exist",
    "METHOD_NOT_ALLOWED": "The method is not allowed for this resource",
    "PAYLOAD_TOO_LARGE": "The request body exceeds the 1 MiB limit",
    "UNSUPPORTED_MEDIA_TYPE": "Send the body as application/json",
    "RATE_LIMITED": "Too many requests; retry after the time in Retry-After",
    "INTERNAL_ERROR": "An internal error occurred; quote the request id when reporting it",
    "SERVICE_UNAVAILABLE": "The service is temporarily unavailable; retry shortly",
}


class ApiError(Exception):
    """An error raised by the HTTP layer itself (authentication, parsing)."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message or MESSAGE_BY_CODE.get(code, code))
        self.code = code
        self.message = message or MESSAGE_BY_CODE.get(code, code)
        self.details = details
        self.headers = headers or {}


def envelope(
    rid: str | None, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body of every error: ``{"request_id", "error": {"code", "message", "details"?}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return ErrorEnvelope.build(request_id=rid, error=ErrorBody.build(**error))


def error_response(
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    # Encoded here rather than through ``jsonify``, as the JSON provider would encode it: a
    # refused credential (the commonest error) is answered without the provider's dispatch.
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # one lookup
    rid = request_id()
    if details or rid is None:
        body = encode(envelope(rid, code, message, details), indent=app.debug, newline=True)
    else:
        body = _envelope_around_id(code, message, app.debug, rid)
    response = json_answer(app, body, status or STATUS_BY_CODE.get(code, 500))
    if headers:
        for name, value in headers.items():
            response.headers[name] = value
    return response


# An envelope without details, encoded once per code and message: the bytes before and after
# its request id, the one part that differs between requests. Request ids are safe as JSON
# text as they are (``core.requestid``: letters, digits, ``.``, ``_``, ``-``). Bounded: a
# message may carry client text (redacted), so the set of messages is not fixed.
_ENVELOPES: dict[tuple[str, str, bool], tuple[bytes, bytes]] = {}
_ENVELOPES_SIZE = 1_000
_ID_MARK = "=request-id="


def _envelope_around_id(code: str, message: str, indent: bool, rid: str) -> bytes:
    """``encode(envelope(rid, code, message), indent=indent, newline=True)``, spliced."""
    parts = _ENVELOPES.get((code, message, indent))
    if parts is None:
        encoded = encode(envelope(_ID_MARK, code, message), indent=indent, newline=True)
        # The last mark is the request id's: keys are sorted, "request_id" after "error".
        before, _, after = encoded.rpartition(_ID_MARK.encode())
        parts = (before, after)
        if len(_ENVELOPES) >= _ENVELOPES_SIZE:
            _ENVELOPES.clear()
        _ENVELOPES[(code, message, indent)] = parts
    return parts[0] + rid.encode() + parts[1]


def refusal_response(exc: ApiError | StoreError) -> Response:
    """The answer to a refused request (an ``ApiError`` or a store's domain error), counted
    for ``/metrics`` when it refuses a credential or a permission."""
    _count_refusal(exc.code)
    return error_response(exc.code, exc.message, exc.details, headers=getattr(exc, "headers", None))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, refusal_response)
    app.register_error_handler(StoreError, refusal_response)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = CODE_BY_STATUS.get(status, "VALIDATION_ERROR" if status < 500 else "INTERNAL_ERROR")
        message = MESSAGE_BY_CODE.get(code, exc.name)
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        if status == 431:
            message = "Request headers are too large"
        return error_response(code, message, status=status, headers=headers)

    @app.errorhandler(DBAPIError)
    def handle_database_error(exc: DBAPIError) -> Response:
        _rollback(app)
        if exc.connection_invalidated or _is_connection_error(exc):
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return error_response(
                "SERVICE_UNAVAILABLE",
                MESSAGE_BY_CODE["SERVICE_UNAVAILABLE"],
                headers={"Retry-After": "1"},
            )
        _log_failure("database error", exc, _database_error_summary(exc))
        return error_response("INTERNAL_ERROR", MESSAGE_BY_CODE["INTERNAL_ERROR"])

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        _rollback(app)
        _log_failure("unhandled error", exc)
        return error_response("INTERNAL_ERROR", MESSAGE_BY_CODE["INTERNAL_ERROR"])


def _count_refusal(code: str) -> None:
    """Authentication and permission refusals (401, 402, 403) by code, for ``/metrics``."""
    if 401 <= STATUS_BY_CODE.get(code, 0) <= 403:
        metrics.auth_failure(code)


def _log_failure(what: str, exc: BaseException, summary: str | None = None) -> None:
    """Log an unexpected error with method, path, request id and traceback.

    The path and the exception's message (and those of its causes) may carry client text, a
    pasted API key included, so the whole entry goes through ``redact_keys``. The traceback is
    formatted here for that reason, rather than left to the handler through ``exc_info``.
    With a ``summary``, the stack is logged without the exception's own messages.
    """
    if summary is None:
        trace = "".join(traceback.format_exception(exc)).rstrip()
    else:
        stack = "".join(traceback.format_tb(exc.__traceback__))
        trace = f"Traceback (most recent call last):\n{stack}{summary}"
    log.error(
        "%s", redact_keys(f"{what} on {request.method} {request.path} [{request_id()}]\n{trace}")
    )


def _database_error_summary(exc: DBAPIError) -> str:
    """The driver's error class, SQLSTATE, the constraint, table and column it names, and the
    statement as written: everything but values.

    The engine's ``hide_parameters`` keeps bound values out of SQLAlchemy's message, but the
    database's own message quotes them too (PostgreSQL: "Failing row contains (...)", "Key
    (key_hash)=(...) already exists"), so that message is left out.
    """
    driver_error = exc.orig
    diagnostics = getattr(driver_error, "diag", None)
    named = {
        "sqlstate": getattr(driver_error, "sqlstate", None)
        or getattr(driver_error, "sqlite_errorname", None),
        "constraint": getattr(diagnostics, "constraint_name", None),
        "table": getattr(diagnostics, "table_name", None),
        "column": getattr(diagnostics, "column_name", None),
    }
    details = ", ".join(f"{name} {value}" for name, value in named.items() if value)
    return f"{type(driver_error).__name__} ({details}) in: {exc.statement}"


def _is_connection_error(exc: DBAPIError) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def _rollback(app: Flask) -> None:
    db = app.extensions.get("sqlalchemy")
    if db is not None:
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be the thing that failed
            log.debug("rollback after error failed", exc_info=True)
