"""Announcing key store changes across instances: Redis pub/sub.

``bump`` publishes a message after a change's commit. Each worker process holds one subscriber
connection, created lazily after gunicorn forks, and ``heard()`` (on every request) drains what
has already arrived on that socket without blocking. Redis writes a published message to every
subscriber socket in the same event-loop pass as the reply to the publisher, so by the time
the changing request has answered its client, the message sits in every subscriber's socket
buffer: the very next request anywhere hears it and reads the database's change counter
(``tenants.changes``), which decides what the cache may trust. An announcement only ever makes
that read come sooner, so a lost one costs time, never correctness.

Nothing here holds a request beyond the socket timeouts of one reconnect attempt: redis-py's
own retries are off (by default it retries a failing command ten times with backoff, which
under a stalled Redis holds a request for seconds), the subscription's confirmation is waited
for no longer than a socket timeout, a lost subscription is re-established at most once per
backoff step, and an announcement that fails is retried from a background thread. A
subscription that answers nothing (a stalled Redis, a connection silently dropped on the way)
is found by a heartbeat: a ``PING`` on the subscriber connection whose ``pong`` must come back
in time.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.client import PubSub
from redis.retry import Retry

from tenants import metrics
from tenants.changes import POLL_SECONDS

log = logging.getLogger("loopwave.signal")

CHANNEL = "keystore:changed"  # under the deployment's namespace
HEARTBEAT_SECONDS = 2.0
ANNOUNCE_RETRY_SECONDS = 60.0
_MAX_BACKOFF = 5.0
_SOCKET_TIMEOUT = 0.5
_CLIENT_OPTIONS = {
    "socket_connect_timeout": 0.25,
    "socket_timeout": _SOCKET_TIMEOUT,
    "retry": Retry(NoBackoff(), 0),
}


class RedisSignal:
    # Per process: set by ``_forget_parent_connections`` (at start and after a fork).
    _client: redis.Redis
    _subscriber: PubSub | None
    _alive_at: float
    _pinged_at: float | None
    _subscribe_failures: int
    _retry_at: float
    _announced: threading.Condition
    _announce_failures: int
    _unannounced_since: float
    _announce_covered: int
    _retrier: threading.Thread | None

    def __init__(self, url: str, namespace: str):
        self.url = url
        self.channel = f"{namespace}:{CHANNEL}"
        self._lock = threading.Lock()
        self._pid = -1
        self._forget_parent_connections()

    # -- announcing ----------------------------------------------------------------------

    def bump(self) -> None:
        """Announce a committed change. Never raises: when Redis does not take the message,
        it is retried in the background, and every process reads the change from the
        database's counter within ``POLL_SECONDS`` meanwhile."""
        committed_at = time.time()
        failure = self._announce(committed_at)
        if failure is None:
            return
        log.warning(
            "could not announce a key store change through Redis (%s); retrying; "
            "every instance reads it from the database within %ss meanwhile",
            failure,
            POLL_SECONDS,
        )
        with self._announced:
            self._announce_failures += 1
            self._unannounced_since = min(self._unannounced_since, committed_at)
            if self._retrier is None:
                self._retrier = threading.Thread(
                    target=self._retry, name="keystore-announce", daemon=True
                )
                self._retrier.start()

    def wait_announced(self, timeout: float) -> bool:
        """True once every change this process bumped has been announced; waits at most
        ``timeout`` seconds for the background retries."""
        with self._announced:
            return self._announced.wait_for(self._all_announced, timeout)

    def _all_announced(self) -> bool:
        return self._announce_covered >= self._announce_failures

    def _announce(self, committed_at: float) -> redis.RedisError | None:
        """Publish once; the error when Redis did not take the message. The message is the
        (wall-clock) time of the oldest change it announces, for the invalidation-lag metric."""
        with self._announced:
            # Failures counted so far were committed before this publish: it covers them.
            covers = self._announce_failures
        try:
            self._redis().publish(self.channel, f"{committed_at:.6f}")
        except redis.RedisError as exc:
            return exc
        with self._announced:
            self._announce_covered = max(self._announce_covered, covers)
            if self._all_announced():
                self._unannounced_since = math.inf
            self._announced.notify_all()
        return None

    def _retry(self) -> None:
        give_up_at = time.monotonic() + ANNOUNCE_RETRY_SECONDS
        delay = 0.25
        while True:
            time.sleep(delay)
            with self._announced:
                oldest = self._unannounced_since
            announced = self._announce(oldest if oldest != math.inf else time.time()) is None
            with self._announced:
                if announced and self._all_announced():
                    self._retrier = None
                    log.warning("key store change announced through Redis after retrying")
                    return
                if time.monotonic() >= give_up_at:
                    self._retrier = None
                    log.error(
                        "gave up announcing a key store change through Redis after %ss; "
                        "instances read it from the database",
                        ANNOUNCE_RETRY_SECONDS,
                    )
                    return
            delay = 0.0 if announced else min(delay * 2, _MAX_BACKOFF)

    # -- listening -----------------------------------------------------------------------

    def heard(self) -> bool:
        """True when a change was announced, or the subscription (re)started, since the last
        call: the caller should read the change counter now."""
        with self._lock:
            if os.getpid() != self._pid:
                self._forget_parent_connections()
            if self._subscriber is None:
                # What was announced before the subscription may have been missed.
                return self._subscribe()
            try:
                heard = self._drain()
                self._heartbeat()
            except redis.RedisError as exc:
                self._fail(exc)
                return False
            return heard

    @property
    def listening(self) -> bool:
        """Subscribed, confirmed by Redis, and not failed since."""
        return self._subscriber is not None

    def _drain(self) -> bool:
        subscriber = self._subscriber
        assert subscriber is not None
        # The usual case, nothing has arrived: one look at the connection (bytes already
        # buffered, else a non-blocking read of the socket; a connection closed or reset
        # raises here as in ``get_message``), without the health check, retry wrapper and
        # timing ``get_message`` puts around that same look: ~half of its instructions.
        connection = subscriber.connection
        if connection is not None and not connection.can_read(timeout=0):
            return False
        heard = False
        while (message := subscriber.get_message(timeout=0)) is not None:
            self._alive_at = time.monotonic()
            self._pinged_at = None
            if message.get("type") == "message":
                heard = True
                _report_lag(message.get("data"))
        return heard

    def _heartbeat(self) -> None:
        """Ping a subscription that has been quiet for a while; one that stays quiet after
        the ping is dead (stalled, or dropped on the way) and is replaced."""
        now = time.monotonic()
        if now - self._alive_at < HEARTBEAT_SECONDS:
            return
        if self._pinged_at is None:
            assert self._subscriber is not None
            self._subscriber.ping()
            self._pinged_at = now
        elif now - self._pinged_at >= HEARTBEAT_SECONDS:
            raise redis.TimeoutError("the subscription did not answer its heartbeat")

    def _subscribe(self) -> bool:
        """Subscribe and wait (one socket timeout at most) for Redis to confirm: from then on
        no announcement can be missed, so one made meanwhile is heard on the next request."""
        if time.monotonic() < self._retry_at:
            return False
        subscriber = self._redis().pubsub()
        try:
            subscriber.subscribe(self.channel)
            _await_confirmation(subscriber)
        except redis.RedisError as exc:
            subscriber.close()
            self._fail(exc)
            return False
        self._subscriber = subscriber
        self._alive_at = time.monotonic()
        self._pinged_at = None
        if self._subscribe_failures:
            log.warning("Redis reachable again; key store announcements restored")
        self._subscribe_failures = 0
        metrics.invalidation_channel(healthy=True)
        return True

    def _fail(self, exc: Exception) -> None:
        metrics.invalidation_channel(healthy=False)
        if self._subscriber is not None:
            self._subscriber.close()
            self._subscriber = None
        if self._subscribe_failures == 0:
            log.warning(
                "Redis unreachable, key store changes are read from the database every %ss "
                "until it is back: %s",
                POLL_SECONDS,
                exc,
            )
        self._subscribe_failures += 1
        self._retry_at = time.monotonic() + min(0.25 * 2**self._subscribe_failures, _MAX_BACKOFF)

    def _redis(self) -> redis.Redis:
        if os.getpid() != self._pid:
            self._forget_parent_connections()
        return self._client

    def _forget_parent_connections(self) -> None:
        """After a fork, never touch the parent's sockets or threads: start afresh."""
        self._pid = os.getpid()
        self._client = redis.Redis.from_url(self.url, **_CLIENT_OPTIONS)
        self._subscriber = None
        self._alive_at = 0.0
        self._pinged_at = None
        self._subscribe_failures = 0
        self._retry_at = 0.0
        self._announced = threading.Condition()
        self._announce_failures = 0  # announcements that failed
        self._unannounced_since = math.inf  # commit time of the oldest one not yet announced
        self._announce_covered = 0  # of those, how many a later announcement stood in for
        self._retrier = None


def _report_lag(data: object) -> None:
    """An announcement carries the time of the change it announces (see ``_announce``)."""
    if not isinstance(data, str | bytes):
        return
    try:
        committed_at = float(data)
    except ValueError:
        return
    metrics.invalidation_lag(time.time() - committed_at)


def _await_confirmation(subscriber: PubSub) -> None:
    deadline = time.monotonic() + _SOCKET_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        message = subscriber.get_message(timeout=left)
        if message is not None and message.get("type") == "subscribe":
            return
    raise redis.TimeoutError("Redis did not confirm the subscription")
