"""Forged well-formed keys (issue 11 §5, SPEC §3 and §5): the checksum is public, so anyone
can make keys that pass the shape test. They never evict verified keys from any cache, and
their failures are limited per client IP (``AUTH_FAILURES_PER_MINUTE``) before any database
work, across every process and instance when Redis is configured."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import event

from core.extensions import db
from tenants import clock, keyformat
from tenants.errors import InvalidKey
from tenants.verify import KeyVerifier
from tests.redis_service import clear_run_keys, shared_redis_url
from tests.servers import Gunicorn


def _forged() -> str:
    """A well-formed key (valid checksum) that no tenant has."""
    return keyformat.generate("lw").full_key


@contextmanager
def _counting_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_flood_of_forged_keys_never_evicts_a_verified_key(app, store, api_key):
    verifier = KeyVerifier(lambda: db.session, store.signal, "lw", cache_size=4)
    real = api_key()
    assert verifier.verify(real, clock.timestamp()).key_name == "test key"
    for _ in range(50):
        with pytest.raises(InvalidKey):
            verifier.verify(_forged(), clock.timestamp())
    with _counting_queries() as statements:
        assert verifier.verify(real, clock.timestamp()).key_name == "test key"
    assert statements == []  # still answered from the cache


class TestFailureLimitInProcess:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"AUTH_FAILURES_PER_MINUTE": 5}

    def test_failures_beyond_the_limit_are_429_before_any_database_work(self, client, api_key):
        warm = api_key(name="verified before")
        cold = api_key(name="never used")
        assert client.get("/api/v1/health", headers={"x-tenant-api-key": warm}).status_code == 200
        for _ in range(5):
            response = client.get("/api/v1/health", headers={"x-tenant-api-key": _forged()})
            assert response.status_code == 401
        with _counting_queries() as statements:
            refused = client.get("/api/v1/health", headers={"x-tenant-api-key": _forged()})
            unseen = client.get("/api/v1/health", headers={"x-tenant-api-key": cold})
        assert statements == []
        for response in (refused, unseen):
            assert response.status_code == 429
            assert response.get_json()["error"]["code"] == "RATE_LIMITED"
            assert 1 <= int(response.headers["Retry-After"]) <= 60
        # A key this process verified before keeps working; a malformed key stays a 401.
        assert client.get("/api/v1/health", headers={"x-tenant-api-key": warm}).status_code == 200
        malformed = client.get("/api/v1/health", headers={"x-tenant-api-key": "lw_live_nope"})
        assert malformed.status_code == 401

    def test_malformed_keys_are_not_counted(self, client, api_key):
        for _ in range(20):
            malformed = client.get("/api/v1/health", headers={"x-tenant-api-key": "lw_live_x"})
            assert malformed.status_code == 401
        response = client.get("/api/v1/health", headers={"x-tenant-api-key": api_key()})
        assert response.status_code == 200


def _health(server: Gunicorn, key: str, forwarded_for: str | None = None) -> requests.Response:
    headers = {"x-tenant-api-key": key, "Connection": "close"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return requests.get(f"{server.url}/api/v1/health", headers=headers, timeout=10)


@pytest.mark.server
def test_failure_limit_is_shared_by_every_worker_through_redis(app, server_env, tmp_path):
    """Two workers, one Redis: the tenth failure of a client is its last 401 in either worker.
    Each client is its own address behind the trusted proxy (loopback)."""
    redis_url = shared_redis_url()
    env = {
        **server_env,
        "REDIS_URL": redis_url,
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "AUTH_FAILURES_PER_MINUTE": "10",
    }
    server = Gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log")
    try:
        guesser, bystander = "203.0.113.5", "203.0.113.6"
        assert {_health(server, _forged(), guesser).status_code for _ in range(10)} == {401}
        refused = [_health(server, _forged(), guesser) for _ in range(12)]
        assert {response.status_code for response in refused} == {429}
        assert all(int(response.headers["Retry-After"]) >= 1 for response in refused)
        # Another client behind the same proxy is not affected.
        assert _health(server, _forged(), bystander).status_code == 401
        # A spoofed X-Forwarded-For is read from the right: the proxy's view of the client wins.
        assert _health(server, _forged(), f"198.51.100.1, {guesser}").status_code == 429
    finally:
        server.stop()
        clear_run_keys(redis_url)


@pytest.mark.server
def test_forwarded_for_is_ignored_without_trusted_proxies(app, server_env, tmp_path):
    env = {**server_env, "AUTH_FAILURES_PER_MINUTE": "5"}
    server = Gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log")
    try:
        statuses = [_health(server, _forged(), f"203.0.113.{n}").status_code for n in range(8)]
        assert statuses == [401] * 5 + [429] * 3
    finally:
        server.stop()
