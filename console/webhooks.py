"""Webhook endpoints of the console API (SPEC §10). Admins only; the store does the work."""

from __future__ import annotations

from typing import Any

from console import bp
from console.auth import current_actor, current_tenant, require_admin
from console.schemas import WebhookCreateIn, WebhookPatchIn
from core.http import accepts, list_page
from core.services import webhooks
from tenants.clock import iso
from tenants.errors import InvalidInput
from tenants.webhooks import CreatedEndpoint, WebhookDelivery, WebhookEndpoint


def endpoint_shape(row: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": list(row.event_types),
        "enabled": row.enabled,
        "description": row.description,
        "disabled_reason": row.disabled_reason,
        "failing_since": iso(row.failing_since),
        "previous_secret_until": iso(row.previous_secret_until),
        "created_at": iso(row.created_at),
    }


def created_shape(created: CreatedEndpoint) -> dict[str, Any]:
    return {**endpoint_shape(created.endpoint), "secret": created.secret}


def delivery_shape(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
        "last_status_code": row.last_status_code,
        "completed_at": iso(row.completed_at),
        "created_at": iso(row.created_at),
        "attempt_log": [
            {
                "started_at": iso(attempt.started_at),
                "status_code": attempt.status_code,
                "duration_ms": attempt.duration_ms,
                "response_excerpt": attempt.response_excerpt,
                "error": attempt.error,
            }
            for attempt in row.attempt_log
        ],
    }


@bp.get("/webhooks")
@require_admin
def list_webhooks() -> dict[str, Any]:
    return {"data": [endpoint_shape(row) for row in webhooks().list(current_tenant().id)]}


@bp.post("/webhooks")
@require_admin
@accepts(WebhookCreateIn)
def create_webhook(body: WebhookCreateIn) -> tuple[dict[str, Any], int]:
    created = webhooks().create(
        current_tenant().id, current_actor(), body.url, body.events, body.description, body.enabled
    )
    return created_shape(created), 201


@bp.get("/webhooks/<endpoint_id>")
@require_admin
def get_webhook(endpoint_id: str) -> dict[str, Any]:
    return endpoint_shape(webhooks().get(current_tenant().id, endpoint_id))


@bp.patch("/webhooks/<endpoint_id>")
@require_admin
@accepts(WebhookPatchIn)
def update_webhook(endpoint_id: str, body: WebhookPatchIn) -> dict[str, Any]:
    sent = {field: getattr(body, field) for field in body.model_fields_set}
    if not sent:
        raise InvalidInput("Send at least one of: url, events, description, enabled")
    nulls = sorted(field for field, value in sent.items() if value is None)
    if nulls:
        raise InvalidInput(f"{', '.join(nulls)} cannot be null", {"field": nulls[0]})
    if "events" in sent:
        sent["event_types"] = sent.pop("events")
    row = webhooks().update(current_tenant().id, endpoint_id, current_actor(), **sent)
    return endpoint_shape(row)


@bp.delete("/webhooks/<endpoint_id>")
@require_admin
def delete_webhook(endpoint_id: str) -> dict[str, Any]:
    webhooks().delete(current_tenant().id, endpoint_id, current_actor())
    return {"id": endpoint_id, "deleted": True}


@bp.post("/webhooks/<endpoint_id>/rotate-secret")
@require_admin
def rotate_webhook_secret(endpoint_id: str) -> dict[str, Any]:
    created = webhooks().rotate_secret(current_tenant().id, endpoint_id, current_actor())
    return created_shape(created)


@bp.post("/webhooks/<endpoint_id>/test")
@require_admin
def test_webhook(endpoint_id: str) -> tuple[dict[str, Any], int]:
    delivery = webhooks().send_test(current_tenant().id, endpoint_id)
    return {"delivery_id": delivery.id, "event_id": delivery.event_id}, 202


@bp.get("/webhooks/<endpoint_id>/deliveries")
@require_admin
def list_deliveries(endpoint_id: str) -> dict[str, Any]:
    statement = webhooks().deliveries(current_tenant().id, endpoint_id)
    return list_page(statement, WebhookDelivery.id, delivery_shape)


@bp.post("/webhooks/<endpoint_id>/deliveries/<delivery_id>/retry")
@require_admin
def retry_delivery(endpoint_id: str, delivery_id: str) -> tuple[dict[str, Any], int]:
    delivery = webhooks().retry(current_tenant().id, endpoint_id, delivery_id)
    return {"delivery_id": delivery.id, "status": delivery.status}, 202
