"""Pentest: bad input that reaches a 500 (SPEC §4: malformed, deeply nested, oversized or
out-of-range input is a 4xx, never a 500). In process, through the Flask test client."""

from __future__ import annotations

import re

import pytest

from tests.console.idp import bearer

DEEP = "[" * 1100 + "]" * 1100  # ~2 KiB: Python's json gives up with RecursionError


def _assert_validation_error(response) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_deep_json_to_the_unauthenticated_dev_login_is_a_400(client):
    response = client.post(
        "/dev-login/token", data=DEEP, headers={"Content-Type": "application/json"}
    )
    _assert_validation_error(response)


def test_deep_json_to_console_keys_is_a_400(client, admin_token):
    response = client.post(
        "/console/keys",
        data='{"name": ' + DEEP + "}",
        headers={**bearer(admin_token), "Content-Type": "application/json"},
    )
    _assert_validation_error(response)


def test_deep_json_with_an_idempotency_key_is_a_400(client, api_key):
    # The Idempotency-Key fingerprint parses the body before the view does.
    response = client.post(
        "/api/v1/contacts",
        data=DEEP,
        headers={
            "x-tenant-api-key": api_key(),
            "Idempotency-Key": "retry-1",
            "Content-Type": "application/json",
        },
    )
    _assert_validation_error(response)


def test_out_of_range_expires_at_is_a_400_and_logs_no_key_hash(client, admin_token, caplog):
    response = client.post(
        "/console/keys",
        json={"name": "far", "expires_at": "9999-12-31T23:59:59-14:00"},
        headers=bearer(admin_token),
    )
    # A database error is logged without its bound parameters (key hash, display start).
    assert "[parameters:" not in caplog.text and "lw_live_" not in caplog.text
    assert not re.search(r"[0-9a-f]{64}", caplog.text), "a key hash reached the log"
    _assert_validation_error(response)


@pytest.mark.parametrize("path", ["/dashboard//keys", "/console//me", "/api/v1//health"])
def test_slash_merging_redirect_does_not_reflect_the_host_header(client, path):
    response = client.get(path, headers={"Host": "evil.example"})
    location = response.headers.get("Location", "")
    assert "evil.example" not in location, f"{response.status_code} -> {location}"


HUGE = "9" * 5000  # past Python's 4300-digit limit on int(): ValueError after isdigit() passed


def test_a_limit_of_5000_digits_is_a_400(client, api_key):
    # gunicorn's request line limit (4094) hides this; ``make run`` (Werkzeug) does not.
    response = client.get(f"/api/v1/contacts?limit={HUGE}", headers={"x-tenant-api-key": api_key()})
    _assert_validation_error(response)


def test_usage_days_of_5000_digits_is_a_400(client, admin_token):
    response = client.get(f"/console/usage?days={HUGE}", headers=bearer(admin_token))
    _assert_validation_error(response)
