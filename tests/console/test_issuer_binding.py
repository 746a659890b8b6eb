"""A tenant is reached by its (issuer, organization id) pair only (SPEC §6.3).

Provider A is the main provider (``CONSOLE_ISSUER``); provider B, a further one of
``CONSOLE_IDPS``, signs a token naming A's organization id with an admin role: it must never
reach A's tenant, on any console route, whether B may create tenants just in time or not.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from core.extensions import db, keystore
from tenants.models import ApiKey, AuditEvent, Organization, Tenant
from tests.conftest import TEST_ACTOR
from tests.console.idp import AUDIENCE, AZP, IdentityProvider, bearer, further_providers_config

ATTACKS = [
    ("GET", "/console/me", None),
    ("GET", "/console/keys", None),
    ("POST", "/console/keys", {"name": "backdoor"}),
    ("PATCH", "/console/keys/{key_id}", {"name": "owned", "enabled": False}),
    ("POST", "/console/keys/{key_id}/revoke", None),
    ("POST", "/console/keys/{key_id}/rotate", {"grace_seconds": 0}),
    ("GET", "/console/audit-log", None),
    ("GET", "/console/usage", None),
    ("GET", "/console/license", None),
]


@pytest.fixture
def provider_b() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture(params=[False, True], ids=["no-auto-provision", "auto-provision"])
def auto_provision(request) -> bool:
    return request.param


@pytest.fixture
def app_config(idp, provider_b, auto_provision) -> dict:
    further = {
        "issuer": provider_b.issuer,
        "jwks_url": provider_b.jwks_url,
        "audience": "loopwave",
        "tenant_claim": "org_id",
        "role_claim": "roles",
        "admin_roles": ["admin"],
        "auto_provision": auto_provision,
    }
    return further_providers_config(idp, further)


def _mallory(provider_b: IdentityProvider) -> str:
    return provider_b.token(
        version=0, sub="mallory", org_id="org_acme", roles=["admin"], aud="loopwave"
    )


def _snapshot(tenant_id: str) -> list[tuple]:
    db.session.expire_all()
    keys = db.session.scalars(ApiKey.for_tenant(tenant_id).order_by(ApiKey.id))
    audit = db.session.scalars(AuditEvent.for_tenant(tenant_id).order_by(AuditEvent.id))
    return [
        (key.id, key.name, key.enabled, key.revoked_at, key.expires_at, tuple(key.scopes))
        for key in keys
    ] + [(entry.id, entry.action) for entry in audit]


@pytest.mark.parametrize(("method", "path", "body"), ATTACKS, ids=[a[1] + a[0] for a in ATTACKS])
def test_another_providers_token_naming_our_organization_never_reaches_our_tenant(
    client, idp, provider_b, tenant, api_key, admin_token, auto_provision, method, path, body
):
    key = api_key(name="production")
    key_id = db.session.scalars(ApiKey.for_tenant(tenant.id)).one().id
    # The rightful admin warms every cache of the console first.
    assert client.get("/console/me", headers=bearer(admin_token)).status_code == 200
    before = _snapshot(tenant.id)

    answer = client.open(
        path.format(key_id=key_id), method=method, json=body, headers=bearer(_mallory(provider_b))
    )

    if auto_provision:
        # B's organization "org_acme" is another organization: it gets a tenant of its own.
        assert answer.status_code in {200, 201, 404}, answer.get_json()
        own = keystore.get().tenant_for_organization(provider_b.issuer, "org_acme")
        assert own is not None and own.id != tenant.id
        assert tenant.id not in answer.get_data(as_text=True)
        assert key_id not in answer.get_data(as_text=True) or answer.status_code == 404
        if "{key_id}" in path:
            assert answer.status_code == 404
            assert answer.get_json()["error"]["code"] == "NOT_FOUND"
    else:
        assert answer.status_code == 403
        assert answer.get_json()["error"]["code"] == "AUTH_NO_TENANT"
        assert [t.id for t in keystore.get().list_tenants()] == [tenant.id]
    assert _snapshot(tenant.id) == before
    health = client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    assert health.status_code == 200


def test_me_names_the_issuer_and_a_jit_tenant_is_bound_to_its_issuer_alone(
    client, idp, provider_b, tenant, admin_token, auto_provision
):
    mine = client.get("/console/me", headers=bearer(admin_token)).get_json()
    assert (mine["issuer"], mine["tenant"]["id"]) == (idp.issuer, tenant.id)
    theirs = client.get("/console/me", headers=bearer(_mallory(provider_b)))
    if not auto_provision:
        assert theirs.status_code == 403
        return
    body = theirs.get_json()
    assert body["issuer"] == provider_b.issuer
    assert body["tenant"]["external_id"] == "org_acme" and body["tenant"]["id"] != tenant.id
    pairs = db.session.execute(sa.select(Organization.tenant_id, Organization.issuer)).all()
    assert sorted(pairs) == sorted(
        [(tenant.id, idp.issuer), (body["tenant"]["id"], provider_b.issuer)]
    )


def test_a_linked_organization_of_another_provider_reaches_the_tenant(
    client, provider_b, tenant, auto_provision
):
    keystore.get().link_organization(tenant.id, provider_b.issuer, "org_b", TEST_ACTOR)
    token = provider_b.token(version=0, org_id="org_b", roles=["admin"], aud="loopwave")
    me = client.get("/console/me", headers=bearer(token)).get_json()
    assert (me["tenant"]["id"], me["tenant"]["external_id"]) == (tenant.id, "org_b")
    created = client.post("/console/keys", headers=bearer(token), json={"name": "sso"})
    assert created.status_code == 201
    (entry,) = client.get("/console/audit-log", headers=bearer(token)).get_json()["data"][:1]
    assert (entry["actor"], entry["actor_issuer"]) == ("user_admin", provider_b.issuer)


@pytest.fixture
def dev_app_config(idp) -> dict:
    return {
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_JWKS_URL": idp.jwks_url,
        "CONSOLE_AUTHORIZED_PARTIES": [AZP],
        "CONSOLE_AUDIENCE": AUDIENCE,
        "DEV_LOGIN": True,
    }


def test_development_sign_in_never_reaches_a_real_providers_tenant(
    migrated, server_env, idp, dev_app_config
):
    app = create_app({"TESTING": True, **dev_app_config})
    with app.app_context():
        real = keystore.get().create_tenant("Acme", external_id="org_acme", issuer=idp.issuer)
        client = app.test_client()
        minted = client.post(
            "/dev-login/token", json={"user_id": "user_eve", "org_id": "org_acme", "role": "admin"}
        ).get_json()["token"]
        me = client.get("/console/me", headers=bearer(minted)).get_json()
        assert me["tenant"]["id"] != real.id
        assert me["issuer"] != idp.issuer
        db.session.execute(sa.delete(Tenant))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_migration_binds_existing_tenants_to_console_issuer(scratch_database_url):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": scratch_database_url,
        "CONSOLE_ISSUER": "https://clerk.acme.example",
    }
    app = create_app(config)
    with app.app_context():
        upgrade(revision="5b87f449f415")
        db.session.execute(
            sa.text(
                "INSERT INTO tenants (id, name, external_id, created_at) VALUES "
                "('ten_1', 'Acme', 'org_acme', '2026-01-01 00:00:00'), "
                "('ten_2', 'Local', NULL, '2026-01-01 00:00:00')"
            )
        )
        db.session.commit()
        upgrade()
        pairs = db.session.execute(
            sa.select(Organization.tenant_id, Organization.issuer, Organization.external_id)
        ).all()
        assert pairs == [("ten_1", "https://clerk.acme.example", "org_acme")]
        columns = [column["name"] for column in sa.inspect(db.engine).get_columns("tenants")]
        assert "external_id" not in columns
        db.session.remove()
        db.engine.dispose()
