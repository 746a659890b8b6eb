"""Every Redis key and pub/sub channel the app touches starts with its deployment's namespace
(``REDIS_NAMESPACE``, core/config.py), so deployments sharing a Redis server never see each
other's counters or invalidations, and one can be confined to its prefix by a Redis ACL
(``~<namespace>:*``, ``&<namespace>:*``).

A private ``redis-server`` (only this app talks to it) reports every key written through
keyspace notifications and every published message through a ``PSUBSCRIBE *``; the app then
does what touches Redis: key changes (invalidation), API requests (rate-limit windows,
usage counts and their flush), unknown keys (failed-authentication limits), a decoy, the
readiness probe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from app import create_app
from core.extensions import db, usage_buffer
from tenants import keyformat
from tests.conftest import TEST_ACTOR, _empty_tables, reset_auth_failure_counts
from tests.redis_service import PrivateRedis

NAMESPACE = "lwtest:deployment-a"


class Observer:
    """Every key written and every channel published to or subscribed on ``url``."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)
        self.client.config_set("notify-keyspace-events", "KEA")
        self.keys: set[str] = set()
        self.channels: set[str] = set()
        self._pubsub = self.client.pubsub()
        self._pubsub.psubscribe("*")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.1)
            if message is None or message["type"] != "pmessage":
                continue
            channel = message["channel"].decode()
            if channel.startswith("__keyevent@"):
                self.keys.add(message["data"].decode())
            elif not channel.startswith("__keyspace@"):
                self.channels.add(channel)

    def subscribed_channels(self) -> set[str]:
        return {channel.decode() for channel in self.client.pubsub_channels()}

    def stop(self) -> None:
        time.sleep(0.5)  # the last notifications on their way
        self._stop.set()
        self._thread.join(5)
        self._pubsub.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    yield server
    server.stop()


@pytest.fixture
def app(migrated, server_env, private_redis) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "REDIS_URL": private_redis.url,
            "REDIS_NAMESPACE": NAMESPACE,
            "AUTH_FAILURES_PER_MINUTE": 100,
            "RATE_LIMIT_PER_MINUTE": 1000,
        }
    )
    reset_auth_failure_counts(Path(app.instance_path))
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_every_redis_key_and_channel_is_under_the_deployments_namespace(
    app, client, store, tenant, api_key, private_redis
):
    observer = Observer(private_redis.url)
    try:
        key = api_key()
        for _ in range(3):
            assert (
                client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
            )
        unknown = keyformat.generate("lw").full_key
        assert (
            client.get("/api/v1/health", headers={"x-tenant-api-key": unknown}).status_code == 401
        )
        decoy = store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
        assert (
            client.get("/api/v1/health", headers={"x-tenant-api-key": decoy.full_key}).status_code
            == 401
        )
        revoked = store.create_key(tenant.id, "to revoke", TEST_ACTOR)
        store.revoke_key(tenant.id, revoked.record.id, TEST_ACTOR)
        usage_buffer.get().flush()
        client.get("/readyz")
        subscribed = observer.subscribed_channels()
    finally:
        observer.stop()
    names = observer.keys | observer.channels | subscribed
    for family in ("authfail", "ratelimit", "usage:counts", "usage:last_used", "keystore:changed"):
        assert any(family in name for name in names), f"precondition: no {family} in {names}"
    outside = sorted(name for name in names if not name.startswith(f"{NAMESPACE}:"))
    assert outside == [], f"Redis names outside {NAMESPACE}: {outside}"
