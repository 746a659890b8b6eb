"""Key management: issue, list, change (name, state, scopes, notes, allow-list, limit,
expiry), revoke, rotate.

Every change is committed together with its audit entry, its event (``tenants.events``, the
outbox webhooks are delivered from) and a bump of the change counter (``tenants.changes``),
then announced through the invalidation signal, so every process refuses or re-reads the key
on its next request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from tenants import allowlist, audit, clock, events, keyfields, keyformat, scopes
from tenants.audit import Actor
from tenants.changes import record_change
from tenants.crypto import key_hash
from tenants.errors import Conflict, InvalidInput, KeyRevoked, NotFound
from tenants.ids import new_id
from tenants.licenses import set_license
from tenants.models import ApiKey, License, Organization, Tenant
from tenants.sessions import DbSession
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
    def __init__(
        self,
        session: DbSession,
        signal: Signal,
        prefix: str,
        max_active_keys: int = 200,
    ):
        self.session = session
        self.signal = signal
        self.prefix = prefix
        self.max_active_keys = max_active_keys  # per tenant: MAX_ACTIVE_KEYS_PER_TENANT
        self.verifier = KeyVerifier(lambda: session, signal, prefix)

    # -- tenants -------------------------------------------------------------------------

    def create_tenant(
        self, name: str, external_id: str | None = None, issuer: str | None = None
    ) -> Tenant:
        """A tenant with an active license; with ``external_id``, bound to that organization
        of ``issuer`` (both or neither)."""
        if (external_id is None) != (issuer is None):
            raise InvalidInput("An organization id needs its issuer, and an issuer its id")
        tenant = Tenant(name=_tenant_name(name))
        self.session.add(tenant)
        self.session.flush()
        self.session.add(License(tenant_id=tenant.id, status="active"))
        if external_id is not None:
            self.session.add(
                Organization(tenant_id=tenant.id, issuer=issuer, external_id=external_id)
            )
        self.session.commit()
        return tenant

    def list_tenants(self) -> list[Tenant]:
        return list(self.session.scalars(select(Tenant).order_by(Tenant.id)))

    def tenant(self, tenant_id: str) -> Tenant:
        tenant = self.session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"No tenant with id '{tenant_id}'")
        return tenant

    def organizations(self, tenant_id: str) -> list[Organization]:
        statement = select(Organization).where(Organization.tenant_id == tenant_id)
        return list(self.session.scalars(statement.order_by(Organization.id)))

    def tenant_for_organization(self, issuer: str, external_id: str) -> Tenant | None:
        """The tenant bound to this (issuer, organization id) pair, if any."""
        statement = (
            select(Tenant)
            .join(Organization, Organization.tenant_id == Tenant.id)
            .where(Organization.issuer == issuer, Organization.external_id == external_id)
        )
        return self.session.scalar(statement)

    def provision_tenant(self, issuer: str, external_id: str, name: str) -> Tenant:
        """The organization's tenant, created on first sight (just-in-time) and bound to the
        issuer of the token that named it.

        Two processes may see a new organization at once: the loser of the unique
        (issuer, external id) race rolls back and reads the winner's tenant.
        """
        existing = self.tenant_for_organization(issuer, external_id)
        if existing is not None:
            return existing
        try:
            return self.create_tenant(name, external_id, issuer)
        except IntegrityError:
            self.session.rollback()
            winner = self.tenant_for_organization(issuer, external_id)
            if winner is None:
                raise
            return winner

    def link_organization(
        self, tenant_id: str, issuer: str, external_id: str, actor: Actor
    ) -> Organization:
        """Let a further provider's organization reach ``tenant_id`` (an operator's decision).

        A pair already bound to another tenant is a ``Conflict``; one bound to this tenant
        is returned as it is.
        """
        if not issuer or not external_id:
            raise InvalidInput("Give both the issuer and the organization id")
        self.tenant(tenant_id)
        bound = self.tenant_for_organization(issuer, external_id)
        if bound is not None and bound.id != tenant_id:
            raise Conflict(
                f"Organization '{external_id}' of {issuer} is bound to tenant {bound.id}"
            )
        if bound is None:
            self.session.add(
                Organization(tenant_id=tenant_id, issuer=issuer, external_id=external_id)
            )
            audit.record(
                self.session,
                tenant_id,
                actor,
                "organization.linked",
                None,
                {"issuer": issuer, "external_id": external_id},
            )
            self._commit()
        statement = select(Organization).where(
            Organization.issuer == issuer, Organization.external_id == external_id
        )
        return self.session.scalars(statement).one()

    def set_license(self, tenant_id: str, status: str, **fields: Any) -> License:
        self.tenant(tenant_id)
        row = set_license(self.session, tenant_id, status, **fields)
        event = events.new_event(
            tenant_id, "license.updated", {"object": events.license_object(row)}
        )
        self._commit([event])
        return row

    # -- keys ----------------------------------------------------------------------------

    def list_keys(self, tenant_id: str, modes: Iterable[str] = keyformat.MODES) -> list[ApiKey]:
        statement = ApiKey.for_tenant(tenant_id).where(ApiKey.mode.in_(list(modes)))
        return list(self.session.scalars(statement.order_by(ApiKey.id.desc())))

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
        *,
        mode: str = "live",
        description: str = "",
        metadata: dict[str, str] | None = None,
        allowed_ips: list[str] | None = None,
        decoy: bool = False,
    ) -> IssuedKey:
        """A key; with ``decoy``, a tripwire that never authenticates (``tenants.leaks``)."""
        self.tenant(tenant_id)
        if mode not in keyformat.MODES:
            raise InvalidInput("mode must be live or test", {"field": "mode"})
        fields: dict[str, Any] = {
            "mode": mode,
            "name": _clean_name(name),
            "key_scopes": scopes.normalise(requested_scopes),
            "expires_at": _future_or_none(expires_at),
            "rate_limit_per_minute": _rate_limit(rate_limit_per_minute),
            "decoy": bool(decoy),
            "description": keyfields.description(description),
            "key_metadata": keyfields.metadata(metadata or {}),
            "allowed_ips": allowlist.normalise(allowed_ips or []),
        }
        self._hold_room_for_one_more(tenant_id)
        issued = self._issue(tenant_id, **fields)
        record = issued.record
        created: dict[str, object] = {"name": record.name, "scopes": record.scopes}
        if decoy:
            created["decoy"] = True
        created["mode"] = record.mode
        for field, value in _audited(record).items():
            if value not in (None, "", [], {}):
                created[field] = value
        entry = audit.entry(
            tenant_id, actor, "key.created", record.id, created, livemode=record.live
        )
        event = events.new_event(tenant_id, "key.created", {"object": events.key_object(record)})
        self._commit([event], [entry])
        return issued

    def update_key(
        self,
        tenant_id: str,
        key_id: str,
        actor: Actor,
        *,
        name: Any = UNSET,
        enabled: Any = UNSET,
        key_scopes: Any = UNSET,
        description: Any = UNSET,
        metadata: Any = UNSET,
        allowed_ips: Any = UNSET,
        rate_limit_per_minute: Any = UNSET,
        expires_at: Any = UNSET,
    ) -> ApiKey:
        """Change what is given (``UNSET`` leaves a field alone); each change is audited with
        its old and new value. Nothing changes when any value is refused."""
        key = self._changeable(tenant_id, key_id)
        before = _audited(key)
        wanted: dict[str, object] = {}
        if description is not UNSET:
            wanted["description"] = keyfields.description(description)
        if metadata is not UNSET:
            wanted["key_metadata"] = keyfields.metadata(metadata)
        if allowed_ips is not UNSET:
            wanted["allowed_ips"] = allowlist.normalise(allowed_ips)
        if rate_limit_per_minute is not UNSET:
            wanted["rate_limit_per_minute"] = _rate_limit(rate_limit_per_minute)
        if expires_at is not UNSET:
            wanted["expires_at"] = _new_expiry(key, expires_at)
        if name is not UNSET:
            _clean_name(name)  # refused before anything is changed
        changes: dict[str, list[Any]] = {}
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
        for attribute, value in wanted.items():
            setattr(key, attribute, value)
        after = _audited(key)
        changes.update(
            {field: [before[field], new] for field, new in after.items() if new != before[field]}
        )
        if changes:
            action = _update_action(changes)
            entry = audit.entry(tenant_id, actor, action, key.id, changes, livemode=key.live)
            previous = {field: values[0] for field, values in changes.items()}
            data = {"object": events.key_object(key), "previous_attributes": previous}
            self._commit([events.new_event(tenant_id, "key.updated", data)], [entry])
        return key

    def revoke_key(self, tenant_id: str, key_id: str, actor: Actor) -> ApiKey:
        key = self._changeable(tenant_id, key_id)
        key.revoked_at = clock.now()
        entry = audit.entry(tenant_id, actor, "key.revoked", key.id, livemode=key.live)
        event = events.new_event(tenant_id, "key.revoked", {"object": events.key_object(key)})
        self._commit([event], [entry])
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
        if old.replaced_by_id is not None:
            # One successor per key: a second would fork the lineage and orphan the first.
            raise Conflict(
                f"This key was already rotated into {old.replaced_by_id}; rotate that one",
                {"replaced_by_id": old.replaced_by_id},
            )
        if old.decoy:
            raise Conflict("A decoy key cannot be rotated; create another decoy instead")
        now = clock.now()
        if old.expires_at is not None and old.expires_at <= now:
            # Its successor would inherit the past expiry: a key shown once that never works.
            raise Conflict("This key has expired; create a new one", {"field": "expires_at"})
        successor: dict[str, Any] = {
            "mode": old.mode,
            "name": old.name,
            "key_scopes": list(old.scopes),
            "expires_at": old.expires_at,
            "rate_limit_per_minute": old.rate_limit_per_minute,
            "enabled": old.enabled,
            "rotated_from_id": old.id,
            "lineage_id": old.lineage_id,
            "description": old.description,
            "key_metadata": dict(old.key_metadata),
            "allowed_ips": list(old.allowed_ips),
        }
        if grace_seconds == 0:
            old.revoked_at = now
        else:
            grace_until = now + timedelta(seconds=grace_seconds)
            old.expires_at = min(old.expires_at or grace_until, grace_until)
        # Counted after the old key's change: rotating without grace never adds an active key.
        self._hold_room_for_one_more(tenant_id)
        issued = self._issue(tenant_id, **successor)
        old.replaced_by_id = issued.record.id
        entry = audit.entry(
            tenant_id,
            actor,
            "key.rotated",
            old.id,
            {"new_key_id": issued.record.id, "grace_seconds": grace_seconds},
            livemode=old.live,
        )
        data = {
            "object": events.key_object(issued.record),
            "previous_key": events.key_object(old),
            "grace_seconds": grace_seconds,
        }
        self._commit([events.new_event(tenant_id, "key.rotated", data)], [entry])
        return issued

    # -- internals -----------------------------------------------------------------------

    def _hold_room_for_one_more(self, tenant_id: str) -> None:
        """Lock the tenant for the rest of the transaction, then refuse (409) a key beyond
        ``max_active_keys`` active (neither revoked nor expired) ones.

        The lock serialises issuing per tenant, so concurrent creates cannot overshoot: a
        no-op UPDATE of the tenant's row holds PostgreSQL's row lock, and SQLite's database
        write lock, until the commit, and the count runs after it, seeing every key committed
        before (a new snapshot per statement under READ COMMITTED). An UPDATE rather than
        ``SELECT ... FOR UPDATE``, which SQLite does not have: one statement locks on both.
        """
        self.session.execute(
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(name=Tenant.name)
            .execution_options(synchronize_session=False)
        )
        active = self.session.execute(
            select(func.count())
            .select_from(ApiKey)
            .where(
                ApiKey.tenant_id == tenant_id,
                ApiKey.revoked_at.is_(None),
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > clock.now()),
            )
        ).scalar_one()
        if active >= self.max_active_keys:
            # Release the lock now, and undo what the caller changed (a rotated key's revoke).
            self.session.rollback()
            raise Conflict(
                f"A tenant may have at most {self.max_active_keys} active API keys "
                f"(MAX_ACTIVE_KEYS_PER_TENANT) and this one has {active}; revoke one first",
                {"max_active_keys": self.max_active_keys},
            )

    def _issue(
        self,
        tenant_id: str,
        *,
        name: str,
        mode: str,
        key_scopes: list[str],
        lineage_id: str | None = None,
        **fields: Any,
    ) -> IssuedKey:
        new = keyformat.generate(self.prefix, mode)
        key_id = new_id("key")
        record = ApiKey(
            id=key_id,
            lineage_id=lineage_id or key_id,
            tenant_id=tenant_id,
            name=name,
            mode=mode,
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

    def commit_change(
        self,
        outbox: Sequence[dict[str, Any]] = (),
        audit_entries: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Commit a key change made by a collaborator (``tenants.leaks``) with its events and
        audit entries: the change counter is bumped and the change announced, as for every
        change made here."""
        self._commit(outbox, audit_entries)

    def _commit(
        self,
        outbox: Sequence[dict[str, Any]] = (),
        audit_entries: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Commit the session's changes with their events (``events.new_event`` rows) and
        audit entries (``audit.entry`` rows), written with the change counter's bump: on
        PostgreSQL one statement (``tenants.changes.record_change``)."""
        try:
            record_change(self.session, outbox, audit_entries)
            self.session.commit()
        except Exception:
            self.session.rollback()
            raise
        self.signal.bump()


def _tenant_name(name: str) -> str:
    """A tenant's name as stored: just-in-time tenants are named after a token's
    organization slug, which no one checked, so it is made printable, kept to the column's
    200 characters, and key-shaped text in it is redacted."""
    printable = "".join(char for char in name if char.isprintable()).strip()
    return keyformat.redact_keys(printable)[:200] or "Unnamed tenant"


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
    if per_minute is None:
        return None
    if (
        isinstance(per_minute, bool)
        or not isinstance(per_minute, int)
        or not 0 <= per_minute <= MAX_RATE_LIMIT
    ):
        raise InvalidInput(
            f"rate_limit_per_minute must be an integer from 0 to {MAX_RATE_LIMIT}",
            {"field": "rate_limit_per_minute"},
        )
    return per_minute


def _audited(key: ApiKey) -> dict[str, object]:
    """The §9.2 fields of ``key`` as the audit log keeps them (JSON: times as ISO text)."""
    return {
        "description": key.description,
        "metadata": dict(key.key_metadata or {}),
        "allowed_ips": list(key.allowed_ips or []),
        "rate_limit_per_minute": key.rate_limit_per_minute,
        "expires_at": clock.iso(key.expires_at),
    }


def _new_expiry(key: ApiKey, expires_at: datetime | None) -> datetime | None:
    """A future expiry, or ``None`` for none. An expired key stays expired (like a revoked
    one), and a rotated key's expiry is its grace period, which its successor ends."""
    if key.replaced_by_id is not None:
        raise Conflict(
            f"This key was rotated into {key.replaced_by_id}; its expiry ends the grace period",
            {"field": "expires_at"},
        )
    if key.expires_at is not None and key.expires_at <= clock.now():
        raise Conflict("This key has expired; issue a new one", {"field": "expires_at"})
    return _future_or_none(expires_at)


def _future_or_none(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at <= clock.now():
        raise InvalidInput("expires_at must be in the future", {"field": "expires_at"})
    return expires_at


def _update_action(changes: dict[str, list[Any]]) -> str:
    if set(changes) == {"enabled"}:
        return "key.enabled" if changes["enabled"][1] else "key.disabled"
    if set(changes) == {"name"}:
        return "key.renamed"
    if set(changes) == {"scopes"}:
        return "key.rescoped"
    return "key.updated"
