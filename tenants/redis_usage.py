"""Usage counting through Redis: every instance adds into one shared tally.

Each process still counts in memory (no Redis round trip per request). A flush ships the
process's counts to Redis in one pipelined batch of ``HINCRBY``, then takes the whole shared
tally atomically (a Lua script reads and deletes it) and writes it to the database in one
transaction; if that write fails, the taken counts go back into Redis. Because a flush drains
every instance's counts, ``GET /api/v1/usage`` on any instance is complete after its flush.

When Redis is unreachable the buffer degrades to the in-process behaviour of
``UsageBuffer``: counts are written straight to the database (and kept in memory while that
fails too). A warning is logged once per outage.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

import redis
from sqlalchemy import Engine

from tenants import metrics
from tenants.usage import MAX_DEFERRED, Counts, LastUses, UsageBuffer, write_usage

log = logging.getLogger("loopwave.usage")

COUNTS_KEY = "usage:counts"  # both under the deployment's namespace
LAST_USED_KEY = "usage:last_used"
_TAKE = """
local counts = redis.call('HGETALL', KEYS[1])
local last_used = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
return {counts, last_used}
"""
_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}


class RedisUsageBuffer(UsageBuffer):
    def __init__(
        self,
        engine: Callable[[], Engine],
        redis_url: str,
        namespace: str,
        flush_seconds: int = 5,
        max_deferred: int = MAX_DEFERRED,
    ):
        super().__init__(engine, flush_seconds, max_deferred)
        self.counts_key = f"{namespace}:{COUNTS_KEY}"
        self.last_used_key = f"{namespace}:{LAST_USED_KEY}"
        # redis-py's pool notices a fork and opens new connections in the child.
        self._redis = redis.Redis.from_url(redis_url, **_TIMEOUTS)
        self._redis_down = False

    def flush(self) -> None:
        """Ship and write the counts, then the deferred writes (decoy uses): those are
        written by this process, whatever became of the counts."""
        try:
            self._flush_counts()
        finally:
            self.write_deferred()

    def _flush_counts(self) -> None:
        counts, last_used = self._take()
        try:
            if counts:
                self._push(counts, last_used)
            taken_counts, taken_last_used = self._take_shared()
        except redis.RedisError as exc:
            self._note_redis_down(exc)
            if counts:
                self._write_or_restore(counts, last_used)
            return
        if self._redis_down:
            log.warning("Redis reachable again; usage counts go through Redis")
            self._redis_down = False
        if not taken_counts and not taken_last_used:
            return
        try:
            write_usage(self._engine(), taken_counts, taken_last_used)
        except Exception:
            self._give_back(taken_counts, taken_last_used)
            raise

    def _push(self, counts: Counts, last_used: LastUses) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for (tenant_id, key_id, day, endpoint, outcome), requests in counts.items():
            field = f"{tenant_id}|{key_id}|{day.isoformat()}|{endpoint}|{outcome}"
            pipe.hincrby(self.counts_key, field, requests)
        for key_id, (used_at, client_ip) in last_used.items():
            pipe.hset(self.last_used_key, key_id, f"{used_at.timestamp()}|{client_ip or ''}")
        pipe.execute()

    def _take_shared(self) -> tuple[Counts, LastUses]:
        raw_counts, raw_last_used = self._redis.eval(_TAKE, 2, self.counts_key, self.last_used_key)
        counts: Counts = Counter()
        for field, value in _pairs(raw_counts):
            counts[_counted(field)] += int(value)
        last_used = {key_id: _last_use(value) for key_id, value in _pairs(raw_last_used)}
        return counts, last_used

    def _give_back(self, counts: Counts, last_used: LastUses) -> None:
        try:
            self._push(counts, last_used)
        except redis.RedisError:
            self._restore(counts, last_used)

    def _note_redis_down(self, exc: Exception) -> None:
        metrics.redis_error("usage")
        if not self._redis_down:
            log.warning("Redis unreachable, usage counts go straight to the database: %s", exc)
            self._redis_down = True


def _counted(field: str) -> tuple[str, str, date, str, str]:
    """The count's key of a tally field; a field an instance of the previous release pushed
    (``tenant|key|day``, no endpoint or outcome) is kept as the endpoint ``*``, a success."""
    tenant_id, key_id, day, *rest = field.split("|", 4)
    endpoint, outcome = rest if len(rest) == 2 else ("*", "success")
    return tenant_id, key_id, date.fromisoformat(day), endpoint, outcome


def _last_use(value: str) -> tuple[datetime, str | None]:
    """``<epoch seconds>|<client address>`` (the address may be empty) as pushed above."""
    at, _, client_ip = value.partition("|")
    return datetime.fromtimestamp(float(at), UTC), client_ip or None


def _pairs(flat: list[bytes]) -> list[tuple[str, str]]:
    """``HGETALL`` through ``EVAL`` answers a flat list: field, value, field, value, ..."""
    text = [item.decode() if isinstance(item, bytes) else str(item) for item in flat]
    return list(zip(text[::2], text[1::2], strict=True))
