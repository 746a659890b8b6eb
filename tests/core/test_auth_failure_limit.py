"""The failed-authentication limit keeps counting when Redis goes away: on the machine, never an
error (SPEC §3 ``AUTH_FAILURES_PER_MINUTE``; Redis faults never refuse or break requests), and
without Redis every process of the machine shares one count."""

from __future__ import annotations

import pytest

from core.authfailures import AuthFailureLimit
from core.errors import ApiError
from tests.redis_service import RUN_NAMESPACE, PrivateRedis


def test_counts_in_redis_then_on_the_machine_while_redis_is_down(tmp_path):
    private = PrivateRedis()
    try:
        shared = AuthFailureLimit(3, private.url, RUN_NAMESPACE, tmp_path / "a.counts")
        other_process = AuthFailureLimit(3, private.url, RUN_NAMESPACE, tmp_path / "b.counts")
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


def test_without_redis_the_processes_of_a_machine_share_one_count(tmp_path):
    first = AuthFailureLimit(3, None, RUN_NAMESPACE, tmp_path / "auth.counts")
    second = AuthFailureLimit(3, None, RUN_NAMESPACE, tmp_path / "auth.counts")
    for limit in (first, second, first):
        limit.check("203.0.113.5")
        limit.record("203.0.113.5")
    for limit in (first, second):
        with pytest.raises(ApiError):
            limit.check("203.0.113.5")
        limit.check("203.0.113.6")  # another address keeps its own count


def test_the_machine_table_never_grows_and_a_burst_of_addresses_does_not_break_it(tmp_path):
    limit = AuthFailureLimit(2, None, RUN_NAMESPACE, tmp_path / "auth.counts")
    size = (tmp_path / "auth.counts").stat().st_size
    for n in range(20_000):
        limit.record(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
    assert (tmp_path / "auth.counts").stat().st_size == size
    limit.record("203.0.113.9")
    limit.record("203.0.113.9")
    with pytest.raises(ApiError):
        limit.check("203.0.113.9")


def test_zero_turns_the_limit_off(tmp_path):
    limit = AuthFailureLimit(0, None, RUN_NAMESPACE, tmp_path / "auth.counts")
    for _ in range(10):
        limit.record("203.0.113.5")
    limit.check("203.0.113.5")
