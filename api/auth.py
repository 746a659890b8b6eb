"""Authentication of every tenant API route, and the scope and license checks on top.

Order of checks (cheapest first, none skipped): key missing -> shape and checksum (no
database) -> failed authentications of the client IP (429, no database) -> lookup ->
disabled/revoked/expired -> the key's IP allow-list (403, only for keys that have one) ->
rate limit (per rotation lineage) -> scope -> license.
A request refused by the allow-list is neither counted as usage nor against the key's rate
limit: whoever holds a key elsewhere cannot spend its owner's quota.
A key this worker has verified before is answered from its cache, which only ever held keys
that passed the shape and checksum test (``tenants.verify``).

Usage (SPEC §9.4) is counted per key, endpoint and outcome once the answer is known: every
request of an identified key counts, refused ones included (rate-limited, forbidden, and a
disabled, revoked or expired key as ``unauthorized``). A request with no key, a malformed or
an unknown one identifies no key and no tenant, so it is in no tenant's usage (only in the
``loopwave_auth_failures`` metric and the request log).

The hot path is kept lean on purpose: one ``before_request`` hook, no ``after_request`` hook
of its own (the quota headers are set by ``after_this_request``, on whatever the answer turns
out to be), services bound once in ``ApiGate``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any, ParamSpec, TypeVar

from flask import Response, after_this_request, current_app, g, request
from flask.blueprints import BlueprintSetupState

from api import bp
from core.authfailures import AuthFailureLimit
from core.clientip import Networks, client_ip_from, plain_peer
from core.endpoints import endpoint_label
from core.errors import ApiError, refusal_response
from core.extensions import auth_failures, keystore, rate_limiter, usage_buffer
from core.http import is_public_endpoint
from core.middleware import note_caller, when_answered
from core.ratelimit import QuotaHeaders, RateLimiter
from tenants import clock, leaks
from tenants.errors import DecoyKeyUsed, InvalidKey, StoreError
from tenants.usage import UsageBuffer
from tenants.verify import KeyVerifier, VerifiedKey

LICENSE_WARNING = "The tenant's license is not active; writes will be blocked under enforcement"
P = ParamSpec("P")
R = TypeVar("R")

WRONG_HEADER_MESSAGE = (
    "Send the API key in the x-tenant-api-key header; Authorization and X-API-Key are not accepted"
)


GATE = "loopwave.api_gate"
log = logging.getLogger("loopwave.api")


@dataclass(frozen=True, slots=True)
class ApiGate:
    """What every tenant API request passes before its view, bound once per application so
    the hot path looks nothing up twice: key verification, usage count, rate limit."""

    verifier: KeyVerifier
    usage: UsageBuffer
    limiter: RateLimiter
    failures: AuthFailureLimit
    trusted_proxies: Networks
    decoys: Callable[..., None]  # defers the record of a decoy key's use (``tenants.leaks``)

    def admit(
        self, environ: dict[str, Any], endpoint: str
    ) -> tuple[VerifiedKey, bool, QuotaHeaders | None]:
        """The verified key of the request in ``environ`` to ``endpoint``, whether buffered
        usage counts are due for a flush, and the quota headers of its answer; an ``ApiError``
        or ``StoreError`` when it may not pass."""
        presented = environ.get("HTTP_X_TENANT_API_KEY")
        if presented is None:
            if "HTTP_AUTHORIZATION" in environ or "HTTP_X_API_KEY" in environ:
                raise ApiError("AUTH_INVALID_KEY", WRONG_HEADER_MESSAGE)
            raise ApiError(
                "AUTH_INVALID_KEY", "Missing API key: send it in the x-tenant-api-key header"
            )
        now = clock.timestamp()
        # Only a failure that cost a database lookup counts against the client's address: a
        # revoked key refused from the cache costs nothing, and counting it would let a
        # server still sending its revoked key lock out its neighbours' keys.
        looked_up: list[bool] = []

        def before_lookup() -> None:
            self.failures.check(self._client_ip(environ))
            looked_up.append(True)

        try:
            verified = self.verifier.verify(presented, now, before_lookup)
        except DecoyKeyUsed as exc:
            # Answered as an unknown key is, counted as one too (a decoy is never cached, so
            # its use cost the lookup an unknown key costs; kept should that ever change).
            # A decoy identifies no tenant's usage: it is no key of theirs in use.
            if not looked_up:
                self.failures.check(self._client_ip(environ))
            self.failures.record(self._client_ip(environ))
            self._record_decoy_use(exc.key, environ)
            raise InvalidKey() from None
        except InvalidKey as refused:
            if looked_up:
                self.failures.record(self._client_ip(environ))
            if refused.identified is not None:
                self._count_when_answered(environ, refused.identified, endpoint, now, used=False)
            raise
        note_caller(environ, verified)
        # The socket peer is the client unless proxies are trusted: no call for the common case.
        proxied = self.trusted_proxies
        client_ip = self._client_ip(environ) if proxied else plain_peer(environ.get("REMOTE_ADDR"))
        if verified.allowed_networks is not None:
            try:
                verified.require_allowed_ip(client_ip)
            except StoreError:
                self._count_when_answered(environ, verified, endpoint, now, used=False)
                raise
        self._count_when_answered(environ, verified, endpoint, now, client_ip)
        flush_due = self.usage.flush_due(now)
        quota_headers = self.limiter.hit(verified.rate_limit_bucket, verified.rate_limit_per_minute)
        return verified, flush_due, quota_headers

    def _record_decoy_use(self, key: VerifiedKey, environ: dict[str, Any]) -> None:
        """``key.decoy_used``; a failure to record it never changes the answer."""
        try:
            self.decoys(
                key.key_id,
                key.tenant_id,
                self._client_ip(environ),
                environ.get("HTTP_USER_AGENT"),
                environ.get("REQUEST_METHOD", ""),
                environ.get("PATH_INFO", ""),
            )
        except Exception:  # noqa: BLE001 - the refusal must look like any other
            log.exception("could not record the use of decoy key %s", key.key_id)

    def _count_when_answered(
        self,
        environ: dict[str, Any],
        key: VerifiedKey,
        endpoint: str,
        now: float,
        client_ip: str | None = None,
        used: bool = True,
    ) -> None:
        """Count the request once answered; ``used``: it may move ``last_used_at``."""
        record = partial(
            self.usage.record,
            key.tenant_id,
            key.key_id,
            endpoint,
            now,
            client_ip=client_ip,
            used=used,
        )
        when_answered(environ, record)

    def _client_ip(self, environ: dict[str, Any]) -> str | None:
        return client_ip_from(environ, self.trusted_proxies)


def _deferring(buffer: UsageBuffer) -> Callable[..., None]:
    """Records a decoy key's use off the request thread, by the usage flush."""

    def record(*use: Any) -> None:
        buffer.defer(leaks.decoy_use(*use))

    return record


@bp.record_once
def build_gate(state: BlueprintSetupState) -> None:
    app = state.app
    app.extensions[GATE] = ApiGate(
        keystore.get(app).verifier,
        usage_buffer.get(app),
        rate_limiter.get(app),
        auth_failures.get(app),
        app.config["TRUSTED_PROXIES"],
        _deferring(usage_buffer.get(app)),
    )


@bp.before_request
def authenticate() -> Response | None:
    # One context lookup each, rather than one per attribute: this runs on every request.
    # Flask types its proxies as the objects behind them, without ``_get_current_object``:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # typed as Flask
    this_request = request._get_current_object()  # type: ignore[attr-defined]  # as Request
    if is_public_endpoint(app, this_request):
        return None
    gate: ApiGate = app.extensions[GATE]
    try:
        endpoint = endpoint_label(this_request.method, this_request.url_rule.rule)
        g.api_key, flush_due, quota_headers = gate.admit(this_request.environ, endpoint)
    except (StoreError, ApiError) as exc:
        # The refusal is answered here, as the error handler would answer it: a refused key
        # is the cheapest request there is, and letting the exception out of the hook made it
        # the dearest (Flask unwinds it and searches the handler maps of every class of its
        # hierarchy, for the blueprint and the app).
        return refusal_response(exc)
    if quota_headers is not None:

        def send_quota(response: Response) -> Response:
            (limit_name, limit), (remaining_name, remaining) = quota_headers
            response.headers.add(limit_name, limit)
            response.headers.add(remaining_name, remaining)
            return response

        after_this_request(send_quota)
    if flush_due:
        after_this_request(_flush_usage_after_response)
    return None


def _flush_usage_after_response(response: Response) -> Response:
    """Counts reach the database after the answer has gone out, never before it."""
    response.call_on_close(usage_buffer.get().flush_quietly)
    return response


def _warn_of_license(response: Response) -> Response:
    response.headers["X-License-Warning"] = LICENSE_WARNING
    return response


def current_key() -> VerifiedKey:
    """The authenticated key of this request; raises if authentication did not run."""
    verified: VerifiedKey | None = g.get("api_key")
    if verified is None:
        raise RuntimeError("no authenticated API key on this request")
    return verified


def require_scope(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Refuse (403) keys that lack ``scope``. ``*`` passes every check."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            current_key().require_scope(scope)
            return view(*args, **kwargs)

        wrapper.__dict__["required_scope"] = scope  # read by the OpenAPI builder
        return wrapper

    return decorate


def license_gated(view: Callable[P, R]) -> Callable[P, R]:
    """Writes: 402 under ``enforce`` with an inactive license; a warning header under ``warn``."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_key().check_write_license(current_app.config["LICENSE_ENFORCEMENT"]):
            after_this_request(_warn_of_license)
        return view(*args, **kwargs)

    wrapper.__dict__["license_gated"] = True  # read by the OpenAPI builder
    return wrapper
