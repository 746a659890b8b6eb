"""(tenant_id, livemode, id) indexes on contacts, chats and tickets: a page of one mode

Since test mode (SPEC §9.1) every list page reads ``WHERE tenant_id = ? AND livemode = ?
ORDER BY id DESC LIMIT ?``. The (tenant_id, id) index answered that by walking the tenant's
rows of both modes in id order and dropping the other mode's one by one, so a live page of a
tenant with many test rows read all of them; PostgreSQL's planner preferred a sort of the
mode's rows instead. With ``livemode`` between the two columns the page is one index range
already in order. The new index serves every ``tenant_id`` lookup too, so it replaces the old.

Revision ID: b5d8e1f2a4c7
Revises: e7b2c9d4a1f3
Create Date: 2026-11-30 23:40:00.000000

"""

from alembic import op

revision = "b5d8e1f2a4c7"
down_revision = "e7b2c9d4a1f3"
branch_labels = None
depends_on = None

TABLES = ("contacts", "chats", "tickets")


def upgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id_livemode_id", table, ["tenant_id", "livemode", "id"])
        op.drop_index(f"ix_{table}_tenant_id_id", table_name=table)


def downgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id_id", table, ["tenant_id", "id"])
        op.drop_index(f"ix_{table}_tenant_id_livemode_id", table_name=table)
