"""keystore change counter: one row bumped in the transaction of every key or license change

Revision ID: c3a1d2e4f5b6
Revises: a1c3e5f7b9d2
Create Date: 2026-11-30 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1d2e4f5b6'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    changes = op.create_table('keystore_changes',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_keystore_changes'))
    )
    # The one row every change updates; tenants.changes reads and bumps row 1.
    op.bulk_insert(changes, [{'id': 1, 'generation': 0}])


def downgrade():
    op.drop_table('keystore_changes')
