"""Tenant API fixtures: the SPEC §8 endpoint table and sample data per tenant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.extensions import db
from tenants import messaging


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # may contain {chat_id}
    scope: str | None  # None: any valid key
    body: Callable[[dict], dict] | None = None
    status: int = 200  # of a successful call

    @property
    def write(self) -> bool:
        return self.method == "POST"

    def url(self, sample: dict) -> str:
        return self.path.format(**sample)

    def json(self, sample: dict) -> dict | None:
        return self.body(sample) if self.body else None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/api/v1/health", None),
    Endpoint("GET", "/api/v1/usage", None),
    Endpoint(
        "POST",
        "/api/v1/messages",
        "messages:write",
        lambda s: {"to": "+14155550123", "text": "Hi"},
        202,
    ),
    Endpoint("GET", "/api/v1/chats", "chats:read"),
    Endpoint("GET", "/api/v1/chats/{chat_id}/messages", "chats:read"),
    Endpoint("GET", "/api/v1/contacts", "contacts:read"),
    Endpoint(
        "POST",
        "/api/v1/contacts",
        "contacts:write",
        lambda s: {"name": "Ada", "phone": "+442071838750"},
        201,
    ),
    Endpoint("GET", "/api/v1/tickets", "tickets:read"),
    Endpoint(
        "POST",
        "/api/v1/tickets",
        "tickets:write",
        lambda s: {"subject": "Help", "contact_id": s["contact_id"]},
        201,
    ),
    Endpoint(
        "POST",
        "/api/v1/broadcasts",
        "broadcasts:write",
        lambda s: {"name": "Launch", "text": "Hello", "contact_ids": [s["contact_id"]]},
        202,
    ),
]
SCOPED = [endpoint for endpoint in ENDPOINTS if endpoint.scope]
WRITES = [endpoint for endpoint in ENDPOINTS if endpoint.write]


def make_sample(tenant_id: str, phone: str = "+14155550100", livemode: bool = True) -> dict:
    """A contact with a chat and one message, so every endpoint has something to act on."""
    message = messaging.send_message(db.session, tenant_id, livemode, phone, "first")
    ticket = messaging.create_ticket(db.session, tenant_id, livemode, "Existing", None, None)
    db.session.commit()
    chat_id = message.chat_id
    contact_id = messaging.contact_by_phone(db.session, tenant_id, livemode, phone).id
    return {
        "chat_id": chat_id,
        "contact_id": contact_id,
        "message_id": message.id,
        "ticket_id": ticket.id,
    }


@pytest.fixture
def sample(tenant) -> dict:
    return make_sample(tenant.id)


@pytest.fixture
def other_sample(other_tenant) -> dict:
    return make_sample(other_tenant.id, phone="+14155550199")


def call(client, endpoint: Endpoint, key: str | None, sample: dict, **headers):
    if key is not None:
        headers["x-tenant-api-key"] = key
    return client.open(
        endpoint.url(sample), method=endpoint.method, json=endpoint.json(sample), headers=headers
    )
