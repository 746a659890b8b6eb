"""The tenant of a signed-in organization, found (or created just-in-time) by the token's
(issuer, organization id) pair: never by the organization id alone (SPEC §6.3).

Resolved on every console request, so found tenants are cached per process, tagged with the
key store's invalidation generation like verified API keys: any committed change elsewhere
makes the next request read the database again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from tenants.keys import KeyStore
from tenants.models import Tenant


@dataclass(frozen=True, slots=True)
class TenantRef:
    id: str
    name: str
    issuer: str
    external_id: str


class TenantDirectory:
    def __init__(self, store: KeyStore, cache_size: int = 10_000):
        self._store = store
        self._cache: OrderedDict[tuple[str, str], tuple[int, TenantRef]] = OrderedDict()
        self._cache_size = cache_size

    def for_organization(
        self, issuer: str, org_id: str, name: str, auto_provision: bool
    ) -> TenantRef | None:
        """The tenant bound to ``org_id`` of ``issuer``; created and bound to that issuer when
        unknown and ``auto_provision`` allows it, else ``None``."""
        pair = (issuer, org_id)
        generation = self._store.signal.current()
        cached = self._cache.get(pair)
        if cached is not None and generation is not None and cached[0] == generation:
            return cached[1]
        tenant: Tenant | None
        if auto_provision:
            tenant = self._store.provision_tenant(issuer, org_id, name)
        else:
            tenant = self._store.tenant_for_organization(issuer, org_id)
        if tenant is None:
            return None
        found = TenantRef(tenant.id, tenant.name, issuer, org_id)
        if generation is not None:
            self._cache[pair] = (generation, found)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found
