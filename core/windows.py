"""Fixed windows counted through ``limits`` in Redis when ``REDIS_URL`` is set (shared by
every process and instance, every key under the deployment's namespace), else in a local
store; while Redis is unreachable the local store counts for ``RETRY_SECONDS`` (one warning
per outage), so a request is never refused, nor answered 500, because Redis is down.

Shared by the failed-authentication limit (``core.authfailures``: its local store is the
machine-wide ``MachineWindows``) and the console write limit (``core.consolelimit``: this
process's memory). The per-key rate limits (``core.ratelimit``) count through leases instead.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Protocol

from limits import RateLimitItem
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

RETRY_SECONDS = 5.0


class Windows(Protocol):
    """What ``FixedWindowRateLimiter`` offers and a local store must too."""

    def test(self, item: RateLimitItem, *identifiers: str) -> bool: ...

    def hit(self, item: RateLimitItem, *identifiers: str) -> Any: ...

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> Any: ...


class FallbackWindows:
    def __init__(
        self, redis_url: str | None, namespace: str, local: Windows, log: logging.Logger, what: str
    ) -> None:
        self._local = local
        # ``key_prefix``: every key starts with the deployment's namespace (``limits`` would
        # put its own ``LIMITS:`` first, outside it: tests/scale/test_redis_namespaces.py).
        self._shared: Windows | None = (
            FixedWindowRateLimiter(
                storage_from_string(
                    redis_url, key_prefix=namespace, socket_connect_timeout=0.25, socket_timeout=0.5
                )
            )
            if redis_url
            else None
        )
        self._shared_down_until = 0.0
        self._log = log
        self._what = what  # for the outage's warning: "failed-authentication limits"

    def retry_after(self, item: RateLimitItem, *identifiers: str) -> int | None:
        """``None`` while the window of ``identifiers`` has room (nothing counted); else the
        seconds until it ends (at least 1; 60 when that cannot be read: it is a hint)."""
        windows = self._windows()
        try:
            allowed = windows.test(item, *identifiers)
        except Exception:  # noqa: BLE001 - any Redis failure: count locally instead
            windows = self._shared_failed()
            allowed = windows.test(item, *identifiers)
        if allowed:
            return None
        try:
            reset_at: float = windows.get_window_stats(item, *identifiers).reset_time
            return max(1, math.ceil(reset_at - time.time()))
        except Exception:  # noqa: BLE001 - the answer is a hint; never fail the 429 on it
            return 60

    def hit(self, item: RateLimitItem, *identifiers: str) -> None:
        try:
            self._windows().hit(item, *identifiers)
        except Exception:  # noqa: BLE001 - any Redis failure: count locally instead
            self._shared_failed().hit(item, *identifiers)

    def _windows(self) -> Windows:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._local

    def _shared_failed(self) -> Windows:
        if self._shared_down_until <= time.monotonic():
            self._log.warning(
                "Redis unreachable for %s; counting per process for %ss", self._what, RETRY_SECONDS
            )
        self._shared_down_until = time.monotonic() + RETRY_SECONDS
        return self._local
