"""Development sign-in (SPEC §6.4): a local provider whose tokens take the ordinary path."""

from __future__ import annotations

import os
import stat
import time

import jwt
import pytest

from app import create_app
from console.devkey import KEY_FILE
from console.devlogin import DEV_AUTHORIZED_PARTY, DEV_ISSUER, dev_login_key
from core.config import ConfigError, load_config
from core.extensions import keystore, sign_in
from tests.console.idp import SigningKey, bearer


@pytest.fixture
def app_config() -> dict:
    return {"DEV_LOGIN": True, "CONSOLE_CLERK_PUBLISHABLE_KEY": "pk_test_example"}


def _mint(client, **body):
    return client.post("/dev-login/token", json=body)


def test_minted_token_signs_in_and_creates_the_tenant(client, app):
    response = _mint(client, user_id="user_dev", org_id="org_devco", org_slug="devco", role="admin")
    assert response.status_code == 200
    token = response.get_json()["token"]
    me = client.get("/console/me", headers=bearer(token))
    assert me.status_code == 200, me.get_json()
    assert me.get_json()["role"] == "admin"
    assert me.get_json()["tenant"]["external_id"] == "org_devco"
    assert [t.name for t in keystore.get().list_tenants()] == ["devco"]
    created = client.post("/console/keys", headers=bearer(token), json={"name": "dev"})
    assert created.status_code == 201


def test_minted_token_is_clerk_shaped_v2_and_short_lived(client):
    body = _mint(client, user_id="user_dev", org_id="org_devco", role="member").get_json()
    header = jwt.get_unverified_header(body["token"])
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    jwks = client.get("/dev-login/.well-known/jwks.json").get_json()
    assert header["alg"] == "RS256" and header["kid"] == jwks["keys"][0]["kid"]
    assert claims["v"] == 2 and claims["iss"] == DEV_ISSUER and claims["sub"] == "user_dev"
    assert claims["o"] == {"id": "org_devco", "rol": "member", "slg": "devco", "per": "", "fpm": ""}
    assert claims["fea"] == ""
    assert claims["sid"].startswith("sess_") and claims["azp"]
    assert body["expires_at"] == claims["exp"]
    assert 590 <= claims["exp"] - time.time() <= 600


def test_member_token_cannot_manage_keys(client):
    token = _mint(client, user_id="user_dev", org_id="org_devco", role="member").get_json()["token"]
    assert client.get("/console/keys", headers=bearer(token)).status_code == 403


@pytest.mark.parametrize(
    ("granted", "held"),
    [
        (["org:api_keys:read"], ["org:api_keys:read"]),
        (["org:webhooks:manage"], ["org:webhooks:manage"]),
        (["org:api_keys:manage"], ["org:api_keys:read", "org:api_keys:manage"]),
        (
            ["org:webhooks:manage", "org:api_keys:read"],
            ["org:api_keys:read", "org:webhooks:manage"],
        ),
    ],
)
def test_member_token_carries_the_chosen_permissions_as_clerk_v2_claims(client, granted, held):
    body = {"user_id": "user_dev", "org_id": "org_devco", "role": "member", "permissions": granted}
    token = _mint(client, **body).get_json()["token"]
    me = client.get("/console/me", headers=bearer(token)).get_json()
    assert me["permissions"] == held
    reading = client.get("/console/keys", headers=bearer(token)).status_code
    assert reading == (200 if "org:api_keys:read" in held else 403)


def test_an_unknown_permission_is_refused(client):
    body = {"user_id": "user_dev", "org_id": "org_devco", "permissions": ["org:billing:manage"]}
    assert _mint(client, **body).status_code == 400


def test_token_signed_by_another_key_under_the_dev_kid_is_refused(client):
    jwks = client.get("/dev-login/.well-known/jwks.json").get_json()
    forger = SigningKey(jwks["keys"][0]["kid"], SigningKey.rsa().private_key, "RS256")
    now = int(time.time())
    claims = {"v": 2, "iss": DEV_ISSUER, "sub": "user_x", "iat": now, "exp": now + 60}
    claims["o"] = {"id": "org_devco", "rol": "admin"}
    forged = jwt.encode(claims, forger.private_key, "RS256", headers={"kid": forger.kid})
    response = client.get("/console/me", headers=bearer(forged))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_id": "bob"},
        {"user_id": "user_dev", "org_id": "acme"},
        {"user_id": "user_dev", "org_id": "org_x", "role": "owner"},
        {"user_id": "user_dev", "org_id": "org_x", "org_slug": "Not A Slug"},
        {"user_id": 7},
        {"user_id": "user_dev", "extra": 1},
    ],
)
def test_invalid_token_request_is_400(client, body):
    response = _mint(client, **body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_key_is_created_once_in_instance_with_mode_0600(app, server_env):
    path = os.path.join(app.instance_path, KEY_FILE)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = create_app({"TESTING": True, "DEV_LOGIN": True})
    with app.test_client() as first, again.test_client() as second:
        first_jwks = first.get("/dev-login/.well-known/jwks.json").get_json()
        assert first_jwks == second.get("/dev-login/.well-known/jwks.json").get_json()
    assert "d" not in first_jwks["keys"][0]  # the public half only


def test_dashboard_sign_in_settings_are_exposed(app):
    settings = sign_in.get()
    assert settings.as_page_config() == {
        "devLogin": True,
        "devLoginTokenUrl": "/dev-login/token",
        "clerkPublishableKey": "pk_test_example",
    }


def test_dev_login_is_absent_when_off(server_env, migrated):
    app = create_app({"TESTING": True})
    with app.test_client() as client:
        assert client.post("/dev-login/token", json={"user_id": "user_x"}).status_code == 404
    with app.app_context():
        assert sign_in.get().dev_login is False


def test_production_refuses_dev_login(tmp_path):
    env = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "DEV_LOGIN": "1"}
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        load_config(env, str(tmp_path))
    assert load_config({**env, "DEV_LOGIN": "0"}, str(tmp_path))["DEV_LOGIN"] is False


@pytest.mark.parametrize(
    "env",
    [
        {"FLASK_ENV": "production"},
        {"APP_ENV": "development", "FLASK_ENV": "production"},
        {"APP_ENV": "Production"},
    ],
)
def test_either_production_variable_refuses_dev_login(tmp_path, env):
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        load_config({**env, "SECRET_KEY": "s" * 40, "DEV_LOGIN": "1"}, str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env, str(tmp_path))


def test_azp_is_never_copied_from_the_request(client):
    response = client.post(
        "/dev-login/token",
        json={"user_id": "user_dev", "org_id": "org_devco", "role": "admin"},
        headers={"Origin": "https://evil.example", "Host": "evil.example"},
    )
    claims = jwt.decode(response.get_json()["token"], options={"verify_signature": False})
    assert claims["azp"] == DEV_AUTHORIZED_PARTY


def test_development_token_for_another_party_is_refused(client, app):
    now = int(time.time())
    claims = {"v": 2, "iss": DEV_ISSUER, "sub": "user_x", "iat": now, "exp": now + 60}
    claims.update(azp="https://evil.example", o={"id": "org_devco", "rol": "admin"})
    with app.app_context():
        token = dev_login_key().mint(claims)
    response = client.get("/console/me", headers=bearer(token))
    assert response.status_code == 401
    assert "azp" in response.get_json()["error"]["message"]
