"""Request hardening: security headers, CORS, size limits, and secrets never echoed."""

from __future__ import annotations

import pytest

from core.middleware import (
    MAX_HEADER_FIELD_BYTES,
    MAX_HEADER_TOTAL_BYTES,
    PAGE_ONLY_HEADERS,
    SECURITY_HEADERS,
)
from tenants.keyformat import generate
from tests.conftest import TEST_ACTOR
from tests.core.test_openapi import TENANT_API_SCOPES

DASHBOARD = "https://dashboard.example.com"
EVIL = "https://evil.example.com"


@pytest.fixture
def cors_app(app):
    app.config["CONSOLE_AUTHORIZED_PARTIES"] = [DASHBOARD]
    return app


def concrete(path: str) -> str:
    return path.replace("{chat_id}", "cht_01JD0000000000000000000000")


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/v1/health", "valid"),
        ("GET", "/api/v1/health", {}),
        ("GET", "/api/v1/openapi.json", {}),
        ("GET", "/nowhere", {}),
        ("DELETE", "/api/v1/health", "valid"),
        ("GET", "/console/me", {}),
    ],
)
def test_every_response_carries_the_security_headers(client, api_key, method, path, headers):
    if headers == "valid":
        headers = {"x-tenant-api-key": api_key()}
    response = client.open(path, method=method, headers=headers)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Request-Id"]


def test_json_responses_may_run_nothing_and_are_not_cached(client):
    response = client.get("/api/v1/openapi.json")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"
    for name in PAGE_ONLY_HEADERS:
        assert name not in response.headers


@pytest.mark.parametrize("path", ["/docs", "/docs/docs.css"])
def test_documents_also_carry_the_page_policies_once(client, path):
    response = client.get(path)
    assert response.status_code == 200
    for name, value in {**SECURITY_HEADERS, **PAGE_ONLY_HEADERS}.items():
        assert response.headers.getlist(name) == [value]


@pytest.mark.parametrize("origin", [DASHBOARD, EVIL])
def test_tenant_api_never_answers_cors(cors_app, client, api_key, origin):
    key = api_key()
    preflight = client.options(
        "/api/v1/contacts",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    actual = client.get("/api/v1/health", headers={"Origin": origin, "x-tenant-api-key": key})
    assert actual.status_code == 200
    for response in (preflight, actual):
        assert not any(name.startswith("Access-Control-") for name, _ in response.headers.items())


def test_console_preflight_from_an_authorized_party_is_allowed(cors_app, client):
    response = client.options(
        "/console/keys",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_console_answers_carry_cors_only_for_authorized_parties(cors_app, client):
    allowed = client.get("/console/me", headers={"Origin": DASHBOARD})
    assert allowed.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "X-Request-Id" in allowed.headers["Access-Control-Expose-Headers"]
    refused = client.get("/console/me", headers={"Origin": EVIL})
    refused_preflight = client.options(
        "/console/keys", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    for response in (refused, refused_preflight):
        assert "Access-Control-Allow-Origin" not in response.headers
        assert response.status_code != 204


def test_no_cors_when_no_authorized_parties_are_configured(client):
    response = client.options(
        "/console/keys", headers={"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


def test_an_oversized_header_is_a_431_envelope(client, api_key):
    response = client.get(
        "/api/v1/health",
        headers={"x-tenant-api-key": api_key(), "X-Padding": "a" * MAX_HEADER_FIELD_BYTES},
    )
    assert response.status_code == 431
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_too_many_header_bytes_in_total_is_a_431(client, api_key):
    field = "a" * 4000
    headers = {f"X-Padding-{n}": field for n in range(MAX_HEADER_TOTAL_BYTES // 4000 + 1)}
    response = client.get("/api/v1/health", headers={"x-tenant-api-key": api_key(), **headers})
    assert response.status_code == 431


def test_a_body_over_one_mebibyte_is_a_413_envelope_and_creates_nothing(client, api_key):
    key = api_key()
    body = '{"name": "' + "a" * (1024 * 1024) + '", "phone": "+15550001111"}'
    response = client.post(
        "/api/v1/contacts",
        data=body,
        headers={"x-tenant-api-key": key, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    listed = client.get("/api/v1/contacts", headers={"x-tenant-api-key": key}).get_json()
    assert listed["data"] == []


def test_a_key_sent_as_request_id_is_not_echoed(client, api_key):
    key = api_key()
    response = client.get("/api/v1/health", headers={"X-Request-Id": key})
    assert response.headers["X-Request-Id"] != key
    assert response.headers["X-Request-Id"].startswith("req_")


def _secret_candidates(api_key, store, tenant) -> dict[str, str]:
    revoked = store.create_key(tenant.id, "to revoke", TEST_ACTOR, None)
    store.revoke_key(tenant.id, revoked.record.id, TEST_ACTOR)
    valid = api_key()
    return {
        "revoked": revoked.full_key,
        "checksum broken": valid[:-1] + ("A" if valid[-1] != "A" else "B"),
        "unknown but well-formed": generate("lw").full_key,
        "garbage": "lw_live_" + "x" * 40 + "-secret-garbage",
    }


@pytest.mark.parametrize("carrier", ["x-tenant-api-key", "Authorization", "X-API-Key"])
def test_a_refused_secret_never_appears_in_any_response(client, api_key, store, tenant, carrier):
    for label, secret in _secret_candidates(api_key, store, tenant).items():
        value = f"Bearer {secret}" if carrier == "Authorization" else secret
        for method, path, _scope in TENANT_API_SCOPES:
            response = client.open(
                concrete(path),
                method=method,
                headers={carrier: value, "X-Request-Id": secret[:128]},
                json={"to": secret} if method == "POST" else None,
            )
            assert response.status_code == 401, (label, path)
            assert secret not in response.get_data(as_text=True), (label, path)
            assert secret[8:20] not in response.get_data(as_text=True), (label, path)
            for name, header in response.headers.items():
                assert secret not in header, (label, path, name)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/contacts", {"name": "A\x00", "phone": "+15550001111"}),
        ("/api/v1/contacts", {"name": "A", "phone": "+15550001111", "email": "a\x00@b.co"}),
        ("/api/v1/messages", {"to": "+15550001111", "text": "hi\x00"}),
        ("/api/v1/tickets", {"subject": "s", "body": "\x00"}),
    ],
)
def test_nul_in_text_is_a_400_not_a_database_error(client, api_key, path, body):
    # Found by the fuzz run on PostgreSQL, which cannot store NUL in text columns.
    response = client.post(path, json=body, headers={"x-tenant-api-key": api_key()})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_an_id_with_a_nul_is_not_found_without_a_query(client, api_key):
    key = api_key()
    response = client.get("/api/v1/chats/cht_%00/messages", headers={"x-tenant-api-key": key})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/usage?days=²",
        "/api/v1/usage?days=٣",
        "/api/v1/contacts?limit=²",
        "/api/v1/contacts?limit=٣",
    ],
)
def test_non_ascii_digits_in_numbers_are_a_400(client, api_key, url):
    # str.isdigit() accepts "²", which int() then refuses: it used to be a 500.
    response = client.get(url, headers={"x-tenant-api-key": api_key()})
    assert response.status_code == 400


def test_hsts_is_sent_over_https_only(client):
    secure = client.get("/healthz", base_url="https://localhost")
    assert secure.headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


@pytest.mark.parametrize(
    "path",
    ["/dashboard//keys", "/api/v1//health", "/console//me", "/dashboard", "/docs/", "//docs"],
)
def test_no_redirect_is_ever_built_from_the_host_header(client, path):
    # Werkzeug's routing redirects (merging "//", adding a trailing "/") answered a 308 to
    # http://<Host header>/...: an open redirect for whoever controls that header.
    response = client.get(path, headers={"Host": "evil.example"})
    location = response.headers.get("Location", "")
    assert "evil.example" not in location
    assert not location or location.startswith("/"), location
    assert response.status_code in (200, 302, 404), response.status_code


def test_a_doubled_slash_is_not_found_rather_than_merged(client, api_key):
    response = client.get("/api/v1//health", headers={"x-tenant-api-key": api_key()})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"
