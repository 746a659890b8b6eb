"""api_keys: description, metadata, allowed_ips, last_used_ip, replaced_by_id (SPEC §9.2)

``replaced_by_id`` is the successor a rotation issued; keys rotated before this revision get
it backfilled from their successors' ``rotated_from_id``.

Revision ID: e7a2b4c6d8f1
Revises: e2b3c4d5e6f7
Create Date: 2026-11-30 15:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "e7a2b4c6d8f1"
down_revision = "e2b3c4d5e6f7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("description", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("metadata", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column("allowed_ips", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("last_used_ip", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("replaced_by_id", sa.String(length=40), nullable=True))
    keys = sa.table(
        "api_keys",
        sa.column("id", sa.String),
        sa.column("rotated_from_id", sa.String),
        sa.column("replaced_by_id", sa.String),
    )
    successor = keys.alias("successor")
    replaced_by = (
        sa.select(sa.func.max(successor.c.id))
        .where(successor.c.rotated_from_id == keys.c.id)
        .scalar_subquery()
    )
    op.execute(keys.update().values(replaced_by_id=replaced_by))


def downgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("replaced_by_id")
        batch_op.drop_column("last_used_ip")
        batch_op.drop_column("allowed_ips")
        batch_op.drop_column("metadata")
        batch_op.drop_column("description")
