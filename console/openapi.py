"""The console API's OpenAPI document, served publicly at ``/console/openapi.json``.

Request bodies come from the views' ``@accepts`` models and the admin requirement from
``@require_admin`` (``core.openapi`` reads both off the views); this module states summaries,
success statuses and the shapes ``console/serializers.py`` answers with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from console import bp
from core.http import public
from core.openapi import (
    ID_PATTERN,
    PAGE_QUERY,
    USAGE_QUERY,
    DocumentSpec,
    OpenApiDocument,
    Operation,
    Usage,
    document,
)


class MeTenant(BaseModel):
    id: str
    name: str
    external_id: str = Field(description="The organization id, at `issuer`, that reached it")


class Me(BaseModel):
    user_id: str
    issuer: str = Field(description="The identity provider (`iss`) of the session token")
    session_id: str | None
    tenant: MeTenant
    role: str


class Key(BaseModel):
    """A key as listed: never the secret."""

    id: str
    name: str
    mode: Literal["live", "test"]
    start: str
    last4: str
    scopes: list[str]
    enabled: bool
    revoked_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None


class IssuedKey(Key):
    """A key just created or rotated: the full secret, this once."""

    key: str


class KeyList(BaseModel):
    data: list[Key]


class AuditEvent(BaseModel):
    id: str
    actor: str = Field(description="The token's `sub`, `cli:<user>`, or a system actor")
    actor_issuer: str | None = Field(description="The actor's identity provider (`iss`)")
    action: str
    key_id: str | None
    changes: dict[str, Any] | None
    request_id: str | None
    source_ip: str | None
    created_at: datetime


class AuditPage(BaseModel):
    data: list[AuditEvent]
    next_cursor: str | None


class ScopeReport(BaseModel):
    """The scopes a key's traffic needed (SPEC §9.4): ``suggested_scopes`` is the narrowest
    grant that would have served every request it was not refused."""

    key_id: str
    days: int
    granted: list[str]
    used: list[str]
    unused: list[str]
    suggested_scopes: list[str]
    requests_by_scope: dict[str, int]
    requests_by_endpoint: dict[str, int]


class License(BaseModel):
    status: str
    expires_at: datetime | None
    enforcement: str
    active: bool


MODE_QUERY: dict[str, dict[str, Any]] = {
    "mode": {"type": "string", "enum": ["live", "test"], "description": "default: both"}
}

SPEC = DocumentSpec(
    blueprint="console",
    title="Loopwave console API",
    version="1",
    description=(
        "The browser dashboard's API. Authenticate with `Authorization: Bearer <session JWT>` "
        "from the identity provider; the token's active organization is the tenant. "
        "Operations marked `x-required-role: admin` need an organization admin."
    ),
    scheme_name="consoleSession",
    scheme={
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A session JWT verified with the provider's JWKS (RS256 or ES256)",
    },
    auth_errors={
        401: ("AUTH_INVALID_TOKEN",),
        403: ("AUTH_NO_TENANT",),
        503: ("AUTH_PROVIDER_UNAVAILABLE", "SERVICE_UNAVAILABLE"),
    },
    path_parameters={"key_id": {"type": "string", "pattern": ID_PATTERN.format(prefix="key")}},
    requirement=lambda view: "admin" if getattr(view, "admin_only", False) else None,
    requirement_extension="x-required-role",
    forbidden_code="AUTH_FORBIDDEN",
    operations={
        "openapi_document": Operation("This OpenAPI document (public)", 200, OpenApiDocument),
        "me": Operation("The signed-in user, their tenant and role", 200, Me),
        "list_keys": Operation(
            "The tenant's keys, revoked ones included", 200, KeyList, query=MODE_QUERY
        ),
        "create_key": Operation(
            "Issue a key; the secret is in this answer only (409 beyond the active-key limit)",
            201,
            IssuedKey,
            errors=(409,),
        ),
        "update_key": Operation(
            "Rename, enable/disable or re-scope a key", 200, Key, errors=(409,)
        ),
        "revoke_key": Operation("Revoke a key, for good", 200, Key, errors=(409,)),
        "rotate_key": Operation(
            "Issue a successor key; the old one lasts grace_seconds", 201, IssuedKey, errors=(409,)
        ),
        "audit_log": Operation("Every key change, newest first", 200, AuditPage, query=PAGE_QUERY),
        "usage": Operation(
            "Requests by key, day, endpoint and outcome, newest day first",
            200,
            Usage,
            query={**USAGE_QUERY, **MODE_QUERY},
        ),
        "key_scope_report": Operation(
            "The scopes a key's traffic needed over the last days",
            200,
            ScopeReport,
            query={"days": USAGE_QUERY["days"]},
        ),
        "license_status": Operation("The tenant's license", 200, License),
    },
)


@bp.get("/openapi.json")
@public
def openapi_document():
    return document(SPEC)
