"""Pentest fixtures: the console's (``tests.console.conftest``: a real JWKS provider on
loopback as ``CONSOLE_ISSUER``, ``tenant`` bound to its ``org_acme``, ``admin_token``), a
second provider ``idp_b`` in ``CONSOLE_IDPS``, and the development provider (``DEV_LOGIN``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.console.conftest import admin_token, idp, tenant  # noqa: F401 - shared fixtures
from tests.console.idp import AZP, IdentityProvider, console_config


@pytest.fixture
def idp_b() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def app_config(idp, idp_b) -> dict:  # noqa: F811 - the shared ``idp`` fixture
    return {
        **console_config(idp),
        "CONSOLE_IDPS": [
            {"issuer": idp_b.issuer, "jwks_url": idp_b.jwks_url, "authorized_parties": [AZP]}
        ],
        "DEV_LOGIN": True,
    }
