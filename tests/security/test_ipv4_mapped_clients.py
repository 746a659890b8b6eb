"""Pentest: IPv4 clients seen through a dual-stack listener (SPEC §3, §5, §11).

A server bound to ``[::]`` (gunicorn ``--bind [::]:8000``, most container set-ups) sees every
IPv4 client as an IPv4-mapped IPv6 address, ``::ffff:203.0.113.7``. The failed-authentication
limit counts an IPv6 client by its /64, and every mapped address lies in ``::/64``: one
guesser's failures locked out *every* IPv4 client whose key needed a lookup. The same
addresses were recorded as sent (a decoy's ``client_ip``, a key's ``last_used_ip``), not as
the IPv4 address the allow-lists compare. The client address is now unmapped where it is
first read.
"""

from __future__ import annotations

import secrets

import pytest

from core.clientip import client_ip_from, parse_networks
from core.extensions import db, usage_buffer
from tenants import events
from tenants.keyformat import BASE62, checksum
from tests.conftest import TEST_ACTOR

LIMIT = 3
GUESSER = {"REMOTE_ADDR": "::ffff:203.0.113.7"}
NEIGHBOUR = {"REMOTE_ADDR": "::ffff:198.51.100.9"}


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "AUTH_FAILURES_PER_MINUTE": LIMIT}


def _forged() -> str:
    head = "lw_live_" + "".join(secrets.choice(BASE62) for _ in range(26))
    return head + checksum(head)


def _health(client, key: str, peer: dict[str, str]) -> int:
    headers = {"x-tenant-api-key": key}
    return client.get("/api/v1/health", headers=headers, environ_base=peer).status_code


def test_one_ipv4_guesser_does_not_lock_out_other_ipv4_clients(client, api_key):
    statuses = [_health(client, _forged(), GUESSER) for _ in range(LIMIT + 1)]
    assert statuses[-1] == 429, statuses  # precondition: the guesser is limited
    assert _health(client, api_key(), NEIGHBOUR) == 200


def test_a_decoy_and_a_key_record_the_ipv4_address(client, store, tenant, api_key):
    decoy = store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    assert _health(client, decoy.full_key, GUESSER) == 401
    key = api_key()
    assert _health(client, key, NEIGHBOUR) == 200
    usage_buffer.get().flush()
    db.session.rollback()
    [used] = db.session.scalars(events.for_tenant(tenant.id, "key.decoy_used"))
    assert used.data["client_ip"] == "203.0.113.7"
    live = [k for k in store.list_keys(tenant.id) if not k.decoy]
    assert [k.last_used_ip for k in live] == ["198.51.100.9"]


def test_a_trusted_proxy_named_in_mapped_form_is_still_trusted():
    """A guard of the fix: the peer is unmapped, so must the proxy's network be."""
    trusted = parse_networks("::ffff:10.0.0.0/104")
    environ = {"REMOTE_ADDR": "::ffff:10.1.2.3", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert client_ip_from(environ, trusted) == "203.0.113.7"
