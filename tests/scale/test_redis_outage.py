"""Redis stopped under a running instance: authentication keeps working and stays correct."""

from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import TEST_ACTOR
from tests.redis_service import PrivateRedis
from tests.servers import Gunicorn

pytestmark = pytest.mark.server


def _health(instance, key):
    return requests.get(
        instance.url + "/api/v1/health", headers={"x-tenant-api-key": key}, timeout=10
    )


def test_authenticated_requests_succeed_while_redis_is_down(server_env, store, tenant, tmp_path):
    private = PrivateRedis()
    instance = Gunicorn({**server_env, "REDIS_URL": private.url}, log_path=tmp_path / "i.log")
    try:
        issued = store.create_key(tenant.id, "server", TEST_ACTOR, rate_limit_per_minute=1000)
        revoked_later = store.create_key(tenant.id, "other", TEST_ACTOR)
        for _ in range(4):
            assert _health(instance, issued.full_key).status_code == 200
            assert _health(instance, revoked_later.full_key).status_code == 200
        private.stop()
        answers = [_health(instance, issued.full_key) for _ in range(8)]
        assert [answer.status_code for answer in answers] == [200] * 8
        # The instance cannot hear about changes now; it reads the database's change counter
        # instead, often enough to honour the change within the SPEC's 5 seconds.
        store.revoke_key(tenant.id, revoked_later.record.id, TEST_ACTOR)
        bound = time.monotonic() + 5
        while time.monotonic() < bound:
            assert _health(instance, revoked_later.full_key).status_code in (200, 401)
        for _ in range(4):
            assert _health(instance, revoked_later.full_key).status_code == 401
        usage = requests.get(
            instance.url + "/api/v1/usage",
            headers={"x-tenant-api-key": issued.full_key},
            timeout=10,
        )
        assert usage.status_code == 200
        counted = sum(
            row["requests"] for row in usage.json()["data"] if row["key_name"] == "server"
        )
        assert counted >= 8  # the outage's requests were counted straight into the database
        ready = requests.get(instance.url + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["error"]["details"]["checks"]["redis"] == "unavailable"
    finally:
        instance.stop()
        private.stop()
    log = (tmp_path / "i.log").read_text()
    assert "Redis unreachable" in log
    assert "Traceback" not in log
