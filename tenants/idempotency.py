"""Idempotency-Key records: the first successful response to a POST, kept per tenant for 24 h.

Records are found by the digest of the client's key (``crypto.idempotency_key_digest``),
never by the text itself, which is not stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, select
from sqlalchemy.orm import Session

from tenants import clock
from tenants.crypto import idempotency_key_digest
from tenants.errors import Conflict
from tenants.models import IdempotencyRecord
from tenants.sessions import DbSession

RETENTION = timedelta(hours=24)
# Every process purges this often (``UsageBuffer.add_periodic``), a bounded batch at a time.
PURGE_EVERY_SECONDS = 300
PURGE_BATCH = 1000
PURGE_MAX_BATCHES = 100


def find(
    session: DbSession, tenant_id: str, livemode: bool, idempotency_key: str
) -> IdempotencyRecord | None:
    """The unexpired record for this key in this tenant and mode; an expired one is deleted
    and treated as absent."""
    found = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant_id,
            IdempotencyRecord.livemode == livemode,
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
    session: DbSession,
    tenant_id: str,
    livemode: bool,
    idempotency_key: str,
    request_hash: str,
    status_code: int,
    response_body: dict[str, Any],
) -> None:
    session.add(
        IdempotencyRecord(
            tenant_id=tenant_id,
            livemode=livemode,
            idempotency_key_hash=idempotency_key_digest(idempotency_key),
            request_hash=request_hash,
            status_code=status_code,
            response_body=response_body,
        )
    )


def purge_expired(
    engine: Engine, batch_size: int = PURGE_BATCH, max_batches: int = PURGE_MAX_BATCHES
) -> int:
    """Delete records older than ``RETENTION``; the number deleted.

    One short transaction per batch of ``batch_size`` (oldest first), at most ``max_batches``
    per call, so a backlog never holds a long lock or a long transaction; the next call
    continues. Several processes purging at once only delete fewer rows each.
    """
    cutoff = clock.now() - RETENTION
    purged = 0
    for _ in range(max_batches):
        oldest = (
            select(IdempotencyRecord.id)
            .where(IdempotencyRecord.created_at <= cutoff)
            .order_by(IdempotencyRecord.created_at, IdempotencyRecord.id)
            .limit(batch_size)
        )
        with Session(engine) as session, session.begin():
            result = cast(
                "CursorResult[Any]",
                session.execute(
                    delete(IdempotencyRecord)
                    .where(IdempotencyRecord.id.in_(oldest.scalar_subquery()))
                    .execution_options(synchronize_session=False)
                ),
            )
        deleted = result.rowcount or 0
        purged += deleted
        if deleted < batch_size:
            break
    return purged
