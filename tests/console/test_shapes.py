"""Every console answer has exactly the shape its OpenAPI model documents (one model per
resource serializes and documents: ``core.resources``)."""

from __future__ import annotations

import pytest

from console import openapi
from tenants.licenses import set_license
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
