"""The migration adding test mode and usage outcomes: every row written before is live, and
usage counted before is one row of endpoint ``*`` and outcome ``success``; downgrading drops
test data and adds a key's usage of a day back into one row."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from core.extensions import db

BEFORE, MODES = "e7a2b4c6d8f1", "e7b2c9d4a1f3"
NOW = "2026-11-01 00:00:00+00:00"


def _insert(connection, table: str, **values) -> None:
    columns = ", ".join(values)
    connection.execute(
        sa.text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in values)})"),
        values,
    )


def test_rows_written_before_are_live_and_usage_keeps_its_counts(scratch_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    engine = sa.create_engine(scratch_database_url)
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            db.engine.dispose()
        with engine.begin() as connection:
            _insert(connection, "tenants", id="ten_1", name="T", created_at=NOW)
            _insert(
                connection,
                "api_keys",
                id="key_1",
                tenant_id="ten_1",
                name="k",
                key_hash="0" * 64,
                display_start="lw_live_AbCd",
                last4="abcd",
                scopes='["*"]',
                enabled=True,
                created_at=NOW,
                lineage_id="key_1",
            )
            _insert(
                connection,
                "contacts",
                id="con_1",
                tenant_id="ten_1",
                name="A",
                phone="+14155550100",
                created_at=NOW,
            )
            _insert(
                connection,
                "key_usage",
                tenant_id="ten_1",
                key_id="key_1",
                day="2026-11-01",
                requests=7,
            )
        with app.app_context():
            upgrade(revision=MODES)
            db.engine.dispose()
        with engine.begin() as connection:
            assert connection.execute(sa.text("SELECT mode FROM api_keys")).scalar() == "live"
            assert connection.execute(sa.text("SELECT livemode FROM contacts")).scalar()
            usage = connection.execute(
                sa.text("SELECT endpoint, outcome, requests FROM key_usage")
            ).all()
            assert [tuple(row) for row in usage] == [("*", "success", 7)]
            # The same number in test mode, and a second usage row of that day.
            _insert(
                connection,
                "contacts",
                id="con_2",
                tenant_id="ten_1",
                livemode=False,
                name="A",
                phone="+14155550100",
                created_at=NOW,
            )
            _insert(
                connection,
                "key_usage",
                tenant_id="ten_1",
                key_id="key_1",
                day="2026-11-01",
                endpoint="GET /api/v1/health",
                outcome="success",
                requests=2,
            )
        with app.app_context():
            downgrade(revision=BEFORE)
            db.engine.dispose()
        with engine.connect() as connection:
            contacts = connection.execute(sa.text("SELECT id FROM contacts")).scalars().all()
            usage = connection.execute(sa.text("SELECT key_id, requests FROM key_usage")).all()
    finally:
        engine.dispose()
    assert contacts == ["con_1"]
    assert [tuple(row) for row in usage] == [("key_1", 9)]
