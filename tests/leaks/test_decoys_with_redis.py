"""Pentest: decoy uses with ``REDIS_URL`` set (SPEC §11).

``key.decoy_used`` is queued in memory and written by the usage flush. The Redis usage
buffer's flush replaced the in-process one and never wrote that queue: with Redis on, no
decoy use was ever recorded (and the queue grew without bound). Each use is now recorded,
with its own time and client address, Redis up or down; the queue is capped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from core.extensions import db, usage_buffer
from tenants import events, leaks
from tenants.redis_usage import RedisUsageBuffer
from tenants.usage import UsageBuffer
from tests.conftest import TEST_ACTOR, _empty_tables, reset_auth_failure_counts
from tests.redis_service import clear_run_keys, shared_redis_url

CLIENTS = ["203.0.113.7", "198.51.100.23", "2001:db8::5"]


@pytest.fixture
def app(migrated, server_env, scanner) -> Iterator[Flask]:
    url = shared_redis_url()
    clear_run_keys(url)
    app = create_app(
        {
            "TESTING": True,
            "REDIS_URL": url,
            "TRUSTED_PROXIES": "127.0.0.1/32",
            "SECRET_SCANNING_KEYS_URL": scanner.url,
        }
    )
    reset_auth_failure_counts(Path(app.instance_path))
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


def _decoy_events(tenant_id: str) -> list[events.Event]:
    db.session.rollback()  # a fresh read
    return list(db.session.scalars(events.for_tenant(tenant_id, "key.decoy_used")))


def test_every_decoy_use_is_recorded_with_its_own_client_address(client, store, tenant, api_key):
    assert isinstance(usage_buffer.get(), RedisUsageBuffer)
    decoy = store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    real = api_key()
    for address in CLIENTS:
        headers = {"x-tenant-api-key": decoy.full_key, "X-Forwarded-For": address}
        assert client.get("/api/v1/health", headers=headers).status_code == 401
        # Real traffic in between: counted in Redis, flushed with the decoy uses.
        assert client.get("/api/v1/health", headers={"x-tenant-api-key": real}).status_code == 200
    usage_buffer.get().flush()
    raised = sorted(_decoy_events(tenant.id), key=lambda event: event.data["used_at"])
    assert [event.data["client_ip"] for event in raised] == CLIENTS
    assert all(event.data["object"]["id"] == decoy.record.id for event in raised)


def test_decoy_uses_are_recorded_while_redis_is_unreachable(store, tenant):
    decoy = store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    unreachable = RedisUsageBuffer(lambda: db.engine, "redis://127.0.0.1:1/0", "lwtest:down")
    use = leaks.decoy_use(decoy.record.id, tenant.id, CLIENTS[0], "curl/8", "GET", "/api/v1/x")
    unreachable.defer(use)
    unreachable.flush()
    assert [event.data["client_ip"] for event in _decoy_events(tenant.id)] == [CLIENTS[0]]


@pytest.mark.parametrize("buffer_type", [UsageBuffer, RedisUsageBuffer])
def test_the_queue_of_decoy_uses_is_capped(app, buffer_type):
    written: list[int] = []
    if buffer_type is RedisUsageBuffer:
        buffer = RedisUsageBuffer(
            lambda: db.engine, shared_redis_url(), "lwtest:cap", max_deferred=5
        )
    else:
        buffer = UsageBuffer(lambda: db.engine, max_deferred=5)
    for number in range(8):
        buffer.defer(lambda _session, number=number: written.append(number))
    buffer.flush()
    assert written == [0, 1, 2, 3, 4]  # the first uses are kept: they say when it began
    assert buffer.dropped_deferred == 3
