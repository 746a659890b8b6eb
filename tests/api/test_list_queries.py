"""How the tenant lists read the database: in id order off an index, and on SQLite without
expiring the prepared statements between requests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.database import read_only
from core.extensions import db

PAGE_INDEXES = {
    "contacts": "ix_contacts_tenant_id_id",
    "chats": "ix_chats_tenant_id_id",
    "tickets": "ix_tickets_tenant_id_id",
}


@pytest.mark.parametrize(("table", "index"), PAGE_INDEXES.items())
def test_each_tenant_list_has_an_index_in_page_order(app, table, index):
    indexes = sa.inspect(db.engine).get_indexes(table)
    assert {"name": index, "columns": ["tenant_id", "id"]} in [
        {"name": found["name"], "columns": found["column_names"]} for found in indexes
    ]


@pytest.mark.parametrize("table", PAGE_INDEXES)
def test_a_page_is_read_in_index_order_without_sorting(app, table):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by table statistics")
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN SELECT id FROM {table} WHERE tenant_id = ? ORDER BY id DESC"
            " LIMIT 51",
            ("ten_1",),
        ).all()
    details = " / ".join(row[-1] for row in plan)
    assert PAGE_INDEXES[table] in details and "TEMP B-TREE" not in details, details


def test_list_reads_on_sqlite_keep_the_connections_isolation_level(app):
    """No switch to autocommit around a list read on SQLite: it gains nothing there (SQLite's
    driver opens no transaction for a SELECT), and the switch back on return to the pool
    expired the connection's prepared statements, so SQLite parsed the page's statement anew
    on every request (docs/performance.md)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL list reads run in autocommit (one round trip): core/database.py")

    def isolation_level():
        return db.session.connection().connection.dbapi_connection.isolation_level

    with app.app_context():  # a session of its own, with no transaction yet, as a request's
        assert read_only(isolation_level) == "", "None is pysqlite's autocommit"
