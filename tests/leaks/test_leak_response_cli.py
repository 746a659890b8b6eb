"""``flask tenants leak-response TENANT_ID revoke|notify`` (SPEC §11): the operator's way to
choose what a key reported as public gets."""

from __future__ import annotations

import getpass

import sqlalchemy as sa

from core.extensions import db
from tenants.models import AuditEvent, Tenant


def _invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["tenants", "leak-response", *args])


def _audit(tenant_id: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.tenant_id == tenant_id, AuditEvent.action == "tenant.leak_response"
            )
        )
    )


def test_leak_response_sets_notify_then_revoke_and_audits_each_change(app, tenant):
    assert db.session.get(Tenant, tenant.id).leak_response == "revoke"  # the default
    result = _invoke(app, tenant.id, "notify")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tenant.id}\tnotify\n"
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).leak_response == "notify"
    [entry] = _audit(tenant.id)
    assert entry.actor == f"cli:{getpass.getuser()}"
    assert entry.changes == {"leak_response": ["revoke", "notify"]}

    assert _invoke(app, tenant.id, "revoke").exit_code == 0
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).leak_response == "revoke"
    assert len(_audit(tenant.id)) == 2
    assert _invoke(app, tenant.id, "revoke").exit_code == 0  # no change: no entry
    assert len(_audit(tenant.id)) == 2


def test_leak_response_refuses_another_value_and_changes_nothing(app, tenant):
    result = _invoke(app, tenant.id, "ignore")
    assert result.exit_code == 2
    assert "'ignore' is not one of 'revoke', 'notify'" in result.output
    db.session.expire_all()
    assert db.session.get(Tenant, tenant.id).leak_response == "revoke"
    assert _audit(tenant.id) == []


def test_leak_response_of_an_unknown_tenant_fails(app):
    result = _invoke(app, "ten_doesnotexist", "notify")
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "Traceback" not in result.output
