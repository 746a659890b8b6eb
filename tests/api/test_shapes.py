"""Every tenant API answer has exactly the shape its OpenAPI model documents (one model per
resource serializes and documents: ``core.resources``)."""

from __future__ import annotations

import pytest

from api import openapi
from core.resources import ErrorEnvelope
from tests.api.conftest import ENDPOINTS, call
from tests.shapes import assert_answers, documented_model


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_each_answer_has_the_documented_shape(app, client, api_key, sample, endpoint):
    response = call(client, endpoint, api_key(["*"]), sample)
    assert response.status_code == endpoint.status, response.get_data(as_text=True)
    model = documented_model(app, openapi.SPEC, endpoint.method, endpoint.url(sample))
    assert_answers(model, response.get_json())


# The paginated lists: the sample puts an item in each, so the items are checked too.
LISTS = [
    e for e in ENDPOINTS if e.method == "GET" and e.path not in ("/api/v1/health", "/api/v1/usage")
]


@pytest.mark.parametrize("endpoint", LISTS, ids=str)
def test_list_items_have_the_documented_shape(app, client, api_key, sample, endpoint):
    body = call(client, endpoint, api_key(["*"]), sample).get_json()
    assert body["data"] and "next_cursor" in body
    model = documented_model(app, openapi.SPEC, "GET", endpoint.url(sample))
    assert_answers(model, body)


def test_an_answer_with_an_undocumented_key_is_caught(app, client, api_key, sample):
    body = client.get("/api/v1/contacts", headers={"x-tenant-api-key": api_key(["*"])}).get_json()
    body["data"][0]["internal"] = "leaked"
    model = documented_model(app, openapi.SPEC, "GET", "/api/v1/contacts")
    with pytest.raises(AssertionError, match="internal"):
        assert_answers(model, body)


def test_errors_have_the_envelope_shape(client, api_key):
    response = client.get("/api/v1/chats/cht_0/messages", headers={"x-tenant-api-key": "nope"})
    assert response.status_code == 401
    assert_answers(ErrorEnvelope, response.get_json())
    body = client.post(
        "/api/v1/contacts", json={"name": 1}, headers={"x-tenant-api-key": api_key(["*"])}
    ).get_json()
    assert body["error"]["details"]["fields"]
    assert_answers(ErrorEnvelope, body)
