"""JSON shapes of tenant data. Every object says its mode: ``livemode`` (SPEC §9.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from tenants.clock import iso
from tenants.records import Broadcast, Chat, Contact, Message, Ticket


def contact(row: Contact) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "phone": row.phone,
        "email": row.email,
        "livemode": row.livemode,
        "created_at": iso(row.created_at),
    }


# A page of contacts selects these columns of the table alone: rows, not ORM objects, and a
# Core statement, which skips the ORM's compile and loading steps for rows it would not keep.
_CONTACTS = Contact.__table__.c
CONTACT_COLUMNS = (
    _CONTACTS.id,
    _CONTACTS.name,
    _CONTACTS.phone,
    _CONTACTS.email,
    _CONTACTS.livemode,
    _CONTACTS.created_at,
)


def contact_row(row: Row[*tuple[Any, ...]]) -> dict[str, Any]:
    """``contact`` of a row of ``CONTACT_COLUMNS``. The row is unpacked as a tuple (reading
    its fields by name goes through ``Row.__getattr__``), and ``created_at`` stays a
    datetime: orjson writes an aware datetime exactly as ``isoformat`` does, for less."""
    contact_id, name, phone, email, livemode, created_at = row
    return {
        "id": contact_id,
        "name": name,
        "phone": phone,
        "email": email,
        "livemode": livemode,
        "created_at": created_at,
    }


def chat(row: Chat) -> dict[str, Any]:
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "livemode": row.livemode,
        "created_at": iso(row.created_at),
        "last_message_at": iso(row.last_message_at),
    }


def message(row: Message) -> dict[str, Any]:
    return {
        "id": row.id,
        "chat_id": row.chat_id,
        "direction": row.direction,
        "text": row.text,
        "status": row.status,
        "livemode": row.livemode,
        "created_at": iso(row.created_at),
    }


def ticket(row: Ticket) -> dict[str, Any]:
    return {
        "id": row.id,
        "subject": row.subject,
        "body": row.body,
        "contact_id": row.contact_id,
        "status": row.status,
        "livemode": row.livemode,
        "created_at": iso(row.created_at),
    }


def broadcast(row: Broadcast) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "text": row.text,
        "contact_ids": row.contact_ids,
        "recipients": len(row.contact_ids),
        "status": row.status,
        "livemode": row.livemode,
        "created_at": iso(row.created_at),
    }
