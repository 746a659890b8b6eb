"""The migration giving audit entries a mode: entries about a test key become test entries,
every other one stays live; downgrading drops the column."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.tenants.migrations import NOW, database_at, insert, insert_key, migrate

BEFORE, AFTER = "f1a4c7e2b9d3", "f2b6d9a3c5e7"


def _entry(connection, entry_id: str, key_id: str | None, action: str) -> None:
    insert(
        connection,
        "audit_events",
        id=entry_id,
        tenant_id="ten_1",
        actor="user_1",
        action=action,
        key_id=key_id,
        created_at=NOW,
    )


def test_entries_about_test_keys_become_test_entries(scratch_database_url):
    with database_at(scratch_database_url, BEFORE) as (app, engine):
        with engine.begin() as connection:
            insert(connection, "tenants", id="ten_1", name="T", created_at=NOW)
            insert_key(connection, "key_live", lineage_id="key_live")
            insert_key(connection, "key_test", lineage_id="key_test", mode="test")
            _entry(connection, "aud_1", "key_live", "key.created")
            _entry(connection, "aud_2", "key_test", "key.created")
            _entry(connection, "aud_3", None, "webhook.created")
        migrate(app, upgrade, AFTER)
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, livemode FROM audit_events ORDER BY id")
            ).all()
        assert [(row[0], bool(row[1])) for row in rows] == [
            ("aud_1", True),
            ("aud_2", False),
            ("aud_3", True),
        ]
        migrate(app, downgrade, BEFORE)
        with engine.connect() as connection:
            columns = {
                column["name"] for column in sa.inspect(connection).get_columns("audit_events")
            }
    assert "livemode" not in columns
