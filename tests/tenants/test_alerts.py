"""``tenants.alerts``: one acknowledgement per alert, even when two arrive at once."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from tenants import alerts
from tenants.audit import Actor
from tenants.leaks import record_decoy_use
from tenants.models import AuditEvent
from tests.conftest import TEST_ACTOR


def _alert(store, tenant_id: str) -> str:
    decoy = store.create_key(tenant_id, "trap", TEST_ACTOR, decoy=True).record
    record_decoy_use(
        db.session,
        key_id=decoy.id,
        tenant_id=tenant_id,
        used_at=decoy.created_at,
        client_ip=None,
        user_agent=None,
        method="GET",
        path="/",
    )
    db.session.commit()
    return db.session.scalars(alerts.unacknowledged(tenant_id)).one().id


def test_the_second_of_two_concurrent_acknowledgements_answers_the_first(
    store, tenant, monkeypatch
):
    event_id = _alert(store, tenant.id)
    first = alerts.acknowledge(db.session, tenant.id, event_id, Actor("user_first"))
    # The second one looked before the first was committed: it saw no acknowledgement.
    looked_up = alerts._acknowledgement
    calls = []

    def seen_too_early(session, wanted):
        calls.append(wanted)
        return None if len(calls) == 1 else looked_up(session, wanted)

    monkeypatch.setattr(alerts, "_acknowledgement", seen_too_early)
    second = alerts.acknowledge(db.session, tenant.id, event_id, Actor("user_second"))
    assert second.acknowledgement.id == first.acknowledgement.id
    assert second.acknowledgement.actor == "user_first"
    audited = db.session.scalar(
        select(func.count()).where(AuditEvent.action == "alert.acknowledged")
    )
    assert audited == 1
    assert db.session.scalars(alerts.unacknowledged(tenant.id)).all() == []


def test_the_tenant_fixture_has_its_own_alerts(store, tenant, other_tenant):
    mine = _alert(store, tenant.id)
    assert [event.id for event in db.session.scalars(alerts.unacknowledged(other_tenant.id))] == []
    assert [event.id for event in db.session.scalars(alerts.unacknowledged(tenant.id))] == [mine]
