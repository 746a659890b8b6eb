"""Prometheus metrics: ``GET /metrics`` (docs/deploy.md, "Metrics").

Off unless ``METRICS_TOKEN`` is set: then ``/metrics`` answers scrapes that send
``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise), and every request is counted and
timed. Without the setting there is no route (404) and no per-request hook at all.

Under gunicorn the workers are separate processes: ``gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` before any worker starts, prometheus-client then keeps each
process's values in a memory-mapped file there, and a scrape answered by any worker merges
all of them (``MultiProcessCollector``); ``child_exit`` marks a dead worker's live gauges.

The per-request cost is kept small: one WSGI wrapper (``RequestMetrics``), one
``before_request`` hook (``note_route``: the matched rule into the environ), one histogram
observation, and counts added up in a dictionary of the process (``Tally``). In multiprocess
mode each prometheus-client value update is a locked write to a memory-mapped file (a few
microseconds), so counters are written in batches: after a request once ``FLUSH_SECONDS``
have passed, from a daemon thread when the worker is idle, and by the worker answering a
scrape before it answers. A scrape may thus miss at most the last second of other workers.

Other modules report through the functions below; each is a no-op until metrics are on
(``enable``), so nothing is paid without ``METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

ROUTE = "loopwave.route"  # environ key: the matched rule, e.g. "/api/v1/chats/<chat_id>/messages"
UNMATCHED = "unmatched"  # no route matched (404, 405) or refused before routing (413, 431)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

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

    def after_fork(self) -> None:
        """A forked worker has neither its parent's counts nor its threads."""
        self.lock = threading.Lock()
        self.requests, self.key_cache = {}, [0, 0]
        self.flusher_started = False


TALLY = Tally()
os.register_at_fork(after_in_child=TALLY.after_fork)


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


def _database_error(context: Any) -> None:
    if _enabled:
        DATABASE_ERRORS.labels("disconnect" if context.is_disconnect else "other").inc()


# -- the per-request hook and the route ----------------------------------------------------

StartResponse = Callable[..., Any]


class RequestMetrics:
    """WSGI middleware: counts and times every request by route template and status."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]):
        self.wsgi_app = wsgi_app
        self._latency: dict[str, Any] = {}  # route -> its histogram child

    def __call__(self, environ: dict[str, Any], start_response: StartResponse):
        started = time.perf_counter()
        answered: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            answered.append(status[:3])
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, start)
        method = environ.get("REQUEST_METHOD", "")
        labels = (
            environ.get(ROUTE) or UNMATCHED,
            method if method in METHODS else "other",
            answered[0] if answered else "500",
        )
        latency = self._latency.get(labels[0])
        if latency is None:
            latency = self._latency[labels[0]] = LATENCY.labels(labels[0])
        latency.observe(time.perf_counter() - started)
        TALLY.count_request(labels, time.monotonic())
        return body


def note_route() -> None:
    """``before_request``: name the matched rule for ``RequestMetrics`` (Flask clears the
    request object from the environ before the middleware sees the answer)."""
    rule = request.url_rule
    if rule is not None:
        request.environ[ROUTE] = rule.rule


def init_metrics(app: Flask) -> None:
    """``/metrics`` and the per-request hook, when ``METRICS_TOKEN`` is set."""
    token = app.config.get("METRICS_TOKEN")
    if not token:
        return
    from core.errors import error_response  # core.errors reports to this module

    enable()
    if not event.contains(Engine, "handle_error", _database_error):
        event.listen(Engine, "handle_error", _database_error)
    app.before_request(note_route)
    app.wsgi_app = RequestMetrics(app.wsgi_app)
    expected = f"Bearer {token}".encode()

    @app.get("/metrics")
    def metrics():
        sent = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(sent, expected):
            return error_response(
                "AUTH_INVALID_TOKEN",
                "Send the metrics token as Authorization: Bearer <METRICS_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        TALLY.flush()
        return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """Every worker's values under gunicorn (a registry per scrape, as prometheus-client's
    multiprocess documentation prescribes); this process's own otherwise."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
