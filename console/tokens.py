"""Session token (JWT) verification: the one place that decides whether a console token is good.

The signing keys come from each provider's JWKS through ``console.signingkeys``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from console.signingkeys import (
    ALLOWED_ALGORITHMS,
    KEY_SET_LIFESPAN_SECONDS,
    InvalidToken,
    ProviderKeys,
    ProviderUnavailable,
    SigningKeys,
)

# The errors of verification, and the key sources a policy is built with, are part of this
# module's interface; they are defined beside the key sets, which raise them too.
__all__ = [
    "InvalidToken",
    "ProviderKeys",
    "ProviderUnavailable",
    "SigningKeys",
    "TokenPolicy",
    "TokenVerifier",
]

MAX_TOKEN_BYTES = 8 * 1024
# Headers that would let the token name its own verification key: never honoured, so refused.
KEY_CARRYING_HEADERS = ("jku", "x5u", "jwk", "x5c")


@dataclass(frozen=True)
class TokenPolicy:
    """What one provider's tokens must satisfy besides a good signature."""

    issuer: str
    keys: SigningKeys
    authorized_parties: tuple[str, ...] = ()
    audience: str | None = None


class TokenVerifier:
    """Verifies a bearer token against the one provider its ``iss`` names.

    A dashboard sends the same token with every request until it expires, so verified tokens
    are remembered (by their exact text) until their ``exp``, for at most ``cache_seconds``
    (by default, as long as a key set is used before a refresh), and only while the provider's
    last fetched key set still lists the token's ``kid``: once a refresh no longer lists it,
    every cached token signed with it is dropped on its next use (SPEC §6.5). A repeat costs
    two lookups instead of an RSA check.
    """

    def __init__(
        self,
        policies: Iterable[TokenPolicy],
        leeway_seconds: int,
        cache_size: int = 4096,
        cache_seconds: float = KEY_SET_LIFESPAN_SECONDS,
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
MAX_NUMERIC_DATE = 253_402_300_799  # 9999-12-31T23:59:59Z


def _check_claims(claims: dict[str, Any], policy: TokenPolicy) -> None:
    # PyJWT converts a numeric string ("exp": "99999999999") with int(); RFC 7519 requires a
    # JSON number, and a provider never sends anything else.
    # A date past year 9999 (an integer too large for a float, say) is no date of any token.
    for name in NUMERIC_DATE_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidToken(f"The session token's '{name}' claim must be a JSON number")
        if not -MAX_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE:
            raise InvalidToken(f"The session token's '{name}' claim is out of range")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("The session token lacks the 'sub' claim")
    if policy.authorized_parties and claims.get("azp") not in policy.authorized_parties:
        raise InvalidToken("The session token was issued to an unauthorized party (azp)")
