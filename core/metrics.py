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
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from flask import Flask, Request, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import HistogramMetricFamily
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from core.errors import error_response
from core.extensions import db
from core.middleware import RequestPlumbing
from tenants import delivery
from tenants.metrics import (
    LATENCY_BOUNDS_NS,
    LATENCY_HELP,
    LATENCY_IN_BUCKET_NAME,
    LATENCY_LES,
    LATENCY_NAME,
    LATENCY_SUM_NAME,
    TALLY,
    database_error,
    enable,
    webhook_backlog,
)

ROUTE = "loopwave.route"  # environ key: the matched rule, e.g. "/api/v1/chats/<chat_id>/messages"
UNMATCHED = "unmatched"  # no route matched (404, 405) or refused before routing (413, 431)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Status lines seen ("200 OK") -> their code as a label ("200"): a lookup costs a third of a
# slice, which allocates a string per request. Bounded by the status lines Werkzeug writes.
_STATUS_LABELS: dict[str, str] = {}

# -- the per-request hook and the route ----------------------------------------------------


def observe_request(environ: dict[str, Any], answered: list[str], started_ns: int) -> None:
    """``RequestPlumbing.observe``: count and time the request of ``environ`` by route
    template, method and status, once answered (``started_ns``: ``time.perf_counter_ns()``
    when it came in). Run by the request plumbing rather than by a WSGI layer of its own:
    one layer fewer per request (its call, closure and ``start_response`` wrapper)."""
    finished = time.perf_counter_ns()
    method = environ.get("REQUEST_METHOD", "")
    if answered:
        line = answered[0]
        status = _STATUS_LABELS.get(line)
        if status is None:
            status = line[:3]
            if len(_STATUS_LABELS) < 1_000:
                _STATUS_LABELS[line] = status
    else:
        status = "500"
    labels = (
        environ.get(ROUTE, UNMATCHED),
        method if method in METHODS else "other",
        status,
    )
    # ``Tally.count_ns``, written out: a Python call fewer on every request.
    elapsed = finished - started_ns
    bucket = bisect_left(LATENCY_BOUNDS_NS, elapsed)  # the first bound >= elapsed
    tally = TALLY
    lock = tally.lock
    lock.acquire()
    try:
        observed = tally.requests.get(labels)
        if observed is None:
            observed = tally.requests[labels] = tally.new_counts()
        observed[0] += 1
        observed[bucket + 1] += 1
        observed[-1] += elapsed
    finally:
        lock.release()
    if finished >= tally.due_ns:
        tally.after_count(finished)


class RouteNamingRequest(Request):
    """The request class while metrics are on: it names the matched rule in the environ for
    ``observe_request`` (Flask clears the request object from the environ before the
    middleware sees the answer) as Flask stores the match. Flask assigns ``url_rule`` and
    then ``view_args`` right after matching (``RequestContext.match_request``) and reads
    ``view_args`` once per request (``dispatch_request``), so the name is written in the
    setter of ``view_args``, a property here. A ``before_request`` hook doing the same cost a
    cached request ~6,000 instructions (Flask's hook loop and its ``ensure_sync`` check);
    this costs ~1,500 (docs/performance.md, "Fifth wave"). A request that matched no rule
    never sets ``view_args``: it is counted as ``unmatched``."""

    _view_args: dict[str, Any] | None = None

    @property
    def view_args(self) -> dict[str, Any] | None:
        return self._view_args

    @view_args.setter
    def view_args(self, value: dict[str, Any] | None) -> None:
        self._view_args = value
        rule = self.url_rule
        if rule is not None:
            self.environ[ROUTE] = rule.rule


def init_metrics(app: Flask) -> None:
    """``/metrics`` and the per-request hook, when ``METRICS_TOKEN`` is set."""
    token = app.config.get("METRICS_TOKEN")
    if not token:
        return
    enable()
    if not event.contains(Engine, "handle_error", database_error):
        event.listen(Engine, "handle_error", database_error)
    if app.request_class is not Request:
        raise RuntimeError("init_metrics names routes with a request class of its own")
    app.request_class = RouteNamingRequest
    plumbing = app.wsgi_app
    if not isinstance(plumbing, RequestPlumbing):
        raise RuntimeError("init_metrics needs the request plumbing (install_request_plumbing)")
    plumbing.observe = observe_request
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
    multiprocess documentation prescribes); this process's own otherwise. Either way with the
    latency histogram rebuilt from its counters (``LatencyHistogram``)."""
    source: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        source = multiprocess.MultiProcessCollector(None)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LatencyHistogram(source))
    return registry


class LatencyHistogram:
    """A collector passing on ``source``'s metrics, with the two counters the processes write
    the latency histogram to (``tenants.metrics``: per route, requests per bucket and the sum
    of their latencies) turned into the histogram ``loopwave_http_request_duration_seconds``:
    cumulative ``_bucket`` series, ``_count`` and ``_sum``."""

    def __init__(self, source: Any):
        self._source = source

    def collect(self) -> Iterable[Any]:
        in_bucket: dict[str, dict[str, float]] = {}
        sums: dict[str, float] = {}
        for family in self._source.collect():
            if family.name not in (LATENCY_IN_BUCKET_NAME, LATENCY_SUM_NAME):
                yield family
                continue
            for sample in family.samples:
                if not sample.name.endswith("_total"):  # ``_created``: not part of a histogram
                    continue
                route = sample.labels["route"]
                if family.name == LATENCY_SUM_NAME:
                    sums[route] = sums.get(route, 0.0) + sample.value
                else:
                    counts = in_bucket.setdefault(route, {})
                    le = sample.labels["le"]
                    counts[le] = counts.get(le, 0.0) + sample.value
        histogram = HistogramMetricFamily(LATENCY_NAME, LATENCY_HELP, labels=["route"])
        for route in sorted(in_bucket.keys() | sums.keys()):
            counts = in_bucket.get(route, {})
            cumulative, buckets = 0.0, []
            for le in LATENCY_LES:
                cumulative += counts.get(le, 0.0)
                buckets.append((le, cumulative))
            histogram.add_metric([route], buckets, sum_value=sums.get(route, 0.0))
        yield histogram
