"""Who the verified token speaks for: user, active organization (the tenant), role and the
organization permissions the token grants.

Clerk session tokens come in two shapes (SPEC §6.3); other SSO providers name their tenant,
role and permissions claims in ``CONSOLE_IDPS`` (dotted paths such as ``"o.id"`` reach nested
claims). Clerk's v2 tokens carry permissions compactly (``console.clerkpermissions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.clerkpermissions import v2_permissions
from console.permissions import effective_permissions
from console.tokens import InvalidToken

CLERK_ADMIN_ROLES = ("admin",)
MAX_IDENTIFIER_LENGTH = 200  # tenants.models: Organization.external_id, AuditEvent.actor


@dataclass(frozen=True)
class ClaimsMapping:
    """Where a provider keeps the organization and role. ``None`` claims mean: Clerk's shapes."""

    tenant_claim: str | None = None
    role_claim: str | None = None
    admin_roles: tuple[str, ...] = CLERK_ADMIN_ROLES
    # Where the organization permissions are (a list, or a string separated by spaces or
    # commas); ``None``: Clerk's claims when the organization is Clerk's, else none.
    permissions_claim: str | None = None


@dataclass(frozen=True)
class Identity:
    user_id: str
    session_id: str | None
    org_id: str | None
    org_slug: str | None
    is_admin: bool
    # The console permissions held (``console.permissions``): worked out once per token,
    # since the identity is remembered per token (``console.auth``).
    permissions: tuple[str, ...] = ()

    @property
    def role(self) -> str:
        return "admin" if self.is_admin else "member"


def identity_from_claims(claims: dict[str, Any], mapping: ClaimsMapping) -> Identity:
    if mapping.tenant_claim is None:
        org_id, org_slug, roles = _clerk_organization(claims)
        permissions = _clerk_permissions(claims) if org_id is not None else frozenset()
    else:
        org_id = _string(_claim(claims, mapping.tenant_claim))
        org_slug = None
        roles = _roles(_claim(claims, mapping.role_claim) if mapping.role_claim else None)
        permissions = frozenset()
    if mapping.permissions_claim is not None:
        permissions = _permission_names(_claim(claims, mapping.permissions_claim))
    admin_roles = {_without_org_prefix(role) for role in mapping.admin_roles}
    is_admin = org_id is not None and any(_without_org_prefix(r) in admin_roles for r in roles)
    return Identity(
        user_id=_identifier(claims["sub"], "sub"),
        session_id=_string(claims.get("sid")),
        org_id=_identifier(org_id, "organization id") if org_id is not None else None,
        org_slug=org_slug,
        is_admin=is_admin,
        permissions=effective_permissions(is_admin, permissions) if org_id is not None else (),
    )


def _clerk_organization(claims: dict[str, Any]) -> tuple[str | None, str | None, list[str]]:
    """Clerk v2 (``"v": 2`` and the ``o`` object) or v1 (``org_id`` / ``org_role``)."""
    if claims.get("v") == 2:
        if claims.get("sts") == "pending":
            raise InvalidToken("The session is pending (sign-in not finished); sign in again")
        organization = claims.get("o")
        if not isinstance(organization, dict):
            return None, None, []
        return (
            _string(organization.get("id")),
            _string(organization.get("slg")),
            _roles(organization.get("rol")),
        )
    return (
        _string(claims.get("org_id")),
        _string(claims.get("org_slug")),
        _roles(claims.get("org_role")),
    )


def _clerk_permissions(claims: dict[str, Any]) -> frozenset[str]:
    """v1: the ``org_permissions`` list; v2: ``o.per`` / ``o.fpm`` decoded against ``fea``."""
    if claims.get("v") == 2:
        organization = claims.get("o")
        if not isinstance(organization, dict):
            return frozenset()
        return v2_permissions(claims.get("fea"), organization.get("per"), organization.get("fpm"))
    return _permission_names(claims.get("org_permissions"))


def _permission_names(value: Any) -> frozenset[str]:
    """A list of names, or one string of names separated by spaces or commas."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return frozenset()
    return frozenset(name for name in value if isinstance(name, str) and name)


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name (``https://example.com/tenant`` included) or by dotted path (``o.id``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _identifier(value: str, what: str) -> str:
    """A subject or organization id the store can keep (audit actor, organization binding):
    a signed token of a configured provider may still carry one no column can hold."""
    if len(value) > MAX_IDENTIFIER_LENGTH or not value.isprintable():
        raise InvalidToken(f"The token's {what} is not a usable identifier")
    return value


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _roles(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [role for role in value if isinstance(role, str)]
    return []


def _without_org_prefix(role: str) -> str:
    return role.removeprefix("org:")
