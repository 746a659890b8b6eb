"""Redis for tests: the shared server under a namespace of this run, or a private one to stop.

``TEST_REDIS_URL`` picks the shared one (default: database 2 of the local server). Each test
run has its own ``REDIS_NAMESPACE`` (``RUN_NAMESPACE``), so two runs on one machine never see
each other's keys or invalidations; a test clears only its run's keys, never the database. A
missing Redis fails the test loudly; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest
import redis

from tests.servers import free_port

DEFAULT_URL = "redis://127.0.0.1:6379/2"
RUN_NAMESPACE = f"lwtest:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def shared_redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL") or DEFAULT_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required at {url} (set TEST_REDIS_URL): {exc}")
    return url


def clear_run_keys(url: str, namespace: str = RUN_NAMESPACE) -> None:
    """Delete this run's keys (``FLUSHDB`` would wipe another run's too)."""
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{namespace}:*", count=1000):
        client.delete(key)


class PrivateRedis:
    """``redis-server`` on a free loopback port, without persistence, that a test may stop."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is required on PATH for the Redis outage test")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
