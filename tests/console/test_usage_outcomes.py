"""Usage you can act on (SPEC §9.4): rows by key, day, endpoint and outcome in both APIs,
``group_by``, and the scope report of a key."""

from __future__ import annotations

import pytest

from core.extensions import keystore
from tenants import messaging
from tests.conftest import TEST_ACTOR
from tests.console.idp import bearer


def _usage(client, key: str, query: str = "") -> list[dict]:
    response = client.get(f"/api/v1/usage{query}", headers={"x-tenant-api-key": key})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def _outcomes(rows: list[dict], key_id: str) -> dict[tuple[str, str], int]:
    return {
        (row["endpoint"], row["outcome"]): row["requests"]
        for row in rows
        if row["key_id"] == key_id
    }


def _key_id(client, key: str) -> str:
    return client.get("/api/v1/health", headers={"x-tenant-api-key": key}).get_json()["key"]["id"]


def test_each_outcome_is_counted_on_its_endpoint(client, app, store, tenant, api_key, monkeypatch):
    reader = api_key(scopes=["contacts:read"], name="reader", rate_limit_per_minute=3)
    reader_id = _key_id(client, reader)  # success on GET /api/v1/health
    headers = {"x-tenant-api-key": reader}
    assert client.post("/api/v1/contacts", json={}, headers=headers).status_code == 403
    assert client.get("/api/v1/contacts?limit=0", headers=headers).status_code == 400
    assert client.get("/api/v1/contacts", headers=headers).status_code == 429

    writer = api_key(scopes=["tickets:write"], name="writer", rate_limit_per_minute=0)
    writer_id = _key_id(client, writer)
    store.set_license(tenant.id, "expired")
    assert _post_ticket(client, writer).status_code == 402
    store.set_license(tenant.id, "active")

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(messaging, "create_ticket", broken)
    assert _post_ticket(client, writer).status_code == 500
    monkeypatch.undo()
    assert _post_ticket(client, writer).status_code == 201
    keystore.get().revoke_key(tenant.id, writer_id, TEST_ACTOR)
    assert _post_ticket(client, writer).status_code == 401

    rows = _usage(client, api_key(name="auditor", rate_limit_per_minute=0))
    assert _outcomes(rows, reader_id) == {
        ("GET /api/v1/health", "success"): 1,
        ("POST /api/v1/contacts", "forbidden"): 1,
        ("GET /api/v1/contacts", "client_error"): 1,
        ("GET /api/v1/contacts", "rate_limited"): 1,
    }
    assert _outcomes(rows, writer_id) == {
        ("GET /api/v1/health", "success"): 1,
        ("POST /api/v1/tickets", "license_blocked"): 1,
        ("POST /api/v1/tickets", "server_error"): 1,
        ("POST /api/v1/tickets", "success"): 1,
        ("POST /api/v1/tickets", "unauthorized"): 1,
    }
    assert all(row["mode"] == "live" for row in rows)
    assert {row["key_name"] for row in rows} == {"reader", "writer"}


def _post_ticket(client, key: str):
    return client.post(
        "/api/v1/tickets", json={"subject": "Help"}, headers={"x-tenant-api-key": key}
    )


def test_a_request_that_identifies_no_key_counts_for_no_one(client, api_key):
    auditor = api_key(name="auditor", rate_limit_per_minute=0)
    forged = auditor[:-8] + ("A" if auditor[-8] != "A" else "B") + auditor[-7:]
    for presented in (None, "lw_live_nope", forged):
        headers = {} if presented is None else {"x-tenant-api-key": presented}
        assert client.get("/api/v1/health", headers=headers).status_code == 401
    assert _usage(client, auditor) == []


def test_group_by_sums_the_other_dimensions_away(client, api_key):
    first = api_key(name="first", rate_limit_per_minute=0)
    second = api_key(name="second", rate_limit_per_minute=0)
    for key in (first, first, second):
        client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    client.get("/api/v1/contacts?limit=0", headers={"x-tenant-api-key": first})
    by_outcome = _usage(client, second, "?group_by=outcome")
    assert by_outcome == [
        {"mode": "live", "outcome": "client_error", "requests": 1},
        {"mode": "live", "outcome": "success", "requests": 3},
    ]
    by_key = _usage(client, second, "?group_by=key")
    assert {row["key_name"]: row["requests"] for row in by_key} == {"first": 3, "second": 2}
    assert set(by_key[0]) == {"key_id", "key_name", "key_last4", "mode", "requests"}
    by_endpoint_day = _usage(client, second, "?group_by=endpoint,day")
    assert {row["endpoint"]: row["requests"] for row in by_endpoint_day} == {
        "GET /api/v1/health": 3,
        "GET /api/v1/contacts": 1,
        "GET /api/v1/usage": 2,  # this request is counted once answered
    }


@pytest.mark.parametrize("query", ["?group_by=", "?group_by=tenant", "?group_by=key,,day"])
def test_an_unknown_group_is_a_400(client, api_key, query):
    response = client.get(f"/api/v1/usage{query}", headers={"x-tenant-api-key": api_key()})
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == "group_by"


def test_console_usage_has_the_same_rows_and_filters_by_mode(
    client, admin_token, member_token, api_key
):
    client.get("/api/v1/health", headers={"x-tenant-api-key": api_key(name="live")})
    client.get("/api/v1/health", headers={"x-tenant-api-key": api_key(name="sandbox", mode="test")})
    both = client.get("/console/usage", headers=bearer(member_token)).get_json()["data"]
    assert {(row["key_name"], row["mode"], row["endpoint"], row["outcome"]) for row in both} == {
        ("live", "live", "GET /api/v1/health", "success"),
        ("sandbox", "test", "GET /api/v1/health", "success"),
    }
    test = client.get("/console/usage?mode=test&group_by=key", headers=bearer(admin_token))
    assert [(row["key_name"], row["requests"]) for row in test.get_json()["data"]] == [
        ("sandbox", 1)
    ]
    bad = client.get("/console/usage?mode=sandbox", headers=bearer(admin_token))
    assert bad.status_code == 400


def test_scope_report_of_a_star_key_that_used_two_scopes(client, admin_token, api_key):
    key = api_key(name="everything", rate_limit_per_minute=0)
    key_id = _key_id(client, key)
    headers = {"x-tenant-api-key": key}
    for _ in range(2):
        client.get("/api/v1/contacts", headers=headers)
    client.post("/api/v1/messages", json={"to": "+14155550111", "text": "hi"}, headers=headers)
    response = client.get(
        f"/console/keys/{key_id}/scope-report?days=7", headers=bearer(admin_token)
    )
    assert response.status_code == 200
    report = response.get_json()
    assert report["granted"] == ["*"]
    assert report["used"] == ["messages:write", "contacts:read"]
    assert report["suggested_scopes"] == ["messages:write", "contacts:read"]
    assert report["unused"] == [
        "chats:read",
        "contacts:write",
        "tickets:read",
        "tickets:write",
        "broadcasts:write",
    ]
    assert report["requests_by_scope"] == {"messages:write": 1, "contacts:read": 2}
    # One click: narrowing the key to the suggestion keeps all its traffic working.
    narrowed = client.patch(
        f"/console/keys/{key_id}",
        json={"scopes": report["suggested_scopes"]},
        headers=bearer(admin_token),
    )
    assert narrowed.status_code == 200
    assert client.get("/api/v1/contacts", headers=headers).status_code == 200
    assert client.get("/api/v1/tickets", headers=headers).status_code == 403


def test_scope_report_ignores_refused_requests(client, admin_token, api_key):
    key = api_key(scopes=["contacts:read", "tickets:read"], rate_limit_per_minute=0)
    key_id = _key_id(client, key)
    headers = {"x-tenant-api-key": key}
    client.get("/api/v1/tickets", headers=headers)
    client.post("/api/v1/broadcasts", json={}, headers=headers)  # 403: never part of the grant
    report = client.get(
        f"/console/keys/{key_id}/scope-report", headers=bearer(admin_token)
    ).get_json()
    assert (report["granted"], report["used"], report["unused"]) == (
        ["contacts:read", "tickets:read"],
        ["tickets:read"],
        ["contacts:read"],
    )
    assert report["days"] == 30


def test_scope_report_of_another_tenants_key_is_a_404(client, admin_token, store, other_tenant):
    foreign = store.create_key(other_tenant.id, "theirs", TEST_ACTOR).record.id
    response = client.get(f"/console/keys/{foreign}/scope-report", headers=bearer(admin_token))
    assert response.status_code == 404


@pytest.mark.parametrize("days", ["0", "91", "x", ""])
def test_scope_report_days_out_of_range_is_a_400(client, admin_token, api_key, days):
    key_id = _key_id(client, api_key(rate_limit_per_minute=0))
    response = client.get(
        f"/console/keys/{key_id}/scope-report?days={days}", headers=bearer(admin_token)
    )
    assert response.status_code == 400


def test_scope_report_is_for_admins(client, member_token, api_key):
    key_id = _key_id(client, api_key(rate_limit_per_minute=0))
    response = client.get(f"/console/keys/{key_id}/scope-report", headers=bearer(member_token))
    assert response.status_code == 403


def test_console_usage_filters_by_key_id(client, member_token, api_key, store, other_tenant):
    mine = api_key(name="mine", rate_limit_per_minute=0)
    other = api_key(name="other", rate_limit_per_minute=0)
    mine_id = _key_id(client, mine)
    _key_id(client, other)
    client.get("/api/v1/contacts", headers={"x-tenant-api-key": mine})
    foreign = store.create_key(other_tenant.id, "theirs", TEST_ACTOR)
    client.get("/api/v1/health", headers={"x-tenant-api-key": foreign.full_key})

    response = client.get(
        f"/console/usage?key_id={mine_id}&group_by=endpoint,outcome", headers=bearer(member_token)
    )
    assert response.status_code == 200
    assert response.get_json()["data"] == [
        {"endpoint": "GET /api/v1/contacts", "outcome": "success", "mode": "live", "requests": 1},
        {"endpoint": "GET /api/v1/health", "outcome": "success", "mode": "live", "requests": 1},
    ]
    by_key = client.get(
        f"/console/usage?key_id={mine_id}&group_by=key", headers=bearer(member_token)
    )
    assert [(row["key_name"], row["requests"]) for row in by_key.get_json()["data"]] == [
        ("mine", 2)
    ]
    # Another tenant's key, or no key at all: no rows, never theirs, and no 404 to tell them apart.
    for absent in (foreign.record.id, "key_" + "0" * 26):
        response = client.get(f"/console/usage?key_id={absent}", headers=bearer(member_token))
        assert response.status_code == 200
        assert response.get_json()["data"] == []


@pytest.mark.parametrize(
    "key_id", ["", "key_1", "whe_" + "0" * 26, "key_" + "a" * 26, "key_" + "0" * 25 + "%00", "*"]
)
def test_console_usage_refuses_a_malformed_key_id(client, admin_token, key_id):
    response = client.get(f"/console/usage?key_id={key_id}", headers=bearer(admin_token))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "key_id"


def test_the_openapi_document_names_the_key_id_filter(client):
    document = client.get("/console/openapi.json").get_json()
    parameters = document["paths"]["/console/usage"]["get"]["parameters"]
    key_id = next(p for p in parameters if p["name"] == "key_id")
    assert key_id["in"] == "query"
    assert key_id["schema"]["pattern"] == "^key_[0-9A-Z]{26}$"
