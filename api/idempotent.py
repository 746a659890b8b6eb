"""``Idempotency-Key`` on every POST, and the single commit of each write."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeAlias

from flask import request
from sqlalchemy.exc import IntegrityError

from api.auth import current_key
from core.errors import ApiError
from core.extensions import db
from core.http import parse_json
from core.jsonprovider import encode
from tenants import idempotency
from tenants.crypto import body_fingerprint

_KEY = re.compile(r"[\x21-\x7e]{1,255}")
P = ParamSpec("P")
Written: TypeAlias = tuple[dict[str, Any], int]
"""What a write view returns: its body and status."""
Answered: TypeAlias = Written | tuple[dict[str, Any], int, dict[str, str]]
"""What the decorated view returns: a replay also carries ``Idempotent-Replayed``."""


def idempotent(view: Callable[P, Written]) -> Callable[P, Answered]:
    """Run the write in one transaction; replay the first response of a retried key.

    The view adds objects without committing. Its result and the idempotency record are
    committed together, so a request either fully happens (and is remembered) or not at all.
    """

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Answered:
        header = request.headers.get("Idempotency-Key")
        if header is None:
            body, status = view(*args, **kwargs)
            db.session.commit()
            return body, status
        if not _KEY.fullmatch(header):
            raise ApiError(
                "VALIDATION_ERROR",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
                {"header": "Idempotency-Key"},
            )
        key = current_key()
        scope = (key.tenant_id, key.livemode)  # per mode: SPEC §9.1
        fingerprint = _fingerprint()
        existing = idempotency.find(db.session, *scope, header)
        if existing is not None:
            return _replayed(*idempotency.replay(existing, fingerprint))
        body, status = view(*args, **kwargs)
        # Stored as the client received it (datetimes as RFC 3339 text), for the replay.
        stored = json.loads(encode(body))
        idempotency.save(db.session, *scope, header, fingerprint, status, stored)
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent request with the same key won the race: answer as its retry.
            db.session.rollback()
            existing = idempotency.find(db.session, *scope, header)
            if existing is None:
                raise
            return _replayed(*idempotency.replay(existing, fingerprint))
        return body, status

    wrapper.__dict__["idempotent"] = True  # read by the OpenAPI builder
    return wrapper


def _fingerprint() -> str:
    """Method, path and the body with key order and whitespace normalised; a body that is not
    JSON (or nests too deeply, refused by the view next) as sent."""
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(parse_json(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = raw
    return body_fingerprint(request.method.encode(), request.path.encode(), canonical)


def _replayed(body: dict[str, Any], status: int) -> Answered:
    return body, status, {"Idempotent-Replayed": "true"}
