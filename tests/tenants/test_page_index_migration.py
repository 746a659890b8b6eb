"""Migration ``b5d8e1f2a4c7``: the list pages' (tenant_id, id) indexes become
(tenant_id, livemode, id), the filter of every page; downgrading restores them. Run on SQLite
and on PostgreSQL (``TEST_DATABASE_URL``) like the whole suite."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.tenants.migrations import NOW, database_at, insert, migrate

BEFORE, AFTER = "e7b2c9d4a1f3", "b5d8e1f2a4c7"
TABLES = ("contacts", "chats", "tickets")


def _indexes(engine: sa.Engine, table: str) -> dict[str, list[str]]:
    found = sa.inspect(engine).get_indexes(table)
    return {index["name"]: index["column_names"] for index in found}


def test_upgrade_and_downgrade_swap_the_page_indexes_and_keep_the_rows(scratch_database_url):
    with database_at(scratch_database_url, BEFORE) as (app, engine):
        with engine.begin() as connection:
            insert(connection, "tenants", id="ten_1", name="T", created_at=NOW)
            insert(
                connection,
                "contacts",
                id="con_1",
                tenant_id="ten_1",
                name="A",
                phone="+14155550100",
                created_at=NOW,
            )
        for table in TABLES:
            assert _indexes(engine, table)[f"ix_{table}_tenant_id_id"] == ["tenant_id", "id"]
        migrate(app, upgrade, AFTER)
        for table in TABLES:
            indexes = _indexes(engine, table)
            assert indexes[f"ix_{table}_tenant_id_livemode_id"] == ["tenant_id", "livemode", "id"]
            assert f"ix_{table}_tenant_id_id" not in indexes
        migrate(app, downgrade, BEFORE)
        for table in TABLES:
            indexes = _indexes(engine, table)
            assert indexes[f"ix_{table}_tenant_id_id"] == ["tenant_id", "id"]
            assert f"ix_{table}_tenant_id_livemode_id" not in indexes
        migrate(app, upgrade, AFTER)  # and up again
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT id FROM contacts")).scalars().all() == [
                "con_1"
            ]
