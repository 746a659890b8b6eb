"""Pentest: the full webhook URL in ``webhook.disabled`` (SPEC §9.3, §10).

Audit entries and events are readable with ``org:api_keys:read``; an endpoint's URL (often
carrying a secret of its own, Slack's ``/services/T…/B…/<secret>``) only with
``org:webhooks:manage``. ``webhook.created|updated|deleted`` and ``webhook.test`` keep the
scheme and host only (``test_webhook_url_exposure.py``), but the worker's automatic disabling
after 3 days of failures wrote the full URL into both its audit entry and its
``webhook.disabled`` event. They now keep the scheme and host only too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from tenants import events
from tenants.models import AuditEvent
from tests.conftest import TEST_ACTOR
from tests.events.conftest import deliverer, hooks, receiver  # noqa: F401 - fixtures

SECRET_PATH = "services/T0AAAA/B0BBBB/Zq9s3cr3tPathPart"


@pytest.fixture
def app_config() -> dict:
    return {"WEBHOOK_ALLOW_PRIVATE": True}


def test_the_disabled_endpoints_url_keeps_its_secret_path_out_of_audit_and_events(
    store,
    tenant,
    hooks,  # noqa: F811
    receiver,  # noqa: F811
    deliverer,  # noqa: F811
    clock,
):
    receiver.fail_first = 1000
    url = f"{receiver.url}/{SECRET_PATH}?token=qs3cr3t"
    endpoint = hooks.create(tenant.id, TEST_ACTOR, url, ["key.created"]).endpoint
    store.create_key(tenant.id, "day 0", TEST_ACTOR)
    deliverer.run_once()
    clock.advance(days=3)
    store.create_key(tenant.id, "day 3", TEST_ACTOR)
    deliverer.run_once()
    db.session.expire_all()
    assert not hooks.get(tenant.id, endpoint.id).enabled  # precondition: disabled
    [event] = db.session.scalars(events.for_tenant(tenant.id, "webhook.disabled"))
    [entry] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.disabled"))
    for kept in (str(event.payload()), str(entry.changes)):
        assert "Zq9s3cr3t" not in kept and "qs3cr3t" not in kept, kept
        assert f"http://127.0.0.1:{receiver.port}/…" in kept
