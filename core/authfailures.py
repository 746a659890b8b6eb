"""The limit on failed tenant-key authentications per client IP (SPEC §3, §5:
``AUTH_FAILURES_PER_MINUTE``).

A well-formed key (its checksum is public, so anyone can make them) that this process has not
verified costs a database lookup. Each such key that then fails to authenticate counts
against the client's address, in fixed one-minute windows; once the window holds
``AUTH_FAILURES_PER_MINUTE`` failures, every further lookup from that address is refused with
a 429 ``RATE_LIMITED`` *before* the database is asked. Keys the process has already verified
keep working from its cache, so a tenant sharing an address with a guesser is not locked
out. Malformed keys are refused from their shape alone, cost nothing and are not counted.

Counted through ``limits`` (fixed windows): in Redis with ``REDIS_URL``, so the limit holds
across processes and instances; in the process otherwise. While Redis is unreachable the
count falls back to the process for ``RETRY_SECONDS`` (one warning per outage), as the per-key
rate limits do: requests are never refused, nor answered 500, because Redis is down.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time

from flask import Flask
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from core.errors import ApiError

AUTH_FAILURES = "loopwave.auth_failures"
RETRY_SECONDS = 5.0
log = logging.getLogger("loopwave.authfailures")


class AuthFailureLimit:
    def __init__(self, per_minute: int, redis_url: str | None, namespace: str):
        self.per_minute = per_minute  # 0: no limit
        self._item = RateLimitItemPerMinute(max(per_minute, 1), namespace=f"{namespace}:authfail")
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._shared = (
            FixedWindowRateLimiter(
                storage_from_string(redis_url, socket_connect_timeout=0.25, socket_timeout=0.5)
            )
            if redis_url
            else None
        )
        self._shared_down_until = 0.0

    def check(self, client_ip: str | None) -> None:
        """A 429 ``ApiError`` when ``client_ip`` has no failures left in this window."""
        if self.per_minute <= 0:
            return
        address = _counted_as(client_ip)
        limiter = self._limiter()
        try:
            allowed = limiter.test(self._item, address)
        except Exception:  # noqa: BLE001 - any Redis failure: count in this process instead
            limiter = self._shared_failed()
            allowed = limiter.test(self._item, address)
        if not allowed:
            retry_after = _seconds_left(limiter, self._item, address)
            raise ApiError(
                "RATE_LIMITED",
                "Too many failed API key authentications from this address; retry after the "
                "time in Retry-After",
                {"failures_per_minute": self.per_minute},
                headers={"Retry-After": str(retry_after)},
            )

    def record(self, client_ip: str | None) -> None:
        """Count one failed authentication of a well-formed key from ``client_ip``."""
        if self.per_minute <= 0:
            return
        address = _counted_as(client_ip)
        try:
            self._limiter().hit(self._item, address)
        except Exception:  # noqa: BLE001 - any Redis failure: count in this process instead
            self._shared_failed().hit(self._item, address)

    def _limiter(self) -> FixedWindowRateLimiter:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._memory

    def _shared_failed(self) -> FixedWindowRateLimiter:
        if self._shared_down_until <= time.monotonic():
            log.warning(
                "Redis unreachable for failed-authentication limits; counting per process for %ss",
                RETRY_SECONDS,
            )
        self._shared_down_until = time.monotonic() + RETRY_SECONDS
        return self._memory


def _counted_as(client_ip: str | None) -> str:
    """The address failures are counted under: an IPv6 client by its /64, the least a
    subscriber is given (it could otherwise change its interface id at will)."""
    if not client_ip:
        return "unknown"
    if ":" not in client_ip:
        return client_ip
    try:
        return str(ipaddress.IPv6Network((client_ip, 64), strict=False))
    except ValueError:
        return client_ip


def _seconds_left(limiter: FixedWindowRateLimiter, item, address: str) -> int:
    try:
        reset_at = limiter.get_window_stats(item, address).reset_time
        return max(1, math.ceil(reset_at - time.time()))
    except Exception:  # noqa: BLE001 - the answer is a hint; never fail the 429 on it
        return 60


def init_auth_failure_limit(app: Flask) -> None:
    app.extensions[AUTH_FAILURES] = AuthFailureLimit(
        app.config["AUTH_FAILURES_PER_MINUTE"],
        app.config["REDIS_URL"],
        app.config["REDIS_NAMESPACE"],
    )
