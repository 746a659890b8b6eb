"""The migration adding ``api_keys.lineage_id`` backfills rotation chains that exist already:
every key of a chain gets the chain's first key as its lineage (one rate-limit window)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from tests.tenants.migrations import NOW, database_at, insert, insert_key, migrate

BEFORE, LINEAGE = "c3a1d2e4f5b6", "c4d1e2f3a5b6"


def test_existing_rotation_chains_get_their_first_key_as_lineage(scratch_database_url):
    rows = {  # id: rotated_from_id
        "key_a1": None,
        "key_a2": "key_a1",
        "key_a3": "key_a2",
        "key_b1": None,
        "key_orphan": "key_gone",
    }
    with database_at(scratch_database_url, BEFORE) as (app, engine):
        with engine.begin() as connection:
            insert(connection, "tenants", id="ten_1", name="T", created_at=NOW)
            for key_id, rotated_from in rows.items():
                insert_key(connection, key_id, rotated_from_id=rotated_from)
        migrate(app, upgrade, LINEAGE)
        with engine.connect() as connection:
            lineage = dict(connection.execute(sa.text("SELECT id, lineage_id FROM api_keys")).all())
    assert lineage == {
        "key_a1": "key_a1",
        "key_a2": "key_a1",
        "key_a3": "key_a1",
        "key_b1": "key_b1",
        "key_orphan": "key_orphan",
    }
