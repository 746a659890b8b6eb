"""What the service reports to Prometheus (prometheus-client), with no Flask: the store, the
plumbing and the blueprints all report here; ``core.metrics`` serves ``GET /metrics`` and times
requests (docs/deploy.md, "Metrics").

Every report is a no-op until ``enable`` (``METRICS_TOKEN`` set), so nothing is paid without it.
Under gunicorn each worker builds the app after the fork (no ``preload_app``), so this module's
state (``TALLY``) and its flusher thread always belong to the serving process.

Counts are written in batches: in multiprocess mode each prometheus-client value update is a
locked write to a memory-mapped file, so request counts, latencies and key-cache counts are added
up in the process
(``Tally``) and written after a request once ``FLUSH_SECONDS`` have passed, from a daemon thread
when the worker is idle, and by the worker answering a scrape before it answers.
"""

from __future__ import annotations

import itertools
import threading
import time
from bisect import bisect_left
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "loopwave_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
# The latency histogram, ``loopwave_http_request_duration_seconds`` by route. Observing a
# prometheus-client ``Histogram`` in multiprocess mode costs two locked writes to a memory-mapped
# file per request, more than all the rest of the metrics together; so each process adds its
# observations up (``Tally``) and writes, per flush, how many fell in each bucket (not
# cumulative; "+Inf" last) and their sum to these two counters, which every scrape turns back
# into the histogram (``core.metrics.LatencyHistogram``). They are never exposed themselves.
LATENCY_NAME = "loopwave_http_request_duration_seconds"
LATENCY_HELP = "Time from the request reaching the application to its response starting, by route"
LATENCY_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LATENCY_LES = (*(repr(bound) for bound in LATENCY_BOUNDS), "+Inf")
LATENCY_BOUNDS_NS = tuple(round(bound * 1e9) for bound in LATENCY_BOUNDS)
LATENCY_IN_BUCKET_NAME = f"{LATENCY_NAME}_in_bucket"
LATENCY_SUM_NAME = f"{LATENCY_NAME}_added"
LATENCY_IN_BUCKET = Counter(
    LATENCY_IN_BUCKET_NAME,
    "Requests whose latency fell in the bucket ending at le (not cumulative)",
    ["route", "le"],
)
LATENCY_SUM = Counter(LATENCY_SUM_NAME, "Latencies added up, by route", ["route"])
AUTH_FAILURES = Counter(
    "loopwave_auth_failures",
    "Refused credentials and permissions, by reason (the SPEC error code)",
    ["reason"],
)
KEY_CACHE = Counter(
    "loopwave_key_cache_lookups",
    "API key verifications answered from the per-process cache (hit) or the database (miss)",
    ["result"],
)
INVALIDATION_HEALTHY = Gauge(
    "loopwave_invalidation_channel_healthy",
    "1 while the key-cache invalidation channel of every live worker is healthy, else 0",
    multiprocess_mode="livemin",
)
INVALIDATION_LAG = Histogram(
    "loopwave_invalidation_lag_seconds",
    "Time from a key change being committed to a worker honouring it",
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
REDIS_ERRORS = Counter("loopwave_redis_errors", "Failed Redis calls, by component", ["component"])
DATABASE_ERRORS = Counter(
    "loopwave_database_errors",
    "Database errors seen by SQLAlchemy, by kind (disconnect or other)",
    ["kind"],
)
USAGE_BACKLOG = Gauge(
    "loopwave_usage_flush_backlog_requests",
    "Requests counted by the workers and not yet written out (sum over live workers)",
    multiprocess_mode="livesum",
)
WEBHOOK_DUE = Gauge(
    "loopwave_webhook_backlog_deliveries",
    "Webhook deliveries due and not claimed by a worker, read at scrape time",
    multiprocess_mode="mostrecent",
)
WEBHOOK_LAG = Gauge(
    "loopwave_webhook_lag_seconds",
    "How long the oldest due webhook delivery has waited, read at scrape time",
    multiprocess_mode="mostrecent",
)
USAGE_FLUSH_FAILURES = Counter(
    "loopwave_usage_flush_failures", "Usage flushes that failed (the counts are kept)"
)

FLUSH_SECONDS = 1.0
_enabled = False


def _now_ns() -> int:
    """``time.perf_counter_ns()``'s clock, read through ``time.perf_counter``: the flush (and
    the flusher thread) read the clock apart from the requests' own ``perf_counter_ns``
    readings, which a test may replace with a ticking fake (``tests/core/conftest.py``)."""
    return round(time.perf_counter() * 1e9)


class Tally:
    """This process's counts not yet written to prometheus-client's values. Times are
    ``time.perf_counter_ns()`` readings and latencies nanoseconds (integers: no float
    conversion per request)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # (route, method, status) -> [requests, then their count per latency bucket
        # (LATENCY_LES), then the sum of their latencies in ns]: one dict lookup per request;
        # the latency by route alone is added up at the flush.
        self.requests: dict[tuple[str, str, str], list[int]] = {}
        # Key-cache lookups, counted without the lock: ``next`` of an ``itertools.count`` is
        # one C call, atomic under the GIL (a lock and a list update cost a cached request
        # ~2,000 instructions more). ``flush`` reads each count by drawing from it.
        self.key_cache_hits = itertools.count()
        self.key_cache_misses = itertools.count()
        self._key_cache_read = [0, 0]  # the counts' next values at the last flush
        self.flushed_at_ns = _now_ns()
        # When a request's count is next followed by ``after_count``: 0 until the flusher
        # runs, then the next flush's time. One integer comparison per request.
        self.due_ns = 0
        self.flusher_started = False

    def count_request(self, labels: tuple[str, str, str], now: float, seconds: float) -> None:
        """One request of ``labels`` (route, method, status) that took ``seconds``, at
        ``now`` (``time.perf_counter()``)."""
        self.count_ns(labels, round(now * 1e9), round(seconds * 1e9))

    def count_ns(self, labels: tuple[str, str, str], now_ns: int, elapsed_ns: int) -> None:
        """``count_request`` in nanoseconds (``time.perf_counter_ns()``), for every request."""
        bucket = bisect_left(LATENCY_BOUNDS_NS, elapsed_ns)  # the first bound >= elapsed
        # ``acquire``/``release`` rather than ``with``: a third of the instructions on 3.11.
        lock = self.lock
        lock.acquire()
        try:
            observed = self.requests.get(labels)
            if observed is None:
                observed = self.requests[labels] = self.new_counts()
            observed[0] += 1
            observed[bucket + 1] += 1
            observed[-1] += elapsed_ns
        finally:
            lock.release()
        if now_ns >= self.due_ns:
            self.after_count(now_ns)

    @staticmethod
    def new_counts() -> list[int]:
        """The counts of new labels: requests, requests per latency bucket, latencies' sum."""
        return [0] * (len(LATENCY_LES) + 2)

    def after_count(self, now_ns: int) -> None:
        """After counting a request at ``now_ns``: flush when due, start the flusher once.
        (``core.metrics.observe_request`` counts under ``lock`` as ``count_ns`` does, and
        calls this only once ``now_ns`` reaches ``due_ns``.)"""
        if now_ns - self.flushed_at_ns >= FLUSH_SECONDS * 1e9:
            self.flush()
        elif not self.flusher_started:
            self._start_flusher()
        self.due_ns = self.flushed_at_ns + round(FLUSH_SECONDS * 1e9)

    def flush(self) -> None:
        with self.lock:
            requests, self.requests = self.requests, {}
            hits, misses = self._read_key_cache()
            self.flushed_at_ns = _now_ns()
        latency: dict[str, list[int]] = {}  # route -> count per bucket, then the sum in ns
        for labels, counted in requests.items():
            REQUESTS.labels(*labels).inc(counted[0])
            by_route = latency.get(labels[0])
            if by_route is None:
                latency[labels[0]] = counted[1:]
            else:
                for index, value in enumerate(counted[1:]):
                    by_route[index] += value
        for route, observed in latency.items():
            for le, in_bucket in zip(LATENCY_LES, observed, strict=False):
                if in_bucket:
                    LATENCY_IN_BUCKET.labels(route, le).inc(in_bucket)
            LATENCY_SUM.labels(route).inc(observed[-1] / 1e9)
        if hits:
            KEY_CACHE.labels("hit").inc(hits)
        if misses:
            KEY_CACHE.labels("miss").inc(misses)

    def _read_key_cache(self) -> tuple[int, int]:
        """Hits and misses since the last flush (under the lock: one reader at a time). Each
        count is read by drawing its next value, which is skipped from then on."""
        hits = next(self.key_cache_hits)
        misses = next(self.key_cache_misses)
        read = self._key_cache_read
        counted = (hits - read[0], misses - read[1])
        self._key_cache_read = [hits + 1, misses + 1]
        return counted

    def _start_flusher(self) -> None:
        """A daemon thread per process (after the fork) for the counts of an idle worker."""
        self.flusher_started = True
        threading.Thread(target=self._flush_periodically, name="metrics-flush", daemon=True).start()

    def _flush_periodically(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            if _now_ns() - self.flushed_at_ns >= FLUSH_SECONDS * 1e9:
                self.flush()


TALLY = Tally()


def enable() -> None:
    global _enabled
    _enabled = True


# -- what other modules report -----------------------------------------------------------


def key_cache(hit: bool) -> None:
    if _enabled:
        next(TALLY.key_cache_hits if hit else TALLY.key_cache_misses)


def key_cache_hit() -> None:
    """``key_cache(hit=True)``, for the cached path of every API request."""
    if _enabled:
        next(TALLY.key_cache_hits)


def auth_failure(reason: str) -> None:
    if _enabled:
        AUTH_FAILURES.labels(reason).inc()


def invalidation_channel(healthy: bool) -> None:
    """The invalidation channel of this worker is (not) known to deliver changes."""
    if _enabled:
        INVALIDATION_HEALTHY.set(1 if healthy else 0)


def invalidation_lag(seconds: float) -> None:
    """A worker honoured a change ``seconds`` after it was committed."""
    if _enabled:
        INVALIDATION_LAG.observe(max(seconds, 0.0))


def redis_error(component: str) -> None:
    if _enabled:
        REDIS_ERRORS.labels(component).inc()


def usage_backlog(requests: int, failed: bool) -> None:
    if _enabled:
        USAGE_BACKLOG.set(requests)
        if failed:
            USAGE_FLUSH_FAILURES.inc()


def database_error(context: Any) -> None:
    """SQLAlchemy's ``handle_error`` event."""
    if _enabled:
        DATABASE_ERRORS.labels("disconnect" if context.is_disconnect else "other").inc()


def webhook_backlog(due: int, lag_seconds: float) -> None:
    WEBHOOK_DUE.set(due)
    WEBHOOK_LAG.set(lag_seconds)
