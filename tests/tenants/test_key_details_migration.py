"""The migration adding the SPEC §9.2 columns gives existing keys empty notes and allow-lists
and backfills ``replaced_by_id`` from the successors' ``rotated_from_id``."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_migrate import upgrade

from tests.tenants.migrations import NOW, database_at, insert, insert_key, migrate

BEFORE, DETAILS = "e2b3c4d5e6f7", "e7a2b4c6d8f1"


def test_existing_keys_get_defaults_and_their_successor(scratch_database_url):
    with database_at(scratch_database_url, BEFORE) as (app, engine):
        with engine.begin() as connection:
            insert(connection, "tenants", id="ten_1", name="T", created_at=NOW)
            for key_id, rotated_from in [("key_a1", None), ("key_a2", "key_a1"), ("key_b", None)]:
                insert_key(connection, key_id, rotated_from_id=rotated_from, lineage_id=key_id)
        migrate(app, upgrade, DETAILS)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT id, replaced_by_id, description, metadata, allowed_ips, last_used_ip "
                    "FROM api_keys ORDER BY id"
                )
            ).all()
    replaced_by = {row[0]: row[1] for row in rows}
    assert replaced_by == {"key_a1": "key_a2", "key_a2": None, "key_b": None}
    for row in rows:  # SQLite answers JSON columns as text here, PostgreSQL as values
        metadata, allowed = (json.loads(v) if isinstance(v, str) else v for v in row[3:5])
        assert (row[2], metadata, allowed, row[5]) == ("", {}, [], None)
