"""Authentication of every tenant API route, and the scope and license checks on top.

Order of checks (cheapest first, none skipped): key missing -> shape and checksum (no
database) -> lookup (cached) -> disabled/revoked/expired -> rate limit (per key) -> scope ->
license. A rate-limited request still counts as usage: the key was used.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request

from api import bp
from core.errors import ApiError
from core.ratelimit import enforce_rate_limit
from core.services import keystore, usage_buffer
from tenants.verify import VerifiedKey

WRONG_HEADER_MESSAGE = (
    "Send the API key in the x-tenant-api-key header; Authorization and X-API-Key are not accepted"
)


@bp.before_request
def authenticate() -> None:
    environ = request.environ
    presented = environ.get("HTTP_X_TENANT_API_KEY")
    if presented is None:
        if "HTTP_AUTHORIZATION" in environ or "HTTP_X_API_KEY" in environ:
            raise ApiError("AUTH_INVALID_KEY", WRONG_HEADER_MESSAGE)
        raise ApiError(
            "AUTH_INVALID_KEY", "Missing API key: send it in the x-tenant-api-key header"
        )
    verified = keystore().verifier.verify(presented)
    g.api_key = verified
    usage_buffer().record(verified.tenant_id, verified.key_id)
    enforce_rate_limit(verified.key_id, verified.rate_limit_per_minute)


@bp.after_request
def finish(response):
    if g.get("license_warning"):
        response.headers["X-License-Warning"] = (
            "The tenant's license is not active; writes will be blocked under enforcement"
        )
    buffer = usage_buffer()
    if buffer.flush_due():
        response.call_on_close(buffer.flush_quietly)
    return response


def current_key() -> VerifiedKey:
    """The authenticated key of this request; raises if authentication did not run."""
    verified = g.get("api_key")
    if verified is None:
        raise RuntimeError("no authenticated API key on this request")
    return verified


def require_scope(scope: str) -> Callable:
    """Refuse (403) keys that lack ``scope``. ``*`` passes every check."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            current_key().require_scope(scope)
            return view(*args, **kwargs)

        wrapper.required_scope = scope  # type: ignore[attr-defined]
        return wrapper

    return decorate


def license_gated(view: Callable) -> Callable:
    """Writes: 402 under ``enforce`` with an inactive license; a warning header under ``warn``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        default = current_app.config["LICENSE_ENFORCEMENT"]
        g.license_warning = current_key().check_write_license(default)
        return view(*args, **kwargs)

    wrapper.license_gated = True  # type: ignore[attr-defined]
    return wrapper
