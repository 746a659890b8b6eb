"""events: the outbox of key, license and webhook events (SPEC §10)

Revision ID: e1a2b3c4d5e6
Revises: de290fbfc62e
Create Date: 2026-11-30 15:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

from tenants.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'e1a2b3c4d5e6'
down_revision = 'de290fbfc62e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'events',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('tenant_id', sa.String(length=40), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('livemode', sa.Boolean(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=80), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'], name=op.f('fk_events_tenant_id_tenants'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_events_dedupe_key')),
    )
    op.create_index('ix_events_tenant_type', 'events', ['tenant_id', 'type'], unique=False)


def downgrade():
    op.drop_index('ix_events_tenant_type', table_name='events')
    op.drop_table('events')
