"""``GET /console/alerts`` and ``POST /console/alerts/<evt_id>/acknowledge``: leaked-key and
decoy alerts stay until someone in the tenant acknowledges them, on the server, once."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from tenants.events import Event
from tenants.leaks import LeakReport, handle_report, record_decoy_use
from tenants.models import AuditEvent
from tests.conftest import TEST_ACTOR
from tests.console.idp import bearer

READ, MANAGE = "org:api_keys:read", "org:api_keys:manage"


def _decoy_used(store, tenant_id: str, name: str = "trap", mode: str = "live") -> str:
    """A decoy key of ``tenant_id`` used once; the id of its ``key.decoy_used`` event."""
    decoy = store.create_key(tenant_id, name, TEST_ACTOR, decoy=True, mode=mode).record
    record_decoy_use(
        db.session,
        key_id=decoy.id,
        tenant_id=tenant_id,
        used_at=decoy.created_at,
        client_ip="203.0.113.9",
        user_agent="curl/8",
        method="GET",
        path="/api/v1/health",
    )
    db.session.commit()
    return _alert_ids(store, tenant_id, "key.decoy_used")[0]


def _leaked(store, tenant_id: str) -> str:
    issued = store.create_key(tenant_id, "ci", TEST_ACTOR)
    report = LeakReport(issued.full_key, "loopwave", "https://gist.github.com/x/1", "gist")
    assert handle_report(store, report, "github")
    return _alert_ids(store, tenant_id, "key.leaked")[0]


def _alert_ids(store, tenant_id: str, event_type: str) -> list[str]:
    statement = Event.for_tenant(tenant_id).where(Event.type == event_type)
    return [event.id for event in db.session.scalars(statement.order_by(Event.id.desc()))]


def _reader(idp, *permissions: str, sub: str = "user_reader") -> str:
    return idp.token(sub=sub, role="member", version=1, org_permissions=list(permissions))


def _listed(client, token: str, query: str = "") -> list[dict]:
    response = client.get(f"/console/alerts{query}", headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_lists_only_the_tenants_unacknowledged_alerts_newest_first(
    client, store, tenant, other_tenant, admin_token
):
    leak = _leaked(store, tenant.id)
    decoy = _decoy_used(store, tenant.id)
    _decoy_used(store, other_tenant.id, "theirs")

    listed = _listed(client, admin_token)
    # key.created / key.revoked events of the same keys are not alerts.
    assert [(alert["id"], alert["type"]) for alert in listed] == [
        (decoy, "key.decoy_used"),
        (leak, "key.leaked"),
    ]
    assert listed[1]["data"]["url"] == "https://gist.github.com/x/1"
    assert listed[0]["data"]["client_ip"] == "203.0.113.9"


def test_acknowledged_for_everyone_in_the_tenant_and_audited_once(
    client, store, tenant, admin_token, idp
):
    leak = _leaked(store, tenant.id)
    decoy = _decoy_used(store, tenant.id)
    colleague = _reader(idp, READ, sub="user_colleague")
    assert len(_listed(client, colleague)) == 2

    first = client.post(f"/console/alerts/{decoy}/acknowledge", headers=bearer(admin_token))
    assert first.status_code == 200
    body = first.get_json()
    assert body["event_id"] == decoy and body["type"] == "key.decoy_used"
    assert body["acknowledged"] is True and body["acknowledged_by"] == "user_admin"

    # Gone for another person, in another session: the server keeps it, not a browser.
    assert [alert["id"] for alert in _listed(client, colleague)] == [leak]

    # Idempotent: the same answer (the first acknowledgement), no second audit entry.
    manager = _reader(idp, MANAGE, sub="user_manager")
    again = client.post(f"/console/alerts/{decoy}/acknowledge", headers=bearer(manager))
    assert again.status_code == 200 and again.get_json() == body
    entries = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")
    ).all()
    assert len(entries) == 1
    assert entries[0].actor == "user_admin" and entries[0].tenant_id == tenant.id
    assert entries[0].changes == {"event_id": decoy, "type": "key.decoy_used"}
    assert entries[0].key_id is not None

    log = client.get("/console/audit-log", headers=bearer(admin_token)).get_json()["data"]
    assert log[0]["action"] == "alert.acknowledged"


def test_a_new_use_of_an_acknowledged_decoy_alerts_again(client, store, tenant, admin_token):
    first = _decoy_used(store, tenant.id)
    client.post(f"/console/alerts/{first}/acknowledge", headers=bearer(admin_token))
    assert _listed(client, admin_token) == []
    key_id = store.list_keys(tenant.id)[0].id
    record_decoy_use(
        db.session,
        key_id=key_id,
        tenant_id=tenant.id,
        used_at=store.list_keys(tenant.id)[0].created_at,
        client_ip=None,
        user_agent=None,
        method="POST",
        path="/api/v1/messages",
    )
    db.session.commit()
    assert [alert["type"] for alert in _listed(client, admin_token)] == ["key.decoy_used"]


def test_not_an_alert_or_not_the_tenants_is_a_404(client, store, tenant, other_tenant, admin_token):
    theirs = _decoy_used(store, other_tenant.id, "theirs")
    store.create_key(tenant.id, "plain", TEST_ACTOR)
    created = _alert_ids(store, tenant.id, "key.created")
    for event_id in (theirs, created[0], "evt_nope", "not-an-id"):
        response = client.post(
            f"/console/alerts/{event_id}/acknowledge", headers=bearer(admin_token)
        )
        assert response.status_code == 404, event_id
        assert response.get_json()["error"]["code"] == "NOT_FOUND"
    # The other tenant's alert is still theirs to acknowledge.
    assert (
        db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "alert.acknowledged"))
        is None
    )


def test_permissions(client, store, tenant, idp, member_token):
    decoy = _decoy_used(store, tenant.id)
    reader = _reader(idp, READ)
    assert len(_listed(client, reader)) == 1
    # Reading is not enough to hide an alert from the whole organization.
    refused = client.post(f"/console/alerts/{decoy}/acknowledge", headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["details"]["required_permission"] == MANAGE
    assert client.get("/console/alerts", headers=bearer(member_token)).status_code == 403
    assert len(_listed(client, reader)) == 1


def test_mode_filter(client, store, tenant, admin_token):
    live = _decoy_used(store, tenant.id, "live trap")
    test = _decoy_used(store, tenant.id, "test trap", mode="test")
    assert [alert["id"] for alert in _listed(client, admin_token, "?mode=live")] == [live]
    assert [alert["id"] for alert in _listed(client, admin_token, "?mode=test")] == [test]
    assert len(_listed(client, admin_token)) == 2
    bad = client.get("/console/alerts?mode=prod", headers=bearer(admin_token))
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "VALIDATION_ERROR"
