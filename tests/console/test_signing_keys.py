"""Signing keys from the provider's JWKS (SPEC §6.2): cached, refreshed sparingly, kept when down.

The refresh interval runs on ``tenants.clock``; the ``clock`` fixture moves it.
"""

from __future__ import annotations

import pytest

from console.tokens import InvalidToken, ProviderKeys, ProviderUnavailable
from tests.console.idp import SigningKey, bearer


def _me(client, token):
    return client.get("/console/me", headers=bearer(token))


def test_keys_are_fetched_once_and_cached(client, idp, admin_token):
    for _ in range(5):
        assert _me(client, admin_token).status_code == 200
    assert idp.jwks_fetches == 1


def test_rotated_provider_key_is_accepted_after_the_refresh_interval(client, idp, tenant, clock):
    assert _me(client, idp.token()).status_code == 200
    idp.rotate(keep_old=False)
    clock.advance(seconds=31)
    response = _me(client, idp.token())
    assert response.status_code == 200
    assert idp.jwks_fetches == 2


def test_new_kid_within_the_interval_is_refused_without_a_fetch(client, idp, tenant, clock):
    assert _me(client, idp.token()).status_code == 200
    idp.rotate()
    response = _me(client, idp.token())
    assert response.status_code == 401
    assert idp.jwks_fetches == 1


def test_flood_of_unknown_kids_fetches_at_most_once_per_interval(client, idp, tenant, clock):
    assert _me(client, idp.token()).status_code == 200
    clock.advance(seconds=31)
    for _ in range(3):
        for _ in range(20):
            forged = idp.token(signing_key=SigningKey.rsa())
            assert _me(client, forged).status_code == 401
        clock.advance(seconds=10)
    # 60 forged kids over 30 seconds: one refresh (the interval had passed), none after it.
    assert idp.jwks_fetches == 2
    clock.advance(seconds=1)
    assert _me(client, idp.token(signing_key=SigningKey.rsa())).status_code == 401
    assert idp.jwks_fetches == 3


@pytest.mark.parametrize("outage", ["stopped", "failing"])
def test_cached_keys_keep_working_while_the_provider_is_down(
    outage, client, idp, admin_token, clock
):
    assert _me(client, admin_token).status_code == 200
    if outage == "stopped":
        idp.stop()
    else:
        idp.failing = True
    clock.advance(seconds=31)
    unknown = _me(client, idp.token(signing_key=SigningKey.rsa()))
    assert unknown.status_code == 401
    assert unknown.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"
    assert _me(client, admin_token).status_code == 200


@pytest.mark.parametrize("outage", ["stopped", "failing"])
def test_no_keys_and_provider_down_is_503_never_500(outage, client, idp, admin_token):
    if outage == "stopped":
        idp.stop()
    else:
        idp.failing = True
    response = _me(client, admin_token)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "AUTH_PROVIDER_UNAVAILABLE"
    assert response.headers["Retry-After"]


def test_provider_back_after_outage_is_used_after_the_interval(client, idp, admin_token, clock):
    idp.failing = True
    assert _me(client, admin_token).status_code == 503
    idp.failing = False
    assert _me(client, admin_token).status_code == 503  # no second attempt within the interval
    clock.advance(seconds=31)
    assert _me(client, admin_token).status_code == 200


def test_stale_keys_outlive_the_cache_lifespan_while_the_provider_is_down(idp, clock):
    """Past its lifespan the key set is refreshed; while that fails, the last good set stays."""
    keys = ProviderKeys(idp.jwks_url, min_refresh_seconds=30, lifespan=0.01)
    assert keys.get_signing_key(idp.signing_key.kid).key_id == idp.signing_key.kid
    idp.stop()
    clock.advance(seconds=31)
    assert keys.get_signing_key(idp.signing_key.kid).key_id == idp.signing_key.kid
    with pytest.raises(InvalidToken):
        keys.get_signing_key("kid_unknown")


def test_unreachable_provider_without_keys_raises_provider_unavailable(idp):
    idp.stop()
    with pytest.raises(ProviderUnavailable):
        ProviderKeys(idp.jwks_url, min_refresh_seconds=30).get_signing_key("any")


def test_cached_token_of_a_withdrawn_key_is_refused_after_the_refresh(client, idp, tenant, clock):
    """SPEC §6.5: a verified token is answered from the cache only while the provider still
    lists its signing key; a refresh that drops the kid drops the cached token with it."""
    withdrawn = idp.token()
    assert _me(client, withdrawn).status_code == 200  # verified and cached
    assert _me(client, withdrawn).status_code == 200
    idp.rotate(keep_old=False)
    clock.advance(seconds=31)
    assert _me(client, idp.token()).status_code == 200  # its unknown kid made the app re-fetch
    assert idp.jwks_fetches == 2
    response = _me(client, withdrawn)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"


def test_cached_token_of_a_kept_key_survives_the_refresh(client, idp, tenant, clock):
    kept = idp.token()
    assert _me(client, kept).status_code == 200
    idp.rotate(keep_old=True)
    clock.advance(seconds=31)
    assert _me(client, idp.token()).status_code == 200
    assert idp.jwks_fetches == 2
    assert _me(client, kept).status_code == 200
