"""Webhook fixtures: a real receiver on loopback, an app that may call it, a deliverer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.extensions import db
from core.services import webhooks
from tenants.delivery import Deliverer
from tenants.outbound import Sender
from tenants.secretbox import SecretBox
from tests.events.receiver import Receiver


@pytest.fixture
def app_config() -> dict:
    return {"WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def hooks(app):
    return webhooks()


@pytest.fixture
def deliverer(app) -> Iterator[Deliverer]:
    worker = Deliverer(db.engine, SecretBox(app.config["SECRET_KEY"]), Sender(True), concurrency=4)
    yield worker
    worker.close()
