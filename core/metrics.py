"""Prometheus metrics: ``GET /metrics`` (docs/deploy.md, "Metrics").

Off unless ``METRICS_TOKEN`` is set: then ``/metrics`` answers scrapes that send
``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise), and every request is counted and
timed. Without the setting there is no route (404) and no per-request hook at all. What is
counted, and how cheaply, lives in ``tenants.metrics``.

Under gunicorn the workers are separate processes: ``gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` before any worker starts, prometheus-client then keeps each
process's values in a memory-mapped file there, and a scrape answered by any worker merges
all of them (``MultiProcessCollector``); ``child_exit`` marks a dead worker's live gauges.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from core.errors import error_response
from core.extensions import db
from tenants import delivery
from tenants.metrics import LATENCY, TALLY, database_error, enable, webhook_backlog

ROUTE = "loopwave.route"  # environ key: the matched rule, e.g. "/api/v1/chats/<chat_id>/messages"
UNMATCHED = "unmatched"  # no route matched (404, 405) or refused before routing (413, 431)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# -- the per-request hook and the route ----------------------------------------------------

StartResponse = Callable[..., Any]


class RequestMetrics:
    """WSGI middleware: counts and times every request by route template and status."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]):
        self.wsgi_app = wsgi_app
        self._latency: dict[str, Any] = {}  # route -> its histogram child

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        answered: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
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
    enable()
    if not event.contains(Engine, "handle_error", database_error):
        event.listen(Engine, "handle_error", database_error)
    app.before_request(note_route)
    app.wsgi_app = RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]  # as core.http
    expected = f"Bearer {token}".encode()

    @app.get("/metrics")
    def metrics() -> Response:
        sent = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(sent, expected):
            return error_response(
                "AUTH_INVALID_TOKEN",
                "Send the metrics token as Authorization: Bearer <METRICS_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        TALLY.flush()
        _read_webhook_backlog()
        return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _read_webhook_backlog() -> None:
    """The webhook worker's backlog, read from the database by the scrape (one query): the
    workers may run anywhere, the deliveries table is where the truth is."""
    backlog = delivery.backlog(lambda: Session(db.engine))
    webhook_backlog(backlog.due, backlog.lag_seconds)


def _registry() -> CollectorRegistry:
    """Every worker's values under gunicorn (a registry per scrape, as prometheus-client's
    multiprocess documentation prescribes); this process's own otherwise."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
