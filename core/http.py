"""Request plumbing for every route: request ids, JSON bodies, response headers."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any, TypeVar

from flask import Flask, g, request
from pydantic import BaseModel, ValidationError

from core.errors import ApiError

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
Body = TypeVar("Body", bound=BaseModel)


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        sent = request.headers.get("X-Request-Id", "")
        g.request_id = sent if _REQUEST_ID.fullmatch(sent) else f"req_{secrets.token_hex(12)}"

    @app.after_request
    def add_standard_headers(response):
        response.headers["X-Request-Id"] = g.get("request_id") or f"req_{secrets.token_hex(12)}"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "application/json":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


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
