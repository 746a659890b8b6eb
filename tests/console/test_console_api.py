"""The console API (SPEC §7): roles on every route, tenant isolation, key management."""

from __future__ import annotations

import pytest

from tests.console.idp import bearer

# (method, path, body, admin only) — the SPEC §7 table. ``{key}`` is a key of the tenant.
ROUTES = [
    ("GET", "/console/me", None, False),
    ("GET", "/console/keys", None, True),
    ("POST", "/console/keys", {"name": "new"}, True),
    ("PATCH", "/console/keys/{key}", {"name": "renamed"}, True),
    ("POST", "/console/keys/{key}/revoke", None, True),
    ("POST", "/console/keys/{key}/rotate", {"grace_seconds": 60}, True),
    ("GET", "/console/audit-log", None, True),
    ("GET", "/console/usage", None, False),
    ("GET", "/console/license", None, False),
]

# Routes that answer 201 on success; every other route answers 200.
CREATED = {("POST", "/console/keys"): 201, ("POST", "/console/keys/{key}/rotate"): 201}


def _call(client, token, method, path, body=None, **kwargs):
    return client.open(path, method=method, headers=bearer(token), json=body, **kwargs)


@pytest.fixture
def key_id(store, tenant, api_key):
    api_key(name="existing")
    return store.list_keys(tenant.id)[0].id


@pytest.mark.parametrize(("method", "path", "body", "admin_only"), ROUTES)
def test_members_see_only_member_routes(
    client, member_token, key_id, method, path, body, admin_only
):
    response = _call(client, member_token, method, path.format(key=key_id), body)
    if admin_only:
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "AUTH_FORBIDDEN"
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "admin_only"), ROUTES)
def test_admins_reach_every_route(client, admin_token, key_id, method, path, body, admin_only):
    response = _call(client, admin_token, method, path.format(key=key_id), body)
    assert response.status_code == CREATED.get((method, path), 200), response.get_json()


@pytest.mark.parametrize(("method", "path", "body", "admin_only"), ROUTES)
def test_every_route_refuses_a_missing_token(client, key_id, method, path, body, admin_only):
    response = client.open(path.format(key=key_id), method=method, json=body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PATCH", "", {"enabled": False}), ("POST", "/revoke", None), ("POST", "/rotate", None)],
)
def test_admin_of_another_organization_gets_404_and_changes_nothing(
    client, idp, store, tenant, other_tenant, key_id, method, suffix, body
):
    intruder = idp.token(sub="user_globex", org_id="org_globex", role="admin")
    response = _call(client, intruder, method, f"/console/keys/{key_id}{suffix}", body)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"
    key = store.get_key(tenant.id, key_id)
    assert key.enabled and key.revoked_at is None
    assert _call(client, intruder, "GET", "/console/keys").get_json() == {"data": []}


def test_create_shows_the_secret_once_and_list_never(client, admin_token):
    created = _call(
        client, admin_token, "POST", "/console/keys", {"name": "ci", "scopes": ["chats:read"]}
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["key"].startswith("lw_live_") and body["scopes"] == ["chats:read"]
    assert body["start"] == body["key"][:12] and body["last4"] == body["key"][-4:]
    listed = _call(client, admin_token, "GET", "/console/keys")
    assert body["key"] not in listed.get_data(as_text=True)
    assert [row["id"] for row in listed.get_json()["data"]] == [body["id"]]


KEY_FIELDS = {
    "decoy",
    "leaked_at",
    "id",
    "name",
    "start",
    "last4",
    "mode",
    "scopes",
    "enabled",
    "revoked_at",
    "expires_at",
    "created_at",
    "last_used_at",
    # SPEC §9.2
    "description",
    "metadata",
    "allowed_ips",
    "rate_limit_per_minute",
    "last_used_ip",
    "rotated_from_id",
    "replaced_by_id",
}


def test_key_objects_carry_exactly_the_spec_fields(client, admin_token):
    """SPEC §7 and §9.2: these fields, plus ``key`` on create and rotate, and nothing else."""
    created = _call(client, admin_token, "POST", "/console/keys", {"name": "ci"}).get_json()
    assert set(created) == KEY_FIELDS | {"key"}
    path = f"/console/keys/{created['id']}"
    rotated = _call(client, admin_token, "POST", f"{path}/rotate", {"grace_seconds": 60})
    assert set(rotated.get_json()) == KEY_FIELDS | {"key"}
    patched = _call(client, admin_token, "PATCH", path, {"name": "renamed"}).get_json()
    assert set(patched) == KEY_FIELDS
    listed = _call(client, admin_token, "GET", "/console/keys").get_json()["data"]
    assert len(listed) == 2 and all(set(row) == KEY_FIELDS for row in listed)


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": 5},
        {"name": "x", "scopes": ["nope:read"]},
        {"name": "x", "expires_at": "2000-01-01T00:00:00+00:00"},
        {"name": "x", "expires_at": "2999-01-01T00:00:00"},
        {"name": "x", "surprise": True},
    ],
)
def test_invalid_create_is_400_and_creates_nothing(client, admin_token, store, tenant, body):
    response = _call(client, admin_token, "POST", "/console/keys", body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"
    assert store.list_keys(tenant.id) == []


@pytest.mark.parametrize(
    "body", [{}, {"name": None}, {"enabled": "yes"}, {"scopes": "*"}, {"scopes": []}]
)
def test_invalid_patch_is_400(client, admin_token, key_id, body):
    response = _call(client, admin_token, "PATCH", f"/console/keys/{key_id}", body)
    assert response.status_code == 400


@pytest.mark.parametrize("grace", [-1, 7 * 24 * 3600 + 1, "60", True])
def test_rotate_with_bad_grace_is_400(client, admin_token, key_id, grace):
    response = _call(
        client, admin_token, "POST", f"/console/keys/{key_id}/rotate", {"grace_seconds": grace}
    )
    assert response.status_code == 400


def test_changing_a_revoked_key_is_409(client, admin_token, key_id):
    assert _call(client, admin_token, "POST", f"/console/keys/{key_id}/revoke").status_code == 200
    for method, suffix, body in [
        ("PATCH", "", {"name": "again"}),
        ("POST", "/revoke", None),
        ("POST", "/rotate", None),
    ]:
        response = _call(client, admin_token, method, f"/console/keys/{key_id}{suffix}", body)
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "CONFLICT"


def test_oversized_body_is_413_even_on_a_route_that_ignores_its_body(
    client, admin_token, store, tenant, key_id
):
    response = client.post(
        f"/console/keys/{key_id}/revoke",
        headers=bearer(admin_token),
        data=b"x" * (1024 * 1024 + 1),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert store.get_key(tenant.id, key_id).revoked_at is None


def test_audit_log_pages_with_a_cursor_newest_first(client, admin_token, key_id):
    for index in range(4):
        _call(client, admin_token, "PATCH", f"/console/keys/{key_id}", {"name": f"n{index}"})
    first = _call(client, admin_token, "GET", "/console/audit-log?limit=3").get_json()
    assert [e["changes"]["name"][1] for e in first["data"]] == ["n3", "n2", "n1"]
    rest = _call(
        client, admin_token, "GET", f"/console/audit-log?limit=3&cursor={first['next_cursor']}"
    ).get_json()
    assert [e["action"] for e in rest["data"]] == ["key.renamed", "key.created"]
    assert rest["next_cursor"] is None
    bad = _call(client, admin_token, "GET", "/console/audit-log?cursor=zzz")
    assert bad.status_code == 400


def test_usage_counts_tenant_api_requests_per_key(client, member_token, api_key):
    key = api_key(name="counted")
    for _ in range(3):
        assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    usage = _call(client, member_token, "GET", "/console/usage").get_json()["data"]
    assert [(row["key_name"], row["requests"]) for row in usage] == [("counted", 3)]
    assert usage[0]["key_last4"] == key[-4:]  # how the dashboard names a key


def test_license_shows_status_and_enforcement(client, member_token, store, tenant):
    store.set_license(tenant.id, "revoked", enforcement="warn")
    body = _call(client, member_token, "GET", "/console/license").get_json()
    assert body == {"status": "revoked", "expires_at": None, "enforcement": "warn", "active": False}


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_lone_surrogate_in_a_scope_is_a_400_that_changes_nothing(
    client, admin_token, store, tenant, key_id, method
):
    # The message names the unknown scope; a lone surrogate cannot be sent as UTF-8, so the
    # answer escapes it rather than failing (it did fail as a 500 once).
    path = "/console/keys" if method == "POST" else f"/console/keys/{key_id}"
    before = [(key.id, key.scopes) for key in store.list_keys(tenant.id)]
    response = client.open(
        path,
        method=method,
        headers={**bearer(admin_token), "Content-Type": "application/json"},
        data='{"name": "k", "scopes": ["\\ud800"]}',
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"
    assert b"\\ud800" in response.get_data()
    assert [(key.id, key.scopes) for key in store.list_keys(tenant.id)] == before
