"""Cross-process invalidation of the verified-key cache.

Every key or license change bumps a generation number after its commit; each worker compares
the generation it cached an entry under with the current one before trusting the entry, so a
change is seen on the very next request in every process.

``FileSignal`` shares the number through a memory-mapped file in the instance folder: reading
it costs a memory load, and it reaches every process on one machine. With Redis,
``tenants.changes.CountedSignal`` reaches every instance: the database's change counter,
announced through Redis pub/sub (``tenants.redis_signal``).
"""

from __future__ import annotations

import fcntl
import mmap
import os
from pathlib import Path
from typing import Protocol

_SIZE = 8


class Signal(Protocol):
    def current(self) -> int | None:
        """The generation now, or ``None`` when it cannot be known (then nothing is cached)."""

    def bump(self) -> None:
        """Announce a committed change to every process. Never raises: the change is
        committed; an announcement that fails is retried."""

    def wait_announced(self, timeout: float) -> bool:
        """True once every change this process bumped has been announced (waiting at most
        ``timeout`` seconds for retries)."""


class FileSignal:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.pwrite(fd, bytes(_SIZE), 0)
            self._map = mmap.mmap(fd, _SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        # One aligned 8-byte word, read and written whole (atomically on 64-bit machines).
        self._word = memoryview(self._map).cast("Q")

    def current(self) -> int:
        return self._word[0]

    def wait_announced(self, timeout: float) -> bool:
        return True  # ``bump`` writes the file before it returns

    def bump(self) -> None:
        with open(self.path, "r+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._word[0] = (self.current() + 1) % (1 << 63)
                self._map.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
