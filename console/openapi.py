"""The console API's OpenAPI document, served publicly at ``/console/openapi.json``.

Request bodies come from the views' ``@accepts`` models and the admin requirement from
``@require_admin`` (``core.openapi`` reads both off the views), the response shapes from
``console/resources.py``, the models the views answer through; this module states summaries,
success statuses and which model each operation answers with.
"""

from __future__ import annotations

from console import bp
from console.resources import AuditPage, IssuedKey, Key, KeyList, License, Me
from core.http import public
from core.openapi import (
    ID_PATTERN,
    PAGE_QUERY,
    DocumentSpec,
    OpenApiDocument,
    Operation,
    document,
)
from core.resources import Usage

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
        "list_keys": Operation("The tenant's keys, revoked ones included", 200, KeyList),
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
            "Requests per key per day, newest day first",
            200,
            Usage,
            query={"days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 30}},
        ),
        "license_status": Operation("The tenant's license", 200, License),
    },
)


@bp.get("/openapi.json")
@public
def openapi_document():
    return document(SPEC)
