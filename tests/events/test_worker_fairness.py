"""One tenant's hanging receivers do not hold up other tenants' deliveries (docs/security.md,
pentest #13): the worker records each send as it completes, claims new work as slots free,
and gives no endpoint or tenant more than its share of the slots.

The receivers are real HTTP servers on loopback; tenant A's answers nothing until the test
lets it. The assertions are about order (B's deliveries are sent *and recorded* while every
one of A's sends is still hanging), with a generous bound only for a stuck run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.extensions import db
from tenants import delivery, events
from tenants.delivery import Deliverer
from tenants.outbound import Sender
from tenants.secretbox import SecretBox
from tenants.webhooks import WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_ACTOR
from tests.events.receiver import Receiver

BOUND = 60.0  # seconds: only a stuck run takes this long


@pytest.fixture
def hanging() -> Iterator[Receiver]:
    server = Receiver()
    server.hold_all = True
    yield server
    server.stop()


@pytest.fixture
def running(app, hanging, receiver) -> Iterator[Callable[..., Deliverer]]:
    """Start ``flask worker``'s loop in a thread, with a sender that waits for answers far
    longer than the test does (so A's sends are still hanging when B's are checked)."""
    started: list[tuple[Deliverer, threading.Event, threading.Thread]] = []

    def start(**options: int) -> Deliverer:
        sender = Sender(True, read_timeout=300, answer_seconds=300)
        worker = Deliverer(db.engine, SecretBox(app.config["SECRET_KEY"]), sender, **options)
        stop = threading.Event()
        thread = threading.Thread(target=delivery.run, args=(worker, stop), daemon=True)
        thread.start()
        started.append((worker, stop, thread))
        return worker

    yield start
    hanging.release.set()  # a failed run's hanging sends finish, so the worker can stop
    receiver.release.set()
    for worker, stop, thread in started:
        stop.set()
    for worker, stop, thread in started:
        thread.join(BOUND)
        worker.close()


def _emit(tenant_id: str, count: int) -> None:
    for number in range(count):
        events.emit(db.session, tenant_id, "webhook.disabled", {"object": {"n": number}})
    db.session.commit()


def _succeeded(endpoint_id: str) -> int:
    with Session(db.engine) as session:
        return session.scalar(
            select(func.count()).where(
                WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "succeeded"
            )
        )


def _attempts(endpoint_id: str) -> int:
    with Session(db.engine) as session:
        return session.scalar(
            select(func.count())
            .select_from(WebhookAttempt)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
        )


def _until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_tenants_hanging_receiver_does_not_delay_another_tenants_deliveries(
    store, tenant, hooks, receiver, hanging, running
):
    slow = hooks.create(tenant.id, TEST_ACTOR, hanging.url, ["*"]).endpoint
    other = store.create_tenant("Other")
    fast = hooks.create(other.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    _emit(tenant.id, 12)  # more than the worker's slots, and due first
    _emit(other.id, 5)

    worker = running(concurrency=4)  # a tenant's share: 2 of the 4 slots

    # B's five are sent and recorded as succeeded ...
    assert _until(lambda: _succeeded(fast.id) == 5)
    assert len(receiver.received) == 5
    # ... while A's sends still hang, holding no more than A's share of the slots.
    assert hanging.holding == worker.per_tenant == 2
    assert len(hanging.received) == 2
    assert _attempts(slow.id) == 0

    hanging.release.set()
    assert _until(lambda: _succeeded(slow.id) == 12)
    assert len(hanging.received) == 12  # each once: none claimed twice meanwhile


def test_a_hanging_endpoint_does_not_delay_its_tenants_other_endpoint(
    store, tenant, hooks, receiver, hanging, running
):
    slow = hooks.create(tenant.id, TEST_ACTOR, hanging.url, ["*"]).endpoint
    fast = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    _emit(tenant.id, 6)  # six deliveries to each endpoint

    running(concurrency=4, per_endpoint=1, per_tenant=4)

    assert _until(lambda: _succeeded(fast.id) == 6)
    assert hanging.holding == 1 and len(hanging.received) == 1
    assert _attempts(slow.id) == 0

    hanging.release.set()
    assert _until(lambda: _succeeded(slow.id) == 6)
    assert len(hanging.received) == 6


def test_a_send_is_recorded_as_it_completes_not_with_its_batch(
    store, tenant, hooks, receiver, hanging, running
):
    """Within one tenant and one endpoint's share too: one hanging send holds its own slot
    only; what finished beside it is recorded, and more is claimed into the free slots."""
    endpoint = hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    receiver.hold_first = True
    _emit(tenant.id, 10)

    running(concurrency=4, per_endpoint=4, per_tenant=4)

    assert receiver.first_arrived.wait(BOUND)
    assert _until(lambda: _succeeded(endpoint.id) == 9)
    assert receiver.holding == 1
    receiver.release.set()
    assert _until(lambda: _succeeded(endpoint.id) == 10)


@pytest.fixture
def hanging_too(running) -> Iterator[Receiver]:
    """A second receiver that hangs; set up after ``running``, so it is released (and each
    send it holds answered) before the worker is stopped."""
    server = Receiver()
    server.hold_all = True
    yield server
    server.stop()


def test_two_tenants_with_hanging_receivers_leave_a_slot_for_a_third(
    store, tenant, hooks, receiver, hanging, hanging_too, running
):
    """docs/security.md, pentest #27: with shares alone, two tenants whose receivers hang took
    half of the slots each, i.e. all of them, and a third tenant's deliveries waited. The
    last free slots are kept for tenants holding none."""
    slow = hooks.create(tenant.id, TEST_ACTOR, hanging.url, ["*"]).endpoint
    second = store.create_tenant("Second")
    slow_too = hooks.create(second.id, TEST_ACTOR, hanging_too.url, ["*"]).endpoint
    third = store.create_tenant("Third")
    fast = hooks.create(third.id, TEST_ACTOR, receiver.url, ["*"]).endpoint
    _emit(tenant.id, 12)  # both hanging tenants have more than the worker's slots due,
    _emit(second.id, 12)  # and due before the third's
    _emit(third.id, 5)

    worker = running(concurrency=4)  # shares of 2, and 1 slot kept for a tenant holding none
    assert (worker.per_tenant, worker.reserve) == (2, 1)

    # The third tenant's five are sent and recorded as succeeded, one after another ...
    assert _until(lambda: _succeeded(fast.id) == 5)
    assert len(receiver.received) == 5
    # ... while the first tenant holds its share, and the second what the reserve leaves.
    assert hanging.holding == len(hanging.received) == 2
    assert hanging_too.holding == len(hanging_too.received) == 1
    assert _attempts(slow.id) == _attempts(slow_too.id) == 0

    hanging.release.set()
    hanging_too.release.set()
    assert _until(lambda: _succeeded(slow.id) == _succeeded(slow_too.id) == 12)
    assert len(hanging.received) == len(hanging_too.received) == 12  # each once


def test_a_lone_tenant_still_gets_its_full_share(store, tenant, hooks, hanging, running):
    """The reserve never cuts into a share: it is at most the slots beyond one tenant's
    share (asked for 2 here, given 1), so a tenant alone still holds all of its share."""
    slow = hooks.create(tenant.id, TEST_ACTOR, hanging.url, ["*"]).endpoint
    _emit(tenant.id, 12)

    worker = running(concurrency=4, per_tenant=3, reserve=2)
    assert worker.reserve == 1

    assert _until(lambda: hanging.holding == 3)
    assert len(hanging.received) == 3
    assert _attempts(slow.id) == 0
