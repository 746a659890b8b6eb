"""Every console answer has exactly the shape its OpenAPI model documents (one model per
resource serializes and documents: ``core.resources``)."""

from __future__ import annotations

import pytest

from console import openapi
from tenants.licenses import set_license
from tests.console.idp import bearer
from tests.console.test_console_api import ROUTES, _call
from tests.shapes import assert_answers, documented_model


@pytest.fixture
def key_id(store, tenant, api_key, client):
    """A used key of the tenant, with an audit entry, a day of usage and a license: every
    list and nullable field of the console holds something."""
    key = api_key(name="existing", scopes=["contacts:read"])
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    set_license(store.session, tenant.id, "active")
    store.session.commit()
    return store.list_keys(tenant.id)[0].id


@pytest.mark.parametrize(("method", "path", "body", "admin_only"), ROUTES)
def test_each_answer_has_the_documented_shape(
    app, client, admin_token, key_id, method, path, body, admin_only
):
    response = _call(client, admin_token, method, path.format(key=key_id), body)
    assert response.status_code in (200, 201), response.get_json()
    model = documented_model(app, openapi.SPEC, method, path.format(key=key_id))
    answer = response.get_json()
    if "data" in answer:
        assert answer["data"], "every list holds an item here, so the items are checked too"
    assert_answers(model, answer)


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "WEBHOOK_ALLOW_PRIVATE": True}


def test_events_and_webhook_answers_have_the_documented_shape(app, client, admin_token, key_id):
    """Endpoints, a delivery, the events list (a key was created: ``key.created``)."""
    headers = bearer(admin_token)
    created = client.post(
        "/console/webhooks", headers=headers, json={"url": "http://127.0.0.1:9/hooks"}
    )
    endpoint = created.get_json()
    base = f"/console/webhooks/{endpoint['id']}"
    answers = [
        ("POST", "/console/webhooks", created),
        ("GET", "/console/webhooks", client.get("/console/webhooks", headers=headers)),
        ("GET", base, client.get(base, headers=headers)),
        ("PATCH", base, client.patch(base, headers=headers, json={"description": "d"})),
        ("POST", f"{base}/test", client.post(f"{base}/test", headers=headers)),
        ("GET", f"{base}/deliveries", client.get(f"{base}/deliveries", headers=headers)),
        ("GET", "/console/events", client.get("/console/events", headers=headers)),
        ("DELETE", base, client.delete(base, headers=headers)),
    ]
    for method, path, response in answers:
        assert response.status_code in (200, 201, 202), (path, response.get_json())
        answer = response.get_json()
        if "data" in answer:
            assert answer["data"], f"{path}: the list holds an item here"
        assert_answers(documented_model(app, openapi.SPEC, method, path), answer)
