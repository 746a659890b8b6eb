"""``GET /console/events``: the tenant's events, paginated, filtered by type, admins only."""

from __future__ import annotations

from tests.conftest import TEST_ACTOR
from tests.console.idp import bearer


def test_events_listed_newest_first_and_filtered(client, store, tenant, other_tenant, admin_token):
    issued = store.create_key(tenant.id, "ci", TEST_ACTOR)
    store.revoke_key(tenant.id, issued.record.id, TEST_ACTOR)
    store.create_key(other_tenant.id, "theirs", TEST_ACTOR)

    listed = client.get("/console/events", headers=bearer(admin_token)).get_json()
    assert [event["type"] for event in listed["data"]] == ["key.revoked", "key.created"]
    assert all(event["tenant_id"] == tenant.id for event in listed["data"])

    only = client.get("/console/events?type=key.created", headers=bearer(admin_token)).get_json()
    assert [event["type"] for event in only["data"]] == ["key.created"]
    assert only["data"][0]["data"]["object"]["id"] == issued.record.id


def test_events_paginate(client, store, tenant, admin_token):
    for number in range(3):
        store.create_key(tenant.id, f"k{number}", TEST_ACTOR)
    first = client.get("/console/events?limit=2", headers=bearer(admin_token)).get_json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"/console/events?limit=2&cursor={first['next_cursor']}", headers=bearer(admin_token)
    ).get_json()
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None


def test_unknown_type_is_a_400(client, tenant, admin_token):
    response = client.get("/console/events?type=nope", headers=bearer(admin_token))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_members_cannot_list_events(client, tenant, member_token):
    response = client.get("/console/events", headers=bearer(member_token))
    assert response.status_code == 403
