"""A full key exists only in the response that creates it: never in a table or a log line."""

import logging

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
