"""Console API endpoints (SPEC §7). Each parses input, calls the key store, shapes the response.

Every route is authenticated by ``console.auth.authenticate``; ``@require_permission`` names
the organization permission a route needs (SPEC §9.3; admins hold all), so the decorators
read like the SPEC table.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from console import bp
from console.auth import current_actor, current_tenant, current_user, require_permission
from console.identity import Identity
from console.permissions import API_KEYS_MANAGE, API_KEYS_READ
from console.resources import (
    AuditEvent,
    Event,
    IssuedKey,
    Key,
    KeyList,
    License,
    Me,
    MeTenant,
    ScopeReport,
    TenantSettings,
)
from console.schemas import PATCH_NULLABLE, KeyCreateIn, KeyPatchIn, RotateIn, SettingsPatchIn
from console.tenancy import TenantRef
from core.answers import CachedBodies, json_answer
from core.endpoints import scopes_by_endpoint
from core.extensions import db, keystore, usage_buffer
from core.http import accepts, list_page
from core.resources import Usage
from tenants import clock, events, leaks, models
from tenants.errors import InvalidInput
from tenants.licenses import describe, license_for
from tenants.usagereport import parse_key_filter, parse_modes, scope_report, usage_report


def _me(identity: Identity, tenant: TenantRef) -> dict[str, Any]:
    return Me.build(
        user_id=identity.user_id,
        issuer=tenant.issuer,
        session_id=identity.session_id,
        tenant=MeTenant.build(id=tenant.id, name=tenant.name, external_id=tenant.external_id),
        role=identity.role,
        permissions=list(identity.permissions),
    )


# ``/me`` depends on the session's identity and its tenant alone, both snapshots that a change
# replaces (``console.auth``): encoded once per pair. The identity object stands for its token
# (one per token, ``console.auth._identity``), so its ``id`` names the entry while it lives.
_ME_BODIES = CachedBodies()


@bp.get("/me")
def me() -> Response:
    user = current_user()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # one lookup
    identity = user.identity
    body = _ME_BODIES.body(id(identity), identity, user.tenant, _me, app.debug)
    return json_answer(app, body)


@bp.get("/keys")
@require_permission(API_KEYS_READ)
def list_keys() -> dict[str, Any]:
    modes = parse_modes(request.args.get("mode"))
    return KeyList.build(
        data=[Key.of(row) for row in keystore.get().list_keys(current_tenant().id, modes)]
    )


@bp.post("/keys")
@require_permission(API_KEYS_MANAGE)
@accepts(KeyCreateIn)
def create_key(body: KeyCreateIn) -> tuple[dict[str, Any], int]:
    issued = keystore.get().create_key(
        current_tenant().id,
        body.name,
        current_actor(),
        body.scopes,
        body.expires_at,
        body.rate_limit_per_minute,
        description=body.description,
        metadata=body.metadata,
        allowed_ips=body.allowed_ips,
        decoy=body.decoy,
        mode=body.mode,
    )
    return IssuedKey.of(issued), 201


@bp.get("/keys/<key_id>")
@require_permission(API_KEYS_READ)
def get_key(key_id: str) -> dict[str, Any]:
    return Key.of(keystore.get().get_key(current_tenant().id, key_id))


@bp.patch("/keys/<key_id>")
@require_permission(API_KEYS_MANAGE)
@accepts(KeyPatchIn)
def update_key(key_id: str, body: KeyPatchIn) -> dict[str, Any]:
    sent = {field: getattr(body, field) for field in body.model_fields_set}
    if not sent:
        raise InvalidInput(f"Send at least one of: {', '.join(KeyPatchIn.model_fields)}")
    nulls = sorted(
        field for field, value in sent.items() if value is None and field not in PATCH_NULLABLE
    )
    if nulls:
        raise InvalidInput(f"{', '.join(nulls)} cannot be null", {"field": nulls[0]})
    if "scopes" in sent:
        sent["key_scopes"] = sent.pop("scopes")
    row = keystore.get().update_key(current_tenant().id, key_id, current_actor(), **sent)
    return Key.of(row)


@bp.post("/keys/<key_id>/revoke")
@require_permission(API_KEYS_MANAGE)
def revoke_key(key_id: str) -> dict[str, Any]:
    row = keystore.get().revoke_key(current_tenant().id, key_id, current_actor())
    return Key.of(row)


@bp.post("/keys/<key_id>/rotate")
@require_permission(API_KEYS_MANAGE)
@accepts(RotateIn, optional=True)
def rotate_key(key_id: str, body: RotateIn) -> tuple[dict[str, Any], int]:
    issued = keystore.get().rotate_key(
        current_tenant().id, key_id, current_actor(), body.grace_seconds
    )
    return IssuedKey.of(issued), 201


@bp.get("/keys/<key_id>/scope-report")
@require_permission(API_KEYS_READ)
def key_scope_report(key_id: str) -> dict[str, Any]:
    key = keystore.get().get_key(current_tenant().id, key_id)
    scope_of = scopes_by_endpoint(current_app)
    report = scope_report(db.session, usage_buffer.get(), key, request.args.get("days"), scope_of)
    return ScopeReport.build(**report)


@bp.get("/audit-log")
@require_permission(API_KEYS_READ)
def audit_log() -> dict[str, Any]:
    modes = parse_modes(request.args.get("mode"))
    statement = models.AuditEvent.in_modes(current_tenant().id, modes)
    return list_page(statement, models.AuditEvent.id, AuditEvent.of)


@bp.get("/events")
@require_permission(API_KEYS_READ)
def list_events() -> dict[str, Any]:
    event_type = request.args.get("type")
    if event_type is not None and event_type not in events.TYPES:
        raise InvalidInput(f"type must be one of {', '.join(events.TYPES)}", {"field": "type"})
    modes = parse_modes(request.args.get("mode"))
    statement = events.for_tenant(current_tenant().id, event_type, modes)
    return list_page(statement, events.Event.id, Event.of)


@bp.get("/settings")
@require_permission(API_KEYS_READ)
def tenant_settings() -> dict[str, Any]:
    return TenantSettings.build(
        leak_response=keystore.get().tenant(current_tenant().id).leak_response
    )


@bp.patch("/settings")
@require_permission(API_KEYS_MANAGE)
@accepts(SettingsPatchIn)
def update_tenant_settings(body: SettingsPatchIn) -> dict[str, Any]:
    tenant = leaks.set_leak_response(
        keystore.get(), current_tenant().id, body.leak_response, current_actor()
    )
    return TenantSettings.build(leak_response=tenant.leak_response)


@bp.get("/usage")
def usage() -> dict[str, Any]:
    modes = parse_modes(request.args.get("mode"))
    key_id = parse_key_filter(request.args.get("key_id"))
    report = usage_report(
        db.session, usage_buffer.get(), current_tenant().id, request.args, modes, key_id
    )
    return Usage.build(data=report)


@bp.get("/license")
def license_status() -> dict[str, Any]:
    row = license_for(db.session, current_tenant().id)
    return License.build(**describe(row, current_app.config["LICENSE_ENFORCEMENT"], clock.now()))
