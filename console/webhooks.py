"""Webhook endpoints of the console API (SPEC §10). Every route needs ``org:webhooks:manage``
(SPEC §9.3; admins hold it); the store does the work.

``key.*`` events carry key metadata, which only ``org:api_keys:read`` may see: subscribing an
endpoint to them (``*`` included), moving the URL of an endpoint that receives them or has
any queued or sent, and retrying one, need that permission too, or a webhooks-only manager
could read keys through their own endpoint."""

from __future__ import annotations

from typing import Any

from console import bp
from console.auth import current_actor, current_tenant, current_user, require_permission
from console.permissions import API_KEYS_READ, WEBHOOKS_MANAGE
from console.resources import (
    CreatedWebhookEndpoint,
    DeletedWebhookEndpoint,
    QueuedDelivery,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointList,
)
from console.schemas import WebhookCreateIn, WebhookPatchIn
from core.errors import ApiError
from core.extensions import webhooks
from core.http import accepts, list_page
from tenants.errors import InvalidInput
from tenants.webhooks import WebhookDelivery as DeliveryRecord
from tenants.webhooks import carries_key_events


@bp.get("/webhooks")
@require_permission(WEBHOOKS_MANAGE)
def list_webhooks() -> dict[str, Any]:
    endpoints = webhooks.get().list(current_tenant().id)
    return WebhookEndpointList.build(data=[WebhookEndpoint.of(row) for row in endpoints])


@bp.post("/webhooks")
@require_permission(WEBHOOKS_MANAGE)
@accepts(WebhookCreateIn)
def create_webhook(body: WebhookCreateIn) -> tuple[dict[str, Any], int]:
    _may_receive(body.events)
    created = webhooks.get().create(
        current_tenant().id, current_actor(), body.url, body.events, body.description, body.enabled
    )
    return CreatedWebhookEndpoint.of(created), 201


@bp.get("/webhooks/<endpoint_id>")
@require_permission(WEBHOOKS_MANAGE)
def get_webhook(endpoint_id: str) -> dict[str, Any]:
    return WebhookEndpoint.of(webhooks.get().get(current_tenant().id, endpoint_id))


@bp.patch("/webhooks/<endpoint_id>")
@require_permission(WEBHOOKS_MANAGE)
@accepts(WebhookPatchIn)
def update_webhook(endpoint_id: str, body: WebhookPatchIn) -> dict[str, Any]:
    sent = {field: getattr(body, field) for field in body.model_fields_set}
    if not sent:
        raise InvalidInput("Send at least one of: url, events, description, enabled")
    nulls = sorted(field for field, value in sent.items() if value is None)
    if nulls:
        raise InvalidInput(f"{', '.join(nulls)} cannot be null", {"field": nulls[0]})
    if "events" in sent:
        _may_receive(sent["events"])
    if "url" in sent:
        store, tenant_id = webhooks.get(), current_tenant().id
        _may_receive(store.get(tenant_id, endpoint_id).event_types)
        if store.has_key_events(tenant_id, endpoint_id):
            _require_key_read()
    if "events" in sent:
        sent["event_types"] = sent.pop("events")
    row = webhooks.get().update(current_tenant().id, endpoint_id, current_actor(), **sent)
    return WebhookEndpoint.of(row)


@bp.delete("/webhooks/<endpoint_id>")
@require_permission(WEBHOOKS_MANAGE)
def delete_webhook(endpoint_id: str) -> dict[str, Any]:
    webhooks.get().delete(current_tenant().id, endpoint_id, current_actor())
    return DeletedWebhookEndpoint.build(id=endpoint_id, deleted=True)


@bp.post("/webhooks/<endpoint_id>/rotate-secret")
@require_permission(WEBHOOKS_MANAGE)
def rotate_webhook_secret(endpoint_id: str) -> dict[str, Any]:
    created = webhooks.get().rotate_secret(current_tenant().id, endpoint_id, current_actor())
    return CreatedWebhookEndpoint.of(created)


@bp.post("/webhooks/<endpoint_id>/test")
@require_permission(WEBHOOKS_MANAGE)
def test_webhook(endpoint_id: str) -> tuple[dict[str, Any], int]:
    delivery = webhooks.get().send_test(current_tenant().id, endpoint_id)
    return QueuedDelivery.build(delivery_id=delivery.id, event_id=delivery.event_id), 202


@bp.get("/webhooks/<endpoint_id>/deliveries")
@require_permission(WEBHOOKS_MANAGE)
def list_deliveries(endpoint_id: str) -> dict[str, Any]:
    store, tenant_id = webhooks.get(), current_tenant().id
    statement = store.deliveries(tenant_id, endpoint_id)
    # A receiver may echo what it got: the answers to an endpoint's key events (the whole
    # endpoint's, to keep it one query) are not shown to someone who may not read keys.
    hidden = API_KEYS_READ not in current_user().permissions and store.has_key_events(
        tenant_id, endpoint_id
    )
    shape = WebhookDelivery.without_excerpts if hidden else WebhookDelivery.of
    return list_page(statement, DeliveryRecord.id, shape)


@bp.post("/webhooks/<endpoint_id>/deliveries/<delivery_id>/retry")
@require_permission(WEBHOOKS_MANAGE)
def retry_delivery(endpoint_id: str, delivery_id: str) -> tuple[dict[str, Any], int]:
    store, tenant_id = webhooks.get(), current_tenant().id
    if store.has_key_events(tenant_id, endpoint_id, delivery_id):
        _require_key_read()
    delivery = store.retry(tenant_id, endpoint_id, delivery_id)
    return QueuedDelivery.build(delivery_id=delivery.id, status=delivery.status), 202


def _may_receive(event_types: object) -> None:
    """Refuse (403) sending key events somewhere for someone who may not read keys."""
    if carries_key_events(event_types):
        _require_key_read()


def _require_key_read() -> None:
    if API_KEYS_READ not in current_user().permissions:
        raise ApiError(
            "AUTH_FORBIDDEN",
            f"Key events carry key metadata: this needs the organization permission "
            f"'{API_KEYS_READ}' (or the admin role)",
            {"required_permission": API_KEYS_READ},
        )
