"""Limits a tenant cannot escape (SPEC §5, issue 11 §6): at most
``MAX_ACTIVE_KEYS_PER_TENANT`` active keys, also under concurrent creates on a real gunicorn;
a rotated key's rate-limit window carries over to its successor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from core.extensions import db
from tenants.errors import Conflict
from tenants.models import ApiKey
from tests.conftest import TEST_ACTOR
from tests.console.idp import AUDIENCE, AZP, bearer
from tests.servers import Gunicorn

LIMIT = 3


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "MAX_ACTIVE_KEYS_PER_TENANT": LIMIT, "RATE_LIMIT_PER_MINUTE": 5}


def _create(client, token, name="k"):
    return client.post("/console/keys", json={"name": name}, headers=bearer(token))


def _assert_limit_refusal(response) -> None:
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "CONFLICT"
    assert "MAX_ACTIVE_KEYS_PER_TENANT" in error["message"] and str(LIMIT) in error["message"]


def test_one_key_beyond_the_limit_is_a_409_naming_it(client, admin_token, store, tenant, clock):
    ids = [_create(client, admin_token, f"k{n}").get_json()["id"] for n in range(LIMIT)]
    _assert_limit_refusal(_create(client, admin_token))
    assert len(store.list_keys(tenant.id)) == LIMIT
    # Revoked and expired keys are not active: each frees a place.
    client.post(f"/console/keys/{ids[0]}/revoke", headers=bearer(admin_token))
    assert _create(client, admin_token, "after revoke").status_code == 201
    _assert_limit_refusal(_create(client, admin_token))
    soon = clock.now + timedelta(minutes=5)
    key = db.session.get(ApiKey, ids[1])
    key.expires_at = soon
    db.session.commit()
    clock.advance(minutes=6)
    assert _create(client, admin_token, "after expiry").status_code == 201


def test_rotating_into_one_more_active_key_is_a_409(client, admin_token):
    ids = [_create(client, admin_token, f"k{n}").get_json()["id"] for n in range(LIMIT)]
    with_grace = client.post(
        f"/console/keys/{ids[0]}/rotate", json={"grace_seconds": 3600}, headers=bearer(admin_token)
    )
    _assert_limit_refusal(with_grace)
    listed = client.get("/console/keys", headers=bearer(admin_token)).get_json()["data"]
    assert len(listed) == LIMIT  # nothing changed: no successor, the old key keeps no expiry
    assert next(key for key in listed if key["id"] == ids[0])["expires_at"] is None
    # Without grace the old key is revoked in the same change: no more active keys than before.
    rotated = client.post(f"/console/keys/{ids[0]}/rotate", headers=bearer(admin_token))
    assert rotated.status_code == 201


def test_the_store_refuses_too(store, tenant):
    for n in range(LIMIT):
        store.create_key(tenant.id, f"k{n}", TEST_ACTOR)
    with pytest.raises(Conflict, match="MAX_ACTIVE_KEYS_PER_TENANT"):
        store.create_key(tenant.id, "one more", TEST_ACTOR)


@pytest.mark.server
def test_concurrent_creates_never_overshoot_the_limit(
    server_env, idp, admin_token, store, tenant, tmp_path
):
    env = {
        **server_env,
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_JWKS_URL": idp.jwks_url,
        "CONSOLE_AUTHORIZED_PARTIES": AZP,
        "CONSOLE_AUDIENCE": AUDIENCE,
        "MAX_ACTIVE_KEYS_PER_TENANT": "5",
    }
    server = Gunicorn(env, workers=4, log_path=tmp_path / "gunicorn.log")
    try:

        def create(n: int) -> int:
            response = requests.post(
                f"{server.url}/console/keys",
                json={"name": f"race {n}"},
                headers={**bearer(admin_token), "Connection": "close"},
                timeout=30,
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(create, range(24)))
    finally:
        server.stop()
    assert sorted(statuses) == [201] * 5 + [409] * 19
    db.session.expire_all()
    assert len(store.list_keys(tenant.id)) == 5


def test_rotation_keeps_the_rate_limit_window(client, admin_token):
    """RATE_LIMIT_PER_MINUTE is 5 here: five requests, rotate, and the successor is limited."""
    created = _create(client, admin_token).get_json()
    for _ in range(4):
        health = client.get("/api/v1/health", headers={"x-tenant-api-key": created["key"]})
        assert health.status_code == 200
    rotated = client.post(
        f"/console/keys/{created['id']}/rotate",
        json={"grace_seconds": 60},
        headers=bearer(admin_token),
    ).get_json()
    successor = {"x-tenant-api-key": rotated["key"]}
    fifth = client.get("/api/v1/health", headers=successor)
    assert fifth.status_code == 200
    assert fifth.headers["X-RateLimit-Remaining"] == "0"
    sixth = client.get("/api/v1/health", headers=successor)
    assert sixth.status_code == 429
    assert sixth.get_json()["error"]["code"] == "RATE_LIMITED"
    # The old key, still in its grace period, shares the same window.
    old = client.get("/api/v1/health", headers={"x-tenant-api-key": created["key"]})
    assert old.status_code == 429
