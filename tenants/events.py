"""The events outbox (SPEC §10): one row per thing a tenant may want to hear about, written
in the same transaction as the change that causes it.

``emit`` writes the event row (and, through ``tenants.webhooks``, one delivery row per
subscribed endpoint) in the caller's transaction, as plain SQL statements rather than ORM
objects; a key or license change writes its events in the statement that bumps the change
counter (``write``, from ``tenants.changes.record_change``: one round trip on PostgreSQL).
The caller's commit makes the change, its audit entry, its event and the event's webhook
deliveries visible together, or none of them (a rollback drops them all).
A process that dies after the commit loses nothing, since the worker finds the deliveries in
the database. An event's ``data`` is built from the object's public fields only (the same as
the console shows), never from a secret: a key's hash, a webhook's signing secret and a
reported token never reach it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol, cast, overload

from sqlalchemy import (
    CTE,
    JSON,
    BindParameter,
    Boolean,
    Column,
    CursorResult,
    Executable,
    ForeignKey,
    Index,
    Insert,
    Select,
    String,
    Table,
    Update,
    bindparam,
    insert,
    select,
    union_all,
)
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

# Set by ``tenants.webhooks`` (a module above this one): the deliveries of written events.
# A hook rather than an import keeps the event log free of webhook code; without one, events
# are written alone.
_fan_out: list[FanOut] = []


class FanOut(Hashable, Protocol):
    """How the events written get their webhook deliveries (``tenants.webhooks``)."""

    def from_cte(self, written: CTE) -> Insert:
        """PostgreSQL: the deliveries' ``INSERT … SELECT`` from ``written``, a CTE of the
        event rows just inserted (``RETURNING id, tenant_id, type, created_at``)."""

    def after_row(self, session: DbSession, row: dict[str, Any]) -> None:
        """Elsewhere: write the deliveries of the event ``row``, just inserted."""


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


def write_with(fan_out: FanOut) -> None:
    """Let ``fan_out`` write the deliveries of every event written from now on."""
    _fan_out[:] = [fan_out]


def new_event(
    tenant_id: str, event_type: str, data: dict[str, Any], dedupe_key: str | None = None
) -> dict[str, Any]:
    """The row of an event, to be written by ``emit`` or with a key change
    (``tenants.changes.record_change``)."""
    if event_type not in TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    # An event about a test key is a test-mode event (SPEC §9.1); every other one is live.
    about = data.get("object")
    livemode = not (isinstance(about, dict) and about.get("mode") == "test")
    return {
        "id": new_id("evt"),
        "tenant_id": tenant_id,
        "type": event_type,
        "livemode": livemode,
        "data": data,
        "dedupe_key": dedupe_key,
        "created_at": clock.now(),
    }


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
    ``dedupe_key`` therefore raises ``IntegrityError`` here, not at the commit. A key change
    writes its events with its change counter's bump instead (``KeyStore``): one statement.
    """
    row = new_event(tenant_id, event_type, data, dedupe_key)
    write(session, [row])
    return str(row["id"])


@overload
def write(
    session: DbSession,
    rows: Sequence[dict[str, Any]],
    *,
    beside: Sequence[tuple[Table, dict[str, Any]]] = (),
    then: Update,
) -> CursorResult[Any]: ...


@overload
def write(
    session: DbSession,
    rows: Sequence[dict[str, Any]],
    *,
    beside: Sequence[tuple[Table, dict[str, Any]]] = (),
    then: None = None,
) -> None: ...


def write(
    session: DbSession,
    rows: Sequence[dict[str, Any]],
    *,
    beside: Sequence[tuple[Table, dict[str, Any]]] = (),
    then: Update | None = None,
) -> CursorResult[Any] | None:
    """Write the event ``rows``, their deliveries, the rows ``beside`` (a table and a row
    each: an audit entry) and then run ``then`` (an UPDATE: the change counter's bump), in
    ``session``'s transaction; ``then``'s result.

    On PostgreSQL all of it is one statement, one round trip: each INSERT is a CTE of the
    last statement (``then``, else the deliveries' INSERT … SELECT). PostgreSQL runs every
    data-modifying CTE of a statement to completion, whether or not anything reads it, and
    checks foreign keys at the statement's end. Elsewhere (SQLite, in process: a statement
    costs no round trip) they are one statement each, ``then`` last.

    With ``then``, the session's pending ORM changes (the key's own UPDATE) are flushed
    first, so the bump stays the transaction's last statement; without, they are flushed as
    ``Session.execute`` does (autoflush).
    """
    if not rows and not beside and then is None:
        return None
    if then is not None:
        session.flush()
    fan_out = _fan_out[0] if _fan_out else None
    if session.get_bind().dialect.name == "postgresql":
        tables = tuple(table for table, _ in beside)
        statement = _one_statement(len(rows), tables, then, fan_out)
        params: dict[str, Any] = {}
        for number, row in enumerate(rows):
            params.update({f"e{number}_{name}": value for name, value in row.items()})
        for number, (_, row) in enumerate(beside):
            params.update({f"b{number}_{name}": value for name, value in row.items()})
        result = session.execute(statement, params)
        return cast("CursorResult[Any]", result) if then is not None else None
    for table, row in beside:
        session.execute(insert(table), row)
    for row in rows:
        session.execute(INSERT, row)
        if fan_out is not None and row["type"] != "webhook.test":
            fan_out.after_row(session, row)
    if then is None:
        return None
    return cast("CursorResult[Any]", session.execute(then))  # an UPDATE's: its rowcount


@cache
def _one_statement(
    events: int, beside: tuple[Table, ...], then: Update | None, fan_out: FanOut | None
) -> Executable:
    """The PostgreSQL statement of ``write``: its parameters ``e<n>_<column>`` for the
    events, ``b<n>_<column>`` for the rows beside. The last of its parts is the statement,
    the others its CTEs."""
    parts: list[Insert | Update] = [
        insert(table).values({column: _param(f"b{number}_", column) for column in table.c})
        for number, table in enumerate(beside)
    ]
    # An INSERT each rather than one of several rows: SQLAlchemy caches no statement with a
    # multi-row VALUES of parameters, and compiling this one costs more than running it.
    inserts = [
        insert(EVENTS).values({column: _param(f"e{number}_", column) for column in EVENTS.c})
        for number in range(events)
    ]
    if fan_out is None:
        parts.extend(inserts)
    elif inserts:
        returned = EVENTS.c.id, EVENTS.c.tenant_id, EVENTS.c.type, EVENTS.c.created_at
        if events == 1:
            written = inserts[0].returning(*returned).cte("evt")
        else:
            each = [row.returning(*returned).cte(f"evt{n}") for n, row in enumerate(inserts)]
            written = union_all(*map(select, each)).cte("evt")
        parts.append(fan_out.from_cte(written))
    if then is not None:
        parts.append(then)
    *ctes, last = parts
    for number, part in enumerate(ctes):
        last = last.add_cte(part.cte(f"w{number}"))
    return last


def _param(prefix: str, column: Column[Any]) -> BindParameter[Any]:
    return bindparam(prefix + column.key, type_=column.type)


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
