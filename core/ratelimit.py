"""Per-key rate limits: fixed one-minute windows, shared through Redis with ``REDIS_URL``,
counted in memory without.

A window opens at a bucket's first request and lasts a minute (the counter's expiry), so a
burst cannot double up across a calendar-minute boundary.

**With Redis: local leases.** Asking Redis on every request costs a round trip per request.
Instead each process *reserves* a lease of tokens from the window's counter in Redis, answers
from it locally, and asks again only when it has run out (the design Unkey and Stripe describe:
count locally, sync in batches). The lease size scales with the limit and with what the window
has left: ``limit // LEASE_DIVISOR`` tokens, at most ``1 / NEAR_END_DIVISOR`` of the window's
remainder, and at least 1. Small limits (under ``LEASE_DIVISOR`` a minute, e.g. 60/min) thus
always lease a single token: every request asks Redis and the count is exact. Large limits
lease in chunks (1,000,000/min: 2,000 tokens), so Redis sees one round trip per chunk.

The bound (docs/deploy.md, "Rate limits across instances"):

- *over-admission: none.* A reservation is capped atomically at the limit (the counter never
  exceeds it), and a process uses a lease only until the window's end as Redis reported it,
  counted from before the request was sent, so never into the next window.
- *under-admission:* tokens leased by a process that then gets no more requests of that key
  in the window are forgotten when the window ends, never handed to another process: at most
  ``ceil(limit / LEASE_DIVISOR)`` per process that used the key in that window (0.2% each).

The reservation is a short Lua script run with redis-py's ``register_script`` (EVALSHA):
neither ``limits`` nor a plain command reserves "up to N tokens, capped at the limit" and
returns the window's remaining time in one atomic round trip (``limits``' ``incr`` overshoots
the limit and needs a second round trip for the expiry).

Without Redis the windows are counted by ``LocalWindows`` below, a dictionary: ``limits``'
own ``MemoryStorage`` starts a timer thread to expire counters, and waiting for those thread
starts weighed on every request (docs/performance.md).

Redis unreachable: counting falls back to per-process in-memory windows (one warning per
outage) and returns to Redis after ``RETRY_SECONDS``. Limits then hold per worker process
rather than across the fleet; requests are never refused, nor answered 500, because Redis
is down.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask
from redis.commands.core import Script

from core.errors import ApiError
from core.services import AppService
from tenants import metrics

WINDOW_SECONDS = 60
RETRY_SECONDS = 5.0
LEASE_DIVISOR = 500  # a lease holds at most 0.2% of the limit
NEAR_END_DIVISOR = 8  # ... and at most an eighth of what the window has left
log = logging.getLogger("loopwave.ratelimit")

# KEYS[1]: the window's counter. ARGV: limit, tokens wanted, window length in ms.
# Returns {tokens granted (0 when the window is spent), the counter after, its TTL in ms}.
RESERVE_SCRIPT = """
local limit = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[2]), limit - used)
if grant > 0 then
  used = redis.call('INCRBY', KEYS[1], grant)
  if used == grant then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
  end
else
  grant = 0
end
return {grant, used, redis.call('PTTL', KEYS[1])}
"""


class LocalWindows:
    """Fixed windows of this process: ``incr`` and ``get_expiry`` as in ``limits`` storages."""

    def __init__(self, max_windows: int = 100_000):
        self._windows: dict[str, list[Any]] = {}  # key -> [expires_at: float, count: int]
        self._max_windows = max_windows
        self._lock = threading.Lock()

    def incr(self, key: str, expiry: float) -> int:
        now = time.time()
        with self._lock:
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                if len(self._windows) >= self._max_windows:
                    self._drop_expired(now)
                window = self._windows[key] = [now + expiry, 0]
            window[1] += 1
            count: int = window[1]
            return count

    def get_expiry(self, key: str) -> float:
        window = self._windows.get(key)
        return window[0] if window else time.time()

    def _drop_expired(self, now: float) -> None:
        for key in [key for key, window in self._windows.items() if window[0] <= now]:
            del self._windows[key]


@dataclass(slots=True)
class Lease:
    """Tokens this process reserved from one Redis window, usable until ``ends``."""

    tokens: int  # left to hand out locally
    used: int  # the window's counter in Redis after the last reservation
    ends: float  # time.monotonic() at which the window ends in Redis (or a little before)
    limit: int  # the key's limit when the tokens were reserved


QuotaHeaders = tuple[tuple[str, str], tuple[str, str]]


class RateLimiter:
    def __init__(
        self,
        redis_url: str | None,
        default_per_minute: int,
        namespace: str = "",
        max_leases: int = 100_000,
    ):
        self.default_per_minute = default_per_minute
        self._window_prefix = f"{namespace}:ratelimit:"
        self._memory = LocalWindows()
        self._leases: dict[str, Lease] = {}
        self._max_leases = max_leases
        self._lock = threading.Lock()
        self._reserve: Script | None = None
        if redis_url:
            client = redis.Redis.from_url(
                redis_url, socket_connect_timeout=0.25, socket_timeout=0.5
            )
            self._reserve = client.register_script(RESERVE_SCRIPT)
        self._shared_down_until = 0.0

    def hit(self, bucket_id: str, own_limit: int | None) -> QuotaHeaders | None:
        """Count one request against ``bucket_id`` (a key's id, or the id whose window a key
        shares): ``X-RateLimit-Limit`` and ``-Remaining`` for its answer, ``None`` when it is
        unlimited, or a 429 ``ApiError``."""
        limit = self.default_per_minute if own_limit is None else own_limit
        if limit <= 0:
            return None
        if self._reserve is not None:
            answer = self._hit_leased(self._reserve, bucket_id, limit)
            if answer is not None:
                return answer
        # The usual single-instance case (one dictionary update), and Redis being down.
        window = self._window_prefix + bucket_id
        count = self._memory.incr(window, WINDOW_SECONDS)
        if count > limit:
            raise _limited(limit, _seconds_left(self._memory.get_expiry(window) - time.time()))
        return ("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", str(limit - count))

    def _hit_leased(self, reserve: Script, bucket_id: str, limit: int) -> QuotaHeaders | None:
        """Take a token of this process's lease, reserving a new one when it is spent;
        ``None`` when Redis cannot be asked (the caller counts in memory instead)."""
        now = time.monotonic()
        with self._lock:
            lease = self._leases.get(bucket_id)
            if lease is not None and lease.ends > now:
                if lease.limit > limit:
                    # The limit was lowered: tokens reserved under the old one are void, and
                    # the window is judged by the new one (docs/security.md, pentest F3).
                    lease.tokens, lease.limit = 0, limit
                if lease.tokens > 0:
                    lease.tokens -= 1
                    return _quota(limit, lease)
                if lease.used >= limit:  # the window is spent: no need to ask Redis again
                    raise _limited(limit, _seconds_left(lease.ends - now))
                used_before = lease.used
            else:
                used_before = 0
        if now < self._shared_down_until:
            return None
        wanted = max(1, min(limit // LEASE_DIVISOR, (limit - used_before) // NEAR_END_DIVISOR))
        try:
            granted, used, ttl_ms = reserve(
                keys=[self._window_prefix + bucket_id],
                args=[limit, wanted, WINDOW_SECONDS * 1000],
            )
        except redis.RedisError:
            self._shared_failed()
            return None
        # Measured from before the request was sent, so the lease ends no later than the
        # window does in Redis.
        ends = now + (ttl_ms if ttl_ms > 0 else WINDOW_SECONDS * 1000) / 1000
        with self._lock:
            if len(self._leases) >= self._max_leases:
                self._drop_ended(now)
            previous = self._leases.get(bucket_id)
            # Another thread of this process may have reserved meanwhile: keep its tokens.
            # Never tokens reserved under a higher limit than this one (lowered meanwhile).
            kept = (
                previous.tokens
                if previous is not None and previous.ends > now and previous.limit <= limit
                else 0
            )
            lease = self._leases[bucket_id] = Lease(max(granted - 1, 0) + kept, used, ends, limit)
        if granted == 0:
            raise _limited(limit, _seconds_left(ends - now))
        return _quota(limit, lease)

    def _drop_ended(self, now: float) -> None:
        for bucket in [bucket for bucket, lease in self._leases.items() if lease.ends <= now]:
            del self._leases[bucket]

    def _shared_failed(self) -> None:
        metrics.redis_error("ratelimit")
        if self._shared_down_until <= time.monotonic():
            log.warning(
                "Redis unreachable for rate limits; counting per process for %ss", RETRY_SECONDS
            )
        self._shared_down_until = time.monotonic() + RETRY_SECONDS


def _quota(limit: int, lease: Lease) -> QuotaHeaders:
    """What is left of the window as far as this process knows: other processes' unused
    leases count as spent, so the figure is never higher than the truth."""
    return ("X-RateLimit-Limit", str(limit)), (
        "X-RateLimit-Remaining",
        str(max(limit - lease.used + lease.tokens, 0)),
    )


def _limited(limit: int, retry_after: int) -> ApiError:
    return ApiError(
        "RATE_LIMITED",
        f"This key is limited to {limit} requests per minute; retry after the time in Retry-After",
        {"limit_per_minute": limit},
        headers={
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(retry_after),
        },
    )


def _seconds_left(seconds: float) -> int:
    return min(max(1, math.ceil(seconds)), WINDOW_SECONDS)


class RateLimiterService(AppService[RateLimiter]):
    name = "loopwave.rate_limit"

    def init_app(self, app: Flask) -> None:
        limiter = RateLimiter(
            app.config["REDIS_URL"],
            app.config["RATE_LIMIT_PER_MINUTE"],
            app.config["REDIS_NAMESPACE"],
        )
        self._install(app, limiter)
