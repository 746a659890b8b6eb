"""Authentication of every console route (deny by default) and the permission check on top.

Order: bearer token present -> verified by its provider (401 / 503) -> identity and active
organization (401 pending session, 403 no tenant) -> ``@require_permission`` (403).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Response, after_this_request, current_app, g, request

from console import bp
from console.extensions import console_auth
from console.identity import Identity, identity_from_claims
from console.tenancy import TenantRef
from console.tokens import InvalidToken, ProviderUnavailable
from core.consolelimit import EMERGENCY_ENDPOINTS, WRITE_METHODS
from core.errors import ApiError
from core.extensions import console_writes
from core.http import client_ip, is_public_endpoint
from core.requestid import request_id
from tenants.audit import Actor

SESSION_TOKEN_HINT = (
    "The console takes a session token (Authorization: Bearer <JWT>), not a tenant API key"  # noqa: S105
)
P = ParamSpec("P")
R = TypeVar("R")
_BEARER = re.compile(r"Bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)


@dataclass(frozen=True)
class ConsoleUser:
    identity: Identity
    tenant: TenantRef

    @property
    def is_admin(self) -> bool:
        return self.identity.is_admin

    @property
    def permissions(self) -> tuple[str, ...]:
        """The console permissions held (``console.permissions``)."""
        return self.identity.permissions


@bp.before_request
def authenticate() -> None:
    # _get_current_object() is Flask's documented way to the objects behind its proxies
    # ("Notes On Proxies"): one context lookup each instead of one per attribute below.
    # Flask types its proxies as the objects behind them, without ``_get_current_object``:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # typed as Flask
    this_request = request._get_current_object()  # type: ignore[attr-defined]  # as Request
    if is_public_endpoint(app, this_request):
        return
    token = _bearer_token(this_request.environ, app.config["API_KEY_PREFIX"])
    services = console_auth.get(app)
    auth = services.auth
    try:
        issuer, claims = auth.verifier.verify(token)
        provider = auth.providers[issuer]
        identity = _identity(app, token, claims, provider.mapping)
    except InvalidToken as exc:
        raise ApiError("AUTH_INVALID_TOKEN", str(exc)) from exc
    except ProviderUnavailable as exc:
        raise ApiError(
            "AUTH_PROVIDER_UNAVAILABLE",
            "The identity provider's signing keys cannot be fetched; retry shortly",
            headers={"Retry-After": "5"},
        ) from exc
    if identity.org_id is None:
        raise ApiError(
            "AUTH_NO_TENANT", "The session has no active organization; choose one and retry"
        )
    tenant = services.tenants.for_organization(
        issuer, identity.org_id, identity.org_slug or identity.org_id, provider.auto_provision
    )
    if tenant is None:
        raise ApiError(
            "AUTH_NO_TENANT", "The active organization of this identity provider has no tenant here"
        )
    if this_request.method in WRITE_METHODS:  # checked before the view: a 429 changes nothing
        _limit_write(app, tenant, identity.user_id, this_request.endpoint)
    # On the context's ``g`` itself, not through the proxy's ``__getattr__`` fallback.
    g._get_current_object().console_user = ConsoleUser(identity, tenant)


IDENTITIES = "loopwave.console_identities"
IDENTITY_CACHE_SIZE = 10_000


def _identity(app: Any, token: str, claims: dict[str, Any], mapping: Any) -> Identity:
    """``identity_from_claims``, remembered per token while the verifier serves the same
    claims object for it (its cache of verified tokens): a token's claims never change, so
    neither does the identity read from them. ``verify`` still runs first on every request,
    so expiry and every other check of the token are unchanged."""
    remembered: dict[str, tuple[dict[str, Any], Identity]] = app.extensions.setdefault(
        IDENTITIES, {}
    )
    entry = remembered.get(token)
    if entry is not None and entry[0] is claims:
        return entry[1]
    identity = identity_from_claims(claims, mapping)
    if len(remembered) >= IDENTITY_CACHE_SIZE:
        # The oldest entry; with threaded workers another thread may have taken it, or
        # changed the dict under the iterator (pentest F5): either way there is room.
        with contextlib.suppress(RuntimeError, StopIteration):
            remembered.pop(next(iter(remembered)), None)
    remembered[token] = (claims, identity)
    return identity


def _bearer_token(environ: dict[str, Any], key_prefix: str) -> str:
    header = environ.get("HTTP_AUTHORIZATION")
    if header is None:
        if environ.get("HTTP_X_TENANT_API_KEY") is not None:
            raise ApiError("AUTH_INVALID_TOKEN", SESSION_TOKEN_HINT)
        raise ApiError(
            "AUTH_INVALID_TOKEN", "Missing session token: send Authorization: Bearer <JWT>"
        )
    match = _BEARER.fullmatch(header)
    if match is None:
        raise ApiError(
            "AUTH_INVALID_TOKEN", "Send the session token as Authorization: Bearer <JWT>"
        )
    token = match.group(1)
    if f"{key_prefix}_live_" in token or f"{key_prefix}_test_" in token:
        raise ApiError("AUTH_INVALID_TOKEN", SESSION_TOKEN_HINT)
    return token


def _limit_write(app: Any, tenant: TenantRef, user_id: str, endpoint: str | None) -> None:
    """Refuse a write beyond its user's or tenant's window; once it has succeeded, count it.
    The count is a hook of this request alone (``after_this_request``): reads, the console's
    common case, pay for no ``after_request`` hook (~6,000 instructions per request)."""
    limit = console_writes.get(app)
    in_tenant_window = endpoint not in EMERGENCY_ENDPOINTS
    limit.check(tenant.id, tenant.issuer, user_id, tenant=in_tenant_window)

    @after_this_request
    def count_write(response: Response) -> Response:
        if response.status_code < 400:
            limit.hit(tenant.id, tenant.issuer, user_id, tenant=in_tenant_window)
        return response


def current_user() -> ConsoleUser:
    """The signed-in user of this request; raises if authentication did not run."""
    # ``g.get`` without the proxy's ``__getattr__`` fallback.
    user: ConsoleUser | None = g._get_current_object().get("console_user")
    if user is None:
        raise RuntimeError("no authenticated console user on this request")
    return user


def current_tenant() -> TenantRef:
    return current_user().tenant


def current_actor() -> Actor:
    """The audit log's view of who is acting: token subject and issuer, request id, address."""
    user = current_user()
    return Actor(user.identity.user_id, user.tenant.issuer, request_id(), client_ip())


def require_permission(permission: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Refuse (403 ``AUTH_FORBIDDEN``, naming the permission) users who do not hold
    ``permission`` (``console.permissions``; admins hold all)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if permission not in current_user().permissions:
                raise ApiError(
                    "AUTH_FORBIDDEN",
                    f"This needs the organization permission '{permission}' (or the admin role)",
                    {"required_permission": permission},
                )
            return view(*args, **kwargs)

        wrapper.__dict__["required_permission"] = permission  # read by the OpenAPI builder
        return wrapper

    return decorate
