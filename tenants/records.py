"""Tenant data served by the tenant API: contacts, chats and their messages, tickets, broadcasts.

Each row lives in one mode (``livemode``, SPEC §9.1): the mode of the key that wrote it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants import clock
from tenants.models import Base, ModeScoped, _id, _livemode, _tenant_fk


def _page_index(table: str) -> Index:
    """A tenant's rows of one mode in id order: a page (``WHERE tenant_id = ? AND livemode =
    ? ORDER BY id DESC``) is read off the index, neither sorted nor filtered row by row."""
    return Index(f"ix_{table}_tenant_id_livemode_id", "tenant_id", "livemode", "id")


class Contact(ModeScoped, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "livemode", "phone"),
        _page_index("contacts"),
    )

    id: Mapped[str] = _id("con")
    tenant_id: Mapped[str] = _tenant_fk(index=False)
    livemode: Mapped[bool] = _livemode()
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Chat(ModeScoped, Base):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("tenant_id", "contact_id"), _page_index("chats"))

    id: Mapped[str] = _id("cht")
    tenant_id: Mapped[str] = _tenant_fk(index=False)
    livemode: Mapped[bool] = _livemode()
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_message_at: Mapped[datetime | None]


class Message(ModeScoped, Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_chat_id_id", "chat_id", "id"),)

    id: Mapped[str] = _id("msg")
    tenant_id: Mapped[str] = _tenant_fk()
    livemode: Mapped[bool] = _livemode()
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Ticket(ModeScoped, Base):
    __tablename__ = "tickets"
    __table_args__ = (_page_index("tickets"),)

    id: Mapped[str] = _id("tkt")
    tenant_id: Mapped[str] = _tenant_fk(index=False)
    livemode: Mapped[bool] = _livemode()
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Broadcast(ModeScoped, Base):
    __tablename__ = "broadcasts"

    id: Mapped[str] = _id("brd")
    tenant_id: Mapped[str] = _tenant_fk()
    livemode: Mapped[bool] = _livemode()
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    contact_ids: Mapped[list[str]]
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
