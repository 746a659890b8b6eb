"""Tenant licenses: they gate tenant API writes (402), never reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tenants.errors import InvalidInput
from tenants.models import License
from tenants.sessions import DbSession

STATUSES = ("active", "expired", "revoked")
ENFORCEMENTS = ("enforce", "warn")


def is_active(status: str, expires_at: datetime | None, now: datetime) -> bool:
    return status == "active" and (expires_at is None or expires_at > now)


def license_for(session: DbSession, tenant_id: str) -> License:
    """The tenant's license; a tenant without a row has an active, unlimited one."""
    return session.get(License, tenant_id) or License(
        tenant_id=tenant_id, status="active", expires_at=None, enforcement=None
    )


def describe(license_row: License, default_enforcement: str, now: datetime) -> dict[str, Any]:
    return {
        "status": license_row.status,
        "expires_at": license_row.expires_at.isoformat() if license_row.expires_at else None,
        "enforcement": license_row.enforcement or default_enforcement,
        "active": is_active(license_row.status, license_row.expires_at, now),
    }


def set_license(
    session: DbSession,
    tenant_id: str,
    status: str,
    expires_at: datetime | None = None,
    enforcement: str | None = None,
) -> License:
    """Create or replace the tenant's license (the caller commits and signals)."""
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    if enforcement is not None and enforcement not in ENFORCEMENTS:
        raise InvalidInput(f"enforcement must be one of {', '.join(ENFORCEMENTS)}")
    row = session.get(License, tenant_id)
    if row is None:
        row = License(tenant_id=tenant_id)
        session.add(row)
    row.status = status
    row.expires_at = expires_at
    row.enforcement = enforcement
    return row
