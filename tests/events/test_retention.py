"""Event retention (docs/security.md, pentest #15): a decoy flood, or any other, no longer
grows the events table for ever. Every use is still recorded when it happens (SPEC §11);
events older than ``EVENT_RETENTION_DAYS`` go, with their finished deliveries, the attempts
and the alerts' acknowledgements. Audit entries stay; an event whose delivery is still
pending stays until it is done. Run by the worker's loop and by ``flask events purge``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select, event, func, select

from core.config import ConfigError, load_config
from core.extensions import db, webhooks
from tenants import alerts, delivery, events
from tenants.alerts import AlertAcknowledgement
from tenants.errors import NotFound
from tenants.leaks import record_decoy_use
from tenants.models import AuditEvent
from tenants.retention import BATCH, purge_events
from tenants.webhooks import WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_ACTOR

DAYS = 30


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _decoy_flood(store, tenant, uses: int, acknowledged: bool = True) -> None:
    """A decoy key used ``uses`` times; its alerts acknowledged unless told (an alert nobody
    acknowledged is never purged)."""
    decoy = store.create_key(tenant.id, "trap", TEST_ACTOR, decoy=True).record
    for number in range(uses):
        record_decoy_use(
            db.session,
            key_id=decoy.id,
            tenant_id=tenant.id,
            used_at=decoy.created_at,
            client_ip=f"203.0.113.{number}",
            user_agent="curl/8",
            method="GET",
            path="/api/v1/health",
        )
    db.session.commit()
    if acknowledged:
        for event_id in db.session.scalars(
            select(alerts.unacknowledged(tenant.id).subquery().c.id)
        ):
            alerts.acknowledge(db.session, tenant.id, event_id, TEST_ACTOR)
        db.session.commit()


def test_events_older_than_the_retention_go_with_their_deliveries(
    store, tenant, hooks, receiver, deliverer, clock
):
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    _decoy_flood(store, tenant, 5)  # with the decoy's key.created: 6 events
    assert deliverer.run_once() == 6

    clock.advance(days=DAYS, seconds=1)
    _decoy_flood(store, tenant, 2)  # 3 newer events, delivered too
    assert deliverer.run_once() == 3
    audit_entries = _count(AuditEvent)
    assert audit_entries >= 3  # two keys created, an alert acknowledged
    assert (_count(events.Event), _count(WebhookDelivery), _count(WebhookAttempt)) == (9, 9, 9)

    assert purge_events(db.engine, timedelta(days=DAYS)) == 6

    assert (_count(events.Event), _count(WebhookDelivery), _count(WebhookAttempt)) == (3, 3, 3)
    assert _count(AlertAcknowledgement) == 2  # the newer alerts'
    assert _count(AuditEvent) == audit_entries  # the audit log is kept whole
    assert purge_events(db.engine, timedelta(days=DAYS)) == 0


def test_an_alert_nobody_acknowledged_is_kept_until_someone_does(store, tenant, clock):
    """Under ``leak_response=notify`` a leaked key keeps working, and its alert is the only
    signal: it outlives the retention until acknowledged."""
    _decoy_flood(store, tenant, 2, acknowledged=False)  # with the decoy's key.created: 3
    clock.advance(days=DAYS + 1)
    assert purge_events(db.engine, timedelta(days=DAYS)) == 1  # key.created only
    waiting = list(db.session.scalars(select(alerts.unacknowledged(tenant.id).subquery().c.id)))
    assert len(waiting) == 2
    alerts.acknowledge(db.session, tenant.id, waiting[0], TEST_ACTOR)
    db.session.commit()
    assert purge_events(db.engine, timedelta(days=DAYS)) == 1
    assert _count(events.Event) == 1
    assert [row.id for row in db.session.scalars(alerts.unacknowledged(tenant.id))] == waiting[1:]


def test_an_event_with_a_pending_delivery_is_kept_until_it_is_done(
    store, tenant, hooks, receiver, deliverer, clock
):
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    store.create_key(tenant.id, "ci", TEST_ACTOR)  # its delivery never sent
    clock.advance(days=DAYS + 1)
    assert purge_events(db.engine, timedelta(days=DAYS)) == 0
    assert _count(events.Event) == 1 and _count(WebhookDelivery) == 1

    assert deliverer.run_once() == 1
    assert purge_events(db.engine, timedelta(days=DAYS)) == 1
    assert _count(events.Event) == _count(WebhookDelivery) == _count(WebhookAttempt) == 0


def test_the_purge_goes_in_batches(store, tenant, clock):
    for number in range(7):
        events.emit(db.session, tenant.id, "webhook.disabled", {"object": {"n": number}})
    db.session.commit()
    clock.advance(days=DAYS + 1)
    assert purge_events(db.engine, timedelta(days=DAYS), batch=3, max_batches=2) == 6
    assert _count(events.Event) == 1
    assert purge_events(db.engine, timedelta(days=DAYS), batch=3) == 1
    assert _count(events.Event) == 0


def test_the_worker_loop_purges(store, tenant, deliverer, clock):
    _decoy_flood(store, tenant, 3)
    clock.advance(days=DAYS + 1)
    delivery.run(deliverer, threading.Event(), once=True, retention=timedelta(days=DAYS))
    assert _count(events.Event) == 0


def test_flask_events_purge(app, store, tenant, clock):
    _decoy_flood(store, tenant, 3)
    clock.advance(days=10)
    runner = app.test_cli_runner()
    kept = runner.invoke(args=["events", "purge"])  # EVENT_RETENTION_DAYS: 30
    assert kept.exit_code == 0, kept.output
    assert "purged 0 events" in kept.output and _count(events.Event) == 4
    purged = runner.invoke(args=["events", "purge", "--days", "7"])
    assert purged.exit_code == 0, purged.output
    assert "purged 4 events older than 7 days" in purged.output
    assert _count(events.Event) == 0


def test_a_purge_that_keeps_failing_does_not_stop_the_deliveries(
    store, tenant, hooks, receiver, deliverer
):
    """A retention whose cut-off cannot be computed (a date before year 1) makes every purge
    fail; the worker says so and goes on delivering, trying the purge again an hour later."""
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    stop = threading.Event()
    worker = threading.Thread(
        target=delivery.run, args=(deliverer, stop), kwargs={"retention": timedelta(days=10**6)}
    )
    worker.start()
    try:
        assert receiver.wait_for(1, timeout=20), "the delivery never came"
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()


@pytest.mark.parametrize("days", ["-1", "3651", "800000"])
def test_a_retention_beyond_ten_years_or_negative_refuses_to_start(tmp_path, days):
    with pytest.raises(ConfigError, match="EVENT_RETENTION_DAYS"):
        load_config({"EVENT_RETENTION_DAYS": days}, str(tmp_path))


@contextmanager
def _between_the_purges_selection_and_the_rest(action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` once, on its own connection, right after the purge has read which
    events are old enough and before its next statement (whatever that is): a manual retry
    landing exactly there, with no sleeps."""
    state = {"selected": False, "done": False}

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        if not state["selected"] and "ORDER BY events.created_at" in statement:
            state["selected"] = True

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        if state["selected"] and not state["done"]:
            state["done"] = True
            action()

    event.listen(db.engine, "after_cursor_execute", after)
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    assert state["done"], "the purge never got past its selection"


def _delivered_alert(store, tenant, hooks, receiver, deliverer) -> WebhookDelivery:
    """An acknowledged decoy alert (and the decoy's key.created), each delivered once."""
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    _decoy_flood(store, tenant, 1)
    assert deliverer.run_once() == 2
    return db.session.scalars(
        select(WebhookDelivery).join(
            AlertAcknowledgement, AlertAcknowledgement.event_id == WebhookDelivery.event_id
        )
    ).one()


def test_a_retry_between_the_purges_selection_and_its_deletes_keeps_the_event_whole(
    store, tenant, hooks, receiver, deliverer, clock
):
    """docs/security.md, pentest #28: the deletes were separate statements, each re-checking
    for a pending delivery on its own, so a retry landing between them left the event with
    its new pending delivery and its acknowledgement (or attempts) gone: the acknowledged
    alert showed again."""
    alert = _delivered_alert(store, tenant, hooks, receiver, deliverer)
    alert_id, event_id, endpoint_id = alert.id, alert.event_id, alert.endpoint_id
    clock.advance(days=DAYS + 1)

    def retry() -> None:
        assert hooks.retry(tenant.id, endpoint_id, alert_id).status == "pending"

    with _between_the_purges_selection_and_the_rest(retry):
        assert purge_events(db.engine, timedelta(days=DAYS)) == 1  # key.created only

    # The retried alert stays whole: its event, delivery, old attempt and acknowledgement.
    assert _count(events.Event, events.Event.id == event_id) == 1
    assert _count(WebhookDelivery, WebhookDelivery.status == "pending") == 1
    assert _count(WebhookAttempt, WebhookAttempt.delivery_id == alert_id) == 1
    assert _count(AlertAcknowledgement, AlertAcknowledgement.event_id == event_id) == 1
    assert list(db.session.scalars(alerts.unacknowledged(tenant.id))) == []

    # Once the retry is done, the event goes, all of it.
    assert deliverer.run_once() == 1
    assert purge_events(db.engine, timedelta(days=DAYS)) == 1
    assert (_count(events.Event), _count(WebhookDelivery), _count(WebhookAttempt)) == (0, 0, 0)
    assert _count(AlertAcknowledgement) == 0


def test_a_retry_whose_delivery_the_purge_deleted_meanwhile_is_not_found(
    store, tenant, hooks, receiver, deliverer, clock
):
    """The other order: a retry reads the delivery, the purge deletes the event whole before
    the retry writes; the retry's UPDATE then matches no row: 404, not a 500."""
    alert = _delivered_alert(store, tenant, hooks, receiver, deliverer)
    alert_id, endpoint_id = alert.id, alert.endpoint_id
    db.session.commit()
    clock.advance(days=DAYS + 1)
    purged: list[int] = []

    def purge_first(session, flush_context, instances) -> None:
        if not purged:
            purged.append(purge_events(db.engine, timedelta(days=DAYS)))

    event.listen(db.session(), "before_flush", purge_first)
    try:
        with pytest.raises(NotFound):
            hooks.retry(tenant.id, endpoint_id, alert_id)
    finally:
        event.remove(db.session(), "before_flush", purge_first)
    assert purged == [2]
    assert (_count(events.Event), _count(WebhookDelivery), _count(WebhookAttempt)) == (0, 0, 0)
    assert _count(AlertAcknowledgement) == 0


def _waiting_for_a_lock() -> bool:
    """Whether another backend of this test's database waits for a lock (the retry)."""
    with db.engine.connect() as connection:
        return bool(
            connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
        )


def test_a_retry_landing_while_the_purge_deletes_waits_then_is_not_found(
    app, store, tenant, hooks, receiver, deliverer, clock
):
    """A retry that comes once the purge has started deleting (right before its first
    DELETE) waits for the batch (PostgreSQL: the purge holds the deliveries' row locks, and
    the test goes on only once the retry is seen waiting for one; SQLite: the database's
    write lock), then finds its delivery gone: 404, and nothing of the event remains. Before,
    nothing was locked there: the retry went through and the event stayed, half-deleted."""
    alert = _delivered_alert(store, tenant, hooks, receiver, deliverer)
    alert_id, endpoint_id = alert.id, alert.endpoint_id
    db.session.commit()
    clock.advance(days=DAYS + 1)
    outcome: list[object] = []

    def retry_elsewhere() -> None:
        with app.app_context():
            try:
                outcome.append(webhooks.get().retry(tenant.id, endpoint_id, alert_id).status)
            except NotFound as exc:
                outcome.append(exc)

    retrying = threading.Thread(target=retry_elsewhere)
    state = {"started": False}

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        if not state["started"] and statement.startswith("DELETE"):
            state["started"] = True
            retrying.start()
            if db.engine.dialect.name == "postgresql":
                deadline = time.monotonic() + 60  # only a stuck run takes this long
                while not _waiting_for_a_lock() and not outcome:
                    assert time.monotonic() < deadline, "the retry never waited"
                    time.sleep(0.02)
                assert not outcome, f"the retry went through the purge: {outcome}"

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert purge_events(db.engine, timedelta(days=DAYS)) == 2
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        if state["started"]:
            retrying.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], NotFound)
    assert (_count(events.Event), _count(WebhookDelivery), _count(WebhookAttempt)) == (0, 0, 0)
    assert _count(AlertAcknowledgement) == 0


@pytest.mark.skipif(
    "postgresql" not in os.environ.get("TEST_DATABASE_URL", ""), reason="row locks: PostgreSQL"
)
def test_an_event_whose_delivery_someone_holds_locked_is_left_for_the_next_purge(
    store, tenant, hooks, receiver, deliverer, clock
):
    """A delivery locked by another transaction (a retry or a worker's record under way) is
    skipped, its event left whole for the next purge: the purge never waits for a row lock
    (so never deadlocks with a worker recording a batch)."""
    alert = _delivered_alert(store, tenant, hooks, receiver, deliverer)
    alert_id, event_id = alert.id, alert.event_id
    db.session.commit()
    clock.advance(days=DAYS + 1)
    locked = select(WebhookDelivery.id).where(WebhookDelivery.id == alert_id)
    finished, purged = _purge_while_locked(locked)
    assert finished, "the purge waited for the row lock"
    assert purged == [1]  # key.created only
    assert _count(events.Event, events.Event.id == event_id) == 1
    assert _count(WebhookAttempt, WebhookAttempt.delivery_id == alert_id) == 1
    assert _count(AlertAcknowledgement, AlertAcknowledgement.event_id == event_id) == 1
    assert purge_events(db.engine, timedelta(days=DAYS)) == 1
    assert _count(events.Event) == _count(WebhookDelivery) == _count(AlertAcknowledgement) == 0


@pytest.mark.skipif(
    "postgresql" not in os.environ.get("TEST_DATABASE_URL", ""), reason="row locks: PostgreSQL"
)
def test_an_event_another_purge_holds_is_skipped_not_waited_for_nor_counted(store, tenant, clock):
    """Every worker purges: two purges select the same events. An event another purge has
    locked is skipped (not waited for), not counted as deleted, and the purge stops rather
    than selecting it again."""
    store.create_key(tenant.id, "ci", TEST_ACTOR)  # one key.created event, no delivery
    db.session.commit()
    [event_id] = db.session.scalars(select(events.Event.id)).all()
    clock.advance(days=DAYS + 1)
    finished, purged = _purge_while_locked(
        select(events.Event.id).where(events.Event.id == event_id), batch=1
    )
    assert finished, "the purge waited for the row lock"
    assert purged == [0]
    assert _count(events.Event, events.Event.id == event_id) == 1
    assert purge_events(db.engine, timedelta(days=DAYS)) == 1


def _purge_while_locked(locked: Select[Any], batch: int = BATCH) -> tuple[bool, list[int]]:
    """A purge in a thread of its own while another transaction holds the rows of
    ``locked`` (``FOR UPDATE``): whether it finished without waiting for them, and what it
    returned."""
    purged: list[int] = []
    engine = db.engine  # the purge's thread has no application context
    with engine.connect() as holder:
        holder.execute(locked.with_for_update()).all()
        purge = threading.Thread(
            target=lambda: purged.append(purge_events(engine, timedelta(days=DAYS), batch=batch))
        )
        purge.start()
        purge.join(60)  # only a purge stuck on the lock takes this long
        finished = not purge.is_alive()
        holder.rollback()
    purge.join(60)
    return finished, purged
