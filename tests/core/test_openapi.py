"""The OpenAPI documents: valid 3.1, public, and exactly as wide as the routes they describe."""

from __future__ import annotations

import dataclasses

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from api import openapi as api_openapi
from api.schemas import BroadcastIn, ContactIn, MessageIn, TicketIn
from console.schemas import KeyCreateIn, KeyPatchIn, RotateIn
from core.openapi import REF, build_document, operations_of, routes_of
from tests.api.conftest import ENDPOINTS

DOCUMENTS = {"api": "/api/v1/openapi.json", "console": "/console/openapi.json"}

# SPEC §8: the scope each tenant API operation needs (None: any valid key).
TENANT_API_SCOPES = [(endpoint.method, endpoint.path, endpoint.scope) for endpoint in ENDPOINTS]


# SPEC §7: the role each console operation needs.
# (method, path, required permission) — SPEC §7 with §9.3; ``None``: any member.
CONSOLE_PERMISSIONS = [
    ("GET", "/console/me", None),
    ("GET", "/console/keys", "org:api_keys:read"),
    ("POST", "/console/keys", "org:api_keys:manage"),
    ("PATCH", "/console/keys/{key_id}", "org:api_keys:manage"),
    ("POST", "/console/keys/{key_id}/revoke", "org:api_keys:manage"),
    ("POST", "/console/keys/{key_id}/rotate", "org:api_keys:manage"),
    ("GET", "/console/audit-log", "org:api_keys:read"),
    ("GET", "/console/events", "org:api_keys:read"),
    ("GET", "/console/webhooks", "org:webhooks:manage"),
    ("POST", "/console/webhooks", "org:webhooks:manage"),
    ("PATCH", "/console/webhooks/{endpoint_id}", "org:webhooks:manage"),
    ("DELETE", "/console/webhooks/{endpoint_id}", "org:webhooks:manage"),
    ("POST", "/console/webhooks/{endpoint_id}/rotate-secret", "org:webhooks:manage"),
    (
        "POST",
        "/console/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry",
        "org:webhooks:manage",
    ),
    ("GET", "/console/usage", None),
    ("GET", "/console/license", None),
]


def fetch(client, blueprint: str) -> dict:
    response = client.get(DOCUMENTS[blueprint])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.parametrize("blueprint", DOCUMENTS)
def test_document_is_valid_openapi_3_1_and_needs_no_credentials(client, blueprint):
    document = fetch(client, blueprint)
    assert document["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(document).validate()


@pytest.mark.parametrize("blueprint", DOCUMENTS)
def test_every_route_is_documented_and_every_operation_is_routed(app, client, blueprint):
    documented = operations_of(fetch(client, blueprint))
    routed = routes_of(app, blueprint)
    assert routed - documented == set(), "routes missing from the document"
    assert documented - routed == set(), "documented operations without a route"


def test_a_route_left_out_of_the_document_is_detected(app):
    operations = dict(api_openapi.SPEC.operations)
    del operations["health"]
    partial = build_document(app, dataclasses.replace(api_openapi.SPEC, operations=operations))
    assert routes_of(app, "api") - operations_of(partial) == {("GET", "/api/v1/health")}


@pytest.mark.parametrize(("method", "path", "scope"), TENANT_API_SCOPES)
def test_each_operation_names_the_scope_of_spec_section_8(client, method, path, scope):
    operation = fetch(client, "api")["paths"][path][method.lower()]
    assert operation["x-required-scope"] == scope
    assert operation["security"] == [{"tenantApiKey": [scope] if scope else []}]
    assert ("403" in operation["responses"]) == (scope is not None)


@pytest.mark.parametrize("blueprint", DOCUMENTS)
def test_only_the_document_itself_is_public(client, blueprint):
    document = fetch(client, blueprint)
    public = {
        (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation["security"] == []
    }
    assert public == {("get", DOCUMENTS[blueprint])}


@pytest.mark.parametrize(("method", "path", "permission"), CONSOLE_PERMISSIONS)
def test_each_console_operation_names_the_permission_of_spec_section_9_3(
    client, method, path, permission
):
    operation = fetch(client, "console")["paths"][path][method.lower()]
    assert operation["x-required-permission"] == permission
    assert operation["security"] == [{"consoleSession": [permission] if permission else []}]
    forbidden = operation["responses"]["403"]["content"]["application/json"]["schema"]
    codes = forbidden["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
    assert ("AUTH_FORBIDDEN" in codes) == (permission is not None)
    assert "AUTH_NO_TENANT" in codes


@pytest.mark.parametrize(
    ("method", "path", "model"),
    [
        ("post", "/api/v1/messages", MessageIn),
        ("post", "/api/v1/contacts", ContactIn),
        ("post", "/api/v1/tickets", TicketIn),
        ("post", "/api/v1/broadcasts", BroadcastIn),
        ("post", "/console/keys", KeyCreateIn),
        ("patch", "/console/keys/{key_id}", KeyPatchIn),
        ("post", "/console/keys/{key_id}/rotate", RotateIn),
    ],
)
def test_request_bodies_are_generated_from_the_pydantic_models(client, method, path, model):
    document = fetch(client, "api" if path.startswith("/api/") else "console")
    request_body = document["paths"][path][method]["requestBody"]
    assert request_body["required"] is (model is not RotateIn)  # rotate's body is optional
    body = request_body["content"]["application/json"]
    assert body["schema"] == {"$ref": REF.format(model=model.__name__)}
    generated = model.model_json_schema(ref_template=REF)
    assert document["components"]["schemas"][model.__name__] == generated


def test_writes_document_license_idempotency_and_the_error_envelope(client):
    operation = fetch(client, "api")["paths"]["/api/v1/contacts"]["post"]
    assert {"400", "401", "402", "403", "409", "413", "415", "429", "500", "503"} <= set(
        operation["responses"]
    )
    assert "Idempotency-Key" in {parameter["name"] for parameter in operation["parameters"]}
    conflict = operation["responses"]["409"]["content"]["application/json"]["schema"]
    assert conflict["allOf"][1]["properties"]["error"]["properties"]["code"] == {
        "enum": ["CONFLICT"]
    }
    assert operation["responses"]["201"]["headers"]["X-Request-Id"]["required"] is True
