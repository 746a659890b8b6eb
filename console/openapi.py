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
from tenants import events


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
    rotated_from_id: str | None = Field(description="The key this one was rotated from")


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


class Event(BaseModel):
    """An event of the outbox (SPEC §10): as listed here and as webhooks deliver it."""

    id: str
    type: str
    created_at: datetime
    livemode: bool
    tenant_id: str
    data: dict[str, Any] = Field(description="`object`: the object concerned, never a secret")


class EventPage(BaseModel):
    data: list[Event]
    next_cursor: str | None


class WebhookEndpoint(BaseModel):
    """An endpoint as listed: never its signing secret."""

    id: str
    url: str
    events: list[str] = Field(description='Event types, or `["*"]` for every type')
    enabled: bool
    description: str
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_until: datetime | None = Field(
        description="Until then the previous secret signs too (after a rotation)"
    )
    created_at: datetime


class CreatedWebhookEndpoint(WebhookEndpoint):
    """An endpoint just created or re-keyed: the `whsec_` secret, this once."""

    secret: str


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpoint]


class DeletedWebhookEndpoint(BaseModel):
    id: str
    deleted: bool


class WebhookAttempt(BaseModel):
    started_at: datetime
    status_code: int | None
    duration_ms: int
    response_excerpt: str = Field(description="The first KiB of the answer")
    error: str | None


class WebhookDelivery(BaseModel):
    id: str = Field(description="The `webhook-id` of every attempt")
    event_id: str
    status: str = Field(description="pending, succeeded or failed")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    completed_at: datetime | None
    created_at: datetime
    attempt_log: list[WebhookAttempt]


class WebhookDeliveryPage(BaseModel):
    data: list[WebhookDelivery]
    next_cursor: str | None


class QueuedDelivery(BaseModel):
    delivery_id: str
    event_id: str | None = None
    status: str | None = None


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
    path_parameters={
        "key_id": {"type": "string", "pattern": ID_PATTERN.format(prefix="key")},
        "endpoint_id": {"type": "string", "pattern": ID_PATTERN.format(prefix="whe")},
        "delivery_id": {"type": "string", "pattern": ID_PATTERN.format(prefix="msg")},
    },
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
        "list_events": Operation(
            "The tenant's events, newest first",
            200,
            EventPage,
            query={**PAGE_QUERY, "type": {"type": "string", "enum": list(events.TYPES)}},
        ),
        "list_webhooks": Operation("The tenant's webhook endpoints", 200, WebhookEndpointList),
        "create_webhook": Operation(
            "Register an endpoint; its signing secret is in this answer only",
            201,
            CreatedWebhookEndpoint,
            errors=(409,),
        ),
        "get_webhook": Operation("One endpoint", 200, WebhookEndpoint),
        "update_webhook": Operation(
            "Change an endpoint's url, events, description or enabled", 200, WebhookEndpoint
        ),
        "delete_webhook": Operation("Delete an endpoint", 200, DeletedWebhookEndpoint),
        "rotate_webhook_secret": Operation(
            "A new signing secret (shown once); the old one signs too for 24 hours",
            200,
            CreatedWebhookEndpoint,
        ),
        "test_webhook": Operation(
            "Queue a webhook.test event for this endpoint", 202, QueuedDelivery
        ),
        "list_deliveries": Operation(
            "The endpoint's deliveries with each attempt, newest first",
            200,
            WebhookDeliveryPage,
            query=PAGE_QUERY,
        ),
        "retry_delivery": Operation(
            "Attempt a delivery again now, with the same webhook-id",
            202,
            QueuedDelivery,
            errors=(409,),
        ),
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
def openapi_document() -> dict[str, Any]:
    return document(SPEC)
