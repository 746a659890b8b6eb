"""An index on events.created_at: the retention purge (``EVENT_RETENTION_DAYS``) finds the
events older than the retention by a range of it, not a scan of the table.

Revision ID: a7c9e1b3d5f2
Revises: f2b6d9a3c5e7
Create Date: 2026-12-01 05:45:00.000000

"""

from alembic import op

revision = "a7c9e1b3d5f2"
down_revision = "f2b6d9a3c5e7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_events_created_at", "events", ["created_at"])


def downgrade():
    op.drop_index("ix_events_created_at", table_name="events")
