"""The invalidation signal across instances: Redis pub/sub.

``bump`` publishes a message. Each worker process holds one subscriber connection, created
lazily after gunicorn forks, and on every ``current()`` drains what has already arrived on
that socket without blocking; each message received moves the process's generation on. Redis writes
a published message to every subscriber socket in the same event-loop pass as the reply to
the publisher, so by the time the changing request has answered its client, the message sits
in every subscriber's socket buffer: the very next request anywhere sees the new generation,
and the hot path costs one non-blocking ``select`` instead of a Redis round trip.

The generation is local to the process (the verifier compares it only with itself), so no
shared counter is needed, and one that Redis could lose or reset cannot mislead anybody.
Every (re)connection starts a new *epoch*, folded into the returned number, and waits for
Redis to confirm the subscription before anything is read from the database: an entry
cached before an outage or a reconnect can never be trusted after it.

When Redis is unreachable ``current()`` returns ``None`` (the verifier then reads the
database on every request: slower, still correct) and reconnects with backoff.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis
from redis.client import PubSub

log = logging.getLogger("loopwave.signal")

CHANNEL = "keystore:changed"  # under the deployment's namespace
_SUBSCRIBE_WAIT = 2.0
_MAX_BACKOFF = 5.0
_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


class _Subscriber(PubSub):
    """A ``PubSub`` that counts its connections, so a silent reconnect by redis-py (which
    may have missed messages while it was away) is noticed and starts a new epoch."""

    connects = 0

    def on_connect(self, connection) -> None:
        self.connects += 1
        super().on_connect(connection)


class RedisSignal:
    def __init__(self, url: str, namespace: str):
        self.url = url
        self.channel = f"{namespace}:{CHANNEL}"
        self._lock = threading.Lock()
        self._pid = -1
        self._client: redis.Redis | None = None
        self._subscriber: _Subscriber | None = None
        self._seen_connects = 0
        self._epoch = 0
        self._generation = 0
        self._failures = 0
        self._retry_at = 0.0

    # -- publishing ----------------------------------------------------------------------

    def bump(self) -> None:
        """Announce a committed change. A failure is logged, not raised: the change is
        already committed, and processes that cannot reach Redis bypass their cache."""
        try:
            self._redis().publish(self.channel, "1")
        except redis.RedisError as exc:
            log.warning("could not publish a key store change to Redis: %s", exc)

    # -- reading -------------------------------------------------------------------------

    def current(self) -> int | None:
        with self._lock:
            if os.getpid() != self._pid:
                self._forget_parent_connections()
            if self._subscriber is None and not self._connect():
                return None
            try:
                self._drain()
            except redis.RedisError as exc:
                self._fail(exc)
                return None
            return (self._epoch << 64) | self._generation

    def _drain(self) -> None:
        subscriber = self._subscriber
        assert subscriber is not None
        while (message := subscriber.get_message(timeout=0)) is not None:
            if message.get("type") == "message":
                self._generation += 1
        if subscriber.connects != self._seen_connects:
            self._start_epoch()

    def _connect(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        subscriber = _Subscriber(self._redis().connection_pool)
        try:
            subscriber.subscribe(self.channel)
            _await_confirmation(subscriber)
            self._subscriber = subscriber
            self._start_epoch()
        except redis.RedisError as exc:
            subscriber.close()
            self._fail(exc)
            return False
        if self._failures:
            log.warning("Redis reachable again; key cache invalidation restored")
        self._failures = 0
        return True

    def _start_epoch(self) -> None:
        assert self._subscriber is not None
        self._seen_connects = self._subscriber.connects
        self._generation = 0
        self._epoch += 1

    def _fail(self, exc: Exception) -> None:
        if self._subscriber is not None:
            self._subscriber.close()
            self._subscriber = None
        if self._failures == 0:
            log.warning("Redis unreachable, key cache bypassed until it is back: %s", exc)
        self._failures += 1
        self._retry_at = time.monotonic() + min(0.25 * 2**self._failures, _MAX_BACKOFF)

    def _redis(self) -> redis.Redis:
        if self._client is None or os.getpid() != self._pid:
            self._forget_parent_connections()
        assert self._client is not None
        return self._client

    def _forget_parent_connections(self) -> None:
        """After a fork, never touch the parent's sockets: start with fresh clients."""
        self._pid = os.getpid()
        self._client = redis.Redis.from_url(self.url, **_TIMEOUTS)
        self._subscriber = None
        self._retry_at = 0.0


def _await_confirmation(subscriber: PubSub) -> None:
    """Block (on connect only) until Redis confirms the subscription: from then on no
    change can be published without this process hearing of it."""
    deadline = time.monotonic() + _SUBSCRIBE_WAIT
    while time.monotonic() < deadline:
        message = subscriber.get_message(timeout=deadline - time.monotonic())
        if message is not None and message.get("type") == "subscribe":
            return
    raise redis.TimeoutError("Redis did not confirm the subscription")
