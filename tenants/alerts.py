"""Security alerts (SPEC §11, issue 16): every ``key.leaked`` and ``key.decoy_used`` event of a
tenant is an alert until someone acknowledges it.

An acknowledgement is the tenant's, not a browser's: once one person has acknowledged an
alert, nobody in the organization sees it again, and the audit log says who did
(``alert.acknowledged``). Acknowledging is idempotent: a second acknowledgement, from anyone,
changes nothing and answers the first; the unique ``event_id`` keeps two concurrent ones
from both being written. A new use of a decoy is a new event, and so a new alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Select, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from tenants import audit, clock, keyformat
from tenants.audit import Actor
from tenants.errors import NotFound
from tenants.events import Event
from tenants.models import Base, TenantScoped, _id
from tenants.sessions import DbSession

TYPES = ("key.leaked", "key.decoy_used")


class AlertAcknowledgement(TenantScoped, Base):
    __tablename__ = "alert_acknowledgements"

    id: Mapped[str] = _id("ack")
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # One acknowledgement per alert: the second writer of a race fails here.
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    actor: Mapped[str] = mapped_column(String(200))
    actor_issuer: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


@dataclass(frozen=True)
class Acknowledged:
    event: Event
    acknowledgement: AlertAcknowledgement


def unacknowledged(tenant_id: str, modes: Iterable[str] = keyformat.MODES) -> Select[Event]:
    """The tenant's alerts nobody has acknowledged, in ``modes`` (``GET /console/alerts``)."""
    livemodes = [mode == "live" for mode in modes]
    return (
        Event.for_tenant(tenant_id)
        .where(Event.type.in_(TYPES), Event.livemode.in_(livemodes))
        .where(
            ~select(AlertAcknowledgement.id)
            .where(AlertAcknowledgement.event_id == Event.id)
            .exists()
        )
    )


def acknowledge(session: DbSession, tenant_id: str, event_id: str, actor: Actor) -> Acknowledged:
    """Acknowledge the tenant's alert ``event_id`` for everyone in the tenant, audited once.
    Another tenant's event, or an event that is no alert, is not found."""
    event = Event.get_for_tenant(session, tenant_id, event_id)
    if event.type not in TYPES:
        raise NotFound(f"No alert with id '{event_id}': only {' and '.join(TYPES)} events are")
    existing = _acknowledgement(session, event_id)
    if existing is not None:
        return Acknowledged(event, existing)
    row = AlertAcknowledgement(
        tenant_id=tenant_id, event_id=event_id, actor=actor.sub, actor_issuer=actor.issuer
    )
    try:
        with session.begin_nested():
            session.add(row)
            key = (event.data or {}).get("object") or {}
            audit.record(
                session,
                tenant_id,
                actor,
                "alert.acknowledged",
                key.get("id") if isinstance(key, dict) else None,
                {"event_id": event.id, "type": event.type},
                livemode=event.livemode,
            )
    except IntegrityError:
        # Someone acknowledged it in between (the savepoint is rolled back): theirs stands,
        # and theirs alone is audited.
        existing = _acknowledgement(session, event_id)
        if existing is None:
            raise
        return Acknowledged(event, existing)
    session.commit()
    return Acknowledged(event, row)


def _acknowledgement(session: DbSession, event_id: str) -> AlertAcknowledgement | None:
    statement = select(AlertAcknowledgement).where(AlertAcknowledgement.event_id == event_id)
    return session.scalar(statement)
