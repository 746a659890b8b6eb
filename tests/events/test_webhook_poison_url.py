"""Pentest: a "poison" webhook URL (SPEC §10).

A host name whose IDNA encoding fails (a label over 63 characters, an empty label, a lone
surrogate) made ``socket.getaddrinfo`` raise ``UnicodeError``, which no one caught: the
delivery thread's exception surfaced in ``run_once`` and ended ``flask --app app worker``,
so one tenant's endpoint stopped every tenant's deliveries. Such an attempt now fails alone
(recorded, retried later like any failure), and such URLs are refused when saved.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from core.extensions import db
from tenants.errors import InvalidInput
from tenants.events import Event
from tenants.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import TEST_ACTOR
from tests.events.test_worker_process import _recorded, workers  # noqa: F401 - a fixture

POISON_URLS = [
    "https://" + "a" * 64 + ".example/hook",  # a DNS label over 63 characters
    "https://" + "ö" * 70 + ".example/hook",  # the same, as an IDN
    "https://a..example/hook",  # an empty label
]
# A lone surrogate has no IDNA form either; no database can hold it, so it is only saved.
REFUSED_WHEN_SAVED = [*POISON_URLS, "https://\udcff.example/hook"]


def _poison(endpoint_id: str, url: str) -> None:
    """Give an endpoint a URL the store refuses today, as one saved by an older release."""
    db.session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(url=url)
    )
    db.session.commit()


def _attempts_of(endpoint_id: str) -> list[WebhookAttempt]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(WebhookAttempt)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
        )
    )


@pytest.mark.parametrize("url", POISON_URLS)
def test_a_poison_url_fails_its_attempt_and_the_batch_goes_on(
    store, tenant, hooks, receiver, deliverer, url
):
    poisoned = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    healthy = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    _poison(poisoned.id, url)
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    assert deliverer.run_once() == 2
    assert len(receiver.received) == 1
    [failed] = _attempts_of(poisoned.id)
    assert failed.status_code is None and failed.error
    assert url not in failed.error  # the URL may carry a tenant's token
    delivery = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == poisoned.id)
    ).one()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.lease_owner is None
    [succeeded] = _attempts_of(healthy.id)
    assert succeeded.status_code == 200


@pytest.mark.server
def test_the_worker_process_survives_a_poison_url(
    store,
    tenant,
    hooks,
    receiver,
    workers,  # noqa: F811 - the fixture imported above
):
    poisoned = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    _poison(poisoned.id, POISON_URLS[0])
    store.create_key(tenant.id, "first", TEST_ACTOR)
    worker = workers()
    assert _wait_for_attempts(poisoned.id), "the poison attempt was never recorded"
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["key.created"])
    store.create_key(tenant.id, "second", TEST_ACTOR)
    assert receiver.wait_for(1), "the worker stopped delivering after the poison URL"
    assert _recorded(1)
    assert worker.process.poll() is None, worker.process.stderr.read().decode()[-2000:]


def _wait_for_attempts(endpoint_id: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _attempts_of(endpoint_id):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("url", REFUSED_WHEN_SAVED)
@pytest.mark.parametrize("allow_private", [True, False])
def test_a_poison_url_is_refused_when_saved(hooks, tenant, url, allow_private):
    hooks.allow_private = allow_private
    with pytest.raises(InvalidInput):
        hooks.create(tenant.id, TEST_ACTOR, url, ["*"])


def test_an_event_with_a_lone_surrogate_is_delivered_and_the_batch_goes_on(
    store, tenant, hooks, receiver, deliverer
):
    """Pentest F1: key metadata of an older release with a lone surrogate (valid JSON, not
    UTF-8) made orjson raise while the claim built its jobs: every claim of every worker
    failed, every tenant's deliveries stayed pending. The body now carries the escape."""
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["key.created"])
    store.create_key(tenant.id, "first", TEST_ACTOR)
    store.create_key(tenant.id, "second", TEST_ACTOR)
    first = db.session.scalars(
        select(Event).where(Event.type == "key.created").order_by(Event.created_at, Event.id)
    ).first()
    assert first is not None
    db.session.execute(
        update(Event).where(Event.id == first.id).values(data={**first.data, "note": "\ud800"})
    )
    db.session.commit()
    assert deliverer.run_once() == 2
    bodies = [message.body for message in receiver.received]
    assert len(bodies) == 2
    assert sum(b'"note":"\\ud800"' in body for body in bodies) == 1
