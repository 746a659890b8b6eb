"""Per-key rate limits: fixed one-minute windows in Redis with ``REDIS_URL``, in memory without.

Built on ``limits``, the storage and strategy library underneath Flask-Limiter, called
directly. Flask-Limiter itself was measured at ~0.5 ms per request on this hot path (its
app-wide hooks resolve, filter and re-evaluate limit declarations on every request, before
and after the view) — more than the whole rest of an authenticated request. A per-key limit
known only after authentication needs none of that: one ``incr`` on the window counter.

A window opens at the key's first request and lasts a minute (the counter's expiry), so a
burst cannot double up across a calendar-minute boundary.

Without Redis the windows are counted by ``LocalWindows`` below, a dictionary: ``limits``'
own ``MemoryStorage`` starts a timer thread every 10 ms to expire counters, and waiting for
those thread starts was measured at ~75 us per request.

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

from flask import Flask
from limits.storage import Storage, storage_from_string

from core.errors import ApiError

RATE_LIMIT = "loopwave.rate_limit"
WINDOW_SECONDS = 60
RETRY_SECONDS = 5.0
log = logging.getLogger("loopwave.ratelimit")


class LocalWindows:
    """Fixed windows of this process: ``incr`` and ``get_expiry`` as in ``limits`` storages."""

    def __init__(self, max_windows: int = 100_000):
        self._windows: dict[str, list] = {}  # key -> [expires_at, count]
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
            return window[1]

    def get_expiry(self, key: str) -> float:
        window = self._windows.get(key)
        return window[0] if window else time.time()

    def _drop_expired(self, now: float) -> None:
        for key in [key for key, window in self._windows.items() if window[0] <= now]:
            del self._windows[key]


QuotaHeaders = tuple[tuple[str, str], tuple[str, str]]


class RateLimiter:
    def __init__(self, redis_url: str | None, default_per_minute: int, namespace: str = ""):
        self.default_per_minute = default_per_minute
        self._window_prefix = f"{namespace}:ratelimit:"
        self._memory = LocalWindows()
        self._shared: Storage | None = (
            storage_from_string(redis_url, socket_connect_timeout=0.25, socket_timeout=0.5)
            if redis_url
            else None
        )
        self._shared_down_until = 0.0

    def hit(self, key_id: str, own_limit: int | None) -> QuotaHeaders | None:
        """Count one request of ``key_id``: ``X-RateLimit-Limit`` and ``-Remaining`` for its
        answer, ``None`` when it is unlimited, or a 429 ``ApiError``."""
        limit = self.default_per_minute if own_limit is None else own_limit
        if limit <= 0:
            return None
        if self._shared is None:  # the usual single-instance case: one dictionary update
            storage, window = self._memory, key_id
            count = storage.incr(window, WINDOW_SECONDS)
        else:
            storage, window, count = self._hit_shared(key_id)
        if count > limit:
            retry_after = _seconds_left(storage, window)
            raise ApiError(
                "RATE_LIMITED",
                f"This key is limited to {limit} requests per minute; retry after the time "
                "in Retry-After",
                {"limit_per_minute": limit},
                headers={
                    "Retry-After": str(retry_after),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(retry_after),
                },
            )
        return ("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", str(limit - count))

    def _hit_shared(self, key_id: str) -> tuple[Storage | LocalWindows, str, int]:
        """Count in Redis; while it is unreachable, in this process's windows instead."""
        window = self._window_prefix + key_id
        storage = self._storage()
        try:
            return storage, window, storage.incr(window, WINDOW_SECONDS)
        except Exception:  # noqa: BLE001 - any Redis failure: count in memory instead
            self._shared_failed()
            return self._memory, window, self._memory.incr(window, WINDOW_SECONDS)

    def _storage(self) -> Storage | LocalWindows:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._memory

    def _shared_failed(self) -> None:
        if self._shared_down_until <= time.monotonic():
            log.warning(
                "Redis unreachable for rate limits; counting per process for %ss", RETRY_SECONDS
            )
        self._shared_down_until = time.monotonic() + RETRY_SECONDS


def _seconds_left(storage: Storage | LocalWindows, window: str) -> int:
    try:
        return max(1, math.ceil(storage.get_expiry(window) - time.time()))
    except Exception:  # noqa: BLE001 - the answer is a hint; never fail the 429 on it
        return WINDOW_SECONDS


def init_rate_limits(app: Flask) -> None:
    app.extensions[RATE_LIMIT] = RateLimiter(
        app.config["REDIS_URL"], app.config["RATE_LIMIT_PER_MINUTE"], app.config["REDIS_NAMESPACE"]
    )
