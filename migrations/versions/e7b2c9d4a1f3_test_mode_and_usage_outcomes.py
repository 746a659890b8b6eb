"""test mode and usage by endpoint and outcome (SPEC §9.1, §9.4)

Keys get a ``mode`` (``live`` or ``test``), tenant API data and idempotency records a
``livemode``: every row written before is live. A contact's phone number and an
Idempotency-Key are unique per tenant *and mode*. Usage rows get an ``endpoint`` and an
``outcome``; rows counted before carry the endpoint ``*`` and the outcome ``success``.

Downgrade drops test data (rows in test mode and test keys, with their usage) before it
restores the narrower unique constraints, which test rows could otherwise violate, and adds
each key's usage of a day back into one row.

Revision ID: e7b2c9d4a1f3
Revises: 7d2f4a9c1e30
Create Date: 2026-11-30 15:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7b2c9d4a1f3"
down_revision = "7d2f4a9c1e30"
branch_labels = None
depends_on = None

RECORDS = ("contacts", "chats", "messages", "tickets", "broadcasts", "idempotency_records")


def _livemode() -> sa.Column:
    return sa.Column("livemode", sa.Boolean(), nullable=False, server_default=sa.true())


def upgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mode", sa.String(length=4), nullable=False, server_default="live")
        )
    for table in RECORDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_livemode())
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_contacts_tenant_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_contacts_tenant_id"), ["tenant_id", "livemode", "phone"]
        )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_idempotency_records_tenant_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_idempotency_records_tenant_id"),
            ["tenant_id", "livemode", "idempotency_key_hash"],
        )
    with op.batch_alter_table("key_usage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("endpoint", sa.String(length=80), nullable=False, server_default="*")
        )
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=20), nullable=False, server_default="success")
        )
        batch_op.drop_constraint(batch_op.f("uq_key_usage_key_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_key_usage_key_id"), ["key_id", "day", "endpoint", "outcome"]
        )


def downgrade():
    for table in RECORDS:
        op.execute(sa.text(f"DELETE FROM {table} WHERE livemode = :test").bindparams(test=False))
    op.execute(
        sa.text(
            "DELETE FROM key_usage WHERE key_id IN (SELECT id FROM api_keys WHERE mode = 'test')"
        )
    )
    op.execute(sa.text("DELETE FROM api_keys WHERE mode = 'test'"))
    op.execute(
        sa.text(
            "CREATE TEMPORARY TABLE key_usage_by_day AS SELECT tenant_id, key_id, day, "
            "SUM(requests) AS requests FROM key_usage GROUP BY tenant_id, key_id, day"
        )
    )
    op.execute(sa.text("DELETE FROM key_usage"))
    with op.batch_alter_table("key_usage", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_key_usage_key_id"), type_="unique")
        batch_op.drop_column("outcome")
        batch_op.drop_column("endpoint")
        batch_op.create_unique_constraint(batch_op.f("uq_key_usage_key_id"), ["key_id", "day"])
    op.execute(
        sa.text(
            "INSERT INTO key_usage (tenant_id, key_id, day, requests) "
            "SELECT tenant_id, key_id, day, requests FROM key_usage_by_day"
        )
    )
    op.execute(sa.text("DROP TABLE key_usage_by_day"))
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_idempotency_records_tenant_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_idempotency_records_tenant_id"), ["tenant_id", "idempotency_key_hash"]
        )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_contacts_tenant_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_contacts_tenant_id"), ["tenant_id", "phone"]
        )
    for table in RECORDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("livemode")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("mode")
