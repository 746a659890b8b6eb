"""The events outbox (SPEC §10): one row per thing a tenant may want to hear about, written
in the same transaction as the change that causes it.

``emit`` writes the event row (and, through ``tenants.webhooks``, one delivery row per
subscribed endpoint) in the caller's transaction, as plain SQL statements rather than ORM
objects: the caller's commit makes the change, its audit entry, its event and the event's
webhook deliveries visible together, or none of them (a rollback drops them all).
A process that dies after the commit loses nothing, since the worker finds the deliveries in
the database. An event's ``data`` is built from the object's public fields only (the same as
the console shows), never from a secret: a key's hash, a webhook's signing secret and a
reported token never reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Select, String, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from tenants import clock
from tenants.clock import iso
from tenants.ids import new_id
from tenants.keyformat import MODES
from tenants.models import ApiKey, Base, License, TenantScoped, _id
from tenants.sessions import DbSession

KEY_TYPES = ("key.created", "key.updated", "key.revoked", "key.rotated", "key.expiring")
TYPES = (
    *KEY_TYPES,
    "key.leaked",
    "key.decoy_used",
    "license.updated",
    "webhook.test",
    "webhook.disabled",
)
# Ahead of a key's expiry, an event each, once: (name kept in ``dedupe_key``, how far ahead).
EXPIRY_WARNINGS = (("7d", timedelta(days=7)), ("1d", timedelta(days=1)))

# Set by ``tenants.webhooks`` (a module above this one): writes the event row and its
# deliveries together (one statement on PostgreSQL). A hook rather than an import keeps the
# event log free of webhook code; without one, ``emit`` writes the event row alone.
_writers: list[Callable[[DbSession, dict[str, Any]], None]] = []


class Event(TenantScoped, Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_tenant_type", "tenant_id", "type"),
        Index("ix_events_created_at", "created_at"),  # the retention purge's range
    )

    id: Mapped[str] = _id("evt")
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    livemode: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Events that must happen once (``key.expiring`` per key and warning) name themselves
    # here; the unique index makes a second scan, in any process, a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    def payload(self) -> dict[str, Any]:
        """The event as tenants receive and list it."""
        return {
            "id": self.id,
            "type": self.type,
            "created_at": iso(self.created_at),
            "livemode": self.livemode,
            "tenant_id": self.tenant_id,
            "data": self.data,
        }


EVENTS = cast(Table, Event.__table__)  # a declarative model's: a Table
INSERT = insert(EVENTS)  # the event row's; its parameters are ``emit``'s row


def write_with(writer: Callable[[DbSession, dict[str, Any]], None]) -> None:
    """Let ``writer`` write every event emitted from now on, given its row (``tenants.webhooks``:
    the event and its deliveries)."""
    _writers[:] = [writer]


def emit(
    session: DbSession,
    tenant_id: str,
    event_type: str,
    data: dict[str, Any],
    dedupe_key: str | None = None,
) -> str:
    """Write the event (and its deliveries) in ``session``'s transaction; the caller commits.
    The event's id.

    The rows are written now, with a Core INSERT, not added as ORM objects to be flushed at
    the commit: a unit of work for two or three more objects cost a key change about three
    times what the statements do (docs/performance.md, "Webhooks"). A failing
    ``dedupe_key`` therefore raises ``IntegrityError`` here, not at the commit.
    """
    if event_type not in TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    # An event about a test key is a test-mode event (SPEC §9.1); every other one is live.
    about = data.get("object")
    livemode = not (isinstance(about, dict) and about.get("mode") == "test")
    row = {
        "id": new_id("evt"),
        "tenant_id": tenant_id,
        "type": event_type,
        "livemode": livemode,
        "data": data,
        "dedupe_key": dedupe_key,
        "created_at": clock.now(),
    }
    if _writers:
        _writers[0](session, row)
    else:
        session.execute(INSERT, row)
    return str(row["id"])


def key_object(key: ApiKey) -> dict[str, Any]:
    """A key as events carry it: its public fields, never its hash."""
    return {
        "object": "api_key",
        "id": key.id,
        "name": key.name,
        "mode": key.mode,
        "start": key.display_start,
        "last4": key.last4,
        "scopes": list(key.scopes),
        "enabled": key.enabled,
        "revoked_at": iso(key.revoked_at),
        "expires_at": iso(key.expires_at),
        "created_at": iso(key.created_at),
        "rotated_from_id": key.rotated_from_id,
        "replaced_by_id": key.replaced_by_id,
        "description": key.description,
        "metadata": dict(key.key_metadata or {}),
        "allowed_ips": list(key.allowed_ips or []),
        "rate_limit_per_minute": key.rate_limit_per_minute,
        "decoy": key.decoy,
        "leaked_at": iso(key.leaked_at),
    }


def license_object(row: License) -> dict[str, Any]:
    return {
        "object": "license",
        "tenant_id": row.tenant_id,
        "status": row.status,
        "expires_at": iso(row.expires_at),
        "enforcement": row.enforcement,
    }


def emit_expiring(session: DbSession, now: datetime | None = None) -> int:
    """``key.expiring`` for every usable key within 7 days (and within 1 day) of its expiry
    that has not had that warning yet; the number of events written.

    Each warning commits on its own (a savepoint): a warning another process wrote first
    fails on the unique ``dedupe_key`` and is skipped, so any number of workers may scan.
    A key that expires within a day gets only the 1-day warning.
    """
    now = now or clock.now()
    written = 0
    for name, ahead in EXPIRY_WARNINGS:
        statement = select(ApiKey).where(
            ApiKey.revoked_at.is_(None),
            ApiKey.decoy.is_(False),
            ApiKey.expires_at.is_not(None),
            ApiKey.expires_at > now,
            ApiKey.expires_at <= now + ahead,
        )
        if name == "7d":
            statement = statement.where(ApiKey.expires_at > now + timedelta(days=1))
        statement = statement.where(
            ~select(Event.id)
            .where(Event.dedupe_key == _expiry_dedupe_prefix(name) + ApiKey.id)
            .exists()
        )
        for key in session.scalars(statement).all():
            written += _emit_once(session, key, name)
    session.commit()
    return written


def _expiry_dedupe_prefix(name: str) -> str:
    return f"key.expiring:{name}:"


def _emit_once(session: DbSession, key: ApiKey, name: str) -> int:
    data = {"object": key_object(key), "expires_in": name}
    try:
        with session.begin_nested():
            emit(session, key.tenant_id, "key.expiring", data, _expiry_dedupe_prefix(name) + key.id)
    except IntegrityError:
        return 0
    return 1


def for_tenant(
    tenant_id: str, event_type: str | None = None, modes: Iterable[str] = MODES
) -> Select[Event]:
    """The tenant's events in ``modes`` (``live``, ``test``), of one type if given
    (``GET /console/events``)."""
    statement = Event.for_tenant(tenant_id)
    if set(modes) != set(MODES):
        statement = statement.where(Event.livemode.in_([mode == "live" for mode in modes]))
    if event_type is not None:
        statement = statement.where(Event.type == event_type)
    return statement
