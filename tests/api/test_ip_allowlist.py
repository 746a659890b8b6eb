"""A key's IP allow-list (SPEC §9.2): outside it a request is a 403 ``AUTH_IP_NOT_ALLOWED``,
the client address taken as in SPEC §3 (``TRUSTED_PROXIES``)."""

from __future__ import annotations

import pytest

from core.services import usage_buffer
from tests.conftest import TEST_ACTOR

PROXY = "10.9.0.2"


@pytest.fixture
def app_config() -> dict:
    return {"TRUSTED_PROXIES": "10.9.0.0/24"}


def _health(client, key: str, peer: str, forwarded: str | None = None):
    headers = {"x-tenant-api-key": key}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return client.get("/api/v1/health", headers=headers, environ_base={"REMOTE_ADDR": peer})


# (allow-list, client address, allowed?) — addresses, CIDR edges, IPv6, IPv4-mapped IPv6.
CASES = [
    (["203.0.113.7"], "203.0.113.7", True),
    (["203.0.113.7"], "203.0.113.8", False),
    (["198.51.100.0/24"], "198.51.100.0", True),
    (["198.51.100.0/24"], "198.51.100.255", True),
    (["198.51.100.0/24"], "198.51.101.0", False),
    (["198.51.100.0/24"], "198.51.99.255", False),
    (["192.0.2.128/25"], "192.0.2.127", False),
    (["192.0.2.128/25"], "192.0.2.128", True),
    (["0.0.0.0/0"], "8.8.8.8", True),
    (["2001:db8::/32"], "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", True),
    (["2001:db8::/32"], "2001:db9::", False),
    (["2001:db8::1"], "2001:db8:0:0:0:0:0:1", True),
    (["2001:db8::1"], "2001:db8::2", False),
    (["203.0.113.0/24"], "::ffff:203.0.113.9", True),  # a dual-stack socket's IPv4 peer
    (["203.0.113.0/24"], "::ffff:203.0.114.9", False),
    (["2001:db8::/32"], "203.0.113.7", False),  # another family never matches
    (["203.0.113.7", "2001:db8::/48"], "2001:db8:0:1::5", True),
]


@pytest.mark.parametrize(("allowed", "client_ip", "expected"), CASES)
def test_allow_list_decides_by_client_address(client, api_key, allowed, client_ip, expected):
    key = api_key(allowed_ips=allowed)
    response = _health(client, key, client_ip)
    if expected:
        assert response.status_code == 200, response.get_json()
    else:
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "AUTH_IP_NOT_ALLOWED"


def test_a_key_without_allow_list_works_from_anywhere(client, api_key):
    key = api_key()
    for peer in ("203.0.113.7", "2001:db8::1", "::ffff:192.0.2.1"):
        assert _health(client, key, peer).status_code == 200


def test_a_trusted_proxy_passes_the_client_address_on(client, api_key):
    key = api_key(allowed_ips=["203.0.113.7"])
    assert _health(client, key, PROXY, forwarded="203.0.113.7").status_code == 200
    refused = _health(client, key, PROXY, forwarded="198.51.100.1")
    assert refused.status_code == 403
    # The client's own claim left of the proxy's entry is not believed.
    spoofed = _health(client, key, PROXY, forwarded="203.0.113.7, 198.51.100.1")
    assert spoofed.status_code == 403


def test_an_untrusted_peer_cannot_claim_an_address(client, api_key):
    key = api_key(allowed_ips=["203.0.113.7"])
    response = _health(client, key, "198.51.100.1", forwarded="203.0.113.7")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "AUTH_IP_NOT_ALLOWED"


def test_the_proxy_itself_is_not_the_client(client, api_key):
    """Behind a trusted proxy, allowing the proxy's address does not allow its clients."""
    key = api_key(allowed_ips=[PROXY])
    assert _health(client, key, PROXY, forwarded="198.51.100.1").status_code == 403


def test_a_refused_address_spends_neither_usage_nor_rate_limit(client, store, tenant, api_key):
    key = api_key(allowed_ips=["203.0.113.7"], rate_limit_per_minute=1)
    for _ in range(3):
        assert _health(client, key, "198.51.100.1").status_code == 403
    assert _health(client, key, "203.0.113.7").status_code == 200
    usage = client.get(
        "/api/v1/usage",
        headers={"x-tenant-api-key": key},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert usage.status_code == 429  # the one allowed request above used the minute's 1


def test_an_invalid_key_is_a_401_from_anywhere(client, api_key):
    """The allow-list is checked only for a valid key: a broken one is a 401 everywhere."""
    key = api_key(allowed_ips=["203.0.113.7"])
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert _health(client, broken, "198.51.100.1").status_code == 401


def test_changing_the_allow_list_takes_effect_on_the_next_request(client, store, tenant, api_key):
    key = api_key()
    key_id = store.list_keys(tenant.id)[0].id
    assert _health(client, key, "198.51.100.1").status_code == 200  # now cached
    store.update_key(tenant.id, key_id, TEST_ACTOR, allowed_ips=["203.0.113.0/24"])
    assert _health(client, key, "198.51.100.1").status_code == 403
    assert _health(client, key, "203.0.113.200").status_code == 200
    store.update_key(tenant.id, key_id, TEST_ACTOR, allowed_ips=[])
    assert _health(client, key, "198.51.100.1").status_code == 200


def test_last_used_ip_is_the_client_address_behind_the_proxy(client, store, tenant, api_key):
    key = api_key()
    assert _health(client, key, PROXY, forwarded="203.0.113.50").status_code == 200
    usage_buffer().flush()  # written off the request's path, as last_used_at is
    row = store.list_keys(tenant.id)[0]
    store.session.refresh(row)
    assert row.last_used_ip == "203.0.113.50"
    assert row.last_used_at is not None
