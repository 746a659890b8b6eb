"""Tenant API endpoints (SPEC §8). Each parses input, calls the store, shapes the response."""

from __future__ import annotations

from typing import Any, cast

from flask import Response, current_app, request
from sqlalchemy import Table, bindparam, select

from api import bp
from api.auth import current_key, license_gated, require_scope
from api.idempotent import idempotent
from api.resources import Broadcast, Chat, Contact, Health, HealthKey, Message, Ticket
from api.schemas import BroadcastIn, ContactIn, MessageIn, TicketIn
from core.answers import CachedBodies, json_answer
from core.extensions import db, usage_buffer
from core.http import accepts, list_page, query_page
from core.resources import Tenant, Usage
from tenants import messaging, records
from tenants.pagination import PageQuery
from tenants.usagereport import usage_report
from tenants.verify import VerifiedKey


def _health(key: VerifiedKey, _: None) -> dict[str, Any]:
    return Health.build(
        status="ok",
        livemode=key.livemode,
        tenant=Tenant.build(id=key.tenant_id, name=key.tenant_name),
        key=HealthKey.build(
            id=key.key_id,
            name=key.key_name,
            mode="live" if key.livemode else "test",
            scopes=list(key.scopes),
        ),
    )


# The health answer depends on the key's snapshot alone: encoded once per snapshot.
_HEALTH_BODIES = CachedBodies()


@bp.get("/health")
def health() -> Response:
    key = current_key()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # one lookup
    return json_answer(app, _HEALTH_BODIES.body(key.key_id, key, None, _health, app.debug))


@bp.get("/usage")
def usage() -> dict[str, Any]:
    """The tenant's usage in the mode of the calling key: a test key sees test usage only."""
    key = current_key()
    mode = "live" if key.livemode else "test"
    report = usage_report(db.session, usage_buffer.get(), key.tenant_id, request.args, (mode,))
    return Usage.build(data=report)


@bp.post("/messages")
@require_scope("messages:write")
@license_gated
@idempotent
@accepts(MessageIn)
def send_message(body: MessageIn) -> tuple[dict[str, Any], int]:
    key = current_key()
    message = messaging.send_message(db.session, key.tenant_id, key.livemode, body.to, body.text)
    return Message.of(message), 202


@bp.get("/chats")
@require_scope("chats:read")
def list_chats() -> dict[str, Any]:
    key = current_key()
    statement = records.Chat.for_tenant(key.tenant_id, key.livemode)
    return list_page(statement, records.Chat.id, Chat.of)


@bp.get("/chats/<chat_id>/messages")
@require_scope("chats:read")
def chat_messages(chat_id: str) -> dict[str, Any]:
    key = current_key()
    thread = messaging.chat_thread_query(db.session, key.tenant_id, key.livemode, chat_id)
    return list_page(thread, records.Message.id, Message.of, newest_first=False)


# The contacts list is the most read: its statements are built once (``PageQuery``), the
# tenant a bound parameter, and select the columns of the answer alone: rows, not ORM objects,
# from a Core statement, which skips the ORM's compile and loading steps.
_CONTACTS = cast(Table, records.Contact.__table__)  # a declarative model's: a Table
# ``livemode`` is the key's in every row (the filter says so): passed once, not selected.
_CONTACT_ROWS = Contact.rows_given(("livemode",))
CONTACTS_PAGE = PageQuery(
    select(*Contact.columns(_CONTACTS, given=("livemode",))).where(
        _CONTACTS.c.tenant_id == bindparam("tenant_id"),
        _CONTACTS.c.livemode == bindparam("livemode"),
    ),
    _CONTACTS.c.id,
)


@bp.get("/contacts")
@require_scope("contacts:read")
def list_contacts() -> dict[str, Any]:
    key = current_key()
    livemode = key.livemode
    return query_page(
        CONTACTS_PAGE,
        {"tenant_id": key.tenant_id, "livemode": livemode},
        _CONTACT_ROWS,
        livemode=livemode,
    )


@bp.post("/contacts")
@require_scope("contacts:write")
@license_gated
@idempotent
@accepts(ContactIn)
def create_contact(body: ContactIn) -> tuple[dict[str, Any], int]:
    key = current_key()
    contact = messaging.create_contact(
        db.session, key.tenant_id, key.livemode, body.name, body.phone, body.email
    )
    return Contact.of(contact), 201


@bp.get("/tickets")
@require_scope("tickets:read")
def list_tickets() -> dict[str, Any]:
    key = current_key()
    statement = records.Ticket.for_tenant(key.tenant_id, key.livemode)
    return list_page(statement, records.Ticket.id, Ticket.of)


@bp.post("/tickets")
@require_scope("tickets:write")
@license_gated
@idempotent
@accepts(TicketIn)
def create_ticket(body: TicketIn) -> tuple[dict[str, Any], int]:
    key = current_key()
    ticket = messaging.create_ticket(
        db.session, key.tenant_id, key.livemode, body.subject, body.body, body.contact_id
    )
    return Ticket.of(ticket), 201


@bp.post("/broadcasts")
@require_scope("broadcasts:write")
@license_gated
@idempotent
@accepts(BroadcastIn)
def create_broadcast(body: BroadcastIn) -> tuple[dict[str, Any], int]:
    key = current_key()
    broadcast = messaging.create_broadcast(
        db.session, key.tenant_id, key.livemode, body.name, body.text, body.contact_ids
    )
    return Broadcast.of(broadcast), 202
