"""The migration adding ``api_keys.lineage_id`` backfills rotation chains that exist already:
every key of a chain gets the chain's first key as its lineage (one rate-limit window)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from core.extensions import db

BEFORE, LINEAGE = "c3a1d2e4f5b6", "c4d1e2f3a5b6"


def test_existing_rotation_chains_get_their_first_key_as_lineage(scratch_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    engine = sa.create_engine(scratch_database_url)
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            db.engine.dispose()
        rows = {  # id: rotated_from_id
            "key_a1": None,
            "key_a2": "key_a1",
            "key_a3": "key_a2",
            "key_b1": None,
            "key_orphan": "key_gone",
        }
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO tenants (id, name, created_at) VALUES ('ten_1', 'T', :now)"),
                {"now": "2026-11-01 00:00:00+00:00"},
            )
            for key_id, rotated_from in rows.items():
                connection.execute(
                    sa.text(
                        "INSERT INTO api_keys (id, tenant_id, name, key_hash, display_start, "
                        "last4, scopes, enabled, created_at, rotated_from_id) VALUES (:id, "
                        "'ten_1', 'k', :hash, 'lw_live_AbCd', 'abcd', '[\"*\"]', true, :now, "
                        ":rotated_from)"
                    ),
                    {
                        "id": key_id,
                        "hash": key_id.ljust(64, "0"),
                        "now": "2026-11-01 00:00:00+00:00",
                        "rotated_from": rotated_from,
                    },
                )
        with app.app_context():
            upgrade(revision=LINEAGE)
            db.engine.dispose()
        with engine.connect() as connection:
            lineage = dict(connection.execute(sa.text("SELECT id, lineage_id FROM api_keys")).all())
    finally:
        engine.dispose()
    assert lineage == {
        "key_a1": "key_a1",
        "key_a2": "key_a1",
        "key_a3": "key_a1",
        "key_b1": "key_b1",
        "key_orphan": "key_orphan",
    }
