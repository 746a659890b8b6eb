"""Every endpoint x its scope (SPEC §8), from the one table in conftest."""

import pytest

from tenants.scopes import SCOPES
from tests.api.conftest import ENDPOINTS, SCOPED, call


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_key_with_the_endpoints_scope_succeeds(client, api_key, sample, endpoint):
    key = api_key(scopes=[endpoint.scope] if endpoint.scope else ["contacts:read"])
    response = call(client, endpoint, key, sample)
    assert response.status_code == endpoint.status, response.get_json()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_wildcard_key_passes_every_endpoint(client, api_key, sample, endpoint):
    response = call(client, endpoint, api_key(), sample)
    assert response.status_code == endpoint.status, response.get_json()


@pytest.mark.parametrize("endpoint", SCOPED, ids=str)
def test_key_without_the_scope_is_refused_with_the_required_scope(
    client, api_key, sample, endpoint
):
    others = [scope for scope in SCOPES if scope != endpoint.scope]
    response = call(client, endpoint, api_key(scopes=others), sample)
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "AUTH_INSUFFICIENT_SCOPE"
    assert error["details"] == {"required_scope": endpoint.scope}


def test_views_declare_the_scopes_of_the_table(app):
    declared = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            view = app.view_functions[rule.endpoint]
            if getattr(view, "public", False):  # the OpenAPI document: tests/core/test_openapi.py
                continue
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                declared[(method, rule.rule)] = getattr(view, "required_scope", None)
    table = {
        (endpoint.method, endpoint.path.replace("{chat_id}", "<chat_id>")): endpoint.scope
        for endpoint in ENDPOINTS
    }
    assert declared == table
