"""Pentest on a real gunicorn: without ``REDIS_URL`` the failed-authentication limit is
counted per worker process, so forged keys reach the database ``workers`` times
``AUTH_FAILURES_PER_MINUTE`` per client IP per minute (SPEC §5 says at most the limit).
The workers share a machine (``FileSignal`` already coordinates them through a file), so
the count could be shared the same way."""

from __future__ import annotations

import secrets
import time

import pytest
import requests

from tenants.keyformat import BASE62, checksum
from tests.servers import Gunicorn

LIMIT = 3


def _forged() -> str:
    head = "lw_live_" + "".join(secrets.choice(BASE62) for _ in range(26))
    return head + checksum(head)


@pytest.mark.server
def test_forged_keys_reach_the_database_at_most_the_limit_per_minute(
    migrated, server_env, tmp_path
):
    env = {**server_env, "AUTH_FAILURES_PER_MINUTE": str(LIMIT)}
    server = Gunicorn(env, workers=3, log_path=tmp_path / "gunicorn.log")
    started = time.time()
    try:
        statuses = [
            requests.get(
                f"{server.url}/api/v1/health",
                headers={"x-tenant-api-key": _forged(), "Connection": "close"},
                timeout=30,
            ).status_code
            for _ in range(30)
        ]
        ended = time.time()
    finally:
        server.stop()
    looked_up = statuses.count(401)  # each 401 of a well-formed key cost a database lookup
    assert set(statuses) <= {401, 429}
    # The limit holds per minute window: a run that a loaded machine stretches across a
    # window boundary may see the limit once in each window it touched.
    windows = int(ended // 60) - int(started // 60) + 1
    assert looked_up <= LIMIT * windows, f"{looked_up} lookups, limit {LIMIT}: {statuses}"
