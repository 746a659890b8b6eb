"""Session token (JWT) verification: the one place that decides whether a console token is good.

Signing keys come from each provider's JWKS through PyJWT's ``PyJWKClient``, subclassed for
two guarantees its defaults do not give (SPEC §6.2):

* a refresh is *attempted* at most once per ``min_refresh_seconds`` per provider and process,
  whether it succeeds or not, so a flood of forged ``kid``s (or a dead provider) costs at
  most one outgoing request per interval;
* the last key set fetched successfully stays in use while the provider is down, even after
  PyJWT's own cache lifespan has run out.

The refresh interval is measured on ``tenants.clock``, the one time seam tests move.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import PyJWKClientConnectionError, PyJWTError

from tenants import clock

log = logging.getLogger("loopwave.console.tokens")

ALLOWED_ALGORITHMS = ("RS256", "ES256")
MAX_TOKEN_BYTES = 8 * 1024
# Headers that would let the token name its own verification key: never honoured, so refused.
KEY_CARRYING_HEADERS = ("jku", "x5u", "jwk", "x5c")
FETCH_TIMEOUT_SECONDS = 5.0


class InvalidToken(Exception):
    """The token is not acceptable (401 ``AUTH_INVALID_TOKEN``); the message says why."""


class ProviderUnavailable(Exception):
    """No signing keys could be fetched and none are cached (503)."""


class ProviderKeys(PyJWKClient):
    """A provider's signing keys by ``kid``: cached, refreshed sparingly, kept while it is down."""

    def __init__(
        self,
        uri: str,
        min_refresh_seconds: float,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        lifespan: float = 300,
    ):
        super().__init__(
            uri,
            cache_jwk_set=True,
            lifespan=lifespan,
            timeout=timeout,
            cooldown_duration=min_refresh_seconds,
        )
        self.min_refresh_seconds = min_refresh_seconds
        self._last_attempt: float | None = None
        self._last_good: PyJWKSet | None = None
        # The kids of the last key set fetched: a cached verified token stays good only while
        # its kid is listed here (SPEC §6.5). Replaced whole, so readers need no lock.
        self.listed_kids: frozenset[str] = frozenset()

    def get_signing_key(self, kid: str) -> PyJWK:
        with self._client_lock:
            cached = self.jwk_set_cache.get() if self.jwk_set_cache else None
            found = _match(cached, kid)
            if found is not None:
                return found
            known = self._refresh_if_allowed() or cached or self._last_good
            if known is None:
                raise ProviderUnavailable()
            found = _match(known, kid)
            if found is None:
                raise InvalidToken("The session token is signed with an unknown key")
            return found

    def _refresh_if_allowed(self) -> PyJWKSet | None:
        now = clock.now().timestamp()
        last = self._last_attempt
        if last is not None and 0 <= now - last < self.min_refresh_seconds:
            return None
        self._last_attempt = now
        try:
            fresh = self.get_jwk_set(refresh=True)
        except PyJWTError as exc:
            log.warning("fetching signing keys from %s failed: %s", self.uri, exc)
            return None
        self._last_good = fresh
        self.listed_kids = frozenset(key.key_id for key in fresh.keys if key.key_id)
        return fresh


class DiscoveredKeys(ProviderKeys):
    """Keys of an issuer that publishes OIDC discovery: the JWKS address is read on first need.

    Discovery happens lazily, inside a fetch, so the app starts while the provider is down.
    """

    def __init__(
        self, issuer: str, min_refresh_seconds: float, timeout: float = FETCH_TIMEOUT_SECONDS
    ):
        self.discovery_url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
        super().__init__(self.discovery_url, min_refresh_seconds, timeout)
        self.issuer = issuer
        self._discovered = False

    def fetch_data(self) -> Any:
        if not self._discovered:
            self.uri = self._discover()
            self._discovered = True
        return super().fetch_data()

    def _discover(self) -> str:
        try:
            opener = urllib.request.build_opener()
            with opener.open(self.discovery_url, timeout=self.timeout) as response:
                document = json.load(response)
        except (OSError, ValueError) as exc:
            raise PyJWKClientConnectionError(f"OIDC discovery failed: {exc}") from exc
        jwks_uri = document.get("jwks_uri") if isinstance(document, dict) else None
        if document.get("issuer") != self.issuer or not isinstance(jwks_uri, str):
            raise PyJWKClientConnectionError("OIDC discovery document does not match the issuer")
        if urlparse(jwks_uri).scheme not in ("http", "https"):
            raise PyJWKClientConnectionError("OIDC discovery names a non-HTTP jwks_uri")
        return jwks_uri


class LocalKeys(ProviderKeys):
    """A key set held in the process (development sign-in): same client, no HTTP."""

    def __init__(self, jwks: dict[str, Any], label_uri: str):
        super().__init__(label_uri, min_refresh_seconds=0)
        self._jwks = jwks

    def fetch_data(self) -> Any:
        return self._jwks


def _match(jwk_set: PyJWKSet | None, kid: str) -> PyJWK | None:
    if jwk_set is None:
        return None
    for candidate in jwk_set.keys:
        if (
            candidate.key_id == kid
            and candidate.public_key_use in ("sig", None)
            and candidate.algorithm_name in ALLOWED_ALGORITHMS
        ):
            return candidate
    return None


@dataclass(frozen=True)
class TokenPolicy:
    """What one provider's tokens must satisfy besides a good signature."""

    issuer: str
    keys: ProviderKeys
    authorized_parties: tuple[str, ...] = ()
    audience: str | None = None


class TokenVerifier:
    """Verifies a bearer token against the one provider its ``iss`` names.

    A dashboard sends the same token with every request until it expires, so verified tokens
    are remembered (by their exact text) until their ``exp``, for at most as long as PyJWT
    caches a key set, and only while the provider's last fetched key set still lists the
    token's ``kid``: once a refresh no longer lists it, every cached token signed with it is
    dropped on its next use (SPEC §6.5). A repeat costs two lookups instead of an RSA check.
    """

    def __init__(
        self,
        policies: Iterable[TokenPolicy],
        leeway_seconds: int,
        cache_size: int = 4096,
        cache_seconds: float = 300,
    ):
        self._by_issuer = {policy.issuer: policy for policy in policies}
        self._leeway = leeway_seconds
        # token -> (valid until, issuer, kid, claims)
        self._verified: dict[str, tuple[float, str, str, dict[str, Any]]] = {}
        self._cache_size = cache_size
        self._cache_seconds = cache_seconds

    @property
    def issuers(self) -> list[str]:
        return list(self._by_issuer)

    def verify(self, token: str) -> tuple[str, dict[str, Any]]:
        """The issuer and the verified claims, or ``InvalidToken`` / ``ProviderUnavailable``."""
        remembered = self._verified.get(token)
        if remembered is not None:
            valid_until, issuer, kid, claims = remembered
            if time.time() < valid_until and kid in self._by_issuer[issuer].keys.listed_kids:
                return issuer, claims
            self._verified.pop(token, None)
        issuer, kid, claims = self._verify(token)
        self._remember(token, issuer, kid, claims)
        return issuer, claims

    def _remember(self, token: str, issuer: str, kid: str, claims: dict[str, Any]) -> None:
        now = time.time()
        valid_until = min(float(claims["exp"]) + self._leeway, now + self._cache_seconds)
        if len(self._verified) >= self._cache_size:
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[token] = (valid_until, issuer, kid, claims)

    def _verify(self, token: str) -> tuple[str, str, dict[str, Any]]:
        if len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
            raise InvalidToken("The session token is larger than 8 KiB")
        header, unverified = _unverified_parts(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise InvalidToken("The session token's algorithm is not allowed")
        if any(name in header for name in KEY_CARRYING_HEADERS):
            raise InvalidToken("The session token carries its own key reference; refused")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("The session token names no signing key (kid)")
        issuer = unverified.get("iss")
        policy = self._by_issuer.get(issuer) if isinstance(issuer, str) else None
        if policy is None:
            raise InvalidToken("The session token's issuer is not accepted")
        claims = self._decode(token, policy, policy.keys.get_signing_key(kid))
        _check_claims(claims, policy)
        return policy.issuer, kid, claims

    def _decode(self, token: str, policy: TokenPolicy, key: PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=list(ALLOWED_ALGORITHMS),
                issuer=policy.issuer,
                audience=policy.audience,
                leeway=self._leeway,
                options={
                    "require": ["exp", "iat", "iss", "sub"],
                    "verify_aud": policy.audience is not None,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The session token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("The session token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("The session token is not meant for this audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("The session token's issuer is not accepted") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"The session token lacks the '{exc.claim}' claim") from exc
        except PyJWTError as exc:
            raise InvalidToken("The session token's signature or claims are invalid") from exc


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except PyJWTError as exc:
        raise InvalidToken("The session token is malformed") from exc
    return header, claims


NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


def _check_claims(claims: dict[str, Any], policy: TokenPolicy) -> None:
    # PyJWT converts a numeric string ("exp": "99999999999") with int(); RFC 7519 requires a
    # JSON number, and a provider never sends anything else.
    for name in NUMERIC_DATE_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidToken(f"The session token's '{name}' claim must be a JSON number")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("The session token lacks the 'sub' claim")
    if policy.authorized_parties and claims.get("azp") not in policy.authorized_parties:
        raise InvalidToken("The session token was issued to an unauthorized party (azp)")
