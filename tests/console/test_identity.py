"""Tenant and role from the token (SPEC §6.3, §6.4): Clerk v1/v2, JIT tenants, CONSOLE_IDPS."""

from __future__ import annotations

import json

import pytest

from core.extensions import keystore
from tests.conftest import TEST_ACTOR
from tests.console.idp import AUDIENCE, AZP, bearer


def _me(client, token):
    return client.get("/console/me", headers=bearer(token))


@pytest.mark.parametrize("role", ["admin", "member"])
def test_clerk_v1_and_v2_tokens_map_to_the_same_tenant_and_role(client, idp, tenant, role):
    v1 = _me(client, idp.token(version=1, role=role)).get_json()
    v2 = _me(client, idp.token(version=2, role=role)).get_json()
    assert (
        v1["tenant"] == v2["tenant"] == {"id": tenant.id, "name": "Acme", "external_id": "org_acme"}
    )
    assert v1["role"] == v2["role"] == role


def test_pending_v2_session_is_signed_out(client, idp, tenant):
    response = _me(client, idp.token(sts="pending"))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"


@pytest.mark.parametrize("version", [1, 2])
def test_token_without_an_active_organization_is_403_no_tenant(client, idp, version):
    response = _me(client, idp.token(version=version, org_id=None))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "AUTH_NO_TENANT"


def test_new_organization_gets_a_tenant_just_in_time_once(client, idp, app):
    token = idp.token(org_id="org_newcomer")
    first = _me(client, token).get_json()["tenant"]
    second = _me(client, idp.token(org_id="org_newcomer", role="member")).get_json()["tenant"]
    assert first == second
    assert first["external_id"] == "org_newcomer"
    (created,) = keystore.get().list_tenants()
    assert keystore.get().tenant_for_organization(idp.issuer, "org_newcomer").id == created.id
    license_body = client.get("/console/license", headers=bearer(token)).get_json()
    assert license_body["active"] is True


@pytest.fixture
def app_config(idp, sso) -> dict:
    """The main (Clerk) provider plus an SSO provider found by OIDC discovery (no jwks_url)."""
    custom = {
        "issuer": sso.issuer,
        "audience": "loopwave",
        "authorized_parties": [AZP],
        "tenant_claim": "https://loopwave.example/tenant",
        "role_claim": "groups",
        "admin_roles": ["loopwave-admins"],
        "auto_provision": False,
    }
    return {
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_AUTHORIZED_PARTIES": [AZP],
        "CONSOLE_AUDIENCE": AUDIENCE,
        "CONSOLE_IDPS": json.dumps([custom]),
        "CONSOLE_JWKS_MIN_REFRESH_SECONDS": 30,
    }


def _sso_token(sso, tenant_id="org_acme", groups=("loopwave-admins",), **claims):
    claims.setdefault("aud", "loopwave")
    return sso.token(
        version=0,
        org_id=None,
        **{"https://loopwave.example/tenant": tenant_id, "groups": list(groups)},
        **claims,
    )


def test_further_provider_maps_its_configured_claims(client, sso, tenant):
    keystore.get().link_organization(tenant.id, sso.issuer, "org_acme", TEST_ACTOR)
    response = _me(client, _sso_token(sso))
    assert response.status_code == 200, response.get_json()
    admin = response.get_json()
    assert admin["tenant"]["id"] == tenant.id
    assert admin["role"] == "admin"
    member = _me(client, _sso_token(sso, groups=["staff"])).get_json()
    assert member["role"] == "member"


def test_further_provider_is_verified_against_its_own_settings_alone(client, sso, idp, tenant):
    # The main provider's audience is not good enough for the SSO provider, and vice versa.
    assert _me(client, _sso_token(sso, aud=AUDIENCE)).status_code == 401
    stolen_kid = _sso_token(sso, headers={"kid": idp.signing_key.kid})
    assert _me(client, stolen_kid).status_code == 401


def test_auto_provision_off_refuses_unknown_organization(client, sso, app):
    response = _me(client, _sso_token(sso, tenant_id="org_unknown"))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "AUTH_NO_TENANT"
    assert keystore.get().list_tenants() == []
