"""Security alerts of the console API (``tenants.alerts``): the leaked-key and decoy events
nobody in the tenant has acknowledged yet. Reading them needs ``org:api_keys:read`` (who may
read the keys and their events); acknowledging one hides it for the whole organization, so
it needs ``org:api_keys:manage``, like any other change to what a key holder is told."""

from __future__ import annotations

from typing import Any

from flask import request

from console import bp
from console.auth import current_actor, current_tenant, require_permission
from console.permissions import API_KEYS_MANAGE, API_KEYS_READ
from console.resources import AlertAcknowledgement, Event
from core.extensions import db
from core.http import list_page
from tenants import alerts, events
from tenants.usagereport import parse_modes


@bp.get("/alerts")
@require_permission(API_KEYS_READ)
def list_alerts() -> dict[str, Any]:
    modes = parse_modes(request.args.get("mode"))
    statement = alerts.unacknowledged(current_tenant().id, modes)
    return list_page(statement, events.Event.id, Event.of)


@bp.post("/alerts/<event_id>/acknowledge")
@require_permission(API_KEYS_MANAGE)
def acknowledge_alert(event_id: str) -> dict[str, Any]:
    done = alerts.acknowledge(db.session, current_tenant().id, event_id, current_actor())
    return AlertAcknowledgement.of(done)
