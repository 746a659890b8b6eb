"""Pentest: the per-IP limit on failed key authentications locks out verified keys.

``core.authfailures`` promises that keys a process has verified keep working from its cache,
so a tenant sharing an address with a guesser (a NAT, an office, or every client when
``TRUSTED_PROXIES`` is unset behind a load balancer) is not locked out, and SPEC §5 that a
flood of forged keys never evicts verified keys. But the cache is dropped on *any* committed
change anywhere (a generation bump), after which the verified key needs a lookup, and the
lookup is refused with 429 for the rest of the minute.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import event, select

from core.extensions import db
from tenants.keyformat import BASE62, checksum
from tenants.models import ApiKey
from tests.conftest import TEST_ACTOR

LIMIT = 3


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "AUTH_FAILURES_PER_MINUTE": LIMIT}


def _forged() -> str:
    head = "lw_live_" + "".join(secrets.choice(BASE62) for _ in range(26))
    return head + checksum(head)


def test_a_forged_key_flood_does_not_lock_out_a_verified_key(client, api_key, store, tenant):
    key = api_key()
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    statuses = [
        client.get("/api/v1/health", headers={"x-tenant-api-key": _forged()}).status_code
        for _ in range(LIMIT + 1)
    ]
    assert statuses[-1] == 429  # the limit itself works
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    # Any unrelated change (another tenant's admin creates a key) drops every cached key.
    other = store.create_tenant("Globex")
    store.create_key(other.id, "unrelated", TEST_ACTOR)
    response = client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_an_ipv6_client_cannot_escape_the_limit_by_changing_its_interface_id(client):
    """One IPv6 subscriber holds at least a /64 (2**64 addresses): counting failures per /128
    lets a single client send unlimited forged keys to the database. Count per /64."""
    statuses = [
        client.get(
            "/api/v1/health",
            headers={"x-tenant-api-key": _forged()},
            environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n:x}"},
        ).status_code
        for n in range(1, LIMIT + 3)
    ]
    assert statuses.count(401) <= LIMIT, statuses


def test_a_verified_key_once_revoked_is_no_way_to_reach_the_database(client, api_key, store):
    """The exemption must not let a revoked key send unlimited lookups to the database from
    one address: after the one lookup that learns of the revocation, it is refused from the
    cache."""
    key = api_key()
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    key_id = store.session.scalars(select(ApiKey.id)).one()
    store.revoke_key(store.session.get(ApiKey, key_id).tenant_id, key_id, TEST_ACTOR)
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 401
    statements: list[str] = []

    def record(connection, cursor, statement, *rest):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        statuses = [
            client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code
            for _ in range(LIMIT + 2)
        ]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert statuses == [401] * (LIMIT + 2)
    assert [s for s in statements if "api_keys" in s] == []


def test_a_revoked_key_refused_from_the_cache_does_not_lock_out_its_neighbours(
    client, api_key, store
):
    """Only failures that cost a lookup count: a server still sending its revoked key costs
    one lookup, then is refused from the cache, and another key from the same address (one
    this process never saw) keeps working."""
    key = api_key()
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    key_id = store.session.scalars(select(ApiKey.id)).one()
    store.revoke_key(store.session.get(ApiKey, key_id).tenant_id, key_id, TEST_ACTOR)
    statuses = [
        client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code
        for _ in range(LIMIT * 3)
    ]
    assert statuses == [401] * (LIMIT * 3)
    neighbour = api_key(name="neighbour")
    answer = client.get("/api/v1/health", headers={"x-tenant-api-key": neighbour})
    assert answer.status_code == 200, answer.get_data(as_text=True)
