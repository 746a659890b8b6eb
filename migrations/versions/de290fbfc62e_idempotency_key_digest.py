"""idempotency records keep a digest of the Idempotency-Key, never the header itself

A client may put anything in ``Idempotency-Key``, an API key included (SPEC §5), so the store
keeps only ``tenants.crypto.idempotency_key_digest`` of it. Records written before this
revision are converted in place, so a retry within their 24 hours still replays.

Downgrade keeps the digests in the restored ``idempotency_key`` column: the code of the earlier
revision looks records up by the header's text, so those records no longer match, and a retry
made after a downgrade runs again instead of replaying.

Revision ID: de290fbfc62e
Revises: c4d1e2f3a5b6
Create Date: 2026-11-30 11:50:00.000000

"""
import hashlib

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'de290fbfc62e'
down_revision = "c4d1e2f3a5b6"
branch_labels = None
depends_on = None

records = sa.table(
    'idempotency_records',
    sa.column('id', sa.Integer),
    sa.column('idempotency_key', sa.String),
    sa.column('idempotency_key_hash', sa.String),
)


def _digest(idempotency_key: str) -> str:
    # tenants.crypto.idempotency_key_digest as of this revision, written out so that a later
    # change there cannot change what this migration did.
    return hashlib.sha256(b"Idempotency-Key\x00" + idempotency_key.encode()).hexdigest()


def upgrade():
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key_hash', sa.String(length=64), nullable=True))

    connection = op.get_bind()
    for record_id, idempotency_key in connection.execute(
        sa.select(records.c.id, records.c.idempotency_key)
    ).all():
        connection.execute(
            records.update()
            .where(records.c.id == record_id)
            .values(idempotency_key_hash=_digest(idempotency_key))
        )

    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_idempotency_records_tenant_id'), type_='unique')
        batch_op.drop_column('idempotency_key')
        batch_op.alter_column(
            'idempotency_key_hash', existing_type=sa.String(length=64), nullable=False
        )
        batch_op.create_unique_constraint(
            batch_op.f('uq_idempotency_records_tenant_id'), ['tenant_id', 'idempotency_key_hash']
        )


def downgrade():
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=255), nullable=True))

    op.execute(records.update().values(idempotency_key=records.c.idempotency_key_hash))

    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_idempotency_records_tenant_id'), type_='unique')
        batch_op.drop_column('idempotency_key_hash')
        batch_op.alter_column('idempotency_key', existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f('uq_idempotency_records_tenant_id'), ['tenant_id', 'idempotency_key']
        )
