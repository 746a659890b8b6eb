"""The limit on failed tenant-key authentications per client IP (SPEC §3, §5:
``AUTH_FAILURES_PER_MINUTE``).

A well-formed key (its checksum is public, so anyone can make them) that this process has not
verified costs a database lookup. Each such key that then fails to authenticate counts
against the client's address, in fixed one-minute windows; once the window holds
``AUTH_FAILURES_PER_MINUTE`` failures, every further lookup from that address is refused with
a 429 ``RATE_LIMITED`` *before* the database is asked. Keys the process has already verified
keep working from its cache, so a tenant sharing an address with a guesser is not locked
out. Malformed keys are refused from their shape alone, cost nothing and are not counted.

Counted in fixed one-minute windows: through ``limits`` in Redis with ``REDIS_URL``, so the
limit holds across processes and instances; without Redis in ``MachineWindows``, a table in a
memory-mapped file of the instance folder that every process of the machine shares (gunicorn's
workers included). While Redis is unreachable the count falls back to that table for
``RETRY_SECONDS`` (one warning per outage), as the per-key rate limits do: requests are never
refused, nor answered 500, because Redis is down.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import logging
import mmap
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from limits import RateLimitItem, RateLimitItemPerMinute

from core.errors import ApiError
from core.services import AppService
from core.windows import FallbackWindows

log = logging.getLogger("loopwave.authfailures")


class MachineWindows:
    """Failure counts in fixed one-minute windows, shared by every process of one machine
    through a memory-mapped file (as ``tenants.signal.FileSignal`` shares the invalidation
    counter). Written by hand: ``limits`` has no storage that processes share without a server.

    The table has a fixed size: an address takes the first of ``PROBES`` slots (from the one
    its hash names) that holds it or an expired window. When all are live with other
    addresses, the named slot is taken over: the table never grows, and an address loses its
    count only to a burst of colliding addresses within one minute.
    """

    SLOTS = 8192
    PROBES = 8
    _WORDS = 3  # per slot: address hash, window (minute number), failures

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        size = self.SLOTS * self._WORDS * 8
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < size:
                os.ftruncate(fd, size)
            self._map = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self._words = memoryview(self._map).cast("Q")

    # ``limits``'s interface (``core.windows.Windows``); the address is the one identifier.
    def test(self, item: RateLimitItem, *address: str) -> bool:
        """True while ``address`` has failures left in this minute (a read, no lock)."""
        return self._count("/".join(address), _minute()) < item.amount

    def hit(self, item: RateLimitItem, *address: str) -> None:
        tag, minute = _tag("/".join(address)), _minute()
        with open(self.path, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                slot = self._slot_for(tag, minute)
                words, base = self._words, slot * self._WORDS
                if words[base] != tag or words[base + 1] != minute:
                    words[base], words[base + 1], words[base + 2] = tag, minute, 0
                words[base + 2] += 1
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get_window_stats(self, item: RateLimitItem, *address: str) -> Any:
        return _WindowStats(reset_time=(_minute() + 1) * 60)

    def _count(self, address: str, minute: int) -> int:
        tag, words = _tag(address), self._words
        for slot in self._probe(tag):
            base = slot * self._WORDS
            if words[base] == tag and words[base + 1] == minute:
                return words[base + 2]
        return 0

    def _slot_for(self, tag: int, minute: int) -> int:
        words = self._words
        for slot in self._probe(tag):
            base = slot * self._WORDS
            if words[base] == tag or words[base + 1] != minute:
                return slot
        return tag % self.SLOTS

    def _probe(self, tag: int) -> range | list[int]:
        first = tag % self.SLOTS
        return [(first + step) % self.SLOTS for step in range(self.PROBES)]


@dataclass(frozen=True)
class _WindowStats:
    reset_time: float


def _minute() -> int:
    return int(time.time() // 60)


def _tag(address: str) -> int:
    """A 64-bit tag of the address, never 0 (the value of an empty slot)."""
    digest = hashlib.blake2b(address.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") or 1


class AuthFailureLimit:
    def __init__(
        self,
        per_minute: int,
        redis_url: str | None,
        namespace: str,
        counts_path: str | os.PathLike[str],
    ):
        self.per_minute = per_minute  # 0: no limit
        self._item = RateLimitItemPerMinute(max(per_minute, 1), namespace="authfail")
        self._windows = FallbackWindows(
            redis_url, namespace, MachineWindows(counts_path), log, "failed-authentication limits"
        )

    def check(self, client_ip: str | None) -> None:
        """A 429 ``ApiError`` when ``client_ip`` has no failures left in this window."""
        if self.per_minute <= 0:
            return
        retry_after = self._windows.retry_after(self._item, _counted_as(client_ip))
        if retry_after is not None:
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
        self._windows.hit(self._item, _counted_as(client_ip))


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


class AuthFailureLimitService(AppService[AuthFailureLimit]):
    name = "loopwave.auth_failures"

    def init_app(self, app: Flask) -> None:
        limit = AuthFailureLimit(
            app.config["AUTH_FAILURES_PER_MINUTE"],
            app.config["REDIS_URL"],
            app.config["REDIS_NAMESPACE"],
            os.path.join(app.instance_path, "authfailures.counts"),
        )
        self._install(app, limit)
