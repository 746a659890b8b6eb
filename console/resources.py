"""The console API's response shapes, one model per resource (``core.resources``): the views
answer through them and ``console/openapi.py`` documents them. A key's secret appears only
in ``IssuedKey``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from core.resources import DataList, Page, Resource, Tenant
from tenants.keys import IssuedKey as Issued
from tenants.models import ApiKey


class MeTenant(Tenant):
    external_id: str = Field(description="The organization id, at `issuer`, that reached it")


class Me(Resource):
    user_id: str
    issuer: str = Field(description="The identity provider (`iss`) of the session token")
    session_id: str | None
    tenant: MeTenant
    role: str


class Key(Resource):
    """A key as listed: never the secret."""

    id: str
    name: str
    start: str
    last4: str
    scopes: list[str]
    enabled: bool
    revoked_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, obj: ApiKey) -> dict[str, Any]:
        return cls.build(
            id=obj.id,
            name=obj.name,
            start=obj.display_start,
            last4=obj.last4,
            scopes=list(obj.scopes),
            enabled=obj.enabled,
            revoked_at=obj.revoked_at,
            expires_at=obj.expires_at,
            created_at=obj.created_at,
            last_used_at=obj.last_used_at,
        )


class IssuedKey(Key):
    """A key just created or rotated: the full secret, this once."""

    key: str

    @classmethod
    def of(cls, obj: Issued) -> dict[str, Any]:
        return cls.build(**Key.of(obj.record), key=obj.full_key)


class KeyList(DataList[Key]):
    pass


class AuditEvent(Resource):
    id: str
    actor: str = Field(description="The token's `sub`, `cli:<user>`, or a system actor")
    actor_issuer: str | None = Field(description="The actor's identity provider (`iss`)")
    action: str
    key_id: str | None
    changes: dict[str, Any] | None
    request_id: str | None
    source_ip: str | None
    created_at: datetime


class AuditPage(Page[AuditEvent]):
    pass


class License(Resource):
    status: str
    expires_at: datetime | None
    enforcement: str
    active: bool
