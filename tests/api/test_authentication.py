"""401 AUTH_INVALID_KEY for every way a key can be unusable (SPEC §4, §5)."""

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants import keyformat
from tests.conftest import TEST_ACTOR

HEALTH = "/api/v1/health"


def _error(response):
    assert response.headers["Content-Type"] == "application/json"
    return response.get_json()["error"]


def test_missing_key_is_refused(client):
    response = client.get(HEALTH)
    assert response.status_code == 401
    assert _error(response)["code"] == "AUTH_INVALID_KEY"
    assert "x-tenant-api-key" in _error(response)["message"]


@pytest.mark.parametrize(
    "headers",
    [lambda key: {"Authorization": f"Bearer {key}"}, lambda key: {"X-API-Key": key}],
    ids=["authorization-bearer", "x-api-key"],
)
def test_key_in_another_header_is_refused_with_a_pointer_to_the_right_one(client, api_key, headers):
    key = api_key()
    response = client.get(HEALTH, headers=headers(key))
    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "AUTH_INVALID_KEY"
    assert "send the api key in the x-tenant-api-key header" in error["message"].lower()
    assert key not in response.get_data(as_text=True)


def _near_misses(key: str) -> dict[str, str]:
    body_start = key.index("_live_") + len("_live_")
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    return {
        "empty": "",
        "garbage": "not-a-key",
        "truncated": key[:-1],
        "extended": key + "A",
        "last-char-changed": flipped,
        "random-char-changed": key[:body_start]
        + ("x" if key[body_start] != "x" else "y")
        + key[body_start + 1 :],
        "wrong-prefix": "sk" + key[2:],
        "test-mode": key.replace("_live_", "_test_"),
        "lowercased": key.lower(),
        "leading-space": " " + key,
        "unicode": key[:-1] + "é",
    }


@pytest.mark.parametrize("variant", list(_near_misses("lw_live_" + "A" * 32)))
def test_malformed_keys_are_refused_without_a_database_query(client, api_key, variant):
    bad = _near_misses(api_key())[variant]
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    response = client.get(
        HEALTH, headers={"x-tenant-api-key": bad.encode("utf-8").decode("latin-1")}
    )
    assert response.status_code == 401
    assert _error(response)["code"] == "AUTH_INVALID_KEY"
    assert statements == []


def test_well_formed_unknown_key_is_refused(client, tenant):
    unknown = keyformat.generate("lw").full_key
    assert keyformat.is_well_formed(unknown, "lw")
    response = client.get(HEALTH, headers={"x-tenant-api-key": unknown})
    assert response.status_code == 401
    assert _error(response)["code"] == "AUTH_INVALID_KEY"


def test_disabled_key_is_refused_on_next_request_and_works_again_when_enabled(
    client, store, tenant, api_key
):
    key = api_key()
    headers = {"x-tenant-api-key": key}
    assert client.get(HEALTH, headers=headers).status_code == 200
    key_id = client.get(HEALTH, headers=headers).get_json()["key"]["id"]
    store.update_key(tenant.id, key_id, TEST_ACTOR, enabled=False)
    assert client.get(HEALTH, headers=headers).status_code == 401
    store.update_key(tenant.id, key_id, TEST_ACTOR, enabled=True)
    assert client.get(HEALTH, headers=headers).status_code == 200


def test_revoked_key_is_refused_on_next_request(client, store, tenant, api_key):
    key = api_key()
    headers = {"x-tenant-api-key": key}
    key_id = client.get(HEALTH, headers=headers).get_json()["key"]["id"]
    store.revoke_key(tenant.id, key_id, TEST_ACTOR)
    response = client.get(HEALTH, headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "AUTH_INVALID_KEY"


def test_expired_key_is_refused_like_a_revoked_one(client, api_key, clock):
    from datetime import timedelta

    key = api_key(expires_at=clock.now + timedelta(hours=1))
    headers = {"x-tenant-api-key": key}
    assert client.get(HEALTH, headers=headers).status_code == 200
    clock.advance(hours=1, seconds=1)
    response = client.get(HEALTH, headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "AUTH_INVALID_KEY"


def test_rescoped_key_is_checked_against_its_new_scopes_on_next_request(
    client, store, tenant, api_key
):
    key = api_key(scopes=["contacts:read"])
    headers = {"x-tenant-api-key": key}
    assert client.get("/api/v1/contacts", headers=headers).status_code == 200
    key_id = client.get(HEALTH, headers=headers).get_json()["key"]["id"]
    store.update_key(tenant.id, key_id, TEST_ACTOR, key_scopes=["tickets:read"])
    assert client.get("/api/v1/contacts", headers=headers).status_code == 403
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200


def test_rotated_key_keeps_working_during_grace_then_stops(client, store, tenant, api_key, clock):
    old = api_key(scopes=["contacts:read"])
    old_id = client.get(HEALTH, headers={"x-tenant-api-key": old}).get_json()["key"]["id"]
    issued = store.rotate_key(tenant.id, old_id, TEST_ACTOR, grace_seconds=3600)
    new_health = client.get(HEALTH, headers={"x-tenant-api-key": issued.full_key}).get_json()
    assert new_health["key"]["scopes"] == ["contacts:read"]
    assert new_health["key"]["name"] == "test key"
    assert client.get(HEALTH, headers={"x-tenant-api-key": old}).status_code == 200
    clock.advance(seconds=3601)
    assert client.get(HEALTH, headers={"x-tenant-api-key": old}).status_code == 401
    assert client.get(HEALTH, headers={"x-tenant-api-key": issued.full_key}).status_code == 200


def test_rotation_without_grace_stops_the_old_key_at_once(client, store, tenant, api_key):
    old = api_key()
    old_id = client.get(HEALTH, headers={"x-tenant-api-key": old}).get_json()["key"]["id"]
    store.rotate_key(tenant.id, old_id, TEST_ACTOR)
    assert client.get(HEALTH, headers={"x-tenant-api-key": old}).status_code == 401


def test_an_absurd_header_is_refused(client):
    response = client.get(HEALTH, headers={"x-tenant-api-key": "lw_live_" + "A" * 10_000})
    assert response.status_code == 401
    assert _error(response)["code"] == "AUTH_INVALID_KEY"
