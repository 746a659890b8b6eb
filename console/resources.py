"""The console API's response shapes, one model per resource (``core.resources``): the views
answer through them and ``console/openapi.py`` documents them. A key's secret appears only
in ``IssuedKey``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from core.resources import DataList, Page, Resource, Tenant
from tenants import alerts, events, webhooks
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
    permissions: list[str] = Field(
        description=(
            "The console permissions held (`org:api_keys:read`, `org:api_keys:manage`, "
            "`org:webhooks:manage`): admins hold all, others what their token grants"
        )
    )


class Key(Resource):
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
    last_used_ip: str | None = Field(description="Client address of the last recorded use")
    description: str
    metadata: dict[str, str]
    allowed_ips: list[str] = Field(description="Addresses and CIDRs; empty: anywhere")
    rate_limit_per_minute: int | None = Field(
        description="Requests per minute; null: the deployment default; 0: unlimited"
    )
    rotated_from_id: str | None = Field(description="The key this one was rotated from")
    replaced_by_id: str | None = Field(description="The key a rotation of this one issued")
    decoy: bool = Field(description="A tripwire: never authenticates; each use is an event")
    leaked_at: datetime | None = Field(description="When a secret scanner reported it public")

    @classmethod
    def of(cls, obj: ApiKey) -> dict[str, Any]:
        return cls.build(
            id=obj.id,
            name=obj.name,
            mode=obj.mode,
            start=obj.display_start,
            last4=obj.last4,
            scopes=list(obj.scopes),
            enabled=obj.enabled,
            revoked_at=obj.revoked_at,
            expires_at=obj.expires_at,
            created_at=obj.created_at,
            last_used_at=obj.last_used_at,
            last_used_ip=obj.last_used_ip,
            description=obj.description,
            metadata=dict(obj.key_metadata or {}),
            allowed_ips=list(obj.allowed_ips or []),
            rate_limit_per_minute=obj.rate_limit_per_minute,
            rotated_from_id=obj.rotated_from_id,
            replaced_by_id=obj.replaced_by_id,
            decoy=obj.decoy,
            leaked_at=obj.leaked_at,
        )


class IssuedKey(Key):
    """A key just created or rotated: the full secret, this once."""

    key: str

    # An issued key is shaped from the issue, not the stored row: a narrower argument on purpose.
    @classmethod
    def of(cls, obj: Issued) -> dict[str, Any]:  # type: ignore[override]
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
    livemode: bool = Field(description="False for an entry about a test key (SPEC §9.1)")
    created_at: datetime


class AuditPage(Page[AuditEvent]):
    pass


class Event(Resource):
    """An event of the outbox (SPEC §10): as listed here and as webhooks deliver it."""

    id: str
    type: str
    created_at: datetime
    livemode: bool
    tenant_id: str
    data: dict[str, Any] = Field(description="`object`: the object concerned, never a secret")

    @classmethod
    def of(cls, obj: events.Event) -> dict[str, Any]:
        # The store builds the payload (webhook deliveries send the same bytes); the model
        # checks its fields.
        return cls.build(**obj.payload())


class EventPage(Page[Event]):
    pass


class AlertAcknowledgement(Resource):
    """An alert acknowledged for the whole tenant: the first acknowledgement, however often
    it is sent."""

    event_id: str
    type: str = Field(description="`key.leaked` or `key.decoy_used`")
    acknowledged: bool
    acknowledged_at: datetime
    acknowledged_by: str = Field(description="The `sub` of who acknowledged it first")

    @classmethod
    def of(cls, obj: alerts.Acknowledged) -> dict[str, Any]:
        return cls.build(
            event_id=obj.event.id,
            type=obj.event.type,
            acknowledged=True,
            acknowledged_at=obj.acknowledgement.created_at,
            acknowledged_by=obj.acknowledgement.actor,
        )


class WebhookEndpoint(Resource):
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

    @classmethod
    def of(cls, obj: webhooks.WebhookEndpoint) -> dict[str, Any]:
        return cls.build(
            id=obj.id,
            url=obj.url,
            events=list(obj.event_types),
            enabled=obj.enabled,
            description=obj.description,
            disabled_reason=obj.disabled_reason,
            failing_since=obj.failing_since,
            previous_secret_until=obj.previous_secret_until,
            created_at=obj.created_at,
        )


class CreatedWebhookEndpoint(WebhookEndpoint):
    """An endpoint just created or re-keyed: the `whsec_` secret, this once."""

    secret: str

    # A created endpoint is shaped from the creation, which holds the secret: on purpose.
    @classmethod
    def of(cls, obj: webhooks.CreatedEndpoint) -> dict[str, Any]:  # type: ignore[override]
        return cls.build(**WebhookEndpoint.of(obj.endpoint), secret=obj.secret)


class WebhookEndpointList(DataList[WebhookEndpoint]):
    pass


class DeletedWebhookEndpoint(Resource):
    id: str
    deleted: bool


class WebhookAttempt(Resource):
    started_at: datetime
    status_code: int | None
    duration_ms: int
    response_excerpt: str = Field(
        description="The first KiB of the answer (empty for a key event's delivery, to "
        "those without `org:api_keys:read`: a receiver may echo the event)"
    )
    error: str | None

    @classmethod
    def of_hidden(cls, obj: webhooks.WebhookAttempt) -> dict[str, Any]:
        """The attempt without its answer's excerpt."""
        return {**cls.of(obj), "response_excerpt": ""}


class WebhookDelivery(Resource):
    id: str = Field(description="The `webhook-id` of every attempt")
    event_id: str
    status: str = Field(description="pending, succeeded or failed")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    completed_at: datetime | None
    created_at: datetime
    attempt_log: list[WebhookAttempt]

    @classmethod
    def of(cls, obj: webhooks.WebhookDelivery) -> dict[str, Any]:
        return cls._of(obj, WebhookAttempt.of)

    @classmethod
    def without_excerpts(cls, obj: webhooks.WebhookDelivery) -> dict[str, Any]:
        return cls._of(obj, WebhookAttempt.of_hidden)

    @classmethod
    def _of(
        cls,
        obj: webhooks.WebhookDelivery,
        attempt: Callable[[webhooks.WebhookAttempt], dict[str, Any]],
    ) -> dict[str, Any]:
        return cls.build(
            id=obj.id,
            event_id=obj.event_id,
            status=obj.status,
            attempts=obj.attempts,
            next_attempt_at=obj.next_attempt_at if obj.status == "pending" else None,
            last_status_code=obj.last_status_code,
            completed_at=obj.completed_at,
            created_at=obj.created_at,
            attempt_log=[attempt(entry) for entry in obj.attempt_log],
        )


class WebhookDeliveryPage(Page[WebhookDelivery]):
    pass


class QueuedDelivery(Resource):
    delivery_id: str
    event_id: str | None = None
    status: str | None = None


class TenantSettings(Resource):
    leak_response: str = Field(
        description="`revoke` (default) or `notify`: what a confirmed leak of a key does"
    )


class License(Resource):
    status: str
    expires_at: datetime | None
    enforcement: str
    active: bool


class ScopeReport(Resource):
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
