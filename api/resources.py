"""The tenant API's response shapes, one model per resource (``core.resources``): the views
answer through them and ``api/openapi.py`` documents them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from core.resources import Page, Resource, Tenant
from tenants.records import Broadcast as BroadcastRecord


class Contact(Resource):
    id: str
    livemode: bool = Field(description="false: written with a test key, seen by test keys only")
    name: str
    phone: str
    email: str | None
    created_at: datetime


class Chat(Resource):
    id: str
    livemode: bool = Field(description="false: written with a test key, seen by test keys only")
    contact_id: str
    created_at: datetime
    last_message_at: datetime | None


class Message(Resource):
    id: str
    livemode: bool = Field(description="false: written with a test key, seen by test keys only")
    chat_id: str
    direction: str
    text: str
    status: str
    created_at: datetime


class Ticket(Resource):
    id: str
    livemode: bool = Field(description="false: written with a test key, seen by test keys only")
    subject: str
    body: str | None
    contact_id: str | None
    status: str
    created_at: datetime


class Broadcast(Resource):
    id: str
    livemode: bool = Field(description="false: written with a test key, seen by test keys only")
    name: str
    text: str
    contact_ids: list[str]
    recipients: int
    status: str
    created_at: datetime

    @classmethod
    def of(cls, obj: BroadcastRecord) -> dict[str, Any]:
        return cls.build(
            id=obj.id,
            name=obj.name,
            text=obj.text,
            contact_ids=obj.contact_ids,
            recipients=len(obj.contact_ids),
            status=obj.status,
            livemode=obj.livemode,
            created_at=obj.created_at,
        )


class ContactPage(Page[Contact]):
    pass


class ChatPage(Page[Chat]):
    pass


class MessagePage(Page[Message]):
    pass


class TicketPage(Page[Ticket]):
    pass


class HealthKey(Resource):
    """The presented key, as the health check shows it to its holder."""

    id: str
    name: str
    mode: Literal["live", "test"]
    scopes: list[str]


class Health(Resource):
    status: str
    livemode: bool
    tenant: Tenant
    key: HealthKey
