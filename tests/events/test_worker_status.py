"""``flask --app app worker --status``: the backlog an operator reads (SPEC §10)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.extensions import db
from tenants.webhooks import WebhookDelivery
from tests.conftest import TEST_ACTOR


def _status(app) -> dict[str, str]:
    result = app.test_cli_runner().invoke(args=["worker", "--status"])
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def test_status_prints_due_in_flight_lag_and_failed(app, tenant, hooks, clock):
    assert _status(app) == {"due": "0", "in flight": "0", "lag_seconds": "0.0", "failed": "0"}
    endpoint = hooks.create(tenant.id, TEST_ACTOR, "http://127.0.0.1:9/", ["*"]).endpoint
    for _ in range(3):
        hooks.send_test(tenant.id, endpoint.id)
    clock.advance(seconds=42)
    assert _status(app) == {"due": "3", "in flight": "0", "lag_seconds": "42.0", "failed": "0"}
    first, second, _third = db.session.scalars(select(WebhookDelivery.id)).all()
    db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == first).values(status="failed")
    )
    leased = clock.now + timedelta(seconds=60)  # a worker's claim under way
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == second)
        .values(lease_until=leased, lease_owner="w")
    )
    db.session.commit()
    assert _status(app) == {"due": "1", "in flight": "1", "lag_seconds": "42.0", "failed": "1"}
