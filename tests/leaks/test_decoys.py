"""Decoy keys (SPEC §11): answered byte for byte like an unknown key (apart from the request
id), and every use raises ``key.decoy_used`` with time, client address, user agent, path."""

from __future__ import annotations

import pytest

from core.extensions import db
from tenants import events, keyformat
from tests.conftest import TEST_ACTOR


def _without_request_id(response) -> tuple[int, dict, list]:
    body = response.get_json()
    body.pop("request_id")
    headers = sorted((k, v) for k, v in response.headers if k.lower() != "x-request-id")
    return response.status_code, body, headers


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/contacts"])
def test_decoy_is_answered_like_an_unknown_key_and_raises_its_event(client, store, tenant, path):
    decoy = store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    unknown = keyformat.generate("lw").full_key
    headers = {"User-Agent": "curl/8.0"}
    for _ in range(2):  # the second use is answered from the key cache
        used = client.get(path, headers={**headers, "x-tenant-api-key": decoy.full_key})
        stranger = client.get(path, headers={**headers, "x-tenant-api-key": unknown})
        assert _without_request_id(used) == _without_request_id(stranger)
        assert used.status_code == 401
    raised = list(db.session.scalars(events.for_tenant(tenant.id, "key.decoy_used")))
    assert len(raised) == 2
    assert raised[0].data["object"]["id"] == decoy.record.id
    assert raised[0].data["path"] == path and raised[0].data["user_agent"] == "curl/8.0"
    assert raised[0].data["client_ip"] == "127.0.0.1" and raised[0].data["used_at"]
    assert decoy.full_key not in str([event.payload() for event in raised])


def test_a_real_key_of_the_tenant_still_works(client, store, tenant, api_key):
    store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": api_key()}).status_code == 200
