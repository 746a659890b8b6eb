"""Fine-grained console permissions (SPEC §9.3): Clerk v1 ``org_permissions``, v2 ``o.per`` /
``o.fpm`` decoded against ``fea``, a further provider's ``permissions_claim``; admins hold
all; ``/console/me`` lists what is held. Tokens are shaped exactly like Clerk's."""

from __future__ import annotations

import pytest

from console.clerkpermissions import v2_permissions
from core.extensions import keystore
from tests.conftest import TEST_ACTOR
from tests.console.idp import further_providers_config
from tests.console.keys import call

READ, MANAGE, WEBHOOKS = "org:api_keys:read", "org:api_keys:manage", "org:webhooks:manage"

# (method, path, body, permission needed) — SPEC §7 with §9.3; ``None``: any member.
ROUTES = [
    ("GET", "/console/me", None, None),
    ("GET", "/console/keys", None, READ),
    ("GET", "/console/keys/{key}", None, READ),
    ("GET", "/console/alerts", None, READ),
    ("GET", "/console/audit-log", None, READ),
    ("GET", "/console/events", None, READ),
    ("GET", "/console/webhooks", None, WEBHOOKS),
    ("POST", "/console/keys", {"name": "new"}, MANAGE),
    ("PATCH", "/console/keys/{key}", {"description": "x"}, MANAGE),
    ("POST", "/console/keys/{key}/rotate", {"grace_seconds": 60}, MANAGE),
    ("POST", "/console/keys/{key}/revoke", None, MANAGE),
    ("GET", "/console/usage", None, None),
    ("GET", "/console/license", None, None),
]


@pytest.fixture
def app_config(idp, sso) -> dict:
    custom = {
        "issuer": sso.issuer,
        "jwks_url": sso.jwks_url,
        "audience": "loopwave",
        "tenant_claim": "org",
        "role_claim": "roles",
        "admin_roles": ["owner"],
        "permissions_claim": "authz.permissions",
        "auto_provision": False,
    }
    return further_providers_config(idp, custom)


def clerk_v2(idp, role: str, fea: str, per: str, fpm: str) -> str:
    """A Clerk v2 session token: ``fea`` top-level, ``per``/``fpm`` in ``o`` (all strings)."""
    organization = {"id": "org_acme", "rol": role, "slg": "acme", "per": per, "fpm": fpm}
    return idp.token(sub="user_v2", o=organization, fea=fea)


def clerk_v1(idp, role: str, permissions: list[str]) -> str:
    return idp.token(sub="user_v1", role=role, version=1, org_permissions=permissions)


@pytest.fixture
def key_id(store, tenant, api_key):
    api_key(name="existing")
    return store.list_keys(tenant.id)[0].id


def _reachable(client, token, key_id) -> dict[str, int]:
    """Status per route; the revoke runs last, so every other route meets a live key."""
    return {
        f"{method} {path}": call(client, token, method, path.format(key=key_id), body).status_code
        for method, path, body, _ in ROUTES
    }


def _expected(held: set[str]) -> dict[str, int]:
    statuses = {}
    for method, path, _, needed in ROUTES:
        ok = 201 if path.endswith(("/rotate", "/keys")) and method == "POST" else 200
        statuses[f"{method} {path}"] = ok if needed is None or needed in held else 403
    return statuses


# v2 tokens of members: (fea, o.per, o.fpm) -> console permissions held
V2_MEMBERS = [
    ("o:api_keys", "read", "1", {READ}),
    ("o:api_keys", "manage,read", "1", {MANAGE, READ}),  # manage implies read
    ("o:api_keys,o:webhooks", "manage,read", "2,1", {READ, WEBHOOKS}),
    ("u:profile,o:webhooks,uo:api_keys", "manage,read", "1,3", {WEBHOOKS, MANAGE, READ}),
    ("o:api_keys", "read,manage", "1", {READ}),  # bit 0 is the first name of o.per
    ("o:billing,o:api_keys", "manage,read", "3,0", set()),
    ("o:api_keys", "manage,read", "", set()),
    ("", "", "", set()),
]


@pytest.mark.parametrize(("fea", "per", "fpm", "held"), V2_MEMBERS)
def test_clerk_v2_member_reaches_exactly_what_the_token_grants(
    client, idp, tenant, key_id, fea, per, fpm, held
):
    token = clerk_v2(idp, "member", fea, per, fpm)
    me = call(client, token, "GET", "/console/me").get_json()
    assert set(me["permissions"]) == held and me["role"] == "member"
    assert _reachable(client, token, key_id) == _expected(held)


@pytest.mark.parametrize(
    ("permissions", "held"),
    [
        ([READ], {READ}),
        ([MANAGE], {MANAGE, READ}),
        ([WEBHOOKS, "org:sys_memberships:read"], {WEBHOOKS}),
        ([], set()),
    ],
)
def test_clerk_v1_member_reaches_exactly_what_org_permissions_grants(
    client, idp, tenant, key_id, permissions, held
):
    token = clerk_v1(idp, "member", permissions)
    assert set(call(client, token, "GET", "/console/me").get_json()["permissions"]) == held
    assert _reachable(client, token, key_id) == _expected(held)


@pytest.mark.parametrize("version", [1, 2])
def test_admins_hold_every_permission_whatever_the_token_lists(
    client, idp, tenant, key_id, version
):
    token = clerk_v2(idp, "admin", "", "", "") if version == 2 else clerk_v1(idp, "admin", [])
    me = call(client, token, "GET", "/console/me").get_json()
    assert me["permissions"] == [READ, MANAGE, WEBHOOKS]
    assert _reachable(client, token, key_id) == _expected({READ, MANAGE, WEBHOOKS})


def test_refusal_names_the_missing_permission(client, idp, tenant, key_id):
    token = clerk_v2(idp, "member", "o:api_keys", "read", "1")
    response = call(client, token, "POST", "/console/keys", {"name": "x"})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "AUTH_FORBIDDEN"
    assert error["details"] == {"required_permission": MANAGE}
    assert keystore.get().list_keys(tenant.id)[0].id == key_id  # nothing created


def test_permissions_of_another_organization_do_not_carry_over(client, idp, tenant, other_tenant):
    """A manager of one organization reaches only that organization's keys."""
    keystore.get().create_key(other_tenant.id, "theirs", TEST_ACTOR)
    organization = {"id": "org_acme", "rol": "member", "per": "manage", "fpm": "1"}
    token = idp.token(o=organization, fea="o:api_keys")
    assert call(client, token, "GET", "/console/keys").get_json() == {"data": []}


def _sso_token(sso, roles, permissions):
    return sso.token(
        version=0,
        org_id=None,
        aud="loopwave",
        org="org_acme",
        roles=roles,
        authz={"permissions": permissions},
    )


def test_a_further_provider_names_its_own_permissions_claim(client, sso, tenant, key_id):
    keystore.get().link_organization(tenant.id, sso.issuer, "org_acme", TEST_ACTOR)
    reader = _sso_token(sso, ["staff"], [READ, "something:else"])
    assert call(client, reader, "GET", "/console/me").get_json()["permissions"] == [READ]
    assert _reachable(client, reader, key_id) == _expected({READ})
    as_text = _sso_token(sso, ["staff"], f"{MANAGE} {WEBHOOKS}")
    held = set(call(client, as_text, "GET", "/console/me").get_json()["permissions"])
    assert held == {READ, MANAGE, WEBHOOKS}
    owner = _sso_token(sso, ["owner"], [])
    assert call(client, owner, "GET", "/console/me").get_json()["permissions"] == [
        READ,
        MANAGE,
        WEBHOOKS,
    ]


def test_clerk_documentation_example_decodes():
    """Clerk's "Decode o.fpm manually": dashboard:read+manage, teams:read."""
    assert v2_permissions("o:dashboard,o:teams", "manage,read", "3,2") == {
        "org:dashboard:manage",
        "org:dashboard:read",
        "org:teams:read",
    }


@pytest.mark.parametrize(
    ("fea", "per", "fpm"),
    [
        (None, "read", "1"),
        ("o:api_keys", ["read"], "1"),
        ("o:api_keys", "read", 1),
        ("o:api_keys", "read", "-1"),
        ("o:api_keys", "read", "0x1"),
        ("o:api_keys", "read", "١"),  # a non-ASCII digit
        ("o:api_keys", "read", "9" * 5000),
        ("u:api_keys", "read", "1"),  # a user feature grants no organization permission
        ("api_keys", "read", "1"),
    ],
)
def test_malformed_v2_claims_grant_nothing(fea, per, fpm):
    assert v2_permissions(fea, per, fpm) == frozenset()
