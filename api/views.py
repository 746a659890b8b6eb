"""Tenant API endpoints (SPEC §8). Each parses input, calls the store, shapes the response."""

from __future__ import annotations

from collections.abc import Callable

from flask import request

from api import bp, serializers
from api.auth import current_key, license_gated, require_scope
from api.idempotent import idempotent
from api.schemas import BroadcastIn, ContactIn, MessageIn, TicketIn
from core.extensions import db
from core.http import json_body
from core.services import usage_buffer
from tenants import messaging
from tenants.pagination import paginate, parse_limit
from tenants.records import Chat, Contact, Message, Ticket
from tenants.usage import usage_report


def _page(statement, id_column, serialize: Callable, newest_first: bool = True) -> dict:
    page = paginate(
        db.session,
        statement,
        id_column,
        parse_limit(request.args.get("limit")),
        request.args.get("cursor"),
        newest_first,
    )
    return {"data": [serialize(item) for item in page.items], "next_cursor": page.next_cursor}


@bp.get("/health")
def health():
    key = current_key()
    return {
        "status": "ok",
        "tenant": {"id": key.tenant_id, "name": key.tenant_name},
        "key": {"id": key.key_id, "name": key.key_name, "scopes": list(key.scopes)},
    }


@bp.get("/usage")
def usage():
    report = usage_report(
        db.session, usage_buffer(), current_key().tenant_id, request.args.get("days")
    )
    return {"data": report}


@bp.post("/messages")
@require_scope("messages:write")
@license_gated
@idempotent
def send_message():
    body = json_body(MessageIn)
    message = messaging.send_message(db.session, current_key().tenant_id, body.to, body.text)
    return serializers.message(message), 202


@bp.get("/chats")
@require_scope("chats:read")
def list_chats():
    return _page(Chat.for_tenant(current_key().tenant_id), Chat.id, serializers.chat)


@bp.get("/chats/<chat_id>/messages")
@require_scope("chats:read")
def chat_messages(chat_id: str):
    thread = messaging.chat_thread_query(db.session, current_key().tenant_id, chat_id)
    return _page(thread, Message.id, serializers.message, newest_first=False)


@bp.get("/contacts")
@require_scope("contacts:read")
def list_contacts():
    return _page(Contact.for_tenant(current_key().tenant_id), Contact.id, serializers.contact)


@bp.post("/contacts")
@require_scope("contacts:write")
@license_gated
@idempotent
def create_contact():
    body = json_body(ContactIn)
    contact = messaging.create_contact(
        db.session, current_key().tenant_id, body.name, body.phone, body.email
    )
    return serializers.contact(contact), 201


@bp.get("/tickets")
@require_scope("tickets:read")
def list_tickets():
    return _page(Ticket.for_tenant(current_key().tenant_id), Ticket.id, serializers.ticket)


@bp.post("/tickets")
@require_scope("tickets:write")
@license_gated
@idempotent
def create_ticket():
    body = json_body(TicketIn)
    ticket = messaging.create_ticket(
        db.session, current_key().tenant_id, body.subject, body.body, body.contact_id
    )
    return serializers.ticket(ticket), 201


@bp.post("/broadcasts")
@require_scope("broadcasts:write")
@license_gated
@idempotent
def create_broadcast():
    body = json_body(BroadcastIn)
    broadcast = messaging.create_broadcast(
        db.session, current_key().tenant_id, body.name, body.text, body.contact_ids
    )
    return serializers.broadcast(broadcast), 202
