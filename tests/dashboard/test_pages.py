"""The dashboard's HTML shell: routes, security headers, page configuration, Clerk."""

from __future__ import annotations

import base64
import json
import re

import pytest

from app import create_app
from dashboard.security import InvalidPublishableKey, clerk_frontend_api

CLERK_HOST = "happy-cat-12.clerk.accounts.dev"
PUBLISHABLE_KEY = "pk_test_" + base64.b64encode(f"{CLERK_HOST}$".encode()).decode()


def page_config(response) -> dict:
    match = re.search(
        r'<script type="application/json" id="lw-config">(.*?)</script>', response.text
    )
    assert match, "the page carries its configuration as JSON data"
    return json.loads(match.group(1))


def test_root_and_dashboard_redirect_to_the_keys_page(client):
    for path in ("/", "/dashboard/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/dashboard/keys")


@pytest.mark.parametrize("slug", ["keys", "audit-log", "usage", "webhooks", "events", "settings"])
def test_pages_carry_strict_security_headers(client, slug):
    response = client.get(f"/dashboard/{slug}")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.text  # no inline script, only src= and JSON data


def test_static_files_carry_the_headers_too(client):
    response = client.get("/dashboard/static/js/main.js")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unknown_dashboard_page_is_the_json_404(client):
    response = client.get("/dashboard/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_page_config_without_a_provider(client):
    config = page_config(client.get("/dashboard/usage"))
    assert config["page"] == "usage"
    assert config["permission"] is None
    assert page_config(client.get("/dashboard/webhooks"))["permission"] == "org:webhooks:manage"
    assert page_config(client.get("/dashboard/keys"))["permission"] == "org:api_keys:read"
    assert config["devLogin"] is False
    assert config["clerkPublishableKey"] is None
    assert "broadcasts:write" in config["scopes"]


def test_clerk_script_is_the_one_external_script_and_only_when_configured(server_env, migrated):
    app = create_app({"TESTING": True, "CONSOLE_CLERK_PUBLISHABLE_KEY": PUBLISHABLE_KEY})
    response = app.test_client().get("/dashboard/keys")
    assert page_config(response)["clerkPublishableKey"] == PUBLISHABLE_KEY
    assert f'src="https://{CLERK_HOST}/npm/@clerk/clerk-js@5/dist/clerk.browser.js"' in (
        response.text
    )
    csp = dict(
        part.split(" ", 1) for part in response.headers["Content-Security-Policy"].split("; ")
    )
    assert csp["script-src"] == f"'self' https://{CLERK_HOST}"
    assert f"https://{CLERK_HOST}" in csp["connect-src"]


def test_frontend_api_host_is_decoded_from_the_publishable_key():
    assert clerk_frontend_api(PUBLISHABLE_KEY) == CLERK_HOST
    live = "pk_live_" + base64.b64encode(b"clerk.example.com$").decode()
    assert clerk_frontend_api(live) == "clerk.example.com"


@pytest.mark.parametrize(
    "key",
    [
        "sk_test_abc",
        "pk_test_!!!",
        "pk_test_" + base64.b64encode(b"evil.com/x.js?$").decode(),
        "pk_test_" + base64.b64encode(b'a.com" onload="x$').decode(),
    ],
)
def test_malformed_publishable_key_is_refused(key):
    with pytest.raises(InvalidPublishableKey):
        clerk_frontend_api(key)


def test_malformed_publishable_key_loads_no_script_and_says_why(server_env, migrated):
    app = create_app({"TESTING": True, "CONSOLE_CLERK_PUBLISHABLE_KEY": "pk_test_bm90IGEgaG9zdA"})
    response = app.test_client().get("/dashboard/keys")
    assert "clerk" not in response.headers["Content-Security-Policy"]
    assert "clerk.browser.js" not in response.text
    assert "not usable" in page_config(response)["clerkProblem"]


def test_a_key_page_carries_the_id_as_data_and_refuses_other_shapes(client):
    config = page_config(client.get("/dashboard/keys/key_01JABCDEFGHJKMNPQRSTVWXYZ0"))
    assert config["page"] == "key"
    assert config["keyId"] == "key_01JABCDEFGHJKMNPQRSTVWXYZ0"
    assert config["permission"] == "org:api_keys:read"
    assert client.get("/dashboard/keys/%3Cscript%3E").status_code == 404


def test_an_endpoint_page_carries_the_id_as_data_and_refuses_other_shapes(client):
    response = client.get("/dashboard/webhooks/whe_01JABCDEFGHJKMNPQRSTVWXYZ0")
    config = page_config(response)
    assert config["page"] == "webhook"
    assert config["endpointId"] == "whe_01JABCDEFGHJKMNPQRSTVWXYZ0"
    assert config["permission"] == "org:webhooks:manage"
    assert "All endpoints" in response.text  # the breadcrumb back to the list
    for bad in ("%3Cscript%3E", "key_01JABCDEFGHJKMNPQRSTVWXYZ0", "whe_"):
        assert client.get(f"/dashboard/webhooks/{bad}").status_code == 404


def test_the_settings_page_needs_the_key_read_permission(client):
    config = page_config(client.get("/dashboard/settings"))
    assert (config["page"], config["permission"]) == ("settings", "org:api_keys:read")
