"""Console fixtures: ``idp`` (a real JWKS provider on loopback), ``admin_token``, ``member_token``,
``sso`` (a further provider, configured by the tests that want it).

The ``app`` of every console test trusts ``idp`` as its main provider (``CONSOLE_ISSUER``),
requires ``azp`` to be ``AZP`` and ``aud`` to contain ``AUDIENCE``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenants.models import Tenant
from tests.console.idp import IdentityProvider, console_config


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def sso() -> Iterator[IdentityProvider]:
    """A further provider on loopback, for the tests that configure one in ``CONSOLE_IDPS``."""
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def app_config(idp) -> dict:
    return console_config(idp)


@pytest.fixture
def tenant(store, idp) -> Tenant:
    """Bound to organization ``org_acme`` of ``idp``."""
    return store.create_tenant("Acme", external_id="org_acme", issuer=idp.issuer)


@pytest.fixture
def other_tenant(store, idp) -> Tenant:
    return store.create_tenant("Globex", external_id="org_globex", issuer=idp.issuer)


@pytest.fixture
def admin_token(idp, tenant) -> str:
    """A Clerk v2 session token of an admin of ``tenant``'s organization."""
    return idp.token(sub="user_admin", org_id="org_acme", role="admin")


@pytest.fixture
def member_token(idp, tenant) -> str:
    return idp.token(sub="user_member", org_id="org_acme", role="member")
