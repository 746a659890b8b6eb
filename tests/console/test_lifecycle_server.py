"""The full key lifecycle driven through the console of a real gunicorn (2 workers), each
change checked on the tenant API on the very next requests, then read back in the audit log.

Gunicorn's workers fetch the signing keys from the loopback ``idp`` over HTTP. The end of the
rotation grace is checked in process, on the moved ``clock``, instead of by sleeping.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests

from tests.console.idp import AUDIENCE, AZP, bearer
from tests.servers import Gunicorn

TRIES = 4  # enough consecutive requests to reach both workers


@pytest.fixture
def server(server_env, idp, tmp_path, app):
    env = {
        **server_env,
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_JWKS_URL": idp.jwks_url,
        "CONSOLE_AUTHORIZED_PARTIES": AZP,
        "CONSOLE_AUDIENCE": AUDIENCE,
    }
    gunicorn = Gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log")
    yield gunicorn
    gunicorn.stop()


@pytest.mark.server
def test_key_lifecycle_through_the_console_reaches_the_tenant_api_at_once(
    server, admin_token, client, clock
):
    http = requests.Session()
    step_ids: dict[str, str] = {}

    def console(method: str, path: str, step: str, body: dict | None = None):
        request_id = f"req_lifecycle_{step}"
        step_ids[step] = request_id
        headers = {**bearer(admin_token), "X-Request-Id": request_id}
        response = http.request(method, f"{server.url}/console{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def tenant_api(key: str, path: str = "/api/v1/contacts") -> set[int]:
        url = f"{server.url}{path}"
        return {http.get(url, headers={"x-tenant-api-key": key}).status_code for _ in range(TRIES)}

    created = console("POST", "/keys", "create", {"name": "lifecycle", "scopes": ["contacts:read"]})
    key, key_id = created["key"], created["id"]
    assert tenant_api(key) == {200}
    assert tenant_api(key, "/api/v1/tickets") == {403}

    console("PATCH", f"/keys/{key_id}", "rescope", {"scopes": ["contacts:read", "tickets:read"]})
    assert tenant_api(key, "/api/v1/tickets") == {200}

    console("PATCH", f"/keys/{key_id}", "disable", {"enabled": False})
    assert tenant_api(key) == {401}

    console("PATCH", f"/keys/{key_id}", "enable", {"enabled": True})
    assert tenant_api(key) == {200}

    rotated = console("POST", f"/keys/{key_id}/rotate", "rotate", {"grace_seconds": 3600})
    new_key = rotated["key"]
    assert rotated["scopes"] == ["contacts:read", "tickets:read"] and new_key != key
    assert tenant_api(new_key) == {200}
    assert tenant_api(key) == {200}  # the old key, within its grace

    listed = {row["id"]: row for row in console("GET", "/keys", "list")["data"]}
    grace_until = datetime.fromisoformat(listed[key_id]["expires_at"])
    assert listed[key_id]["revoked_at"] is None
    clock.now = grace_until + timedelta(seconds=1)  # in process: the grace is over
    old_after = client.get("/api/v1/contacts", headers={"x-tenant-api-key": key})
    assert old_after.status_code == 401
    new_after = client.get("/api/v1/contacts", headers={"x-tenant-api-key": new_key})
    assert new_after.status_code == 200

    console("POST", f"/keys/{rotated['id']}/revoke", "revoke")
    assert tenant_api(new_key) == {401}

    log = console("GET", "/audit-log", "read-log")["data"]
    steps = [(e["action"], e["key_id"], e["actor"], e["request_id"]) for e in reversed(log)]
    expected = [
        ("key.created", key_id, "create"),
        ("key.rescoped", key_id, "rescope"),
        ("key.disabled", key_id, "disable"),
        ("key.enabled", key_id, "enable"),
        ("key.rotated", key_id, "rotate"),
        ("key.revoked", rotated["id"], "revoke"),
    ]
    assert steps == [(a, k, "user_admin", step_ids[s]) for a, k, s in expected]
    assert {e["source_ip"] for e in log} == {"127.0.0.1"}
    assert log[1]["changes"] == {"new_key_id": rotated["id"], "grace_seconds": 3600}
    text = str(log)
    assert key not in text and new_key not in text
