"""Idempotency-Key and license gating of every write (SPEC §8)."""

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants.records import Broadcast, Contact, Message, Ticket
from tests.api.conftest import WRITES, call


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


COUNTED = {
    "/api/v1/messages": Message,
    "/api/v1/contacts": Contact,
    "/api/v1/tickets": Ticket,
    "/api/v1/broadcasts": Broadcast,
}


@pytest.mark.parametrize("endpoint", WRITES, ids=str)
def test_retry_with_same_idempotency_key_returns_the_first_response(
    client, api_key, sample, endpoint
):
    key, model = api_key(), COUNTED[endpoint.path]
    before = _count(model)
    first = call(client, endpoint, key, sample, **{"Idempotency-Key": "retry-1"})
    again = call(client, endpoint, key, sample, **{"Idempotency-Key": "retry-1"})
    assert first.status_code == endpoint.status
    assert again.status_code == first.status_code
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(model) == before + 1


def test_same_idempotency_key_with_another_body_is_a_conflict(client, api_key):
    headers = {"x-tenant-api-key": api_key(), "Idempotency-Key": "abc"}
    first = client.post(
        "/api/v1/contacts", json={"name": "A", "phone": "+14155550001"}, headers=headers
    )
    other = client.post(
        "/api/v1/contacts", json={"name": "B", "phone": "+14155550002"}, headers=headers
    )
    assert first.status_code == 201
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "CONFLICT"
    assert _count(Contact) == 1


def test_idempotency_keys_are_per_tenant(client, api_key, other_tenant):
    body = {"name": "A", "phone": "+14155550001"}
    ours = client.post(
        "/api/v1/contacts",
        json=body,
        headers={"x-tenant-api-key": api_key(), "Idempotency-Key": "k"},
    )
    theirs = client.post(
        "/api/v1/contacts",
        json=body,
        headers={"x-tenant-api-key": api_key(tenant=other_tenant), "Idempotency-Key": "k"},
    )
    assert ours.status_code == theirs.status_code == 201
    assert ours.get_json()["id"] != theirs.get_json()["id"]


def test_idempotency_record_expires_after_a_day(client, api_key, clock):
    headers = {"x-tenant-api-key": api_key(), "Idempotency-Key": "daily"}
    body = {"to": "+14155550001", "text": "x"}
    first = client.post("/api/v1/messages", json=body, headers=headers)
    clock.advance(hours=24, seconds=1)
    second = client.post("/api/v1/messages", json=body, headers=headers)
    assert second.get_json()["id"] != first.get_json()["id"]
    assert _count(Message) == 2


def test_malformed_idempotency_key_is_refused(client, api_key):
    headers = {"x-tenant-api-key": api_key(), "Idempotency-Key": "x" * 256}
    response = client.post(
        "/api/v1/messages", json={"to": "+14155550001", "text": "x"}, headers=headers
    )
    assert response.status_code == 400
    assert _count(Message) == 0


@pytest.mark.parametrize("status", ["expired", "revoked"])
@pytest.mark.parametrize("endpoint", WRITES, ids=str)
def test_writes_are_blocked_under_an_inactive_enforced_license(
    client, store, tenant, api_key, sample, endpoint, status
):
    key, model = api_key(), COUNTED[endpoint.path]
    before = _count(model)
    store.set_license(tenant.id, status, enforcement="enforce")
    response = call(client, endpoint, key, sample)
    assert response.status_code == 402
    assert response.get_json()["error"]["code"] == "LICENSE_INACTIVE"
    assert _count(model) == before


@pytest.mark.parametrize("endpoint", WRITES, ids=str)
def test_writes_succeed_with_a_warning_under_warn(client, store, tenant, api_key, sample, endpoint):
    key = api_key()
    store.set_license(tenant.id, "revoked", enforcement="warn")
    response = call(client, endpoint, key, sample)
    assert response.status_code == endpoint.status
    assert "license" in response.headers["X-License-Warning"].lower()


def test_reads_always_work_under_an_inactive_license(client, store, tenant, api_key):
    key = api_key()
    store.set_license(tenant.id, "revoked", enforcement="enforce")
    for path in ("/api/v1/contacts", "/api/v1/chats", "/api/v1/tickets", "/api/v1/health"):
        response = client.get(path, headers={"x-tenant-api-key": key})
        assert response.status_code == 200
        assert "X-License-Warning" not in response.headers


def test_license_past_its_expiry_blocks_writes(client, store, tenant, api_key, clock):
    from datetime import timedelta

    key = api_key()
    store.set_license(tenant.id, "active", expires_at=clock.now + timedelta(days=1))
    body = {"to": "+14155550001", "text": "x"}
    assert (
        client.post("/api/v1/messages", json=body, headers={"x-tenant-api-key": key}).status_code
        == 202
    )
    clock.advance(days=1, seconds=1)
    assert (
        client.post("/api/v1/messages", json=body, headers={"x-tenant-api-key": key}).status_code
        == 402
    )


def test_deployment_default_enforcement_applies_to_tenants_without_their_own(
    migrated, server_env, monkeypatch
):
    from app import create_app
    from core.extensions import keystore
    from tests.conftest import TEST_ACTOR, _empty_tables

    monkeypatch.setenv("LICENSE_ENFORCEMENT", "warn")
    app = create_app({"TESTING": True})
    with app.app_context():
        _empty_tables()
        store = keystore.get()
        tenant = store.create_tenant("Warned")
        key = store.create_key(tenant.id, "k", TEST_ACTOR).full_key
        store.set_license(tenant.id, "expired")
        response = app.test_client().post(
            "/api/v1/messages",
            json={"to": "+14155550001", "text": "x"},
            headers={"x-tenant-api-key": key},
        )
        assert response.status_code == 202
        assert "X-License-Warning" in response.headers
        db.session.remove()
