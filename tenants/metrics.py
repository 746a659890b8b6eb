"""What the service reports to Prometheus (prometheus-client), with no Flask: the store, the
plumbing and the blueprints all report here; ``core.metrics`` serves ``GET /metrics`` and times
requests (docs/deploy.md, "Metrics").

Every report is a no-op until ``enable`` (``METRICS_TOKEN`` set), so nothing is paid without it.
Under gunicorn each worker builds the app after the fork (no ``preload_app``), so this module's
state (``TALLY``) and its flusher thread always belong to the serving process.

Counts are written in batches: in multiprocess mode each prometheus-client value update is a
locked write to a memory-mapped file, so request and key-cache counts are added up in the process
(``Tally``) and written after a request once ``FLUSH_SECONDS`` have passed, from a daemon thread
when the worker is idle, and by the worker answering a scrape before it answers.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "loopwave_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "loopwave_http_request_duration_seconds",
    "Time from the request reaching the application to its response starting, by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
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


class Tally:
    """This process's counts not yet written to prometheus-client's values."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = {}
        self.key_cache = [0, 0]  # hits, misses
        self.flushed_at = time.monotonic()
        self.flusher_started = False

    def count_request(self, labels: tuple[str, str, str], now: float) -> None:
        with self.lock:
            self.requests[labels] = self.requests.get(labels, 0) + 1
        if now - self.flushed_at >= FLUSH_SECONDS:
            self.flush()
        elif not self.flusher_started:
            self._start_flusher()

    def flush(self) -> None:
        with self.lock:
            requests, self.requests = self.requests, {}
            (hits, misses), self.key_cache = self.key_cache, [0, 0]
            self.flushed_at = time.monotonic()
        for labels, count in requests.items():
            REQUESTS.labels(*labels).inc(count)
        if hits:
            KEY_CACHE.labels("hit").inc(hits)
        if misses:
            KEY_CACHE.labels("miss").inc(misses)

    def _start_flusher(self) -> None:
        """A daemon thread per process (after the fork) for the counts of an idle worker."""
        self.flusher_started = True
        threading.Thread(target=self._flush_periodically, name="metrics-flush", daemon=True).start()

    def _flush_periodically(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            if time.monotonic() - self.flushed_at >= FLUSH_SECONDS:
                self.flush()


TALLY = Tally()


def enable() -> None:
    global _enabled
    _enabled = True


# -- what other modules report -----------------------------------------------------------


def key_cache(hit: bool) -> None:
    if _enabled:
        with TALLY.lock:
            TALLY.key_cache[0 if hit else 1] += 1


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
