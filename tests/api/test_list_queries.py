"""How the tenant lists read the database: in id order off an index, and on SQLite without
expiring the prepared statements between requests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from api.views import CONTACTS_PAGE
from core.database import read_only, read_rows
from core.extensions import db
from tenants import messaging

# A page of a list is ``WHERE tenant_id = ? AND livemode = ? ORDER BY id DESC LIMIT ?``.
PAGE_INDEXES = {
    "contacts": "ix_contacts_tenant_id_livemode_id",
    "chats": "ix_chats_tenant_id_livemode_id",
    "tickets": "ix_tickets_tenant_id_livemode_id",
}
PAGE_QUERY = (
    "SELECT id FROM {table} WHERE tenant_id = {p} AND livemode = {p} ORDER BY id DESC LIMIT 51"
)


@pytest.mark.parametrize(("table", "index"), PAGE_INDEXES.items())
def test_each_tenant_list_has_an_index_in_page_order(app, table, index):
    indexes = sa.inspect(db.engine).get_indexes(table)
    found = {item["name"]: item["column_names"] for item in indexes}
    assert found.get(index) == ["tenant_id", "livemode", "id"], found
    # The (tenant_id, id) index it replaced served the same queries less well: gone.
    assert f"ix_{table}_tenant_id_id" not in found


@pytest.mark.parametrize("table", PAGE_INDEXES)
def test_a_page_is_read_in_index_order_without_sorting(app, table):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by table statistics")
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + PAGE_QUERY.format(table=table, p="?"), ("ten_1", True)
        ).all()
    details = " / ".join(row[-1] for row in plan)
    assert PAGE_INDEXES[table] in details and "TEMP B-TREE" not in details, details
    assert "livemode=?" in details, details  # the mode is sought in the index, not filtered


@pytest.mark.parametrize("table", PAGE_INDEXES)
def test_postgresql_reads_a_page_of_one_mode_off_the_index(app, table):
    """A tenant with thousands of rows of each mode: a page of one is an index scan on
    (tenant_id, livemode, id) that stops after the page, not a sort of the whole mode."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's plan is checked above")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO tenants (id, name, created_at, leak_response)"
            " VALUES ('ten_1', 'T', now(), 'revoke')"
        )
        _fill(connection, table)
        connection.exec_driver_sql(f"ANALYZE {table}")
        plan = (
            connection.exec_driver_sql(
                "EXPLAIN " + PAGE_QUERY.format(table=table, p="%s"), ("ten_1", True)
            )
            .scalars()
            .all()
        )
    text = "\n".join(plan)
    assert PAGE_INDEXES[table] in text and "Sort" not in text, text


def _fill(connection, table: str) -> None:
    rows = "generate_series(1, 5000) AS n"
    mode = "mod(n, 2) = 0"  # half of them live
    if table == "contacts":
        connection.exec_driver_sql(
            "INSERT INTO contacts (id, tenant_id, livemode, name, phone, created_at)"
            f" SELECT 'con_' || lpad(n::text, 8, '0'), 'ten_1', {mode}, 'A', '+1' || n, now()"
            f" FROM {rows}"
        )
    elif table == "chats":
        _fill(connection, "contacts")
        connection.exec_driver_sql(
            "INSERT INTO chats (id, tenant_id, livemode, contact_id, created_at)"
            f" SELECT 'cht_' || lpad(n::text, 8, '0'), 'ten_1', {mode},"
            f" 'con_' || lpad(n::text, 8, '0'), now() FROM {rows}"
        )
    else:
        connection.exec_driver_sql(
            "INSERT INTO tickets (id, tenant_id, livemode, subject, status, created_at)"
            f" SELECT 'tkt_' || lpad(n::text, 8, '0'), 'ten_1', {mode}, 's', 'open', now()"
            f" FROM {rows}"
        )


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


def test_a_list_read_outside_a_transaction_makes_no_orm_session(app, tenant):
    """A page's rows are read on a connection of their own (``core.database.read_rows``):
    no ORM ``Session`` is made, begun and closed around a read that uses none of it (its
    cost: docs/performance.md)."""
    params = {"tenant_id": tenant.id, "livemode": True, "page_limit": 51}
    with app.app_context():
        assert read_rows(CONTACTS_PAGE.first, params) == []
        assert not db.session.registry.has()


def test_a_list_read_in_a_transaction_sees_that_transactions_writes(app, tenant):
    """Inside a transaction the request began, the read runs on the session's connection:
    a connection of its own would not see the rows written but not yet committed."""
    params = {"tenant_id": tenant.id, "livemode": True, "page_limit": 10}
    with app.app_context():
        assert read_rows(CONTACTS_PAGE.first, params) == []
        contact = messaging.create_contact(db.session, tenant.id, True, "Ada", "+14155550100", None)
        added = contact.id
        try:
            rows = read_rows(CONTACTS_PAGE.first, params)
        finally:
            db.session.rollback()
        assert [row.id for row in rows] == [added]
        assert read_rows(CONTACTS_PAGE.first, params) == []
