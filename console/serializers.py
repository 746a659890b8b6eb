"""JSON shapes of console objects. A key's secret appears only in ``issued_key``."""

from __future__ import annotations

from datetime import datetime

from tenants.keys import IssuedKey
from tenants.models import ApiKey, AuditEvent


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def key(row: ApiKey) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "start": row.display_start,
        "last4": row.last4,
        "scopes": list(row.scopes),
        "enabled": row.enabled,
        "revoked_at": _time(row.revoked_at),
        "expires_at": _time(row.expires_at),
        "created_at": _time(row.created_at),
        "last_used_at": _time(row.last_used_at),
        "rotated_from_id": row.rotated_from_id,
    }


def issued_key(issued: IssuedKey) -> dict:
    return {**key(issued.record), "key": issued.full_key}


def audit_event(row: AuditEvent) -> dict:
    return {
        "id": row.id,
        "actor": row.actor,
        "action": row.action,
        "key_id": row.key_id,
        "changes": row.changes,
        "request_id": row.request_id,
        "source_ip": row.source_ip,
        "created_at": _time(row.created_at),
    }
