"""leaked and decoy keys (SPEC §11): api_keys.decoy and leaked_at, tenants.leak_response

Revision ID: e3c4d5e6f7a8
Revises: e7a2b4c6d8f1
Create Date: 2026-11-30 15:35:00.000000

"""
import sqlalchemy as sa
from alembic import op

from tenants.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'e3c4d5e6f7a8'
down_revision = 'e7a2b4c6d8f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_keys') as batch:
        batch.add_column(
            sa.Column('decoy', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column('leaked_at', UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('tenants') as batch:
        batch.add_column(
            sa.Column('leak_response', sa.String(length=10), nullable=False,
                      server_default='revoke')
        )


def downgrade():
    with op.batch_alter_table('tenants') as batch:
        batch.drop_column('leak_response')
    with op.batch_alter_table('api_keys') as batch:
        batch.drop_column('leaked_at')
        batch.drop_column('decoy')
