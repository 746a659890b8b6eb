"""The events outbox (SPEC §10): every key and license change writes its event in the same
transaction; ``key.expiring`` once per warning; no event ever holds a secret."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tenants import events
from tenants.events import Event
from tenants.models import AuditEvent
from tests.conftest import TEST_ACTOR


def _events(tenant_id, event_type=None):
    statement = events.for_tenant(tenant_id, event_type).order_by(Event.id)
    return list(db.session.scalars(statement))


def test_every_key_change_writes_its_event(store, tenant):
    issued = store.create_key(tenant.id, "ci", TEST_ACTOR, ["contacts:read"])
    store.update_key(tenant.id, issued.record.id, TEST_ACTOR, name="ci-2")
    rotated = store.rotate_key(tenant.id, issued.record.id, TEST_ACTOR, grace_seconds=60)
    store.revoke_key(tenant.id, rotated.record.id, TEST_ACTOR)
    store.set_license(tenant.id, "expired")

    written = _events(tenant.id)
    assert [event.type for event in written] == [
        "key.created",
        "key.updated",
        "key.rotated",
        "key.revoked",
        "license.updated",
    ]
    created, updated, rotated_event, revoked, licensed = written
    assert created.data["object"]["id"] == issued.record.id
    assert updated.data["previous_attributes"] == {"name": "ci"}
    assert updated.data["object"]["name"] == "ci-2"
    assert rotated_event.data["object"]["id"] == rotated.record.id
    assert rotated_event.data["previous_key"]["id"] == issued.record.id
    assert revoked.data["object"]["revoked_at"] is not None
    assert licensed.data["object"]["status"] == "expired"
    payload = created.payload()
    assert payload["id"].startswith("evt_") and payload["livemode"] is True
    assert payload["tenant_id"] == tenant.id


def test_no_event_holds_a_secret(store, tenant):
    issued = store.create_key(tenant.id, "ci", TEST_ACTOR)
    rotated = store.rotate_key(tenant.id, issued.record.id, TEST_ACTOR)
    dumped = json.dumps([event.payload() for event in _events(tenant.id)])
    for secret in (issued.full_key, rotated.full_key):
        assert secret not in dumped
    for key in store.list_keys(tenant.id):
        assert key.key_hash not in dumped


def test_a_change_that_fails_writes_no_event(store, tenant):
    store.max_active_keys = 1
    store.create_key(tenant.id, "one", TEST_ACTOR)
    with pytest.raises(Exception, match="at most 1"):
        store.create_key(tenant.id, "two", TEST_ACTOR)
    assert [event.type for event in _events(tenant.id)] == ["key.created"]


def test_event_and_change_commit_together(store, tenant):
    """The outbox row and the audit entry are one transaction: rolled back together."""
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    before = db.session.scalar(select(func.count()).select_from(Event))
    issued_key = store.list_keys(tenant.id)[0]
    issued_key.name = "changed"
    events.emit(db.session, tenant.id, "key.updated", {"object": events.key_object(issued_key)})
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Event)) == before
    assert store.list_keys(tenant.id)[0].name == "ci"


def test_expiring_keys_warned_once_at_7_and_1_day(store, tenant, clock):
    soon = store.create_key(
        tenant.id, "soon", TEST_ACTOR, expires_at=clock.now + timedelta(days=6)
    ).record
    store.create_key(tenant.id, "later", TEST_ACTOR, expires_at=clock.now + timedelta(days=30))
    assert events.emit_expiring(db.session) == 1
    assert events.emit_expiring(db.session) == 0
    clock.advance(days=5, hours=1)
    assert events.emit_expiring(db.session) == 1
    assert events.emit_expiring(db.session) == 0
    warned = _events(tenant.id, "key.expiring")
    assert [event.data["expires_in"] for event in warned] == ["7d", "1d"]
    assert {event.data["object"]["id"] for event in warned} == {soon.id}


def test_key_expiring_within_a_day_gets_only_the_1_day_warning(store, tenant, clock):
    store.create_key(tenant.id, "soon", TEST_ACTOR, expires_at=clock.now + timedelta(hours=3))
    assert events.emit_expiring(db.session) == 1
    assert [e.data["expires_in"] for e in _events(tenant.id, "key.expiring")] == ["1d"]


def test_revoked_key_is_not_warned(store, tenant, clock):
    key = store.create_key(tenant.id, "k", TEST_ACTOR, expires_at=clock.now + timedelta(days=2))
    store.revoke_key(tenant.id, key.record.id, TEST_ACTOR)
    assert events.emit_expiring(db.session) == 0


def test_audit_entries_unchanged_by_events(store, tenant):
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions == ["key.created"]
