"""(tenant_id, id) indexes on contacts, chats and tickets: a tenant's page, newest first

Every list of the tenant API reads ``WHERE tenant_id = ? ORDER BY id DESC LIMIT ?``. With an
index on ``tenant_id`` alone the database finds all of the tenant's rows and sorts them for
every page (SQLite: ``USE TEMP B-TREE FOR ORDER BY``); an index on ``(tenant_id, id)`` hands
them out already in order and stops after the page, whatever the size of the tenant. It
serves ``tenant_id`` lookups too, so it replaces the single-column index.

Revision ID: 7d2f4a9c1e30
Revises: e3c4d5e6f7a8
Create Date: 2026-11-30 15:30:00.000000

"""

from alembic import op

revision = "7d2f4a9c1e30"
down_revision = "e3c4d5e6f7a8"
branch_labels = None
depends_on = None

TABLES = ("contacts", "chats", "tickets")


def upgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id_id", table, ["tenant_id", "id"])
        op.drop_index(f"ix_{table}_tenant_id", table_name=table)


def downgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
        op.drop_index(f"ix_{table}_tenant_id_id", table_name=table)
