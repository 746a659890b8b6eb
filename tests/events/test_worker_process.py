"""The real worker, ``flask --app app worker``, as separate processes: events committed by a
process that is gone are delivered; a SIGKILLed worker's claimed delivery is delivered later
by another; two workers never deliver one attempt twice (counted at the receiver)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tenants import events
from tenants.webhooks import WebhookAttempt, WebhookDelivery
from tests.conftest import TEST_ACTOR
from tests.servers import ROOT

pytestmark = pytest.mark.server

FLASK = Path(sys.executable).with_name("flask")


class Worker:
    def __init__(self, env: dict[str, str], *args: str):
        self.process = subprocess.Popen(
            [str(FLASK), "--app", "app", "worker", *args],
            cwd=ROOT,
            env={**os.environ, **env, "WEBHOOK_ALLOW_PRIVATE": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def workers(server_env):
    started: list[Worker] = []

    def start(*args: str, **env: str) -> Worker:
        worker = Worker({**server_env, **env}, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_event_committed_by_a_process_that_is_gone_is_delivered(
    tenant, hooks, receiver, workers, server_env
):
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    created = subprocess.run(
        [str(FLASK), "--app", "app", "keys", "create", "--tenant", tenant.id, "--name", "cli"],
        cwd=ROOT,
        env={**os.environ, **server_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    workers()
    assert receiver.wait_for(1)
    assert json.loads(receiver.received[0].body)["type"] == "key.created"


def test_sigkilled_workers_claimed_delivery_is_delivered_later(
    store, tenant, hooks, receiver, workers
):
    receiver.hold_first = True
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    store.create_key(tenant.id, "ci", TEST_ACTOR)
    first = workers(WEBHOOK_LEASE_SECONDS="2")
    assert receiver.first_arrived.wait(60)
    first.kill()  # mid-attempt: the delivery is claimed and unanswered
    receiver.release.set()
    db.session.expire_all()
    assert db.session.scalars(select(WebhookDelivery.status)).one() == "pending"
    workers(WEBHOOK_LEASE_SECONDS="2")
    assert receiver.wait_for(2)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(set(ids)) == 1  # the same delivery, sent again under its webhook-id
    assert _recorded(1)


def test_two_workers_never_deliver_one_attempt_twice(store, tenant, hooks, receiver, workers):
    total = 300
    hooks.create(tenant.id, TEST_ACTOR, receiver.url, ["*"])
    for number in range(total):
        events.emit(db.session, tenant.id, "webhook.disabled", {"object": {"n": number}})
    db.session.commit()
    # webhook.disabled fans out like any subscribed type: one delivery per event.
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == total
    workers("--concurrency", "8")
    workers("--concurrency", "8")
    assert receiver.wait_for(total)
    assert _recorded(total)
    counts = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert len(counts) == total and set(counts.values()) == {1}
    attempts = db.session.scalar(select(func.count()).select_from(WebhookAttempt))
    assert attempts == total


def _recorded(total: int, timeout: float = 60) -> bool:
    """True once ``total`` deliveries are recorded as succeeded (the receiver hears each a
    moment before its worker writes the batch down)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        done = db.session.scalar(select(func.count()).where(WebhookDelivery.status == "succeeded"))
        if done >= total:
            return True
        time.sleep(0.1)
    return False
