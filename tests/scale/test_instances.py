"""Several instances: invalidation, rate limits and a database outage across them."""

from __future__ import annotations

import time

import pytest
import redis
import requests
import sqlalchemy as sa

from tests.conftest import TEST_ACTOR

pytestmark = pytest.mark.server


def _get(instance, key, path="/api/v1/contacts"):
    return requests.get(instance.url + path, headers={"x-tenant-api-key": key}, timeout=10)


def _warm(instances, key, times=6):
    """Several requests per instance, so every worker process has the key cached."""
    for instance in instances:
        for _ in range(times):
            assert _get(instance, key).status_code == 200


def _revoke(store, tenant, key_id):
    store.revoke_key(tenant.id, key_id, TEST_ACTOR)


def _disable(store, tenant, key_id):
    store.update_key(tenant.id, key_id, TEST_ACTOR, enabled=False)


def _rescope(store, tenant, key_id):
    store.update_key(tenant.id, key_id, TEST_ACTOR, key_scopes=["tickets:read"])


def _rotate(store, tenant, key_id):
    store.rotate_key(tenant.id, key_id, TEST_ACTOR, grace_seconds=0)


@pytest.mark.parametrize(
    "change, status, code",
    [
        (_revoke, 401, "AUTH_INVALID_KEY"),
        (_disable, 401, "AUTH_INVALID_KEY"),
        (_rescope, 403, "AUTH_INSUFFICIENT_SCOPE"),
        (_rotate, 401, "AUTH_INVALID_KEY"),
    ],
    ids=["revoke", "disable", "rescope", "rotate"],
)
def test_change_is_refused_by_every_instance_on_the_next_request(
    instances, store, tenant, change, status, code
):
    issued = store.create_key(tenant.id, "server", TEST_ACTOR, ["contacts:read"])
    _warm(instances, issued.full_key)
    change(store, tenant, issued.record.id)
    for instance in reversed(instances):  # instance 2 first: it made no change itself
        for _ in range(4):  # more requests than workers: every process answers at least once
            answer = _get(instance, issued.full_key)
            assert answer.status_code == status
            assert answer.json()["error"]["code"] == code


def test_request_over_the_limit_is_429_across_instances_and_other_keys_pass(
    instances, store, tenant, redis_url
):
    limited = store.create_key(tenant.id, "limited", TEST_ACTOR, rate_limit_per_minute=5)
    other = store.create_key(tenant.id, "other", TEST_ACTOR)
    answers = [_get(instances[i % 2], limited.full_key, "/api/v1/health") for i in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers[:5]] == [
        "4",
        "3",
        "2",
        "1",
        "0",
    ]
    over = answers[5]
    assert over.json()["error"]["code"] == "RATE_LIMITED"
    assert 0 < int(over.headers["Retry-After"]) <= 60
    assert over.headers["X-RateLimit-Limit"] == "5"
    for instance in instances:
        assert _get(instance, other.full_key, "/api/v1/health").status_code == 200
        assert _get(instance, limited.full_key, "/api/v1/health").status_code == 429
    windows = redis.Redis.from_url(redis_url).keys(f"*{limited.record.id}*")
    assert windows, "the window must live in Redis, shared by the instances"


def test_database_outage_is_503_and_recovers_without_restart(
    instances, store, tenant, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("a database outage is simulated on PostgreSQL (the PostgreSQL pass runs it)")
    key = store.create_key(tenant.id, "server", TEST_ACTOR, ["contacts:read"]).full_key
    _warm(instances, key, times=2)
    store.session.close()
    with _database_refusing_connections(database_url):
        for instance in instances:
            down = _get(instance, key)
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert requests.get(instance.url + "/readyz", timeout=10).status_code == 503
            assert requests.get(instance.url + "/healthz", timeout=10).status_code == 200
    for instance in instances:
        assert _eventually_ok(instance, key)
        assert requests.get(instance.url + "/readyz", timeout=10).status_code == 200


class _database_refusing_connections:
    """Refuse new connections to the test database and end the open ones; undo on exit.
    Only backends of this one database are touched, never the server or its other users."""

    def __init__(self, database_url: str):
        url = sa.make_url(database_url)
        self.name = url.database
        self.admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def __enter__(self):
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            )

    def __exit__(self, *exc_info):
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))
        self.admin.dispose()


def _eventually_ok(instance, key, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _get(instance, key).status_code == 200:
            return True
        time.sleep(0.1)
    return False
