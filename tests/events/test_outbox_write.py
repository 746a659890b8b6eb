"""The outbox write (issue 15): an event row and one delivery row per enabled endpoint of the
tenant subscribed to its type, written by SQL alone (one statement on PostgreSQL, two on
SQLite) in the transaction of the change that causes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from tenants import audit, events
from tenants.clock import now as clock_now
from tenants.delivery import Deliverer
from tenants.events import Event
from tenants.ids import ID_SHAPE
from tenants.models import ApiKey, AuditEvent, KeyStoreChanges
from tenants.outbound import Sender
from tenants.secretbox import SecretBox
from tenants.webhooks import WebhookDelivery
from tests.conftest import TEST_ACTOR

URL = "http://127.0.0.1:9/hooks"


def _deliveries(event_id: str) -> dict[str, WebhookDelivery]:
    statement = select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
    return {row.endpoint_id: row for row in db.session.scalars(statement)}


def _only_event(tenant_id: str, event_type: str) -> Event:
    return db.session.scalars(events.for_tenant(tenant_id, event_type)).one()


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_deliveries_go_to_enabled_endpoints_subscribed_to_the_type(
    store, tenant, other_tenant, hooks
):
    every = hooks.create(tenant.id, TEST_ACTOR, URL, ["*"]).endpoint
    updates = hooks.create(tenant.id, TEST_ACTOR, URL, ["key.created", "key.updated"]).endpoint
    hooks.create(tenant.id, TEST_ACTOR, URL, ["key.revoked", "key.decoy_used"])
    hooks.create(tenant.id, TEST_ACTOR, URL, ["*"], enabled=False)
    hooks.create(other_tenant.id, TEST_ACTOR, URL, ["*"])
    key = store.create_key(tenant.id, "ci", TEST_ACTOR).record
    store.update_key(tenant.id, key.id, TEST_ACTOR, name="ci-2")

    updated = _only_event(tenant.id, "key.updated")
    written = _deliveries(updated.id)
    assert set(written) == {every.id, updates.id}
    for delivery in written.values():
        assert ID_SHAPE.fullmatch(delivery.id) and delivery.id.startswith("msg_")
        # The event's time part: deliveries sort by their events' time, as ``new_id``'s do.
        assert delivery.id[4:14] == updated.id[4:14]
        assert delivery.tenant_id == tenant.id
        assert (delivery.status, delivery.attempts, delivery.lease_until) == ("pending", 0, None)
        assert delivery.next_attempt_at == delivery.created_at == updated.created_at
    assert len({d.id for d in written.values()}) == len(written)


def test_an_event_about_a_test_key_is_delivered_with_livemode_false(store, tenant, hooks):
    """Endpoints have no mode: a test key's events reach them too, and say so."""
    endpoint = hooks.create(tenant.id, TEST_ACTOR, URL, ["key.created"]).endpoint
    store.create_key(tenant.id, "sandbox", TEST_ACTOR, mode="test")
    created = _only_event(tenant.id, "key.created")
    assert created.livemode is False
    assert set(_deliveries(created.id)) == {endpoint.id}


def test_every_endpoint_gets_a_delivery_id_of_its_own(store, tenant, hooks):
    endpoints = {hooks.create(tenant.id, TEST_ACTOR, URL, ["*"]).endpoint.id for _ in range(16)}
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    written = _deliveries(_only_event(tenant.id, "key.created").id)
    assert set(written) == endpoints
    assert len({delivery.id for delivery in written.values()}) == 16


def test_event_and_deliveries_are_written_in_the_change_s_transaction(store, tenant, hooks):
    """Written at ``emit`` (no flush needed), seen by no other connection before the
    commit, then all at once with the change; a rollback leaves none of them."""
    endpoint = hooks.create(tenant.id, TEST_ACTOR, URL, ["*"]).endpoint
    key = store.create_key(tenant.id, "ci", TEST_ACTOR).record

    def visible(connection) -> tuple[int, int, str]:
        updated = select(Event.id).where(Event.tenant_id == tenant.id, Event.type == "key.updated")
        queued = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(updated))
        name = connection.scalar(select(ApiKey.name).where(ApiKey.id == key.id))
        return len(connection.scalars(updated).all()), len(connection.scalars(queued).all()), name

    key.name = "renamed"
    data = {"object": events.key_object(key), "previous_attributes": {"name": "ci"}}
    with db.session.no_autoflush:
        events.emit(db.session, tenant.id, "key.updated", data)
        assert visible(db.session.connection())[:2] == (1, 1)
    with db.engine.connect() as other:
        assert visible(other) == (0, 0, "ci")
    db.session.commit()
    with db.engine.connect() as other:
        assert visible(other) == (1, 1, "renamed")
    assert set(_deliveries(_only_event(tenant.id, "key.updated").id)) == {endpoint.id}

    key.name = "rolled back"
    events.emit(db.session, tenant.id, "key.updated", data)
    db.session.rollback()
    with db.engine.connect() as other:
        assert visible(other) == (1, 1, "renamed")


def test_the_outbox_write_is_one_statement_on_postgresql_two_elsewhere(store, tenant, hooks):
    """No endpoint row is read into Python: the database picks the endpoints."""
    hooks.create(tenant.id, TEST_ACTOR, URL, ["*"])
    tenant_id = tenant.id  # read before: the commit expired it
    with _statements() as seen:
        events.emit(db.session, tenant_id, "license.updated", {"object": {"status": "expired"}})
    db.session.commit()
    written = [s for s in seen if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    if db.engine.dialect.name == "postgresql":
        (statement,) = written
        assert statement.startswith("WITH evt AS") and "INSERT INTO events" in statement
    else:
        assert [s.split(" (")[0] for s in written] == [
            "INSERT INTO events",
            "INSERT INTO webhook_deliveries",
        ]
    assert "SELECT" in written[-1] and "webhook_endpoints" in written[-1]
    assert len(_deliveries(_only_event(tenant.id, "license.updated").id)) == 1


def test_an_endpoint_disabled_by_the_worker_gets_no_delivery_of_its_own_disabling(
    app, store, tenant, hooks, clock
):
    receiver_down = "http://127.0.0.1:9/down"  # nothing listens: every attempt fails
    failing = hooks.create(tenant.id, TEST_ACTOR, receiver_down, ["*"]).endpoint
    watcher = hooks.create(tenant.id, TEST_ACTOR, URL, ["webhook.disabled"]).endpoint
    store.create_key(tenant.id, "day 0", TEST_ACTOR)
    box = SecretBox(app.config["SECRET_KEY"])
    worker = Deliverer(db.engine, box, Sender(True), concurrency=1)
    try:
        worker.run_once()
        clock.advance(days=3, seconds=1)
        store.create_key(tenant.id, "day 3", TEST_ACTOR)
        worker.run_once()
    finally:
        worker.close()
    db.session.expire_all()
    assert not hooks.get(tenant.id, failing.id).enabled
    assert set(_deliveries(_only_event(tenant.id, "webhook.disabled").id)) == {watcher.id}


def test_a_second_event_with_the_same_dedupe_key_writes_nothing(store, tenant, hooks):
    hooks.create(tenant.id, TEST_ACTOR, URL, ["*"])
    data = {"object": {"object": "api_key", "id": "key_x"}, "expires_in": "7d"}
    events.emit(db.session, tenant.id, "key.expiring", data, "key.expiring:7d:key_x")
    db.session.commit()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        events.emit(db.session, tenant.id, "key.expiring", data, "key.expiring:7d:key_x")
    db.session.commit()
    written = _only_event(tenant.id, "key.expiring")
    assert len(_deliveries(written.id)) == 1
    assert len(db.session.scalars(select(WebhookDelivery.id)).all()) == 1


def test_a_change_writes_its_events_and_audit_entry_with_the_counter_s_bump(store, tenant, hooks):
    """A key change's audit entry, events and their deliveries ride the statement that bumps
    the change counter (one on PostgreSQL), two events included (a leaked key revoked)."""
    every = hooks.create(tenant.id, TEST_ACTOR, URL, ["*"]).endpoint
    leaks = hooks.create(tenant.id, TEST_ACTOR, URL, ["key.leaked"]).endpoint
    key = store.create_key(tenant.id, "ci", TEST_ACTOR).record
    tenant_id, key_id = tenant.id, key.id
    generation = db.session.scalar(select(KeyStoreChanges.generation))
    key.revoked_at = clock_now()
    about = {"object": events.key_object(key)}
    outbox = [
        events.new_event(tenant_id, "key.leaked", about),
        events.new_event(tenant_id, "key.revoked", about),
    ]
    entry = audit.entry(tenant_id, TEST_ACTOR, "key.leaked", key_id)
    with _statements() as seen:
        store.commit_change(outbox, [entry])
    written = [s for s in seen if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    if db.engine.dialect.name == "postgresql":
        (flush, statement) = written
        assert flush.startswith("UPDATE api_keys")
        assert statement.startswith("WITH") and "UPDATE keystore_changes" in statement
        for table in ("audit_events", "events", "webhook_deliveries"):
            assert f"INSERT INTO {table}" in statement
    else:
        assert written[-1].startswith("UPDATE keystore_changes")
    assert db.session.scalar(select(KeyStoreChanges.generation)) == generation + 1
    assert set(_deliveries(_only_event(tenant_id, "key.leaked").id)) == {every.id, leaks.id}
    assert set(_deliveries(_only_event(tenant_id, "key.revoked").id)) == {every.id}
    (logged,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "key.leaked"))
    assert (logged.key_id, logged.actor) == (key_id, TEST_ACTOR.sub)
    assert db.session.get(ApiKey, key_id).revoked_at is not None
