"""Key management: issue, list, rename, enable/disable, re-scope, revoke, rotate.

Every change is committed together with its audit event and then announced through the
invalidation signal, so every process refuses or re-reads the key on its next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from tenants import audit, clock, keyformat, scopes
from tenants.audit import Actor
from tenants.crypto import key_hash
from tenants.errors import InvalidInput, KeyRevoked, NotFound
from tenants.licenses import set_license
from tenants.models import ApiKey, License, Tenant
from tenants.signal import Signal
from tenants.verify import KeyVerifier

MAX_GRACE_SECONDS = 7 * 24 * 3600
MAX_RATE_LIMIT = 1_000_000
UNSET = object()


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key. ``full_key`` exists only here, for the one response that shows it."""

    record: ApiKey
    full_key: str


class KeyStore:
    def __init__(self, session: scoped_session[Session] | Session, signal: Signal, prefix: str):
        self.session = session
        self.signal = signal
        self.prefix = prefix
        self.verifier = KeyVerifier(lambda: session, signal, prefix)

    # -- tenants -------------------------------------------------------------------------

    def create_tenant(self, name: str, external_id: str | None = None) -> Tenant:
        tenant = Tenant(name=name, external_id=external_id)
        self.session.add(tenant)
        self.session.flush()
        self.session.add(License(tenant_id=tenant.id, status="active"))
        self.session.commit()
        return tenant

    def list_tenants(self) -> list[Tenant]:
        return list(self.session.scalars(select(Tenant).order_by(Tenant.id)))

    def tenant(self, tenant_id: str) -> Tenant:
        tenant = self.session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"No tenant with id '{tenant_id}'")
        return tenant

    def tenant_by_external_id(self, external_id: str) -> Tenant | None:
        return self.session.scalar(select(Tenant).where(Tenant.external_id == external_id))

    def provision_tenant(self, external_id: str, name: str) -> Tenant:
        """The organization's tenant, created on first sight (just-in-time).

        Two processes may see a new organization at once: the loser of the unique
        ``external_id`` race rolls back and reads the winner's tenant.
        """
        existing = self.tenant_by_external_id(external_id)
        if existing is not None:
            return existing
        try:
            return self.create_tenant(name, external_id)
        except IntegrityError:
            self.session.rollback()
            winner = self.tenant_by_external_id(external_id)
            if winner is None:
                raise
            return winner

    def set_license(self, tenant_id: str, status: str, **fields) -> License:
        self.tenant(tenant_id)
        row = set_license(self.session, tenant_id, status, **fields)
        self._commit()
        return row

    # -- keys ----------------------------------------------------------------------------

    def list_keys(self, tenant_id: str) -> list[ApiKey]:
        statement = ApiKey.for_tenant(tenant_id).order_by(ApiKey.id.desc())
        return list(self.session.scalars(statement))

    def get_key(self, tenant_id: str, key_id: str) -> ApiKey:
        return ApiKey.get_for_tenant(self.session, tenant_id, key_id)

    def create_key(
        self,
        tenant_id: str,
        name: str,
        actor: Actor,
        requested_scopes: Iterable[str] | None = None,
        expires_at: datetime | None = None,
        rate_limit_per_minute: int | None = None,
    ) -> IssuedKey:
        self.tenant(tenant_id)
        issued = self._issue(
            tenant_id,
            name=_clean_name(name),
            key_scopes=scopes.normalise(requested_scopes),
            expires_at=_future_or_none(expires_at),
            rate_limit_per_minute=_rate_limit(rate_limit_per_minute),
        )
        audit.record(
            self.session,
            tenant_id,
            actor,
            "key.created",
            issued.record.id,
            {"name": issued.record.name, "scopes": issued.record.scopes},
        )
        self._commit()
        return issued

    def update_key(
        self,
        tenant_id: str,
        key_id: str,
        actor: Actor,
        *,
        name=UNSET,
        enabled=UNSET,
        key_scopes=UNSET,
    ) -> ApiKey:
        key = self._changeable(tenant_id, key_id)
        changes: dict[str, object] = {}
        if name is not UNSET and _clean_name(name) != key.name:
            changes["name"] = [key.name, _clean_name(name)]
            key.name = _clean_name(name)
        if enabled is not UNSET and bool(enabled) != key.enabled:
            changes["enabled"] = [key.enabled, bool(enabled)]
            key.enabled = bool(enabled)
        if key_scopes is not UNSET:
            if not key_scopes:
                # "No scopes means *" is a creation default; here it would widen access.
                raise InvalidInput(
                    'scopes cannot be empty; send ["*"] for every scope', {"field": "scopes"}
                )
            normalised = scopes.normalise(key_scopes)
            if normalised != key.scopes:
                changes["scopes"] = [key.scopes, normalised]
                key.scopes = normalised
        if changes:
            audit.record(self.session, tenant_id, actor, _update_action(changes), key.id, changes)
            self._commit()
        return key

    def revoke_key(self, tenant_id: str, key_id: str, actor: Actor) -> ApiKey:
        key = self._changeable(tenant_id, key_id)
        key.revoked_at = clock.now()
        audit.record(self.session, tenant_id, actor, "key.revoked", key.id)
        self._commit()
        return key

    def rotate_key(
        self, tenant_id: str, key_id: str, actor: Actor, grace_seconds: int = 0
    ) -> IssuedKey:
        """A new key with the same name and scopes; the old one works ``grace_seconds`` more."""
        if not isinstance(grace_seconds, int) or not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            raise InvalidInput(
                f"grace_seconds must be an integer from 0 to {MAX_GRACE_SECONDS}",
                {"field": "grace_seconds"},
            )
        old = self._changeable(tenant_id, key_id)
        now = clock.now()
        issued = self._issue(
            tenant_id,
            name=old.name,
            key_scopes=list(old.scopes),
            expires_at=old.expires_at,
            rate_limit_per_minute=old.rate_limit_per_minute,
            enabled=old.enabled,
            rotated_from_id=old.id,
        )
        if grace_seconds == 0:
            old.revoked_at = now
        else:
            grace_until = now + timedelta(seconds=grace_seconds)
            old.expires_at = min(old.expires_at or grace_until, grace_until)
        audit.record(
            self.session,
            tenant_id,
            actor,
            "key.rotated",
            old.id,
            {"new_key_id": issued.record.id, "grace_seconds": grace_seconds},
        )
        self._commit()
        return issued

    # -- internals -----------------------------------------------------------------------

    def _issue(self, tenant_id: str, *, name: str, key_scopes: list[str], **fields) -> IssuedKey:
        new = keyformat.generate(self.prefix)
        record = ApiKey(
            tenant_id=tenant_id,
            name=name,
            key_hash=key_hash(new.full_key),
            display_start=new.display_start,
            last4=new.last4,
            scopes=key_scopes,
            **fields,
        )
        self.session.add(record)
        self.session.flush()
        return IssuedKey(record, new.full_key)

    def _changeable(self, tenant_id: str, key_id: str) -> ApiKey:
        key = self.get_key(tenant_id, key_id)
        if key.revoked_at is not None:
            raise KeyRevoked()
        return key

    def _commit(self) -> None:
        try:
            self.session.commit()
        except Exception:
            self.session.rollback()
            raise
        self.signal.bump()


def _clean_name(name: object) -> str:
    """The trimmed name; key-shaped text in it is redacted, since a name is kept in the key's
    row and the audit log and shown in every list (SPEC §5: no table holds a key)."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise InvalidInput(
            "name must be a non-empty string of at most 100 characters", {"field": "name"}
        )
    return keyformat.redact_keys(name.strip())


def _rate_limit(per_minute: object) -> int | None:
    """``None``: the configured default; ``0``: unlimited; otherwise requests per minute."""
    valid = isinstance(per_minute, int) and not isinstance(per_minute, bool)
    if per_minute is not None and not (valid and 0 <= per_minute <= MAX_RATE_LIMIT):
        raise InvalidInput(
            f"rate_limit_per_minute must be an integer from 0 to {MAX_RATE_LIMIT}",
            {"field": "rate_limit_per_minute"},
        )
    return per_minute  # type: ignore[return-value]


def _future_or_none(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at <= clock.now():
        raise InvalidInput("expires_at must be in the future", {"field": "expires_at"})
    return expires_at


def _update_action(changes: dict[str, object]) -> str:
    if set(changes) == {"enabled"}:
        return "key.enabled" if changes["enabled"][1] else "key.disabled"  # type: ignore[index]
    if set(changes) == {"name"}:
        return "key.renamed"
    if set(changes) == {"scopes"}:
        return "key.rescoped"
    return "key.updated"
