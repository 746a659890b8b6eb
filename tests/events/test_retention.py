"""Event retention (docs/security.md, pentest #15): a decoy flood, or any other, no longer
grows the events table for ever. Every use is still recorded when it happens (SPEC §11);
events older than ``EVENT_RETENTION_DAYS`` go, with their finished deliveries, the attempts
and the alerts' acknowledgements. Audit entries stay; an event whose delivery is still
pending stays until it is done. Run by the worker's loop and by ``flask events purge``.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.config import ConfigError, load_config
from core.extensions import db
from tenants import alerts, delivery, events
from tenants.alerts import AlertAcknowledgement
from tenants.leaks import record_decoy_use
from tenants.models import AuditEvent
from tenants.retention import purge_events
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
