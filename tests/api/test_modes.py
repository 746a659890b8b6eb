"""Test mode (SPEC §9.1): a test key and a live key of one tenant see each other's objects no
more than two tenants do. Mirrors ``test_isolation.py``, over the same endpoint table."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants import keyformat
from tenants.records import Broadcast, Chat, Contact, Message, Ticket
from tests.api.conftest import ENDPOINTS, WRITES, call, make_sample

LISTS = [e for e in ENDPOINTS if e.method == "GET" and "{" not in e.path]


@pytest.fixture
def test_sample(tenant) -> dict:
    """The tenant's objects in test mode (the number is the live sample's: modes do not clash)."""
    return make_sample(tenant.id, livemode=False)


@pytest.fixture
def test_key(api_key):
    return api_key(mode="test", name="test key")


def test_a_test_key_has_its_own_marker_and_a_valid_checksum(test_key):
    assert re.fullmatch(r"lw_test_[0-9A-Za-z]{32}", test_key)
    assert keyformat.is_well_formed(test_key, "lw")
    assert not keyformat.is_well_formed(test_key.replace("_test_", "_live_"), "lw")


def test_health_says_the_mode(client, api_key, test_key):
    live = client.get("/api/v1/health", headers={"x-tenant-api-key": api_key()}).get_json()
    test = client.get("/api/v1/health", headers={"x-tenant-api-key": test_key}).get_json()
    assert (live["livemode"], live["key"]["mode"]) == (True, "live")
    assert (test["livemode"], test["key"]["mode"]) == (False, "test")


@pytest.mark.parametrize("path", [e.path for e in LISTS])
@pytest.mark.parametrize("livemode", [True, False], ids=["live-key", "test-key"])
def test_lists_show_only_the_objects_of_the_keys_mode(
    client, api_key, sample, test_sample, path, livemode
):
    key = api_key(mode="live" if livemode else "test")
    other = test_sample if livemode else sample
    own = sample if livemode else test_sample
    response = client.get(path, headers={"x-tenant-api-key": key})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for object_id in other.values():
        assert object_id not in text
    items = response.get_json().get("data", [])
    assert all(item.get("livemode", item.get("mode") == "live") is livemode for item in items)
    if path in ("/api/v1/contacts", "/api/v1/chats", "/api/v1/tickets"):
        assert items, "the key's own mode has objects to show"
        assert {own["contact_id"], own["chat_id"], own["ticket_id"]} & {i["id"] for i in items}


@pytest.mark.parametrize("livemode", [True, False], ids=["live-key", "test-key"])
def test_a_chat_of_the_other_mode_is_not_found(client, api_key, sample, test_sample, livemode):
    key = api_key(mode="live" if livemode else "test")
    other = test_sample if livemode else sample
    response = client.get(
        f"/api/v1/chats/{other['chat_id']}/messages", headers={"x-tenant-api-key": key}
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"
    assert other["message_id"] not in response.get_data(as_text=True)


def test_a_ticket_cannot_link_a_contact_of_the_other_mode(client, test_key, sample):
    response = client.post(
        "/api/v1/tickets",
        json={"subject": "x", "contact_id": sample["contact_id"]},
        headers={"x-tenant-api-key": test_key},
    )
    assert response.status_code == 404
    assert _count(Ticket, livemode=False) == 0


def test_a_broadcast_cannot_target_contacts_of_the_other_mode(client, api_key, sample, test_sample):
    response = client.post(
        "/api/v1/broadcasts",
        json={"name": "b", "text": "t", "contact_ids": [sample["contact_id"]]},
        headers={"x-tenant-api-key": api_key(mode="test")},
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["details"]["missing"] == [sample["contact_id"]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 0


def test_a_test_message_to_a_live_number_makes_a_test_contact_and_chat(
    client, tenant, test_key, sample
):
    response = client.post(
        "/api/v1/messages",
        json={"to": "+14155550100", "text": "sandbox"},
        headers={"x-tenant-api-key": test_key},
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["livemode"] is False and body["chat_id"] != sample["chat_id"]
    live_texts = db.session.scalars(
        Message.for_tenant(tenant.id, True).with_only_columns(Message.text)
    ).all()
    assert live_texts == ["first"]
    assert (_count(Contact, livemode=True), _count(Contact, livemode=False)) == (1, 1)
    assert (_count(Chat, livemode=True), _count(Chat, livemode=False)) == (1, 1)


def test_the_same_phone_number_may_be_a_contact_in_each_mode(client, api_key, test_key):
    body = {"name": "Ada", "phone": "+442071838750"}
    live = client.post("/api/v1/contacts", json=body, headers={"x-tenant-api-key": api_key()})
    test = client.post("/api/v1/contacts", json=body, headers={"x-tenant-api-key": test_key})
    again = client.post("/api/v1/contacts", json=body, headers={"x-tenant-api-key": test_key})
    assert (live.status_code, test.status_code, again.status_code) == (201, 201, 409)
    assert (live.get_json()["livemode"], test.get_json()["livemode"]) == (True, False)


@pytest.mark.parametrize("endpoint", WRITES, ids=str)
@pytest.mark.parametrize("mode", ["live", "test"])
def test_every_write_answers_and_stores_the_keys_mode(
    client, api_key, sample, test_sample, endpoint, mode
):
    own = sample if mode == "live" else test_sample
    response = call(client, endpoint, api_key(mode=mode), own)
    assert response.status_code == endpoint.status
    created = response.get_json()
    assert created["livemode"] is (mode == "live")
    model = {"messages": Message, "contacts": Contact, "tickets": Ticket, "broadcasts": Broadcast}
    row = db.session.get(model[endpoint.path.rsplit("/", 1)[1]], created["id"])
    assert row.livemode is (mode == "live")


@pytest.mark.parametrize("endpoint", WRITES, ids=str)
def test_an_idempotency_key_is_per_mode(client, api_key, sample, test_sample, endpoint):
    """The same Idempotency-Key in live and test mode: two requests, neither a replay of the
    other nor a conflict, although the bodies differ."""
    headers = {"Idempotency-Key": "order-42"}
    live = call(client, endpoint, api_key(), sample, **headers)
    test = call(client, endpoint, api_key(mode="test"), test_sample, **headers)
    assert (live.status_code, test.status_code) == (endpoint.status, endpoint.status)
    assert "Idempotent-Replayed" not in test.headers
    assert live.get_json()["id"] != test.get_json()["id"]
    replay = call(client, endpoint, api_key(mode="test"), test_sample, **headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json()["id"] == test.get_json()["id"]


@pytest.mark.parametrize("endpoint", WRITES, ids=str)
def test_test_writes_are_not_license_gated(
    client, store, tenant, api_key, sample, test_sample, endpoint
):
    store.set_license(tenant.id, "expired")
    live = call(client, endpoint, api_key(), sample)
    test = call(client, endpoint, api_key(mode="test"), test_sample)
    assert live.status_code == 402
    assert live.get_json()["error"]["code"] == "LICENSE_INACTIVE"
    assert test.status_code == endpoint.status
    assert "X-License-Warning" not in test.headers


def test_usage_through_a_test_key_shows_test_usage_only(client, api_key, test_key):
    live = api_key(name="live key")
    client.get("/api/v1/health", headers={"x-tenant-api-key": live})
    client.get("/api/v1/health", headers={"x-tenant-api-key": test_key})
    as_test = client.get("/api/v1/usage", headers={"x-tenant-api-key": test_key}).get_json()
    as_live = client.get("/api/v1/usage", headers={"x-tenant-api-key": live}).get_json()
    assert {(row["key_name"], row["mode"]) for row in as_test["data"]} == {("test key", "test")}
    assert {(row["key_name"], row["mode"]) for row in as_live["data"]} == {("live key", "live")}


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "RATE_LIMIT_PER_MINUTE": 3}


def test_rate_limit_windows_are_per_mode(client, api_key, test_key):
    live = {"x-tenant-api-key": api_key()}
    for _ in range(3):
        assert client.get("/api/v1/health", headers=live).status_code == 200
    assert client.get("/api/v1/health", headers=live).status_code == 429
    test = client.get("/api/v1/health", headers={"x-tenant-api-key": test_key})
    assert test.status_code == 200
    assert test.headers["X-RateLimit-Remaining"] == "2"


def _count(model, livemode: bool) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(model.livemode == livemode)
    )
