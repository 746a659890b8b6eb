"""The audit log of key changes, written in the same transaction as the change itself.

An entry is live or test like the key it is about (SPEC §9.1: the console's lists take
``?mode=``); entries about no key (webhooks, settings, organizations) are live, as their
events are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table

from tenants import clock
from tenants.ids import new_id
from tenants.models import AuditEvent
from tenants.sessions import DbSession


@dataclass(frozen=True)
class Actor:
    """Who made a change: the session token's ``sub`` and ``iss``, or ``cli:<user>``."""

    sub: str
    issuer: str | None = None
    request_id: str | None = None
    source_ip: str | None = None


AUDIT = cast(Table, AuditEvent.__table__)  # a declarative model's: a Table


def record(
    session: DbSession,
    tenant_id: str,
    actor: Actor,
    action: str,
    key_id: str | None,
    changes: dict[str, Any] | None = None,
    *,
    livemode: bool = True,
) -> AuditEvent:
    event = AuditEvent(**entry(tenant_id, actor, action, key_id, changes, livemode=livemode))
    session.add(event)
    return event


def entry(
    tenant_id: str,
    actor: Actor,
    action: str,
    key_id: str | None,
    changes: dict[str, Any] | None = None,
    *,
    livemode: bool = True,
) -> dict[str, Any]:
    """The row of an audit entry that a key change writes with its change counter's bump
    (``tenants.changes.record_change``: one statement on PostgreSQL) rather than as an ORM
    object flushed on its own."""
    return {
        "id": new_id("aud"),
        "tenant_id": tenant_id,
        "actor": actor.sub,
        "actor_issuer": actor.issuer,
        "action": action,
        "key_id": key_id,
        "request_id": actor.request_id,
        "source_ip": actor.source_ip,
        "changes": changes,
        "livemode": livemode,
        "created_at": clock.now(),
    }
