"""A full key exists only in the response that creates it: never in a table or a log line."""

import gc
import logging
import types
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from core.extensions import db
from tenants.crypto import key_hash
from tenants.models import ApiKey, Base
from tests.conftest import TEST_ACTOR


def _all_database_text() -> str:
    chunks = []
    for table in Base.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def record(connection, cursor, statement, *rest):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_keys_are_stored_only_as_hashes_and_never_logged(client, store, tenant, caplog):
    caplog.set_level(logging.DEBUG)
    issued = [store.create_key(tenant.id, f"k{i}", TEST_ACTOR) for i in range(3)]
    rotated = store.rotate_key(tenant.id, issued[0].record.id, TEST_ACTOR, grace_seconds=60)
    keys = [item.full_key for item in issued] + [rotated.full_key]
    for key in keys:
        client.get("/api/v1/health", headers={"x-tenant-api-key": key})
        client.post(
            "/api/v1/messages",
            json={"to": "+14155550100", "text": "hi"},
            headers={"x-tenant-api-key": key, "Idempotency-Key": key[-10:]},
        )
        client.get("/api/v1/health", headers={"Authorization": f"Bearer {key}"})
    client.get("/api/v1/usage", headers={"x-tenant-api-key": keys[1]})
    store.revoke_key(tenant.id, issued[1].record.id, TEST_ACTOR)
    client.get("/api/v1/health", headers={"x-tenant-api-key": keys[1]})

    stored = _all_database_text()
    random_parts = [key.split("_live_")[1] for key in keys]
    for key, random_part in zip(keys, random_parts, strict=True):
        assert random_part not in stored
        assert random_part[:-4] not in stored
        assert random_part not in caplog.text
    hashes = set(db.session.scalars(sa.select(ApiKey.key_hash)))
    assert hashes == {key_hash(key) for key in keys}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 4


def test_the_worker_remembers_a_verified_key_without_keeping_its_text(client, api_key):
    """The worker's cache answers a key it has verified without the database, and nothing
    the application keeps after the request holds the key's text (it is remembered by a
    digest): the only objects still referring to the presented string are this test's own."""
    key = "".join(api_key())  # a string object of this test's alone
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    with statements_run() as statements:
        answered = client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    assert answered.status_code == 200
    assert statements == []  # answered from the cache
    del answered
    gc.collect()
    holders = [
        holder for holder in gc.get_referrers(key) if not isinstance(holder, types.FrameType)
    ]
    assert holders == []


def test_a_malformed_key_is_refused_even_when_its_digest_would_be_cached(app, client, api_key):
    """Only keys that passed the shape and checksum test are ever cached: a near miss of a
    cached key is refused by that test, without a database query."""
    key = api_key()
    client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    near_miss = key[:-1] + ("A" if key[-1] != "A" else "B")
    with statements_run() as statements:
        response = client.get("/api/v1/health", headers={"x-tenant-api-key": near_miss})
    assert response.status_code == 401
    assert statements == []
