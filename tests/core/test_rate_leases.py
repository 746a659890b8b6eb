"""Leased rate limits (core/ratelimit.py) against a real Redis: the stated bound holds.

Two ``RateLimiter`` objects sharing one Redis stand for two worker processes: never more
than the limit admitted in a window, never less than the limit minus one lease per process.
"""

from __future__ import annotations

import math

import pytest
import redis

from core.errors import ApiError
from core.ratelimit import LEASE_DIVISOR, RateLimiter
from tests.redis_service import PrivateRedis


@pytest.fixture(scope="module")
def private_redis():
    server = PrivateRedis()
    yield server
    server.stop()


def _admitted(limiters, bucket, limit, attempts) -> int:
    admitted = 0
    for n in range(attempts):
        try:
            limiters[n % len(limiters)].hit(bucket, limit)
            admitted += 1
        except ApiError as refused:
            assert refused.code == "RATE_LIMITED"
    return admitted


@pytest.mark.parametrize("limit", [60, 499, 50_000])
def test_two_processes_never_get_more_than_the_limit_and_at_most_a_lease_each_less(
    private_redis, limit
):
    limiters = [RateLimiter(private_redis.url, 6000, f"lease-{limit}") for _ in range(2)]
    admitted = _admitted(limiters, "key_1", limit, limit + limit // 10 + 10)
    assert admitted <= limit
    assert admitted >= limit - 2 * math.ceil(limit / LEASE_DIVISOR)
    if limit < LEASE_DIVISOR:
        assert admitted == limit  # small limits lease one token at a time: exact


def _commands(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(value["calls"] for name, value in stats.items() if name != "cmdstat_info")


def test_a_large_limit_asks_redis_once_per_lease_and_a_spent_window_not_at_all(private_redis):
    client = redis.Redis.from_url(private_redis.url)
    limiter = RateLimiter(private_redis.url, 6000, "lease-cost")
    before = _commands(client)
    assert _admitted([limiter], "key_2", 100_000, 1000) == 1000
    # One reservation of 200 tokens per 200 requests: GET, INCRBY, PEXPIRE (first), PTTL.
    assert _commands(client) - before <= 5 * 5 + 1
    assert _admitted([limiter], "key_3", 3, 3) == 3
    spent = _commands(client)
    assert _admitted([limiter], "key_3", 3, 50) == 0
    assert _commands(client) - spent <= 5  # the first refusal asks once; the rest know


def test_redis_unreachable_falls_back_to_counting_in_the_process():
    limiter = RateLimiter("redis://127.0.0.1:1/0", 6000, "lease-down")
    assert _admitted([limiter], "key_4", 5, 8) == 5


@pytest.mark.parametrize("lowered_to", [10, 5_000])
def test_a_lowered_limit_holds_at_once_in_every_process(private_redis, lowered_to):
    """Pentest F3: tokens leased under the old limit were spent after the key's limit was
    lowered (300 requests admitted after 1,000,000/min became 10/min, the window already
    past 10). The window is now judged by the new limit on the next request."""
    limiters = [RateLimiter(private_redis.url, 6000, f"lease-lower-{lowered_to}") for _ in range(2)]
    assert _admitted(limiters, "key_5", 1_000_000, 6_000) == 6_000  # each holds a lease
    assert _admitted(limiters, "key_5", lowered_to, 300) == 0
