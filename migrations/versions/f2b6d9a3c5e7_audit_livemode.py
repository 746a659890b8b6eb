"""audit entries are live or test (SPEC §9.1): audit_events.livemode

An entry about a test key is a test entry; every other one (live keys, webhooks, settings,
organizations) is live, like the events of the same changes.

Revision ID: f2b6d9a3c5e7
Revises: f1a4c7e2b9d3
Create Date: 2026-11-30 23:55:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f2b6d9a3c5e7'
down_revision = 'f1a4c7e2b9d3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events') as batch:
        batch.add_column(
            sa.Column('livemode', sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.execute(
        sa.text(
            "UPDATE audit_events SET livemode = :test WHERE key_id IN "
            "(SELECT id FROM api_keys WHERE mode = 'test')"
        ).bindparams(test=False)
    )


def downgrade():
    with op.batch_alter_table('audit_events') as batch:
        batch.drop_column('livemode')
