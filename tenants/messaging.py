"""Tenant data operations behind the tenant API. Callers commit (so idempotency can join)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select

from tenants import clock
from tenants.errors import Conflict, NotFound
from tenants.records import Broadcast, Chat, Contact, Message, Ticket
from tenants.sessions import DbSession


def create_contact(
    session: DbSession, tenant_id: str, name: str, phone: str, email: str | None
) -> Contact:
    if contact_by_phone(session, tenant_id, phone) is not None:
        raise Conflict("A contact with this phone number already exists", {"field": "phone"})
    contact = Contact(tenant_id=tenant_id, name=name, phone=phone, email=email)
    session.add(contact)
    session.flush()
    return contact


def contact_by_phone(session: DbSession, tenant_id: str, phone: str) -> Contact | None:
    return session.scalar(Contact.for_tenant(tenant_id).where(Contact.phone == phone))


def send_message(session: DbSession, tenant_id: str, to: str, text: str) -> Message:
    """Queue ``text`` in the chat with the contact at ``to``, creating both when new."""
    contact = contact_by_phone(session, tenant_id, to)
    if contact is None:
        contact = Contact(tenant_id=tenant_id, name=to, phone=to)
        session.add(contact)
        session.flush()
    chat = session.scalar(Chat.for_tenant(tenant_id).where(Chat.contact_id == contact.id))
    if chat is None:
        chat = Chat(tenant_id=tenant_id, contact_id=contact.id)
        session.add(chat)
        session.flush()
    message = Message(tenant_id=tenant_id, chat_id=chat.id, text=text, status="queued")
    chat.last_message_at = clock.now()
    session.add(message)
    session.flush()
    return message


def create_ticket(
    session: DbSession, tenant_id: str, subject: str, body: str | None, contact_id: str | None
) -> Ticket:
    if contact_id is not None:
        Contact.get_for_tenant(session, tenant_id, contact_id)
    ticket = Ticket(tenant_id=tenant_id, subject=subject, body=body, contact_id=contact_id)
    session.add(ticket)
    session.flush()
    return ticket


def create_broadcast(
    session: DbSession, tenant_id: str, name: str, text: str, contact_ids: Sequence[str]
) -> Broadcast:
    wanted = list(dict.fromkeys(contact_ids))
    found = set(
        session.scalars(
            Contact.for_tenant(tenant_id)
            .where(Contact.id.in_(wanted))
            .with_only_columns(Contact.id)
        )
    )
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    if missing:
        raise NotFound("Some contacts do not exist", {"field": "contact_ids", "missing": missing})
    broadcast = Broadcast(tenant_id=tenant_id, name=name, text=text, contact_ids=wanted)
    session.add(broadcast)
    session.flush()
    return broadcast


def chat_thread_query(session: DbSession, tenant_id: str, chat_id: str) -> Select[Message]:
    """The chat's messages (404 for a chat of another tenant)."""
    chat = Chat.get_for_tenant(session, tenant_id, chat_id)
    return Message.for_tenant(tenant_id).where(Message.chat_id == chat.id)
