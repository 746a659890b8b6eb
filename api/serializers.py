"""JSON shapes of tenant data."""

from __future__ import annotations

from tenants.clock import iso
from tenants.records import Broadcast, Chat, Contact, Message, Ticket


def contact(row: Contact) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "phone": row.phone,
        "email": row.email,
        "created_at": iso(row.created_at),
    }


def chat(row: Chat) -> dict:
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "created_at": iso(row.created_at),
        "last_message_at": iso(row.last_message_at),
    }


def message(row: Message) -> dict:
    return {
        "id": row.id,
        "chat_id": row.chat_id,
        "direction": row.direction,
        "text": row.text,
        "status": row.status,
        "created_at": iso(row.created_at),
    }


def ticket(row: Ticket) -> dict:
    return {
        "id": row.id,
        "subject": row.subject,
        "body": row.body,
        "contact_id": row.contact_id,
        "status": row.status,
        "created_at": iso(row.created_at),
    }


def broadcast(row: Broadcast) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "text": row.text,
        "contact_ids": row.contact_ids,
        "recipients": len(row.contact_ids),
        "status": row.status,
        "created_at": iso(row.created_at),
    }
