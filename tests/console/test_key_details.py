"""More on a key (SPEC §9.2) through the console: notes, allow-list, limit, expiry, lineage;
each change audited with its old and new value, bad input a 400 that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.console.keys import call, create_key

FULL = {
    "name": "deploy bot",
    "description": "Pushes release notes",
    "metadata": {"team": "platform", "ticket": "OPS-12"},
    "allowed_ips": ["203.0.113.0/24", "2001:db8::1"],
    "rate_limit_per_minute": 120,
}


def _audit(client, token):
    return call(client, token, "GET", "/console/audit-log").get_json()["data"]


def test_create_takes_every_field_and_shows_it(client, admin_token):
    created = create_key(client, admin_token, **FULL)
    for field, value in FULL.items():
        assert created[field] == value
    listed = call(client, admin_token, "GET", "/console/keys").get_json()["data"][0]
    assert {field: listed[field] for field in FULL} == FULL
    assert listed["last_used_ip"] is None
    assert listed["rotated_from_id"] is None and listed["replaced_by_id"] is None
    entry = _audit(client, admin_token)[0]
    assert entry["action"] == "key.created"
    assert entry["changes"]["allowed_ips"] == FULL["allowed_ips"]
    assert entry["changes"]["metadata"] == FULL["metadata"]


def test_defaults_are_empty_and_the_deployment_limit(client, admin_token):
    created = create_key(client, admin_token)
    assert created["description"] == ""
    assert created["metadata"] == {} and created["allowed_ips"] == []
    assert created["rate_limit_per_minute"] is None


def test_allow_list_entries_are_normalised(client, admin_token):
    created = create_key(
        client, admin_token, allowed_ips=[" 2001:DB8:0:0::/32 ", "192.0.2.1", "192.0.2.1"]
    )
    assert created["allowed_ips"] == ["2001:db8::/32", "192.0.2.1"]


# (field, new value, value as shown)
PATCHES = [
    ("description", "Now for the nightly job", "Now for the nightly job"),
    ("metadata", {"owner": "ana"}, {"owner": "ana"}),
    ("allowed_ips", ["198.51.100.7"], ["198.51.100.7"]),
    ("allowed_ips", [], []),
    ("rate_limit_per_minute", 0, 0),
    ("rate_limit_per_minute", None, None),
]


@pytest.mark.parametrize(("field", "value", "shown"), PATCHES)
def test_each_patch_is_audited_with_old_and_new_value(client, admin_token, field, value, shown):
    created = create_key(client, admin_token, **FULL)
    response = call(client, admin_token, "PATCH", f"/console/keys/{created['id']}", {field: value})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()[field] == shown
    entry = _audit(client, admin_token)[0]
    assert entry["action"] == "key.updated"
    assert entry["changes"] == {field: [FULL[field], shown]}


def test_a_patch_that_changes_nothing_is_not_audited(client, admin_token):
    created = create_key(client, admin_token, **FULL)
    path = f"/console/keys/{created['id']}"
    assert (
        call(client, admin_token, "PATCH", path, {"metadata": FULL["metadata"]}).status_code == 200
    )
    assert [entry["action"] for entry in _audit(client, admin_token)] == ["key.created"]


def test_expiry_can_be_set_moved_and_cleared(client, admin_token, api_key, store, tenant, clock):
    key = api_key()
    key_id = store.list_keys(tenant.id)[0].id
    path = f"/console/keys/{key_id}"
    soon = (clock.now + timedelta(minutes=5)).isoformat()
    response = call(client, admin_token, "PATCH", path, {"expires_at": soon})
    assert response.status_code == 200
    assert response.get_json()["expires_at"] is not None
    assert call(client, admin_token, "PATCH", path, {"expires_at": None}).status_code == 200
    clock.advance(minutes=10)
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    later = (clock.now + timedelta(minutes=1)).isoformat()
    assert call(client, admin_token, "PATCH", path, {"expires_at": later}).status_code == 200
    clock.advance(minutes=2)
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 401
    changes = [entry["changes"] for entry in _audit(client, admin_token)]
    assert changes[0]["expires_at"][0] is None and changes[0]["expires_at"][1] is not None
    # An expired key stays expired: it cannot be brought back by moving its expiry.
    revived = (clock.now + timedelta(days=1)).isoformat()
    conflict = call(client, admin_token, "PATCH", path, {"expires_at": revived})
    assert conflict.status_code == 409


def test_a_rate_limit_set_in_the_console_applies_on_the_next_request(
    client, admin_token, api_key, store, tenant
):
    key = api_key()
    path = f"/console/keys/{store.list_keys(tenant.id)[0].id}"
    assert call(client, admin_token, "PATCH", path, {"rate_limit_per_minute": 1}).status_code == 200
    headers = {"x-tenant-api-key": key}
    assert client.get("/api/v1/health", headers=headers).status_code == 200
    assert client.get("/api/v1/health", headers=headers).status_code == 429
    assert call(client, admin_token, "PATCH", path, {"rate_limit_per_minute": 0}).status_code == 200
    assert client.get("/api/v1/health", headers=headers).status_code == 200


def test_rotation_links_both_keys_and_carries_the_details(client, admin_token):
    old = create_key(client, admin_token, **FULL)
    rotated = call(
        client, admin_token, "POST", f"/console/keys/{old['id']}/rotate", {"grace_seconds": 60}
    ).get_json()
    assert rotated["rotated_from_id"] == old["id"]
    assert {field: rotated[field] for field in FULL} == FULL
    listed = {
        row["id"]: row
        for row in call(client, admin_token, "GET", "/console/keys").get_json()["data"]
    }
    assert listed[old["id"]]["replaced_by_id"] == rotated["id"]
    assert listed[rotated["id"]]["replaced_by_id"] is None
    # The old key's expiry is its grace period: not to be extended by hand.
    far = "2999-01-01T00:00:00+00:00"
    response = call(client, admin_token, "PATCH", f"/console/keys/{old['id']}", {"expires_at": far})
    assert response.status_code == 409


def test_key_shaped_text_in_notes_is_redacted(client, admin_token, api_key):
    secret = api_key()
    created = create_key(client, admin_token, description=f"was {secret}", metadata={"old": secret})
    assert secret not in str(created) and secret not in str(_audit(client, admin_token))


BAD_FIELDS = [
    {"description": "x" * 501},
    {"description": 5},
    {"description": "nul\x00"},
    {"description": "lone \ud800 surrogate"},
    {"metadata": {"k": "\ud800"}},
    {"metadata": {"\udfff": "v"}},
    {"metadata": {f"k{index}": "v" for index in range(21)}},
    {"metadata": {"k" * 41: "v"}},
    {"metadata": {"": "v"}},
    {"metadata": {"k": "v" * 501}},
    {"metadata": {"k": 5}},
    {"metadata": {"k": None}},
    {"metadata": ["k"]},
    {"allowed_ips": [f"10.0.0.{index}" for index in range(51)]},
    {"allowed_ips": ["10.0.0.1/8"]},
    {"allowed_ips": ["not-an-ip"]},
    {"allowed_ips": ["10.0.0.0/33"]},
    {"allowed_ips": ["example.com"]},
    {"allowed_ips": [""]},
    {"allowed_ips": [7]},
    {"allowed_ips": "10.0.0.0/8"},
    {"rate_limit_per_minute": -1},
    {"rate_limit_per_minute": 1_000_001},
    {"rate_limit_per_minute": True},
    {"rate_limit_per_minute": "60"},
    {"expires_at": "2000-01-01T00:00:00+00:00"},
    {"expires_at": "tomorrow"},
]


@pytest.mark.parametrize("fields", BAD_FIELDS)
def test_bad_fields_are_400_on_create_and_create_nothing(
    client, admin_token, store, tenant, fields
):
    response = call(client, admin_token, "POST", "/console/keys", {"name": "k", **fields})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"
    assert store.list_keys(tenant.id) == []


@pytest.mark.parametrize(
    "fields", [*BAD_FIELDS, {"description": None}, {"metadata": None}, {"allowed_ips": None}]
)
def test_bad_fields_are_400_on_patch_and_change_nothing(client, admin_token, fields):
    created = create_key(client, admin_token, **FULL)
    path = f"/console/keys/{created['id']}"
    response = call(client, admin_token, "PATCH", path, {"name": "renamed", **fields})
    assert response.status_code == 400, response.get_json()
    listed = call(client, admin_token, "GET", "/console/keys").get_json()["data"][0]
    assert {field: listed[field] for field in FULL} == FULL
    assert len(_audit(client, admin_token)) == 1
