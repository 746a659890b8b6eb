"""JSON shapes of console objects. A key's secret appears only in ``issued_key``."""

from __future__ import annotations

from typing import Any

from tenants.clock import iso
from tenants.keys import IssuedKey
from tenants.models import ApiKey, AuditEvent


def key(row: ApiKey) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "mode": row.mode,
        "start": row.display_start,
        "last4": row.last4,
        "scopes": list(row.scopes),
        "enabled": row.enabled,
        "revoked_at": iso(row.revoked_at),
        "expires_at": iso(row.expires_at),
        "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at),
        "rotated_from_id": row.rotated_from_id,
    }


def issued_key(issued: IssuedKey) -> dict[str, Any]:
    return {**key(issued.record), "key": issued.full_key}


def audit_event(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "actor": row.actor,
        "actor_issuer": row.actor_issuer,
        "action": row.action,
        "key_id": row.key_id,
        "changes": row.changes,
        "request_id": row.request_id,
        "source_ip": row.source_ip,
        "created_at": iso(row.created_at),
    }
