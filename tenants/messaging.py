"""Tenant data operations behind the tenant API. Callers commit (so idempotency can join).

Every operation acts in one tenant and one mode (``livemode``, SPEC §9.1): the caller's key's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import postgresql, sqlite

from tenants import clock
from tenants.errors import Conflict, NotFound
from tenants.records import Broadcast, Chat, Contact, Message, Ticket
from tenants.sessions import DbSession

CONTACT_UNIQUE = ["tenant_id", "livemode", "phone"]  # the unique constraints of the tables
CHAT_UNIQUE = ["tenant_id", "contact_id"]  # a contact lives in one mode


def create_contact(
    session: DbSession, tenant_id: str, livemode: bool, name: str, phone: str, email: str | None
) -> Contact:
    """A new contact; a phone number the tenant already has in this mode is a ``Conflict``,
    also when another request adds it at the same moment."""
    values = _mode_values(tenant_id, livemode, name=name, phone=phone, email=email)
    if not _insert_unless_present(session, Contact, values, CONTACT_UNIQUE):
        raise Conflict("A contact with this phone number already exists", {"field": "phone"})
    contact = contact_by_phone(session, tenant_id, livemode, phone)
    assert contact is not None  # inserted by this transaction just above
    return contact


def contact_by_phone(
    session: DbSession, tenant_id: str, livemode: bool, phone: str
) -> Contact | None:
    return session.scalar(Contact.for_tenant(tenant_id, livemode).where(Contact.phone == phone))


def send_message(session: DbSession, tenant_id: str, livemode: bool, to: str, text: str) -> Message:
    """Queue ``text`` in the chat with the contact at ``to``, creating both when new.

    Concurrent first messages to one new number create one contact and one chat: each insert
    yields to a row another transaction wrote first (the unique constraints decide, after it
    commits), and the existing row is read back. Test-mode messages are never handed to any
    carrier: they stay ``queued`` in the test data.
    """
    contact = contact_by_phone(session, tenant_id, livemode, to)
    if contact is None:
        values = _mode_values(tenant_id, livemode, name=to, phone=to)
        _insert_unless_present(session, Contact, values, CONTACT_UNIQUE)
        contact = contact_by_phone(session, tenant_id, livemode, to)
        assert contact is not None  # inserted, or committed by the request that won the race
    chat = _chat_with(session, tenant_id, livemode, contact.id)
    if chat is None:
        values = _mode_values(tenant_id, livemode, contact_id=contact.id)
        _insert_unless_present(session, Chat, values, CHAT_UNIQUE)
        chat = _chat_with(session, tenant_id, livemode, contact.id)
        assert chat is not None
    message = Message(
        tenant_id=tenant_id, livemode=livemode, chat_id=chat.id, text=text, status="queued"
    )
    chat.last_message_at = clock.now()
    session.add(message)
    session.flush()
    return message


def _mode_values(tenant_id: str, livemode: bool, **values: Any) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "livemode": livemode, **values}


def _chat_with(session: DbSession, tenant_id: str, livemode: bool, contact_id: str) -> Chat | None:
    return session.scalar(Chat.for_tenant(tenant_id, livemode).where(Chat.contact_id == contact_id))


def _insert_unless_present(
    session: DbSession, model: type[Contact] | type[Chat], values: dict[str, Any], unique: list[str]
) -> bool:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING``: True when this call inserted the row.

    On PostgreSQL an insert that conflicts with a transaction still open waits for it to end,
    so the other row is readable (READ COMMITTED) once this returns; SQLite has one writer.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
    # RETURNING rather than ``rowcount``, which an ORM-enabled insert does not report.
    return session.scalar(statement.returning(model.id)) is not None


def create_ticket(
    session: DbSession,
    tenant_id: str,
    livemode: bool,
    subject: str,
    body: str | None,
    contact_id: str | None,
) -> Ticket:
    if contact_id is not None:
        Contact.get_for_tenant(session, tenant_id, livemode, contact_id)
    ticket = Ticket(
        tenant_id=tenant_id, livemode=livemode, subject=subject, body=body, contact_id=contact_id
    )
    session.add(ticket)
    session.flush()
    return ticket


def create_broadcast(
    session: DbSession,
    tenant_id: str,
    livemode: bool,
    name: str,
    text: str,
    contact_ids: Sequence[str],
) -> Broadcast:
    """A broadcast to contacts of this tenant and mode; test-mode broadcasts reach no one."""
    wanted = list(dict.fromkeys(contact_ids))
    found = set(
        session.scalars(
            Contact.for_tenant(tenant_id, livemode)
            .where(Contact.id.in_(wanted))
            .with_only_columns(Contact.id)
        )
    )
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    if missing:
        raise NotFound("Some contacts do not exist", {"field": "contact_ids", "missing": missing})
    broadcast = Broadcast(
        tenant_id=tenant_id, livemode=livemode, name=name, text=text, contact_ids=wanted
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def chat_thread_query(
    session: DbSession, tenant_id: str, livemode: bool, chat_id: str
) -> Select[Message]:
    """The chat's messages (404 for a chat of another tenant or mode)."""
    chat = Chat.get_for_tenant(session, tenant_id, livemode, chat_id)
    return Message.for_tenant(tenant_id, livemode).where(Message.chat_id == chat.id)
