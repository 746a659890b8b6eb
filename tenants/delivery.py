"""The delivery worker's work (SPEC §10): claim due deliveries, send them, record each attempt.

Work is claimed from the database itself: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL
(concurrent workers each take different rows without waiting on each other), then a lease
(``lease_until``, ``lease_owner``) is written in the same transaction. The claim's UPDATE
re-checks that no live lease exists, so even where ``FOR UPDATE`` is a no-op (SQLite, whose
single write lock serialises the claims anyway) one delivery is never claimed twice.
A worker killed mid-batch holds leases that simply run out (``LEASE_SECONDS``, far longer
than one attempt may take), after which any worker claims the deliveries again: at-least-once.

Sending happens outside any transaction, concurrently on a thread pool; the results of a
batch are written in one transaction, each guarded by the lease owner, so a worker whose
lease was lost (it stalled for minutes) never overwrites another's record.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
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


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        box: SecretBox,
        sender: Sender,
        batch_size: int = 100,
        concurrency: int = 32,
        lease_seconds: int = LEASE_SECONDS,
    ):
        self.engine = engine
        self.box = box
        self.sender = sender
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = uuid.uuid4().hex
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def run_once(self) -> int:
        """Claim, send and record one batch; the number of deliveries attempted."""
        jobs = self.claim()
        if not jobs:
            return 0
        answers = list(self._pool.map(self._send, jobs))
        self.record(list(zip(jobs, answers, strict=True)))
        return len(jobs)

    # -- claim ---------------------------------------------------------------------------

    def claim(self) -> list[Job]:
        now = clock.now()
        with Session(self.engine) as session:
            due = (
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    _unleased(now),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
            ids = list(session.scalars(due))
            if not ids:
                session.rollback()
                return []
            claimed = list(
                session.scalars(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_(ids), _unleased(now))
                    .values(lease_until=now + self.lease, lease_owner=self.owner)
                    .returning(WebhookDelivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
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
                    orjson.dumps(event.payload()),
                    delivery.attempts,
                    endpoint_disabled=not endpoint.enabled and event.type != "webhook.test",
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

    def record(self, results: list[tuple[Job, Answer]]) -> None:
        now = clock.now()
        with Session(self.engine) as session:
            session.add_all(
                WebhookAttempt(
                    delivery_id=job.delivery_id,
                    started_at=now,
                    status_code=answer.status,
                    duration_ms=answer.duration_ms,
                    response_excerpt=_storable(answer.excerpt),
                    error=_storable(answer.error or "")[:200] or None,
                )
                for job, answer in results
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
            session.execute(statement, [self._outcome(job, answer, now) for job, answer in results])
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

    def _endpoint_health(
        self, session: Session, results: list[tuple[Job, Answer]], now: datetime
    ) -> None:
        """A success clears an endpoint's failing streak; 3 days of failures disable it."""
        succeeded = {job.endpoint_id for job, answer in results if answer.succeeded}
        failed = {
            job.endpoint_id
            for job, answer in results
            if not answer.succeeded and not job.endpoint_disabled
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


def run(deliverer: Deliverer, stop: threading.Event, once: bool = False) -> None:
    """The worker's loop: deliver batches while there is work, poll when there is none, scan
    for expiring keys every minute; until ``stop`` is set (SIGTERM: the batch under way is
    finished and recorded first)."""
    next_scan = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_scan:
                with Session(deliverer.engine) as session:
                    events.emit_expiring(session)
                next_scan = time.monotonic() + EXPIRY_SCAN_SECONDS
            sent = deliverer.run_once()
        except SQLAlchemyError as exc:  # the database is away: try again shortly
            log.warning("webhook worker: database error, retrying: %s", type(exc).__name__)
            sent = 0
            stop.wait(1.0)
        except Exception as exc:  # noqa: BLE001 - a bug in one batch must not end the worker
            log.error("webhook worker: unexpected error, retrying: %s", type(exc).__name__)
            sent = 0
            stop.wait(1.0)
        if once:
            return
        if sent == 0:
            stop.wait(IDLE_SECONDS)
