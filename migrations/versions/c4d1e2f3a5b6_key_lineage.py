"""api_keys.lineage_id: the first key of each key's rotation lineage

A rotated key's rate-limit window carries over to its successor (SPEC §5): every key of one
rotation lineage counts against one window, named by the lineage's first key. Existing keys
are backfilled by following ``rotated_from_id`` back to the first key of each chain.

Revision ID: c4d1e2f3a5b6
Revises: c3a1d2e4f5b6
Create Date: 2026-11-30 11:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d1e2f3a5b6"
down_revision = "c3a1d2e4f5b6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lineage_id", sa.String(length=40), nullable=True))
    keys = sa.table(
        "api_keys",
        sa.column("id", sa.String),
        sa.column("rotated_from_id", sa.String),
        sa.column("lineage_id", sa.String),
    )
    # First keys of a lineage, then one generation of successors per pass (portable SQL: no
    # recursive CTE needed; chains are short).
    op.execute(keys.update().where(keys.c.rotated_from_id.is_(None)).values(lineage_id=keys.c.id))
    parent = keys.alias("parent")
    while True:
        inherited = (
            sa.select(parent.c.lineage_id)
            .where(parent.c.id == keys.c.rotated_from_id)
            .scalar_subquery()
        )
        done = op.get_bind().execute(
            keys.update()
            .where(keys.c.lineage_id.is_(None), inherited.is_not(None))
            .values(lineage_id=inherited)
        )
        if not done.rowcount:
            break
    # A key whose predecessor is gone starts a lineage of its own.
    op.execute(keys.update().where(keys.c.lineage_id.is_(None)).values(lineage_id=keys.c.id))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("lineage_id", existing_type=sa.String(length=40), nullable=False)


def downgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("lineage_id")
