"""What a provider may answer instead of a good JWKS (SPEC §6.1, §6.2), and OIDC discovery.

A broken answer is treated like an unreachable provider: the last good key set stays in use,
without one the answer is 503 ``AUTH_PROVIDER_UNAVAILABLE``, never a 500. Keys the console
cannot verify with are skipped without spoiling the keys beside them.
"""

from __future__ import annotations

import json
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from console.providers import build_console_auth
from console.signingkeys import MAX_DOCUMENT_BYTES, DiscoveredKeys
from console.tokens import InvalidToken, ProviderKeys, ProviderUnavailable
from core.config import ConfigError
from tests.console.idp import IdentityProvider, SigningKey, bearer

MALFORMED_ANSWERS = {
    "not JSON": b"<html>down for maintenance</html>",
    "not UTF-8": b"\xff\xfe\xfa garbage",
    "a JSON list": b"[]",
    "keys not a list": b'{"keys": "none"}',
    "no keys": b'{"keys": []}',
    "a member with a list for alg": b'{"keys": [{"kty": "RSA", "kid": "k", "alg": ["RS256"]}]}',
    "only an HMAC key": b'{"keys": [{"kty": "oct", "kid": "k", "alg": "HS256", "k": "c2VjcmV0"}]}',
    "nested too deep": b"[" * 100_000 + b"]" * 100_000,
}
# An Ed25519 public key (RFC 8037, appendix A.2): PyJWT loads it, for EdDSA, which we refuse.
ED25519_PUBLIC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


def _me(client, token):
    return client.get("/console/me", headers=bearer(token))


@pytest.mark.parametrize("body", MALFORMED_ANSWERS.values(), ids=MALFORMED_ANSWERS.keys())
def test_malformed_jwks_without_cached_keys_is_503_never_500(body, client, idp, admin_token):
    idp.raw_jwks = body
    response = _me(client, admin_token)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "AUTH_PROVIDER_UNAVAILABLE"
    assert response.headers["Retry-After"]
    assert idp.jwks_fetches == 1


@pytest.mark.parametrize("body", MALFORMED_ANSWERS.values(), ids=MALFORMED_ANSWERS.keys())
def test_malformed_jwks_keeps_the_last_good_keys(body, client, idp, admin_token, clock):
    assert _me(client, admin_token).status_code == 200
    idp.raw_jwks = body
    clock.advance(seconds=31)
    unknown = _me(client, idp.token(signing_key=SigningKey.rsa()))
    assert unknown.status_code == 401
    assert unknown.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"
    assert idp.jwks_fetches == 2  # the broken answer was fetched, and did not replace the keys
    assert _me(client, idp.token()).status_code == 200


def _rsa_member(kid: str, **fields: str) -> dict:
    public = RSAAlgorithm.to_jwk(SigningKey.rsa().private_key.public_key(), as_dict=True)
    return {**public, "kid": kid, **fields}


def test_unusable_members_beside_a_good_key_are_ignored(client, idp, tenant):
    private = SigningKey.rsa()
    other_curve = ec.generate_private_key(ec.SECP384R1()).public_key()
    idp.extra_members = [
        "not an object",
        {"kty": "RSA", "kid": "kid_alg_list", "alg": ["RS256"]},
        {"kty": "oct", "kid": "kid_hmac", "alg": "HS256", "k": "c2VjcmV0"},
        {"kty": "OKP", "kid": "kid_ed25519", "crv": "Ed25519", "x": ED25519_PUBLIC_X},
        {**ECAlgorithm.to_jwk(other_curve, as_dict=True), "kid": "kid_p384"},
        _rsa_member("kid_rs512", alg="RS512"),
        _rsa_member("kid_encryption", use="enc"),
        {**RSAAlgorithm.to_jwk(private.private_key, as_dict=True), "kid": private.kid},
        {"kty": "RSA", "kid": "kid_broken", "n": "AA", "e": "AQAB"},
    ]
    assert _me(client, idp.token()).status_code == 200
    # A token naming the private-key member, signed with that very key: still no key to check it.
    response = _me(client, idp.token(signing_key=private))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"
    for kid in ("kid_rs512", "kid_encryption", "kid_broken", "kid_alg_list"):
        assert _me(client, idp.token(headers={"kid": kid})).status_code == 401
    assert idp.jwks_fetches == 1
    assert _me(client, idp.token()).status_code == 200


def test_keys_without_alg_or_use_are_used_by_their_type(client, idp, tenant):
    """RSA keys verify RS256 and P-256 keys ES256 when the JWKS leaves out ``alg`` and ``use``."""
    rsa_key, ec_key = idp.signing_key, SigningKey.ec()
    idp.published = []
    for key in (rsa_key, ec_key):
        member = key.public_jwk()
        del member["alg"], member["use"]
        idp.extra_members.append(member)
    assert _me(client, idp.token(signing_key=rsa_key)).status_code == 200
    assert _me(client, idp.token(signing_key=ec_key)).status_code == 200


def test_a_redirecting_jwks_answer_is_not_followed(client, idp, admin_token):
    elsewhere = IdentityProvider()
    try:
        elsewhere.published = idp.published
        idp.jwks_redirect = elsewhere.jwks_url
        response = _me(client, admin_token)
        assert response.status_code == 503
        assert elsewhere.jwks_fetches == 0
    finally:
        elsewhere.stop()


def test_a_provider_that_never_answers_is_given_up_on(idp):
    idp.gate = threading.Event()
    keys = ProviderKeys(idp.jwks_url, min_refresh_seconds=30, timeout=0.2)
    with pytest.raises(ProviderUnavailable):
        keys.get_signing_key(idp.signing_key.kid)
    assert idp.held.acquire(timeout=10)  # the request did reach the provider, which held it


def test_the_key_set_is_refreshed_after_its_lifespan(idp, clock):
    keys = ProviderKeys(idp.jwks_url, min_refresh_seconds=30, lifespan=300)
    withdrawn = idp.signing_key.kid
    assert keys.get_signing_key(withdrawn).key_id == withdrawn
    idp.rotate(keep_old=False)
    clock.advance(seconds=299)
    assert keys.get_signing_key(withdrawn).key_id == withdrawn  # still fresh: no fetch
    assert idp.jwks_fetches == 1
    clock.advance(seconds=2)
    with pytest.raises(InvalidToken):
        keys.get_signing_key(withdrawn)
    assert idp.jwks_fetches == 2
    assert withdrawn not in keys.listed_kids


def test_concurrent_lookups_of_a_new_kid_share_one_fetch(idp, clock):
    keys = ProviderKeys(idp.jwks_url, min_refresh_seconds=30)
    keys.get_signing_key(idp.signing_key.kid)
    new = idp.rotate()
    clock.advance(seconds=31)
    idp.gate = threading.Event()
    found: list[str | None] = []

    def look_up() -> None:
        found.append(keys.get_signing_key(new.kid).key_id)

    threads = [threading.Thread(target=look_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert idp.held.acquire(timeout=10)  # one refresh is at the provider
    idp.gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert found == [new.kid] * 8
    assert idp.jwks_fetches == 2


def test_discovery_is_read_lazily_and_once(idp, clock):
    keys = DiscoveredKeys(idp.issuer, min_refresh_seconds=30)
    assert idp.discovery_fetches == 0  # nothing is fetched before a token needs a key
    assert keys.get_signing_key(idp.signing_key.kid).key_id == idp.signing_key.kid
    new = idp.rotate()
    clock.advance(seconds=31)
    assert keys.get_signing_key(new.kid).key_id == new.kid
    assert (idp.discovery_fetches, idp.jwks_fetches) == (1, 2)


def test_discovery_naming_another_issuer_is_refused_until_it_matches(idp, clock):
    keys = DiscoveredKeys(idp.issuer, min_refresh_seconds=30)
    idp.discovery_issuer = "https://impostor.example"
    with pytest.raises(ProviderUnavailable):
        keys.get_signing_key(idp.signing_key.kid)
    assert (idp.discovery_fetches, idp.jwks_fetches) == (1, 0)
    idp.discovery_issuer = None
    clock.advance(seconds=31)
    assert keys.get_signing_key(idp.signing_key.kid).key_id == idp.signing_key.kid


@pytest.mark.parametrize("document", [b"[]", b"not json", b'{"issuer": 1}'])
def test_malformed_discovery_document_is_a_failed_fetch(document, idp):
    idp.raw_discovery = document
    with pytest.raises(ProviderUnavailable):
        DiscoveredKeys(idp.issuer, min_refresh_seconds=30).get_signing_key(idp.signing_key.kid)
    assert idp.jwks_fetches == 0


@pytest.mark.parametrize("jwks_uri", ["http://[::1", "file:///etc/passwd", 7])
def test_discovery_naming_no_http_jwks_uri_is_a_failed_fetch(jwks_uri, idp):
    idp.raw_discovery = json.dumps({"issuer": idp.issuer, "jwks_uri": jwks_uri}).encode()
    with pytest.raises(ProviderUnavailable):
        DiscoveredKeys(idp.issuer, min_refresh_seconds=30).get_signing_key(idp.signing_key.kid)
    assert idp.jwks_fetches == 0


@pytest.mark.parametrize("padding", [MAX_DOCUMENT_BYTES, 0])
def test_an_answer_over_1_mib_is_refused(padding, idp):
    document = {"keys": [idp.signing_key.public_jwk()], "padding": "x" * padding}
    idp.raw_jwks = json.dumps(document).encode()
    keys = ProviderKeys(idp.jwks_url, min_refresh_seconds=30)
    if padding:
        with pytest.raises(ProviderUnavailable):
            keys.get_signing_key(idp.signing_key.kid)
    else:
        assert keys.get_signing_key(idp.signing_key.kid).key_id == idp.signing_key.kid


@pytest.mark.parametrize(
    "setting",
    [
        {"CONSOLE_ISSUER": "https://clerk.example.com", "CONSOLE_JWKS_URL": "file:///etc/passwd"},
        {"CONSOLE_ISSUER": "ftp://clerk.example.com"},
        {"CONSOLE_IDPS": '[{"issuer": "ftp://sso.example.com", "audience": "lw"}]'},
    ],
)
def test_a_key_address_that_is_not_http_stops_the_app(setting):
    config = {
        "APP_ENV": "test",
        "DEV_LOGIN": False,
        "CONSOLE_JWKS_MIN_REFRESH_SECONDS": 30,
        "CONSOLE_CLOCK_SKEW_SECONDS": 5,
        **setting,
    }
    with pytest.raises(ConfigError, match="not an HTTP"):
        build_console_auth(config, None)
