"""``GET /console/events`` and ``GET /console/audit-log`` take ``?mode=live|test`` (SPEC §9.1;
default both): entries about a test key are test entries, all others live."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_ACTOR
from tests.console.idp import bearer


@pytest.fixture
def keys(store, tenant):
    live = store.create_key(tenant.id, "live", TEST_ACTOR).record
    test = store.create_key(tenant.id, "test", TEST_ACTOR, mode="test").record
    store.rotate_key(tenant.id, test.id, TEST_ACTOR, grace_seconds=60)
    store.revoke_key(tenant.id, live.id, TEST_ACTOR)
    return live, test


def _data(client, token, path):
    response = client.get(path, headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_events_by_mode(client, admin_token, keys):
    live, test = keys
    in_test = _data(client, admin_token, "/console/events?mode=test")
    assert [event["type"] for event in in_test] == ["key.rotated", "key.created"]
    assert all(event["livemode"] is False for event in in_test)
    in_live = _data(client, admin_token, "/console/events?mode=live")
    assert [event["type"] for event in in_live] == ["key.revoked", "key.created"]
    assert {event["data"]["object"]["id"] for event in in_live} == {live.id}
    both = _data(client, admin_token, "/console/events")
    assert len(both) == 4
    typed = _data(client, admin_token, "/console/events?mode=test&type=key.created")
    assert [event["data"]["object"]["id"] for event in typed] == [test.id]


def test_audit_log_by_mode(client, admin_token, keys, store, tenant):
    live, test = keys
    in_test = _data(client, admin_token, "/console/audit-log?mode=test")
    assert [(entry["action"], entry["key_id"]) for entry in in_test] == [
        ("key.rotated", test.id),
        ("key.created", test.id),
    ]
    assert all(entry["livemode"] is False for entry in in_test)
    in_live = _data(client, admin_token, "/console/audit-log?mode=live")
    assert [(entry["action"], entry["key_id"]) for entry in in_live] == [
        ("key.revoked", live.id),
        ("key.created", live.id),
    ]
    assert len(_data(client, admin_token, "/console/audit-log")) == 4


def test_entries_about_no_key_are_live(client, admin_token, keys):
    client.patch("/console/settings", headers=bearer(admin_token), json={"leak_response": "notify"})
    in_live = _data(client, admin_token, "/console/audit-log?mode=live")
    assert in_live[0]["action"] == "tenant.leak_response" and in_live[0]["livemode"] is True
    assert "tenant.leak_response" not in {
        entry["action"] for entry in _data(client, admin_token, "/console/audit-log?mode=test")
    }


@pytest.mark.parametrize("path", ["/console/events", "/console/audit-log"])
def test_unknown_mode_is_a_400(client, admin_token, path):
    response = client.get(f"{path}?mode=sandbox", headers=bearer(admin_token))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"
