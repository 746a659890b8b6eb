"""Verifying a presented API key: the hot path of every tenant API request.

A verified key is cached per process as an immutable snapshot of the key, its tenant and the
tenant's license, tagged with the invalidation generation read *before* the database lookup.
An entry is used only while the generation is unchanged, so a disable, revoke, re-scope,
rotation or license change committed anywhere is honoured on the next request. Expiry is a
time comparison on the snapshot, so it needs no invalidation at all.

The cache is asked first, by a digest of the presented text (``crypto.cache_digest``). Only
keys found in the database are ever entered: a malformed key always misses and is refused by
the shape and checksum test without reaching the database, and a well-formed key that is not
found is not remembered at all, so a flood of forged keys (the checksum is public) can never
evict verified keys. What such a flood may cost the database is bounded by the caller's
``before_lookup`` check (the per-client-IP limit on failed authentications).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tenants import allowlist, clock, keyformat, metrics, scopes
from tenants.crypto import cache_digest, key_hash
from tenants.errors import (
    DecoyKeyUsed,
    InsufficientScope,
    InvalidKey,
    IpNotAllowed,
    LicenseInactive,
)
from tenants.licenses import is_active
from tenants.models import ApiKey, License, Tenant
from tenants.sessions import DbSession
from tenants.signal import Signal


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    key_id: str
    key_name: str
    livemode: bool  # a test key (SPEC §9.1) reads and writes test data only
    scopes: tuple[str, ...]
    tenant_id: str
    tenant_name: str
    enabled: bool
    revoked: bool
    expires_at_epoch: float | None  # seconds: compared with ``clock.timestamp()`` per request
    rate_limit_per_minute: int | None
    rate_limit_bucket: str  # the first key of the rotation lineage: one window for all of it
    license_status: str
    license_expires_at: datetime | None
    license_enforcement: str | None
    decoy: bool = False
    # ``None``: no allow-list, the key works from anywhere (the common case costs one test).
    allowed_networks: allowlist.Networks | None = None

    def usable(self, now: float) -> bool:
        expires = self.expires_at_epoch
        return (
            self.enabled
            and not self.revoked
            and not self.decoy
            and (expires is None or expires > now)
        )

    def require_scope(self, required: str) -> None:
        if not scopes.allows(self.scopes, required):
            raise InsufficientScope(required)

    def require_allowed_ip(self, client_ip: str | None) -> None:
        """Refuse (403) a client address outside the key's allow-list; call only when
        ``allowed_networks`` is set."""
        if not allowlist.allows(self.allowed_networks or (), client_ip):
            raise IpNotAllowed()

    def check_write_license(self, default_enforcement: str) -> bool:
        """Raise under ``enforce`` if the license is inactive; True means: warn (``warn``).

        Test-mode writes are never license-gated (SPEC §9.1): integrators build while a
        license is pending."""
        if not self.livemode or is_active(
            self.license_status, self.license_expires_at, clock.now()
        ):
            return False
        if (self.license_enforcement or default_enforcement) == "enforce":
            raise LicenseInactive()
        return True


@dataclass(frozen=True, slots=True)
class _Entry:
    generation: int
    key: VerifiedKey


class KeyVerifier:
    def __init__(
        self,
        session_factory: Callable[[], DbSession],
        signal: Signal,
        prefix: str,
        cache_size: int = 50_000,
    ):
        self._session_factory = session_factory
        self._signal = signal
        self._shape = keyformat.KeyShape(prefix)
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._cache_size = cache_size

    def cached(self, presented: str, now: float) -> VerifiedKey | None:
        """The snapshot of a key verified before, when its cache entry is current and the key
        usable at ``now``: the common case, answered without ``verify``'s other branches.
        ``None`` otherwise; ``verify`` then answers (and refuses) as always."""
        entry = self._cache.get(cache_digest(presented))
        if entry is None or entry.generation != self._signal.current():
            return None  # ``None`` when the generation cannot be known: never equal
        key = entry.key
        expires = key.expires_at_epoch
        # ``usable`` inlined; a decoy is never cached.
        if not key.enabled or key.revoked or (expires is not None and expires <= now):
            return None
        metrics.key_cache_hit()
        return key

    def verify(
        self, presented: str, now: float, before_lookup: Callable[[], object] | None = None
    ) -> VerifiedKey:
        """The key's snapshot, or ``InvalidKey`` for anything missing, malformed or unusable
        at ``now`` (``clock.timestamp()``, read once per request by the caller).

        ``before_lookup`` runs right before a database lookup and may refuse it by raising.
        """
        # First the shape: the cache only ever holds well-formed keys, so a malformed one
        # (a miss) is refused before its digest is taken.
        if not self._shape.is_well_formed(presented):
            metrics.key_cache(hit=False)
            raise InvalidKey()
        cached_as = cache_digest(presented)
        generation = self._signal.current()
        entry = self._cache.get(cached_as)
        if entry is not None and generation is not None and entry.generation == generation:
            metrics.key_cache(hit=True)
            verified: VerifiedKey | None = entry.key
        else:
            metrics.key_cache(hit=False)
            # A key this process has verified before (its entry outdated by a change anywhere)
            # skips ``before_lookup``: a guesser sharing its address must not lock it out.
            if before_lookup is not None and entry is None:
                before_lookup()
            verified = self._load(key_hash(presented))
            # A decoy is never cached: each use costs the very lookup an unknown key costs,
            # so neither the answer nor the work done before it tells the two apart.
            if verified is not None and generation is not None and not verified.decoy:
                self._remember(cached_as, _Entry(generation, verified))
            elif entry is not None:  # gone: from now on it is any unknown key
                self._cache.pop(cached_as, None)
        if verified is not None and verified.decoy:
            raise DecoyKeyUsed(verified)
        if verified is None:
            raise InvalidKey()
        if not verified.usable(now):
            raise InvalidKey(identified=verified)
        return verified

    def is_well_formed(self, presented: str) -> bool:
        """Shape and checksum only: whether ``presented`` could be one of our keys."""
        return self._shape.is_well_formed(presented)

    def _remember(self, cached_as: bytes, entry: _Entry) -> None:
        self._cache[cached_as] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _load(self, digest: str) -> VerifiedKey | None:
        statement = (
            select(ApiKey, Tenant.name, License)
            .join(Tenant, Tenant.id == ApiKey.tenant_id)
            .outerjoin(License, License.tenant_id == ApiKey.tenant_id)
            .where(ApiKey.key_hash == digest)
        )
        session = self._session_factory()
        row = session.execute(statement).first()
        if row is None:
            return None
        key, tenant_name, license_row = row
        return VerifiedKey(
            key_id=key.id,
            key_name=key.name,
            livemode=key.mode == "live",
            scopes=tuple(key.scopes),
            tenant_id=key.tenant_id,
            tenant_name=tenant_name,
            enabled=key.enabled,
            revoked=key.revoked_at is not None,
            expires_at_epoch=key.expires_at.timestamp() if key.expires_at else None,
            rate_limit_per_minute=key.rate_limit_per_minute,
            rate_limit_bucket=key.lineage_id,
            license_status=license_row.status if license_row else "active",
            license_expires_at=license_row.expires_at if license_row else None,
            license_enforcement=license_row.enforcement if license_row else None,
            decoy=key.decoy,
            allowed_networks=allowlist.networks(key.allowed_ips),
        )
