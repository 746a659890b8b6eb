"""The migration adding test mode and usage outcomes: every row written before is live, and
usage counted before is one row of endpoint ``*`` and outcome ``success``; downgrading drops
test data and adds a key's usage of a day back into one row."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.tenants.migrations import NOW, database_at, insert, insert_key, migrate

BEFORE, MODES = "e7a2b4c6d8f1", "e7b2c9d4a1f3"


def _contact(connection, contact_id: str, **values) -> None:
    insert(
        connection,
        "contacts",
        id=contact_id,
        tenant_id="ten_1",
        **values,
        name="A",
        phone="+14155550100",
        created_at=NOW,
    )


def _usage(connection, **values) -> None:
    insert(connection, "key_usage", tenant_id="ten_1", key_id="key_1", day="2026-11-01", **values)


def test_rows_written_before_are_live_and_usage_keeps_its_counts(scratch_database_url):
    with database_at(scratch_database_url, BEFORE) as (app, engine):
        with engine.begin() as connection:
            insert(connection, "tenants", id="ten_1", name="T", created_at=NOW)
            insert_key(connection, "key_1", key_hash="0" * 64, lineage_id="key_1")
            _contact(connection, "con_1")
            _usage(connection, requests=7)
        migrate(app, upgrade, MODES)
        with engine.begin() as connection:
            assert connection.execute(sa.text("SELECT mode FROM api_keys")).scalar() == "live"
            assert connection.execute(sa.text("SELECT livemode FROM contacts")).scalar()
            usage = connection.execute(
                sa.text("SELECT endpoint, outcome, requests FROM key_usage")
            ).all()
            assert [tuple(row) for row in usage] == [("*", "success", 7)]
            # The same number in test mode, and a second usage row of that day.
            _contact(connection, "con_2", livemode=False)
            _usage(connection, endpoint="GET /api/v1/health", outcome="success", requests=2)
        migrate(app, downgrade, BEFORE)
        with engine.connect() as connection:
            contacts = connection.execute(sa.text("SELECT id FROM contacts")).scalars().all()
            usage = connection.execute(sa.text("SELECT key_id, requests FROM key_usage")).all()
    assert contacts == ["con_1"]
    assert [tuple(row) for row in usage] == [("key_1", 9)]
