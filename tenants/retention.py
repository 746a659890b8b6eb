"""Event retention (docs/security.md, pentest #15): events older than ``EVENT_RETENTION_DAYS``
(default 30, as Stripe keeps its events) are deleted with their webhook deliveries, the
deliveries' attempts and the alerts' acknowledgements. SPEC §11 wants every decoy use
recorded, so none is dropped when it happens; this bounds how long a flood of them (or of
anything else) stays. Audit entries are kept: they are the record of who changed what.

A leaked-key or decoy alert is kept until someone acknowledges it. An event with a delivery
still pending (retrying, or retried by hand) is kept until that delivery is done. An event
goes whole or not at all: each batch is one transaction that first locks what a manual
retry writes (the deliveries' rows on PostgreSQL, the database on SQLite), then reads again
which of the selected events may go, then deletes them. A retry committed after the
selection keeps its event with every attempt and acknowledgement; one that comes later
waits, then finds its delivery gone (404). Deleted in batches of ``BATCH`` events, one
short transaction each, found by the ``created_at`` index. Run by ``flask --app app worker``
every hour and by ``flask --app app events purge``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, and_, delete, exists, select
from sqlalchemy.orm import Session

from tenants import clock
from tenants.alerts import TYPES as ALERT_TYPES
from tenants.alerts import AlertAcknowledgement
from tenants.events import Event
from tenants.webhooks import WebhookAttempt, WebhookDelivery

BATCH = 1000
DEFAULT_DAYS = 30


def purge_events(
    engine: Engine, retention: timedelta, batch: int = BATCH, max_batches: int | None = None
) -> int:
    """Delete the events created more than ``retention`` ago (with their finished deliveries,
    attempts and acknowledgements), at most ``max_batches`` batches (None: all); the number
    of events deleted."""
    return purge_events_before(engine, clock.now() - retention, batch, max_batches)


def purge_events_before(
    engine: Engine, cutoff: datetime, batch: int = BATCH, max_batches: int | None = None
) -> int:
    deleted, batches = 0, 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with Session(engine) as session:
            candidates = list(
                session.scalars(
                    select(Event.id)
                    .where(Event.created_at < cutoff, _purgeable())
                    .order_by(Event.created_at)
                    .limit(batch)
                )
            )
            if not candidates:
                return deleted
            ids = _locked_and_still_purgeable(session, engine, candidates)
            if ids:
                _delete(session, ids)
            session.commit()
        deleted += len(ids)
        # Fewer than a batch left, or every candidate held by someone else (another purge, a
        # retry, a worker's record): the next run takes what remains, rather than this one
        # selecting the same rows again and again.
        if len(candidates) < batch or not ids:
            return deleted
    return deleted


def _purgeable() -> ColumnElement[bool]:
    """An event with no pending delivery (retrying, or retried by hand), and not an alert
    nobody has acknowledged: a leaked-key or decoy alert is the tenant's only signal (under
    ``leak_response=notify`` the key still works), so it stays until acknowledged."""
    pending = select(WebhookDelivery.id).where(
        WebhookDelivery.event_id == Event.id, WebhookDelivery.status == "pending"
    )
    acknowledged = select(AlertAcknowledgement.id).where(AlertAcknowledgement.event_id == Event.id)
    unacknowledged_alert = and_(Event.type.in_(ALERT_TYPES), ~exists(acknowledged))
    return and_(~exists(pending), ~unacknowledged_alert)


def _locked_and_still_purgeable(
    session: Session, engine: Engine, candidates: list[str]
) -> list[str]:
    """Lock what a retry writes, then read again which candidates may go: a retry committed
    since the selection keeps its event (whole), and one that comes later waits for this
    transaction, then finds its delivery gone (404).

    PostgreSQL: the candidates' deliveries are locked (``FOR UPDATE SKIP LOCKED``); a
    retry's ``UPDATE`` of one waits. An event with a delivery someone else holds locked
    right now (a retry, a worker's record, another purge) is left for the next purge, as is an
    event another purge has locked, so the purge never waits for a row lock, and never
    deadlocks with a worker. The second read is
    a new statement, so under READ COMMITTED it sees every retry committed before the locks.
    SQLite, which has no row locks: the database's one write lock (``BEGIN IMMEDIATE``; its
    driver opened no transaction for the selection), so no retry commits until this one
    has."""
    if engine.dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    else:
        theirs = WebhookDelivery.event_id.in_(candidates)
        every = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.event_id).where(theirs)
        ).all()
        locked = set(
            session.scalars(
                select(WebhookDelivery.id).where(theirs).with_for_update(skip_locked=True)
            )
        )
        busy = {event_id for delivery_id, event_id in every if delivery_id not in locked}
        candidates = [event_id for event_id in candidates if event_id not in busy]
        if not candidates:
            return []
    still = select(Event.id).where(Event.id.in_(candidates), _purgeable())
    if engine.dialect.name != "sqlite":
        # The events too: two purges at once (every worker purges) select the same events;
        # the one that locks an event deletes it, the other skips it, never waits for it, and
        # counts only what it deleted.
        still = still.with_for_update(skip_locked=True)
    return list(session.scalars(still))


def _delete(session: Session, ids: list[str]) -> None:
    """Every row of these events, in one transaction under ``_locked_and_still_purgeable``'s
    locks: none of their deliveries is pending, so nothing is half-deleted."""
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(ids))
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
    session.execute(delete(AlertAcknowledgement).where(AlertAcknowledgement.event_id.in_(ids)))
    session.execute(
        delete(Event).where(Event.id.in_(ids)).execution_options(synchronize_session=False)
    )
