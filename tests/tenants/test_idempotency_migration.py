"""Migration de290fbfc62e: idempotency records written before it (the header stored as text)
are converted to digests in place, and a retry within their 24 hours still replays."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from core.extensions import db, keystore, usage_buffer
from tenants.crypto import body_fingerprint, idempotency_key_digest
from tests.conftest import TEST_ACTOR

BEFORE = "c4d1e2f3a5b6"
RAW_KEY = "order-42"
BODY = {"name": "Ada", "phone": "+14155550100"}
STORED_ANSWER = {"id": "con_01JD0000000000000000000000", "name": "Ada", "stored": True}


def test_records_of_the_earlier_schema_are_converted_and_still_replay(scratch_database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": scratch_database_url})
    with app.app_context():
        upgrade(revision=BEFORE)
        tenant = keystore.get().create_tenant("Acme")
        fingerprint = body_fingerprint(
            b"POST",
            b"/api/v1/contacts",
            json.dumps(BODY, sort_keys=True, separators=(",", ":")).encode(),
        )
        db.session.execute(
            sa.text(
                "INSERT INTO idempotency_records (tenant_id, idempotency_key, request_hash,"
                " status_code, response_body, created_at) VALUES (:t, :k, :h, 201, :b, :c)"
            ),
            {
                "t": tenant.id,
                "k": RAW_KEY,
                "h": fingerprint,
                "b": json.dumps(STORED_ANSWER),
                "c": datetime.now(UTC),
            },
        )
        db.session.commit()

        upgrade()
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("idempotency_records")}
        assert "idempotency_key" not in columns
        stored = db.session.execute(sa.text("SELECT * FROM idempotency_records")).all()
        assert [row.idempotency_key_hash for row in stored] == [idempotency_key_digest(RAW_KEY)]
        assert RAW_KEY not in repr(stored)

        key = keystore.get().create_key(tenant.id, "k", TEST_ACTOR, ["*"]).full_key
        retried = app.test_client().post(
            "/api/v1/contacts",
            json=BODY,
            headers={"x-tenant-api-key": key, "Idempotency-Key": RAW_KEY},
        )
        assert retried.status_code == 201
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert retried.get_json() == STORED_ANSWER
        usage_buffer.get().flush()  # now, while this database exists (not from a later thread)

        # Both directions run on SQLite and PostgreSQL, and keep the rows (a downgraded app
        # cannot match a digest, so its retries run again: see the migration).
        db.session.remove()
        downgrade(revision=BEFORE)
        upgrade()
        kept = db.session.execute(sa.text("SELECT count(*) FROM idempotency_records")).scalar()
        assert kept == 1
        db.session.remove()
        db.engine.dispose()
