"""Changes take effect on the very next request in every gunicorn worker process."""

import pytest
import requests

from tests.conftest import TEST_ACTOR
from tests.servers import Gunicorn

pytestmark = pytest.mark.server


@pytest.fixture
def server(app, server_env, tmp_path):
    gunicorn = Gunicorn(server_env, workers=2, log_path=tmp_path / "gunicorn.log")
    yield gunicorn
    gunicorn.stop()


def _statuses(server, key: str, path: str = "/api/v1/health", rounds: int = 12) -> set[int]:
    """Enough fresh connections that both workers answer (each one caches the key)."""
    return {
        requests.get(
            f"{server.url}{path}", headers={"x-tenant-api-key": key}, timeout=5
        ).status_code
        for _ in range(rounds)
    }


def test_revoke_is_refused_by_every_worker_on_the_next_request(server, store, tenant, api_key):
    key = api_key()
    assert _statuses(server, key) == {200}
    key_id = store.list_keys(tenant.id)[0].id
    store.revoke_key(tenant.id, key_id, TEST_ACTOR)
    assert _statuses(server, key) == {401}


def test_disable_and_enable_reach_every_worker_on_the_next_request(server, store, tenant, api_key):
    key = api_key()
    key_id = store.list_keys(tenant.id)[0].id
    assert _statuses(server, key) == {200}
    store.update_key(tenant.id, key_id, TEST_ACTOR, enabled=False)
    assert _statuses(server, key) == {401}
    store.update_key(tenant.id, key_id, TEST_ACTOR, enabled=True)
    assert _statuses(server, key) == {200}


def test_allow_list_changes_reach_every_worker_on_the_next_request(server, store, tenant, api_key):
    """SPEC §9.2: the loopback client is refused once the list leaves it out, and let in again."""
    key = api_key()
    key_id = store.list_keys(tenant.id)[0].id
    assert _statuses(server, key) == {200}
    store.update_key(tenant.id, key_id, TEST_ACTOR, allowed_ips=["203.0.113.0/24"])
    assert _statuses(server, key) == {403}
    store.update_key(tenant.id, key_id, TEST_ACTOR, allowed_ips=["127.0.0.0/8", "::1"])
    assert _statuses(server, key) == {200}


def test_rescope_and_license_reach_every_worker_on_the_next_request(server, store, tenant, api_key):
    key = api_key(scopes=["contacts:read"])
    key_id = store.list_keys(tenant.id)[0].id
    assert _statuses(server, key, "/api/v1/contacts") == {200}
    store.update_key(tenant.id, key_id, TEST_ACTOR, key_scopes=["tickets:read"])
    assert _statuses(server, key, "/api/v1/contacts") == {403}
    store.update_key(tenant.id, key_id, TEST_ACTOR, key_scopes=["*"])
    store.set_license(tenant.id, "revoked", enforcement="enforce")
    responses = {
        requests.post(
            f"{server.url}/api/v1/messages",
            json={"to": "+14155550100", "text": "x"},
            headers={"x-tenant-api-key": key},
            timeout=5,
        ).status_code
        for _ in range(8)
    }
    assert responses == {402}
