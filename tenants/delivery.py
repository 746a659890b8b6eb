"""The delivery worker's work (SPEC §10): claim due deliveries, send them, record each attempt.

Work is claimed from the database itself: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL
(concurrent workers each take different rows without waiting on each other), then a lease
(``lease_until``, ``lease_owner``) is written in the same transaction. The claim's UPDATE
re-checks that no live lease exists, so even where ``FOR UPDATE`` is a no-op (SQLite, whose
single write lock serialises the claims anyway) one delivery is never claimed twice.
A worker killed mid-send holds leases that simply run out (``LEASE_SECONDS``, far longer
than one attempt may take), after which any worker claims the deliveries again: at-least-once.

Sending happens outside any transaction, on a thread pool run as a continuous pipeline
(``Deliverer``): each send is collected as it completes, the sends finished within
``RECORD_SECONDS`` of each other are written in one transaction, each guarded by the lease
owner (a worker whose lease was lost, because it stalled for minutes, never overwrites
another's record), and new work is claimed as slots free up, no endpoint or tenant beyond
its share of the slots.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import ColumnElement, Engine, Table, bindparam, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tenants import audit, clock, events, signing
from tenants.audit import Actor
from tenants.events import Event
from tenants.outbound import Answer, Sender
from tenants.retention import BATCH as RETENTION_BATCH
from tenants.retention import purge_events
from tenants.secretbox import SecretBox, SecretUnreadable
from tenants.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, url_origin

log = logging.getLogger("loopwave.webhooks")

LEASE_SECONDS = 120  # the default: ≫ the longest attempt (connect 5 s + read 10 s)
# Exponential backoff, 5 s x 6^n capped at 12 h: the 8th and last attempt comes ~25 h after
# the first (SPEC: retries for at least 24 hours).
RETRY_DELAYS = tuple(timedelta(seconds=min(5 * 6**n, 12 * 3600)) for n in range(7))
DISABLE_AFTER = timedelta(days=3)
SYSTEM = Actor(sub="system:webhooks")
ENDPOINT_DISABLED = "the endpoint is disabled"


@dataclass(frozen=True)
class Job:
    delivery_id: str
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]
    body: bytes
    attempts: int
    endpoint_disabled: bool = False
    tenant_id: str = ""


@dataclass(frozen=True)
class Sent:
    """A job's answer, and when its attempt started."""

    job: Job
    answer: Answer
    started_at: datetime


# A claim that leaves slots free because endpoints or tenants were at their share looks again
# past them, at most this many times per claim (each look fills a share or finds no more work).
CLAIM_LOOKS = 4
RECORD_SECONDS = 0.05  # finished sends are written together, at most this long after the first
CLAIM_GAP_SECONDS = 0.02  # at most one claim per this interval while work is due


class Deliverer:
    """A continuous pipeline over a pool of ``concurrency`` sending threads.

    Each send is collected as it completes and new work is claimed as slots free up, so one
    slow receiver holds one slot, never the rest of a batch. No endpoint holds more than
    ``per_endpoint`` slots, nor one tenant more than ``per_tenant``, so a tenant whose
    receivers hang (5 s connect + 10 s answer per attempt) cannot occupy every slot: the
    others keep sending. The shares are of this worker's slots; N workers give a tenant at
    most N times as many.

    Shares alone let two such tenants take every slot (half each, by default). So the last
    ``reserve`` free slots are kept for tenants holding none: a tenant already holding a
    slot is given another only while at least ``reserve`` slots stay free after it; a
    tenant holding none may take any free slot. ``reserve`` defaults to an eighth of the
    slots (at least 1) and is at most ``concurrency - per_tenant``, so a tenant alone
    still reaches its full share.

    The bookkeeping of slots (``_in_flight``, the shares' counts) is done by the thread that
    calls ``turn``, ``run_once`` and ``finish`` only; sending threads just hand back their
    ``Sent`` through a queue.
    """

    def __init__(
        self,
        engine: Engine,
        box: SecretBox,
        sender: Sender,
        batch_size: int = 100,
        concurrency: int = 32,
        lease_seconds: int = LEASE_SECONDS,
        per_endpoint: int | None = None,
        per_tenant: int | None = None,
        reserve: int | None = None,
    ):
        self.engine = engine
        self.box = box
        self.sender = sender
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.per_tenant = min(per_tenant or max(1, concurrency // 2), concurrency)
        self.per_endpoint = min(per_endpoint or self.per_tenant, self.per_tenant)
        wanted = max(1, concurrency // 8) if reserve is None else reserve
        self.reserve = max(0, min(wanted, concurrency - self.per_tenant))
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = uuid.uuid4().hex
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._finished: queue.SimpleQueue[Sent] = queue.SimpleQueue()
        self._in_flight: dict[str, Job] = {}
        self._endpoint_slots: Counter[str] = Counter()
        self._tenant_slots: Counter[str] = Counter()
        self._unrecorded: list[Sent] = []
        self._record_by = 0.0  # time.monotonic() by which the unrecorded are written
        self._claim_from = 0.0  # time.monotonic() before which claiming is not worth a query
        self._claimed_at = 0.0
        self._passed_over = False  # the last claim left due work of a full endpoint or tenant

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def run_once(self) -> int:
        """Claim up to ``batch_size`` due deliveries (more of one endpoint as its earlier ones
        finish), send and record them all; the number attempted."""
        attempted = 0
        while True:
            room = min(self.concurrency - len(self._in_flight), self.batch_size - attempted)
            claimed = self._start(self.claim(room)) if room > 0 else 0
            attempted += claimed
            if not self._in_flight and (claimed == 0 or attempted >= self.batch_size):
                break
            if self._in_flight:
                self._collect(None)
        self._record_unrecorded()
        return attempted

    def turn(self, wait: float) -> int:
        """One turn of the pipeline: collect what finished (waiting up to ``wait`` seconds
        for the first, less when a claim or a record falls due sooner), record it when due,
        claim into the free slots when worth it. The number of deliveries claimed."""
        now = time.monotonic()
        free = self.concurrency - len(self._in_flight)
        if free > 0:
            wait = min(wait, max(0.0, self._claim_from - now))
        if self._unrecorded:
            wait = min(wait, max(0.0, self._record_by - now))
        self._collect(wait)
        if self._unrecorded and (
            time.monotonic() >= self._record_by
            or len(self._unrecorded) >= self.batch_size
            or not self._in_flight
        ):
            self._record_unrecorded()
        free = self.concurrency - len(self._in_flight)
        if free <= 0 or time.monotonic() < self._claim_from:
            return 0
        room = min(free, self.batch_size)
        claimed = self._start(self.claim(room))
        now = time.monotonic()
        self._claimed_at = now
        # A full claim: claim again once slots free, though not sooner than CLAIM_GAP_SECONDS
        # (each claim is a transaction: a few larger ones cost less than many of one row).
        # Fewer than asked: nothing else is due now, or only work past its share, which may
        # be claimed once one of its sends finishes (``_collect``); new work is looked for
        # after a poll interval.
        self._claim_from = now + (CLAIM_GAP_SECONDS if claimed == room else IDLE_SECONDS)
        return claimed

    def finish(self) -> None:
        """Wait for every send under way and record them (SIGTERM: nothing new is claimed)."""
        while self._in_flight:
            self._collect(None)
        self._record_unrecorded()

    def _start(self, jobs: list[Job]) -> int:
        for job in jobs:
            self._in_flight[job.delivery_id] = job
            self._endpoint_slots[job.endpoint_id] += 1
            self._tenant_slots[job.tenant_id] += 1
            self._pool.submit(self._send_and_hand_back, job)
        return len(jobs)

    def _send_and_hand_back(self, job: Job) -> None:
        started_at = clock.now()
        try:
            answer = self._send(job)
        except BaseException as exc:  # noqa: BLE001 - the slot must come back whatever happens
            answer = Answer(None, 0, "", f"unexpected error: {type(exc).__name__}")
        self._finished.put(Sent(job, answer, started_at))

    def _collect(self, wait: float | None) -> None:
        """Take every finished send, waiting up to ``wait`` seconds (``None``: for ever) for
        the first; their slots are free again from here on."""
        got: list[Sent] = []
        try:
            if wait is None or wait > 0:
                got.append(self._finished.get(timeout=wait))
            while True:
                got.append(self._finished.get_nowait())
        except queue.Empty:
            pass
        for sent in got:
            job = sent.job
            del self._in_flight[job.delivery_id]
            self._endpoint_slots[job.endpoint_id] -= 1
            if self._endpoint_slots[job.endpoint_id] <= 0:
                del self._endpoint_slots[job.endpoint_id]
            self._tenant_slots[job.tenant_id] -= 1
            if self._tenant_slots[job.tenant_id] <= 0:
                del self._tenant_slots[job.tenant_id]
        if got and self._passed_over:
            # A slot of a full endpoint or tenant may be free now: claim soon, though not
            # once per finished send (a claim is a transaction).
            self._claim_from = min(self._claim_from, self._claimed_at + CLAIM_GAP_SECONDS)
        if got and not self._unrecorded:
            self._record_by = time.monotonic() + RECORD_SECONDS
        self._unrecorded.extend(got)

    def _record_unrecorded(self) -> None:
        results, self._unrecorded = self._unrecorded, []
        if results:
            # Lost if this fails (the database is away): the leases run out and the
            # deliveries are sent again, under the same webhook-id (at-least-once).
            self.record(results)

    # -- claim ---------------------------------------------------------------------------

    def claim(self, limit: int | None = None) -> list[Job]:
        """Lease up to ``limit`` due deliveries (default ``batch_size``), none of an endpoint
        or tenant beyond its share of this worker's slots (those under way counted), and
        none into the last ``reserve`` free slots for a tenant that already holds one."""
        limit = self.batch_size if limit is None else limit
        if limit <= 0:
            return []
        now = clock.now()
        endpoints, tenants = Counter(self._endpoint_slots), Counter(self._tenant_slots)
        free = self.concurrency - len(self._in_flight)
        claimed: list[str] = []
        self._passed_over = False
        with Session(self.engine) as session:
            if self.engine.dialect.name == "sqlite":
                # SQLite has no row locks: take its one write lock before reading, so two
                # workers' claims run one after the other (a claim that read before the
                # other's commit and wrote after it took the same deliveries).
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            for _ in range(CLAIM_LOOKS):
                left = free - len(claimed)  # slots still free if this look takes none
                # Only the reserve is left: a tenant holding any slot waits for one of its own.
                floor = 1 if left <= self.reserve else self.per_tenant
                full_endpoints = [e for e, n in endpoints.items() if n >= self.per_endpoint]
                full_tenants = [t for t, n in tenants.items() if n >= floor]
                due = (
                    select(
                        WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.tenant_id
                    )
                    .where(
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= now,
                        _unleased(now),
                        WebhookDelivery.endpoint_id.not_in(full_endpoints),
                        WebhookDelivery.tenant_id.not_in(full_tenants),
                    )
                    .order_by(WebhookDelivery.next_attempt_at)
                    .limit(limit - len(claimed))
                    .with_for_update(skip_locked=True)
                )
                chosen, passed_over = [], False
                for delivery_id, endpoint_id, tenant_id in session.execute(due):
                    if (
                        endpoints[endpoint_id] >= self.per_endpoint
                        or tenants[tenant_id] >= self.per_tenant
                        or (tenants[tenant_id] > 0 and left <= self.reserve)
                    ):
                        passed_over = True
                        continue
                    left -= 1
                    chosen.append(delivery_id)
                    endpoints[endpoint_id] += 1
                    tenants[tenant_id] += 1
                if chosen:
                    claimed += session.scalars(
                        update(WebhookDelivery)
                        .where(WebhookDelivery.id.in_(chosen), _unleased(now))
                        .values(lease_until=now + self.lease, lease_owner=self.owner)
                        .returning(WebhookDelivery.id)
                        .execution_options(synchronize_session=False)
                    )
                # Work of a full endpoint or tenant may be waiting, seen or not (excluded).
                self._passed_over |= passed_over or bool(full_endpoints or full_tenants)
                if not passed_over or len(claimed) >= limit:
                    break
            if not claimed:
                session.rollback()
                return []
            jobs = self._jobs(session, claimed, now)
            session.commit()
        return jobs

    def _jobs(self, session: Session, ids: list[str], now: datetime) -> list[Job]:
        rows = session.execute(
            select(WebhookDelivery, WebhookEndpoint, Event)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id.in_(ids))
        )
        jobs = []
        for delivery, endpoint, event in rows:
            jobs.append(
                Job(
                    delivery.id,
                    endpoint.id,
                    endpoint.url,
                    self._secrets(endpoint, now),
                    event_body(event.payload()),
                    delivery.attempts,
                    endpoint_disabled=not endpoint.enabled and event.type != "webhook.test",
                    tenant_id=delivery.tenant_id,
                )
            )
        return jobs

    def _secrets(self, endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
        try:
            current = [self.box.open(endpoint.secret_sealed, endpoint.id)]
            if endpoint.previous_secret_sealed and (endpoint.previous_secret_until or now) > now:
                current.append(self.box.open(endpoint.previous_secret_sealed, endpoint.id))
        except SecretUnreadable:
            return ()
        return tuple(current)

    # -- send ----------------------------------------------------------------------------

    def _send(self, job: Job) -> Answer:
        if job.endpoint_disabled:
            return Answer(None, 0, "", ENDPOINT_DISABLED)
        if not job.secrets:
            return Answer(None, 0, "", "the signing secret does not decrypt (SECRET_KEY changed?)")
        timestamp = int(time.time())  # the real sending time: receivers check it
        headers = signing.headers(job.secrets, job.delivery_id, timestamp, job.body)
        try:
            return self.sender.post(job.url, job.body, headers)
        except Exception as exc:  # noqa: BLE001 - one endpoint's URL must not stop the worker
            # Logged by ids and exception type only: the URL may carry the tenant's token.
            log.error(
                "webhook delivery %s to endpoint %s failed unexpectedly: %s",
                job.delivery_id,
                job.endpoint_id,
                type(exc).__name__,
            )
            return Answer(None, 0, "", f"unexpected error: {type(exc).__name__}")

    # -- record --------------------------------------------------------------------------

    def record(self, results: list[Sent]) -> None:
        now = clock.now()
        with Session(self.engine) as session:
            session.add_all(
                WebhookAttempt(
                    delivery_id=sent.job.delivery_id,
                    started_at=sent.started_at,
                    status_code=sent.answer.status,
                    duration_ms=sent.answer.duration_ms,
                    response_excerpt=_storable(sent.answer.excerpt),
                    error=_storable(sent.answer.error or "")[:200] or None,
                )
                for sent in results
            )
            table = cast(Table, WebhookDelivery.__table__)  # a declarative model's: a Table
            statement = (
                update(table)
                .where(table.c.id == bindparam("b_id"), table.c.lease_owner == self.owner)
                .values(
                    status=bindparam("b_status"),
                    attempts=bindparam("b_attempts"),
                    next_attempt_at=bindparam("b_next"),
                    last_status_code=bindparam("b_code"),
                    completed_at=bindparam("b_done"),
                    lease_until=None,
                    lease_owner=None,
                )
            )
            session.execute(
                statement, [self._outcome(sent.job, sent.answer, now) for sent in results]
            )
            self._endpoint_health(session, results, now)
            session.commit()

    def _outcome(self, job: Job, answer: Answer, now: datetime) -> dict[str, Any]:
        attempts = job.attempts + 1
        if answer.succeeded:
            status, following, done = "succeeded", now, now
        elif attempts > len(RETRY_DELAYS) or answer.error == ENDPOINT_DISABLED:
            status, following, done = "failed", now, now
        else:
            status, following, done = "pending", now + RETRY_DELAYS[attempts - 1], None
        return {
            "b_id": job.delivery_id,
            "b_status": status,
            "b_attempts": attempts,
            "b_next": following,
            "b_code": answer.status,
            "b_done": done,
        }

    def _endpoint_health(self, session: Session, results: list[Sent], now: datetime) -> None:
        """A success clears an endpoint's failing streak; 3 days of failures disable it."""
        succeeded = {sent.job.endpoint_id for sent in results if sent.answer.succeeded}
        failed = {
            sent.job.endpoint_id
            for sent in results
            if not sent.answer.succeeded and not sent.job.endpoint_disabled
        } - succeeded
        if succeeded:
            session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id.in_(succeeded))
                .values(failing_since=None)
            )
        if not failed:
            return
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(failed), WebhookEndpoint.failing_since.is_(None))
            .values(failing_since=now)
        )
        for endpoint in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_(failed),
                WebhookEndpoint.enabled.is_(True),
                WebhookEndpoint.failing_since <= now - DISABLE_AFTER,
            )
        ):
            self._disable(session, endpoint)

    def _disable(self, session: Session, endpoint: WebhookEndpoint) -> None:
        endpoint.enabled = False
        endpoint.disabled_reason = "every delivery failed for 3 days"
        # The URL's scheme and host only, as every audit entry and event keeps it: these are
        # readable without the webhook permission, and a URL's path often holds a secret.
        shown = {
            "id": endpoint.id,
            "url": url_origin(endpoint.url),
            "reason": endpoint.disabled_reason,
        }
        audit.record(session, endpoint.tenant_id, SYSTEM, "webhook.disabled", None, shown)
        events.emit(
            session,
            endpoint.tenant_id,
            "webhook.disabled",
            {"object": {"object": "webhook_endpoint", **shown}},
        )
        log.warning("webhook endpoint %s disabled: failing for 3 days", endpoint.id)


def _storable(text: str) -> str:
    """The receiver's text as every database keeps it: PostgreSQL's text columns refuse NUL,
    and one such answer would fail the record of the whole batch (every delivery in it sent
    again, forever)."""
    return text.replace("\x00", "\ufffd")


def _unleased(now: datetime) -> ColumnElement[bool]:
    return or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)


@dataclass(frozen=True)
class Backlog:
    due: int  # pending deliveries whose time has come
    leased: int  # being attempted now
    lag_seconds: float  # how long the oldest due delivery has waited
    failed: int


def backlog(session_factory: Callable[[], Session]) -> Backlog:
    now = clock.now()
    with session_factory() as session:
        pending = (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        due, oldest = session.execute(
            select(func.count(), func.min(WebhookDelivery.next_attempt_at)).where(
                *pending, _unleased(now)
            )
        ).one()
        leased = session.scalar(
            select(func.count()).where(
                WebhookDelivery.status == "pending", WebhookDelivery.lease_until >= now
            )
        )
        failed = session.scalar(select(func.count()).where(WebhookDelivery.status == "failed"))
    lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return Backlog(due, leased or 0, lag, failed or 0)


IDLE_SECONDS = 0.25
EXPIRY_SCAN_SECONDS = 60.0
PURGE_SECONDS = 3600.0
PURGE_BATCHES = 5  # per turn of the loop: 5,000 events


def run(
    deliverer: Deliverer,
    stop: threading.Event,
    once: bool = False,
    retention: timedelta | None = None,
) -> None:
    """The worker's loop: keep the pipeline's slots busy while there is work (each send
    recorded as it completes, new work claimed as slots free), poll when there is none, scan
    for expiring keys every minute and purge events older than ``retention`` (None: keep
    them) every hour; until ``stop`` is set (SIGTERM: the sends under way are finished and
    recorded first)."""
    next_scan = next_purge = 0.0
    while not stop.is_set():
        try:
            # Each chore's next time is set before it runs: one that keeps failing is tried
            # again at its own interval, and the deliveries go on meanwhile.
            if time.monotonic() >= next_scan:
                next_scan = time.monotonic() + EXPIRY_SCAN_SECONDS
                with Session(deliverer.engine) as session:
                    events.emit_expiring(session)
            if retention is not None and time.monotonic() >= next_purge:
                next_purge = time.monotonic() + PURGE_SECONDS
                # A few batches at a time, so a first purge of a long history does not hold
                # up deliveries; the rest follows in the next turns.
                purged = purge_events(deliverer.engine, retention, max_batches=PURGE_BATCHES)
                if purged >= PURGE_BATCHES * RETENTION_BATCH:
                    next_purge = 0.0
                if purged:
                    log.info("purged %d events older than %s", purged, retention)
            if once:
                deliverer.run_once()
                return
            deliverer.turn(IDLE_SECONDS)
        except SQLAlchemyError as exc:  # the database is away: try again shortly
            log.warning("webhook worker: database error, retrying: %s", type(exc).__name__)
            stop.wait(1.0)
        except Exception as exc:  # noqa: BLE001 - a bug in one turn must not end the worker
            log.error("webhook worker: unexpected error, retrying: %s", type(exc).__name__)
            stop.wait(1.0)
        if once:
            return
    _finish(deliverer)


def _finish(deliverer: Deliverer) -> None:
    try:
        deliverer.finish()
    except Exception as exc:  # noqa: BLE001 - their leases run out; they are sent again
        log.warning("webhook worker: the last sends were not recorded: %s", type(exc).__name__)


def event_body(payload: dict[str, Any]) -> bytes:
    """An event's JSON body. orjson refuses a lone surrogate, which the store refuses in every
    field today but an older release let into key metadata (a JSON column keeps it as
    ``\\ud800``); the standard library writes it as that escape, as the console's answers do
    (``core.jsonprovider.encode``). Raising here instead failed every claim of every worker
    (docs/security.md, pentest F1)."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return json.dumps(payload, separators=(",", ":")).encode()
