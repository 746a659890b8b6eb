"""alert acknowledgements: a leaked-key or decoy alert acknowledged for the whole tenant

Revision ID: f1a4c7e2b9d3
Revises: b5d8e1f2a4c7
Create Date: 2026-11-30 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

from tenants.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'f1a4c7e2b9d3'
down_revision = "b5d8e1f2a4c7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alert_acknowledgements',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('tenant_id', sa.String(length=40), nullable=False),
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('actor_issuer', sa.String(length=500), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenants.id'],
            name=op.f('fk_alert_acknowledgements_tenant_id_tenants'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['event_id'], ['events.id'],
            name=op.f('fk_alert_acknowledgements_event_id_events'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_acknowledgements')),
        sa.UniqueConstraint('event_id', name=op.f('uq_alert_acknowledgements_event_id')),
    )


def downgrade():
    op.drop_table('alert_acknowledgements')
