"""The migration adding the SPEC §9.2 columns gives existing keys empty notes and allow-lists
and backfills ``replaced_by_id`` from the successors' ``rotated_from_id``."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from core.extensions import db

BEFORE, DETAILS = "e2b3c4d5e6f7", "e7a2b4c6d8f1"


def test_existing_keys_get_defaults_and_their_successor(scratch_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": scratch_database_url})
    engine = sa.create_engine(scratch_database_url)
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            db.engine.dispose()
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO tenants (id, name, created_at) VALUES ('ten_1', 'T', :now)"),
                {"now": "2026-11-01 00:00:00+00:00"},
            )
            for key_id, rotated_from in [("key_a1", None), ("key_a2", "key_a1"), ("key_b", None)]:
                connection.execute(
                    sa.text(
                        "INSERT INTO api_keys (id, tenant_id, name, key_hash, display_start, "
                        "last4, scopes, enabled, created_at, rotated_from_id, lineage_id) "
                        "VALUES (:id, 'ten_1', 'k', :hash, 'lw_live_AbCd', 'abcd', '[\"*\"]', "
                        "true, :now, :rotated_from, :id)"
                    ),
                    {
                        "id": key_id,
                        "hash": key_id.ljust(64, "0"),
                        "now": "2026-11-01 00:00:00+00:00",
                        "rotated_from": rotated_from,
                    },
                )
        with app.app_context():
            upgrade(revision=DETAILS)
            db.engine.dispose()
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT id, replaced_by_id, description, metadata, allowed_ips, last_used_ip "
                    "FROM api_keys ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    replaced_by = {row[0]: row[1] for row in rows}
    assert replaced_by == {"key_a1": "key_a2", "key_a2": None, "key_b": None}
    for row in rows:  # SQLite answers JSON columns as text here, PostgreSQL as values
        metadata, allowed = (json.loads(v) if isinstance(v, str) else v for v in row[3:5])
        assert (row[2], metadata, allowed, row[5]) == ("", {}, [], None)
