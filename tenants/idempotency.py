"""Idempotency-Key records: the first successful response to a POST, kept per tenant for 24 h.

Records are found by the digest of the client's key (``crypto.idempotency_key_digest``),
never by the text itself, which is not stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tenants import clock
from tenants.crypto import idempotency_key_digest
from tenants.errors import Conflict
from tenants.models import IdempotencyRecord

RETENTION = timedelta(hours=24)


def find(session: Session, tenant_id: str, idempotency_key: str) -> IdempotencyRecord | None:
    """The live record for this key; an expired one is deleted and treated as absent."""
    found = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant_id,
            IdempotencyRecord.idempotency_key_hash == idempotency_key_digest(idempotency_key),
        )
    )
    if found is not None and found.created_at <= clock.now() - RETENTION:
        session.delete(found)
        session.flush()
        return None
    return found


def replay(record: IdempotencyRecord, request_hash: str) -> tuple[dict[str, Any], int]:
    """The stored response, or ``Conflict`` when the key came with another request."""
    if record.request_hash != request_hash:
        raise Conflict(
            "This Idempotency-Key was already used with a different request",
            {"header": "Idempotency-Key"},
        )
    return record.response_body, record.status_code


def save(
    session: Session,
    tenant_id: str,
    idempotency_key: str,
    request_hash: str,
    status_code: int,
    response_body: dict[str, Any],
) -> None:
    session.add(
        IdempotencyRecord(
            tenant_id=tenant_id,
            idempotency_key_hash=idempotency_key_digest(idempotency_key),
            request_hash=request_hash,
            status_code=status_code,
            response_body=response_body,
        )
    )


def purge_expired(session: Session) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= clock.now() - RETENTION)
    )
    return result.rowcount or 0
