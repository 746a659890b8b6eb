"""Webhook delivery (SPEC §10): Standard Webhooks signatures checked by the independent
``standardwebhooks`` library, one webhook-id across retries, backoff over more than 24 hours,
every attempt logged, 3 days of failure disable the endpoint, manual retry, test events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.extensions import db
from tenants import events
from tenants.delivery import RETRY_DELAYS
from tenants.models import AuditEvent
from tenants.webhooks import WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_ACTOR


def _verify(secret: str, received) -> dict:
    return Webhook(secret).verify(received.body, received.headers)


def test_delivery_verifies_with_the_standardwebhooks_library(
    store, tenant, hooks, receiver, deliverer, clock
):
    created = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    issued = store.create_key(tenant.id, "ci", TEST_ACTOR)
    assert deliverer.run_once() == 1
    (received,) = receiver.received
    payload = _verify(created.secret, received)
    assert payload["type"] == "key.created"
    assert payload["data"]["object"]["id"] == issued.record.id
    assert received.headers["webhook-id"].startswith("msg_")
    assert issued.full_key.encode() not in received.body
    with pytest.raises(WebhookVerificationError):
        _verify("whsec_" + "QUJD" * 8, received)


def test_endpoint_receives_only_subscribed_types(store, tenant, hooks, receiver, deliverer, clock):
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["key.revoked"])
    issued = store.create_key(tenant.id, "ci", TEST_ACTOR)
    store.revoke_key(tenant.id, issued.record.id, TEST_ACTOR)
    deliverer.run_once()
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["key.revoked"]


def test_rotated_secret_both_sign_for_24_hours(store, tenant, hooks, receiver, deliverer, clock):
    old = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    new = hooks.rotate_secret(tenant.id, old.endpoint.id, TEST_ACTOR)
    assert new.secret != old.secret
    store.create_key(tenant.id, "a", TEST_ACTOR)
    deliverer.run_once()
    received = receiver.received[-1]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    _verify(old.secret, received)
    _verify(new.secret, received)

    clock.advance(hours=24, seconds=1)
    store.create_key(tenant.id, "b", TEST_ACTOR)
    deliverer.run_once()
    later = receiver.received[-1]
    _verify(new.secret, later)
    with pytest.raises(WebhookVerificationError):
        _verify(old.secret, later)


def test_failures_retry_with_backoff_under_one_webhook_id(
    store, tenant, hooks, receiver, deliverer, clock
):
    receiver.fail_first = 2
    created = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    assert deliverer.run_once() == 1
    assert deliverer.run_once() == 0  # not due before its backoff
    clock.advance(seconds=RETRY_DELAYS[0].total_seconds())
    assert deliverer.run_once() == 1
    clock.advance(seconds=RETRY_DELAYS[1].total_seconds() - 1)
    assert deliverer.run_once() == 0
    clock.advance(seconds=1)
    assert deliverer.run_once() == 1

    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    for received in receiver.received:
        _verify(created.secret, received)
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert attempts[0].response_excerpt == "failing on purpose"


def test_retries_last_more_than_24_hours_then_fail(
    store, tenant, hooks, receiver, deliverer, clock
):
    receiver.fail_first = 1000
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    started = clock.now
    deliverer.run_once()
    for delay in RETRY_DELAYS:
        clock.advance(seconds=delay.total_seconds())
        assert deliverer.run_once() == 1
    assert clock.now - started >= timedelta(hours=24)
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts) == ("failed", len(RETRY_DELAYS) + 1)
    clock.advance(days=1)
    assert deliverer.run_once() == 0


def test_excerpt_keeps_the_first_kib(store, tenant, hooks, receiver, deliverer, clock):
    receiver.answer = b"x" * 5000
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    deliverer.run_once()
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert attempt.response_excerpt == "x" * 1024


def test_three_days_of_failure_disable_the_endpoint(
    store, tenant, hooks, receiver, deliverer, clock
):
    receiver.fail_first = 1000
    endpoint = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["key.created"]).endpoint
    store.create_key(tenant.id, "day 0", TEST_ACTOR)
    deliverer.run_once()
    clock.advance(days=2, hours=23)
    store.create_key(tenant.id, "day 3-", TEST_ACTOR)
    deliverer.run_once()
    db.session.expire_all()
    assert hooks.get(tenant.id, endpoint.id).enabled
    clock.advance(hours=1)
    store.create_key(tenant.id, "day 3", TEST_ACTOR)
    deliverer.run_once()
    db.session.expire_all()
    disabled = hooks.get(tenant.id, endpoint.id)
    assert not disabled.enabled and disabled.disabled_reason
    assert [e.type for e in db.session.scalars(events.for_tenant(tenant.id, "webhook.disabled"))]
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.disabled"))
    assert audit.one().actor == "system:webhooks"
    before = len(receiver.received)
    store.create_key(tenant.id, "after", TEST_ACTOR)
    clock.advance(days=1)
    deliverer.run_once()
    assert len(receiver.received) == before


def test_a_success_ends_the_failing_streak(store, tenant, hooks, receiver, deliverer, clock):
    receiver.fail_first = 1
    endpoint = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    store.create_key(tenant.id, "a", TEST_ACTOR)
    deliverer.run_once()
    db.session.expire_all()
    assert hooks.get(tenant.id, endpoint.id).failing_since is not None
    clock.advance(seconds=5)
    deliverer.run_once()
    db.session.expire_all()
    assert hooks.get(tenant.id, endpoint.id).failing_since is None


def test_manual_retry_sends_again_with_the_same_id(
    store, tenant, hooks, receiver, deliverer, clock
):
    endpoint = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    deliverer.run_once()
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    hooks.retry(tenant.id, endpoint.id, delivery.id)
    deliverer.run_once()
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.id, delivery.id]


def test_test_event_goes_to_that_endpoint_only(tenant, hooks, receiver, deliverer, clock):
    tested = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    hooks.create(tenant.id, TEST_ACTOR, receiver.url + "/other", ["*"])
    hooks.send_test(tenant.id, tested.endpoint.id)
    deliverer.run_once()
    (received,) = receiver.received
    assert received.path == "/hooks"
    assert _verify(tested.secret, received)["type"] == "webhook.test"


def test_a_disabled_endpoint_receives_nothing(store, tenant, hooks, receiver, deliverer, clock):
    endpoint = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    store.create_key(tenant.id, "queued", TEST_ACTOR)
    hooks.update(tenant.id, endpoint.id, TEST_ACTOR, enabled=False)
    deliverer.run_once()
    assert receiver.received == []
    assert db.session.scalars(select(WebhookDelivery.status)).one() == "failed"
