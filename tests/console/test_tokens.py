"""Session token verification (SPEC §6.1): every attack token is a 401 AUTH_INVALID_TOKEN."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import jwt
import pytest

from tests.console.idp import AUDIENCE, DROP, SigningKey, b64, bearer, forge


def _hs256_with_public_key(idp) -> str:
    """The classic algorithm-confusion attack: HMAC keyed with the provider's public key."""
    header = {"alg": "HS256", "typ": "JWT", "kid": idp.signing_key.kid}
    unsigned = forge(header, idp.claims()).rsplit(".", 1)[0]
    signature = hmac.new(idp.signing_key.public_pem(), unsigned.encode(), hashlib.sha256)
    return f"{unsigned}.{b64(signature.digest())}"


def _tampered(idp) -> str:
    header, _, signature = idp.token(role="member").split(".")
    payload = b64(json.dumps(idp.claims(role="admin")).encode())
    return ".".join([header, payload, signature])


BAD_TOKENS = {
    "none": lambda idp: None,
    "garbage": lambda idp: "not-a-jwt",
    "expired": lambda idp: idp.token(exp=int(time.time()) - 60, iat=int(time.time()) - 120),
    "not yet valid": lambda idp: idp.token(nbf=int(time.time()) + 600),
    "issued in the future": lambda idp: idp.token(iat=int(time.time()) + 600),
    "wrong iss": lambda idp: idp.token(iss="https://evil.example"),
    "wrong azp": lambda idp: idp.token(azp="https://evil.example"),
    "wrong aud": lambda idp: idp.token(aud="someone-else"),
    "no aud": lambda idp: idp.token(aud=DROP),
    "no sub": lambda idp: idp.token(sub=DROP),
    "no exp": lambda idp: idp.token(exp=DROP),
    "alg none": lambda idp: forge({"alg": "none", "kid": idp.signing_key.kid}, idp.claims()),
    "HS256 with the public key": _hs256_with_public_key,
    "tampered payload": _tampered,
    "unknown key": lambda idp: idp.token(signing_key=SigningKey.rsa()),
    "no kid": lambda idp: jwt.encode(idp.claims(), idp.signing_key.private_key, "RS256"),
    "jku header": lambda idp: idp.token(headers={"jku": f"{idp.issuer}/evil.json"}),
    "x5u header": lambda idp: idp.token(headers={"x5u": f"{idp.issuer}/evil.pem"}),
    "jwk header": lambda idp: idp.token(headers={"jwk": idp.signing_key.public_jwk()}),
    "oversized": lambda idp: idp.token(padding="x" * 9000),
    "exp as a numeric string": lambda idp: idp.token(exp=str(int(time.time()) + 60)),
    "nbf as a numeric string": lambda idp: idp.token(nbf=str(int(time.time()) - 5)),
    "iat as a numeric string": lambda idp: idp.token(iat=str(int(time.time()))),
    "exp as a boolean": lambda idp: idp.token(exp=True),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_bad_token_is_refused(case, client, idp, tenant):
    token = BAD_TOKENS[case](idp)
    headers = bearer(token) if token is not None else {}
    response = client.get("/console/me", headers=headers)
    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert body["error"]["code"] == "AUTH_INVALID_TOKEN"
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_good_token_is_accepted(client, idp, admin_token, tenant):
    response = client.get("/console/me", headers=bearer(admin_token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["user_id"] == "user_admin"
    assert body["issuer"] == idp.issuer
    assert body["role"] == "admin"
    assert body["tenant"] == {"id": tenant.id, "name": "Acme", "external_id": "org_acme"}


def test_clock_skew_leeway_accepts_a_token_just_expired(client, idp, tenant):
    now = int(time.time())
    token = idp.token(exp=now - 2, iat=now - 60)
    assert client.get("/console/me", headers=bearer(token)).status_code == 200


def test_es256_provider_key_is_accepted(client, idp, tenant):
    idp.rotate(algorithm="ES256", keep_old=False)
    assert client.get("/console/me", headers=bearer(idp.token())).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer a b"},
    ],
)
def test_malformed_authorization_header_is_refused(client, headers):
    response = client.get("/console/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"


def test_tenant_api_key_on_console_says_console_takes_a_session_token(client, api_key):
    key = api_key()
    for headers in ({"x-tenant-api-key": key}, bearer(key)):
        response = client.get("/console/me", headers=headers)
        assert response.status_code == 401
        error = response.get_json()["error"]
        assert error["code"] == "AUTH_INVALID_TOKEN"
        assert "session token" in error["message"]
        assert key not in response.get_data(as_text=True)


def test_session_token_never_authenticates_the_tenant_api(client, admin_token):
    response = client.get("/api/v1/health", headers=bearer(admin_token))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_KEY"


def test_remembered_token_is_refused_once_it_expires(idp, tenant):
    """Verified tokens are cached for speed, but never past their ``exp``."""
    from console.tokens import InvalidToken, ProviderKeys, TokenPolicy, TokenVerifier

    policy = TokenPolicy(idp.issuer, ProviderKeys(idp.jwks_url, 30), (), AUDIENCE)
    verifier = TokenVerifier([policy], leeway_seconds=0)
    expires = int(time.time()) + 3  # room for a slow machine to verify before it expires
    token = idp.token(exp=expires)
    assert verifier.verify(token)[1]["sub"] == "user_admin"
    assert verifier.verify(token)[1]["sub"] == "user_admin"
    assert idp.jwks_fetches == 1
    # PyJWT reads the wall clock, so the clock fixture cannot move it: wait past exp.
    time.sleep(max(0.0, expires - time.time()) + 0.2)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)
