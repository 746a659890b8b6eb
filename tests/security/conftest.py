"""Pentest fixtures: the console fixtures of ``tests.console`` (a real JWKS provider on
loopback as ``CONSOLE_ISSUER``), a second provider ``idp_b`` in ``CONSOLE_IDPS``, and the
development provider (``DEV_LOGIN``, ``APP_ENV=development``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenants.models import Tenant
from tests.console.idp import AUDIENCE, AZP, IdentityProvider


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def idp_b() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def app_config(idp, idp_b) -> dict:
    return {
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_JWKS_URL": idp.jwks_url,
        "CONSOLE_AUTHORIZED_PARTIES": [AZP],
        "CONSOLE_AUDIENCE": AUDIENCE,
        "CONSOLE_JWKS_MIN_REFRESH_SECONDS": 30,
        "CONSOLE_IDPS": [
            {"issuer": idp_b.issuer, "jwks_url": idp_b.jwks_url, "authorized_parties": [AZP]}
        ],
        "DEV_LOGIN": True,
    }


@pytest.fixture
def tenant(store, idp) -> Tenant:
    """Bound to organization ``org_acme`` of the main provider."""
    return store.create_tenant("Acme", external_id="org_acme", issuer=idp.issuer)


@pytest.fixture
def admin_token(idp, tenant) -> str:
    return idp.token(sub="user_admin", org_id="org_acme", role="admin")
