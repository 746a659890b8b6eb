"""``GET /console/keys/<id>``: one key of the tenant, shaped as listed; anything else a 404."""

from __future__ import annotations

from tests.conftest import TEST_ACTOR
from tests.console.idp import bearer


def test_one_key_as_the_list_shows_it(client, store, tenant, admin_token):
    issued = store.create_key(tenant.id, "billing", TEST_ACTOR, description="nightly sync")
    store.create_key(tenant.id, "other", TEST_ACTOR)
    response = client.get(f"/console/keys/{issued.record.id}", headers=bearer(admin_token))
    assert response.status_code == 200
    key = response.get_json()
    listed = client.get("/console/keys", headers=bearer(admin_token)).get_json()["data"]
    assert key == next(item for item in listed if item["id"] == issued.record.id)
    assert key["description"] == "nightly sync"
    assert "key" not in key and issued.full_key not in response.get_data(as_text=True)


def test_another_tenants_key_or_no_key_is_a_404(client, store, tenant, other_tenant, admin_token):
    theirs = store.create_key(other_tenant.id, "theirs", TEST_ACTOR).record.id
    for key_id in (theirs, "key_00000000000000000000000000", "nope", "key_%00"):
        response = client.get(f"/console/keys/{key_id}", headers=bearer(admin_token))
        assert response.status_code == 404, key_id
        assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_needs_read_permission(client, store, tenant, idp, member_token):
    key_id = store.create_key(tenant.id, "billing", TEST_ACTOR).record.id
    assert client.get(f"/console/keys/{key_id}", headers=bearer(member_token)).status_code == 403
    reader = idp.token(
        sub="user_r", role="member", version=1, org_permissions=["org:api_keys:read"]
    )
    assert client.get(f"/console/keys/{key_id}", headers=bearer(reader)).status_code == 200
