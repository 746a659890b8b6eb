"""Idempotency records live 24 hours (SPEC §8): every process purges older ones on a schedule
of its own (the usage flusher's thread), in bounded batches, so the purge runs in every
deployment shape: ``flask run`` on SQLite as well as many gunicorn instances on PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import event, func, select

from core.extensions import db
from tenants import idempotency
from tenants.crypto import idempotency_key_digest
from tenants.models import IdempotencyRecord


def _remember(tenant, key: str, created_at) -> None:
    db.session.add(
        IdempotencyRecord(
            tenant_id=tenant.id,
            idempotency_key_hash=idempotency_key_digest(key),
            request_hash="0" * 64,
            status_code=201,
            response_body={},
            created_at=created_at,
        )
    )
    db.session.commit()


def _keys_left(*candidates: str) -> set[str]:
    """Which of ``candidates`` still have a record (only their digests are stored)."""
    db.session.expire_all()
    stored = set(db.session.scalars(select(IdempotencyRecord.idempotency_key_hash)))
    return {key for key in candidates if idempotency_key_digest(key) in stored}


def test_expired_records_are_purged_in_bounded_batches(app, tenant, clock):
    for n in range(5):
        _remember(tenant, f"old-{n}", clock.now - timedelta(hours=24, seconds=1 + n))
    _remember(tenant, "fresh", clock.now - timedelta(hours=23))
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("DELETE"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert idempotency.purge_expired(db.engine, batch_size=2) == 5
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 3  # 2 + 2 + 1: one short transaction per batch
    assert _keys_left("fresh", *(f"old-{n}" for n in range(5))) == {"fresh"}


def test_each_process_purges_expired_records_on_its_own_schedule(app, client, api_key, clock):
    """A real request starts the process's flusher thread; once the clock has moved past the
    retention and the purge interval, that thread deletes the old record and keeps the new."""
    headers = {"x-tenant-api-key": api_key(), "Idempotency-Key": "first"}
    body = {"name": "Ada", "phone": "+442071838750"}
    assert client.post("/api/v1/contacts", json=body, headers=headers).status_code == 201
    clock.advance(hours=24, seconds=idempotency.PURGE_EVERY_SECONDS + 1)
    headers["Idempotency-Key"] = "second"
    body["phone"] = "+442071838751"
    assert client.post("/api/v1/contacts", json=body, headers=headers).status_code == 201
    deadline = time.monotonic() + 30  # a wait for the background thread, not a measured bound
    while _keys_left("first", "second") != {"second"} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _keys_left("first", "second") == {"second"}
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
