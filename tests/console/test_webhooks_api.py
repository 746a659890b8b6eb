"""Webhook endpoints in the console API (SPEC §10): admins only, the secret shown once and
never stored in the clear, bad input a 400, another tenant's endpoint a 404."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants.models import Base
from tests.console.idp import bearer


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "WEBHOOK_ALLOW_PRIVATE": True}


URL = "http://127.0.0.1:9/hooks"


def _create(client, token, **body):
    return client.post("/console/webhooks", headers=bearer(token), json={"url": URL, **body})


def _dump_database() -> str:
    rows = []
    for table in Base.metadata.sorted_tables:
        rows.extend(str(row) for row in db.session.execute(sa.select(table)))
    return "\n".join(rows)


def test_secret_is_shown_once_and_never_stored(client, admin_token):
    created = _create(client, admin_token, events=["key.revoked"], description="ops")
    assert created.status_code == 201
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["key.revoked"]
    listed = client.get("/console/webhooks", headers=bearer(admin_token)).get_json()["data"]
    fetched = client.get(f"/console/webhooks/{body['id']}", headers=bearer(admin_token))
    assert "secret" not in listed[0] and "secret" not in fetched.get_json()
    rotated = client.post(
        f"/console/webhooks/{body['id']}/rotate-secret", headers=bearer(admin_token)
    ).get_json()
    assert rotated["secret"] != body["secret"] and rotated["previous_secret_until"]
    dump = _dump_database()
    for secret in (body["secret"], rotated["secret"]):
        assert secret not in dump and secret.removeprefix("whsec_") not in dump


def test_patch_and_delete(client, admin_token):
    endpoint = _create(client, admin_token).get_json()
    patched = client.patch(
        f"/console/webhooks/{endpoint['id']}",
        headers=bearer(admin_token),
        json={"enabled": False, "events": ["key.leaked", "key.created"]},
    ).get_json()
    assert patched["enabled"] is False and patched["events"] == ["key.created", "key.leaked"]
    deleted = client.delete(f"/console/webhooks/{endpoint['id']}", headers=bearer(admin_token))
    assert deleted.get_json() == {"id": endpoint["id"], "deleted": True}
    gone = client.get(f"/console/webhooks/{endpoint['id']}", headers=bearer(admin_token))
    assert gone.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/"},
        {"url": "https://user:pw@example.com/"},
        {"url": URL, "events": ["nope"]},
        {"url": URL, "events": []},
        {"url": URL, "events": ["webhook.test"]},
        {"url": URL, "enabled": "yes"},
        {"url": URL, "extra": 1},
        {"url": "x" * 3000},
    ],
)
def test_bad_input_is_a_400_and_creates_nothing(client, admin_token, body):
    response = client.post("/console/webhooks", headers=bearer(admin_token), json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"
    assert client.get("/console/webhooks", headers=bearer(admin_token)).get_json()["data"] == []


def test_test_event_is_queued_and_listed_with_retry(client, admin_token):
    endpoint = _create(client, admin_token).get_json()
    queued = client.post(f"/console/webhooks/{endpoint['id']}/test", headers=bearer(admin_token))
    assert queued.status_code == 202
    deliveries = client.get(
        f"/console/webhooks/{endpoint['id']}/deliveries", headers=bearer(admin_token)
    ).get_json()["data"]
    assert [d["id"] for d in deliveries] == [queued.get_json()["delivery_id"]]
    assert deliveries[0]["status"] == "pending" and deliveries[0]["attempt_log"] == []
    retried = client.post(
        f"/console/webhooks/{endpoint['id']}/deliveries/{deliveries[0]['id']}/retry",
        headers=bearer(admin_token),
    )
    assert retried.status_code == 202


def test_other_tenants_endpoint_is_not_found(client, admin_token, idp, other_tenant):
    theirs = idp.token(sub="user_g", org_id="org_globex", role="admin")
    endpoint = _create(client, theirs).get_json()
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("POST", "/test"),
        ("GET", "/deliveries"),
    ]:
        response = client.open(
            f"/console/webhooks/{endpoint['id']}{path}",
            method=method,
            headers=bearer(admin_token),
            json={"enabled": True} if method == "PATCH" else None,
        )
        assert response.status_code == 404, (method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/console/webhooks"),
        ("POST", "/console/webhooks"),
        ("GET", "/console/webhooks/whe_01JD0000000000000000000000"),
        ("POST", "/console/webhooks/whe_01JD0000000000000000000000/test"),
    ],
)
def test_members_are_refused(client, member_token, method, path):
    response = client.open(path, method=method, headers=bearer(member_token), json={"url": URL})
    assert response.status_code == 403
