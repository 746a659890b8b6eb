"""The failed-authentication limit keeps counting when Redis goes away: per process, never an
error (SPEC §3 ``AUTH_FAILURES_PER_MINUTE``; Redis faults never refuse or break requests)."""

from __future__ import annotations

import pytest

from core.authfailures import AuthFailureLimit
from core.errors import ApiError
from tests.redis_service import RUN_NAMESPACE, PrivateRedis


def test_counts_in_redis_then_per_process_while_redis_is_down():
    private = PrivateRedis()
    try:
        shared = AuthFailureLimit(3, private.url, RUN_NAMESPACE)
        other_process = AuthFailureLimit(3, private.url, RUN_NAMESPACE)
        for _ in range(3):
            shared.check("203.0.113.5")
            shared.record("203.0.113.5")
        with pytest.raises(ApiError) as refused:
            other_process.check("203.0.113.5")  # the count lives in Redis, not in one process
        assert refused.value.code == "RATE_LIMITED"
        assert int(refused.value.headers["Retry-After"]) >= 1
    finally:
        private.stop()
    for _ in range(3):
        other_process.check("198.51.100.7")  # no Redis error escapes
        other_process.record("198.51.100.7")
    with pytest.raises(ApiError):
        other_process.check("198.51.100.7")


def test_zero_turns_the_limit_off():
    limit = AuthFailureLimit(0, None, RUN_NAMESPACE)
    for _ in range(10):
        limit.record("203.0.113.5")
    limit.check("203.0.113.5")
