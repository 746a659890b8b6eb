"""The console API's OpenAPI document, served publicly at ``/console/openapi.json``.

Request bodies come from the views' ``@accepts`` models and the admin requirement from
``@require_permission`` (``core.openapi`` reads both off the views), the response shapes from
``console/resources.py``, the models the views answer through; this module states summaries,
success statuses and which model each operation answers with.
"""

from __future__ import annotations

from typing import Any

from console import bp
from console.resources import (
    AlertAcknowledgement,
    AuditPage,
    CreatedWebhookEndpoint,
    DeletedWebhookEndpoint,
    EventPage,
    IssuedKey,
    Key,
    KeyList,
    License,
    Me,
    QueuedDelivery,
    ScopeReport,
    TenantSettings,
    WebhookDeliveryPage,
    WebhookEndpoint,
    WebhookEndpointList,
)
from core.http import public
from core.openapi import (
    ID_PATTERN,
    PAGE_QUERY,
    USAGE_QUERY,
    DocumentSpec,
    OpenApiDocument,
    Operation,
    document,
)
from core.resources import Usage
from tenants import events

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
        "Operations marked `x-required-permission` need that organization permission "
        "(`org:api_keys:read`, `org:api_keys:manage`, `org:webhooks:manage`) in the session "
        "token, or the admin role, which holds them all; `GET /console/me` lists the ones held."
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
        "event_id": {"type": "string", "pattern": ID_PATTERN.format(prefix="evt")},
    },
    requirement=lambda view: getattr(view, "required_permission", None),
    requirement_extension="x-required-permission",
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
        "get_key": Operation("One key (another tenant's is a 404)", 200, Key),
        "update_key": Operation(
            "Change a key's name, state, scopes, notes, allow-list, rate limit or expiry",
            200,
            Key,
            errors=(409,),
        ),
        "revoke_key": Operation("Revoke a key, for good", 200, Key, errors=(409,)),
        "rotate_key": Operation(
            "Issue a successor key; the old one lasts grace_seconds", 201, IssuedKey, errors=(409,)
        ),
        "audit_log": Operation(
            "Every key change, newest first", 200, AuditPage, query={**PAGE_QUERY, **MODE_QUERY}
        ),
        "list_events": Operation(
            "The tenant's events, newest first",
            200,
            EventPage,
            query={
                **PAGE_QUERY,
                **MODE_QUERY,
                "type": {"type": "string", "enum": list(events.TYPES)},
            },
        ),
        "list_alerts": Operation(
            "Leaked-key and decoy events nobody in the tenant has acknowledged, newest first",
            200,
            EventPage,
            query={**PAGE_QUERY, **MODE_QUERY},
        ),
        "acknowledge_alert": Operation(
            "Acknowledge an alert for the whole tenant (idempotent; audited once)",
            200,
            AlertAcknowledgement,
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
        "tenant_settings": Operation("The tenant's settings", 200, TenantSettings),
        "update_tenant_settings": Operation(
            "Change what a confirmed leak of a key does (`revoke` or `notify`)",
            200,
            TenantSettings,
        ),
        "usage": Operation(
            "Requests by key, day, endpoint and outcome, newest day first",
            200,
            Usage,
            query={
                **USAGE_QUERY,
                **MODE_QUERY,
                "key_id": {
                    "type": "string",
                    "pattern": ID_PATTERN.format(prefix="key"),
                    "description": "Only this key's rows (none for an id of no key of the "
                    "tenant); a malformed id is a 400",
                },
            },
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
