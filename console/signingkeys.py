"""A provider's signing keys (SPEC §6.2): its JWKS, fetched, cached and refreshed sparingly.

PyJWT parses the keys (``PyJWK``); fetching and caching them are written here, because the
policy of PyJWT's ``PyJWKClient`` does not fit SPEC §6.2: its cooldown starts only at a
*successful* fetch, so a dead provider would be asked again for every forged ``kid``, and its
cache forgets the keys once their lifespan is over, even while the provider is down. Here:

* a refresh is *attempted* at most once per ``min_refresh_seconds`` per provider and process,
  whether it succeeds or not, so a flood of forged ``kid``s (or a dead provider) costs at
  most one outgoing request per interval;
* the last key set fetched successfully stays in use while the provider is down, however long;
* an answer that is not a usable JWKS counts as a failed fetch, never as an error of ours.

The refresh interval and the key set's lifespan are measured on ``tenants.clock``, the one time
seam tests move.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlparse

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from tenants import clock

log = logging.getLogger("loopwave.console.signingkeys")

ALLOWED_ALGORITHMS = ("RS256", "ES256")
FETCH_TIMEOUT_SECONDS = 5.0
# A JWKS or discovery document is a few kilobytes; a larger answer is refused unread.
MAX_DOCUMENT_BYTES = 1024 * 1024
KEY_SET_LIFESPAN_SECONDS = 300.0


class InvalidToken(Exception):
    """The token is not acceptable (401 ``AUTH_INVALID_TOKEN``); the message says why."""


class ProviderUnavailable(Exception):
    """No signing keys could be fetched and none are cached (503)."""


class FetchFailed(Exception):
    """A provider's document could not be fetched, or is not what it should be."""


@dataclass(frozen=True)
class KeySet:
    """The usable keys of one successful fetch, by ``kid``, and when they were fetched."""

    keys: dict[str, PyJWK]
    fetched_at: float


class SigningKeys(ABC):
    """A provider's signing keys by ``kid``: cached, refreshed sparingly, kept while it is down.

    A successful fetch replaces the key set whole, so a lookup that finds its ``kid`` in a fresh
    set reads it without the lock; only refreshes, and the lookups that may trigger one, take
    it (gunicorn's threaded workers share one instance), so concurrent lookups of an unknown
    ``kid`` cost one fetch, whose result they all read.
    """

    def __init__(self, min_refresh_seconds: float, lifespan: float = KEY_SET_LIFESPAN_SECONDS):
        self.min_refresh_seconds = min_refresh_seconds
        self.lifespan = lifespan
        self._lock = threading.Lock()
        self._key_set: KeySet | None = None
        self._last_attempt: float | None = None
        # The kids of the last key set fetched: a cached verified token stays good only while
        # its kid is listed here (SPEC §6.5). Replaced whole, so readers need no lock.
        self.listed_kids: frozenset[str] = frozenset()

    @property
    @abstractmethod
    def source(self) -> str:
        """Where the keys come from, for log messages."""

    @abstractmethod
    def fetch_jwks(self) -> Any:
        """The provider's JWKS document, parsed from JSON; ``FetchFailed`` when out of reach."""

    def get_signing_key(self, kid: str) -> PyJWK:
        """The key ``kid`` names: from the key set while it is fresh, else after a refresh if
        one may be attempted now, else from the last good set.

        ``InvalidToken`` when the set names no such key, ``ProviderUnavailable`` when no set
        was ever fetched.
        """
        found = self._fresh_key(kid, clock.timestamp())
        if found is not None:
            return found
        with self._lock:
            now = clock.timestamp()
            # Another request may have refreshed the set while this one waited for the lock.
            found = self._fresh_key(kid, now)
            if found is not None:
                return found
            if self._may_attempt(now):
                self._refresh(now)
            if self._key_set is None:
                raise ProviderUnavailable()
            found = self._key_set.keys.get(kid)
            if found is None:
                raise InvalidToken("The session token is signed with an unknown key")
            return found

    def _fresh_key(self, kid: str, now: float) -> PyJWK | None:
        key_set = self._key_set
        if key_set is None or not 0 <= now - key_set.fetched_at < self.lifespan:
            return None
        return key_set.keys.get(kid)

    def _may_attempt(self, now: float) -> bool:
        last = self._last_attempt
        return last is None or not 0 <= now - last < self.min_refresh_seconds

    def _refresh(self, now: float) -> None:
        self._last_attempt = now
        try:
            keys = usable_keys(self.fetch_jwks())
        except FetchFailed as exc:
            log.warning("fetching signing keys from %s failed: %s", self.source, exc)
            return
        self._key_set = KeySet(keys, now)
        self.listed_kids = frozenset(keys)


class ProviderKeys(SigningKeys):
    """Keys published at a JWKS address."""

    def __init__(
        self,
        jwks_url: str,
        min_refresh_seconds: float,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        lifespan: float = KEY_SET_LIFESPAN_SECONDS,
    ):
        super().__init__(min_refresh_seconds, lifespan)
        self.jwks_url = require_http_url(jwks_url)
        self.timeout = timeout

    @property
    def source(self) -> str:
        return self.jwks_url

    def fetch_jwks(self) -> Any:
        return fetch_json(self.jwks_url, self.timeout, follow_redirects=False)


class DiscoveredKeys(SigningKeys):
    """Keys of an issuer that publishes OIDC discovery: the JWKS address is read on first need.

    Discovery happens lazily, inside a fetch, so the app starts while the provider is down; a
    failed discovery is a failed fetch, tried again at the next refresh the interval allows.
    """

    def __init__(
        self,
        issuer: str,
        min_refresh_seconds: float,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        lifespan: float = KEY_SET_LIFESPAN_SECONDS,
    ):
        super().__init__(min_refresh_seconds, lifespan)
        self.issuer = issuer
        self.discovery_url = require_http_url(
            f"{issuer.rstrip('/')}/.well-known/openid-configuration"
        )
        self.timeout = timeout
        self.jwks_url: str | None = None

    @property
    def source(self) -> str:
        return self.jwks_url or self.discovery_url

    def fetch_jwks(self) -> Any:
        if self.jwks_url is None:
            self.jwks_url = self._discover()
        return fetch_json(self.jwks_url, self.timeout, follow_redirects=False)

    def _discover(self) -> str:
        document = fetch_json(self.discovery_url, self.timeout, follow_redirects=True)
        if not isinstance(document, dict) or document.get("issuer") != self.issuer:
            raise FetchFailed("OIDC discovery document does not match the issuer")
        jwks_uri = document.get("jwks_uri")
        try:
            return require_http_url(jwks_uri if isinstance(jwks_uri, str) else "")
        except ValueError as exc:
            raise FetchFailed("OIDC discovery names no HTTP(S) jwks_uri") from exc


class LocalKeys(SigningKeys):
    """A key set held in the process (development sign-in): the same cache, no HTTP."""

    def __init__(self, jwks: dict[str, Any]):
        super().__init__(min_refresh_seconds=0)
        self.jwks = jwks

    @property
    def source(self) -> str:
        return "the development key set"

    def fetch_jwks(self) -> Any:
        return self.jwks


def require_http_url(url: str) -> str:
    """``url`` when it is HTTP(S), else ``ValueError`` (a configuration error, at start-up)."""
    scheme = urlparse(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an HTTP(S) address")
    return url


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A JWKS answer that redirects is refused, as PyJWT's client refuses it: the keys are
    read from the configured address only."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch_json(url: str, timeout: float, follow_redirects: bool) -> Any:
    """GET ``url`` and parse its JSON body; ``FetchFailed`` for any failure on the way."""
    handlers = () if follow_redirects else (_RefuseRedirects(),)
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=timeout) as response:
            body = response.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise FetchFailed(f"the answer is larger than {MAX_DOCUMENT_BYTES} bytes")
        return json.loads(body)
    except HTTPError as exc:
        exc.close()
        raise FetchFailed(f"HTTP {exc.code}") from exc
    except (OSError, http.client.HTTPException, ValueError, RecursionError) as exc:
        # OSError: unreachable, refused, timed out; HTTPException: a broken HTTP answer;
        # ValueError: a body that is not JSON (or not UTF-8); RecursionError: nested too deep.
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from exc


def usable_keys(document: Any) -> dict[str, PyJWK]:
    """The keys of a JWKS document this app verifies with, by ``kid``.

    Members it cannot use (other key types or algorithms, encryption keys, private keys,
    malformed entries) are skipped, as ``PyJWKSet`` skips keys it cannot load; a document that
    is not a JWKS, or lists no usable key, is a failed fetch, and the last good set stays.
    """
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list):
        raise FetchFailed("the answer is not a JWKS (no 'keys' list)")
    keys: dict[str, PyJWK] = {}
    for member in members:
        key = _signing_key(member)  # with a ``kid``: ``_signing_key`` requires one
        if key is not None and key.key_id is not None and key.key_id not in keys:
            keys[key.key_id] = key
    if not keys:
        raise FetchFailed("the JWKS lists no RS256 or ES256 signing key")
    return keys


def _signing_key(member: Any) -> PyJWK | None:
    # Checked before PyJWK sees the member: it assumes well-typed fields (an ``alg`` list
    # raises TypeError) and loads private keys, which cannot verify.
    if not isinstance(member, dict) or not isinstance(member.get("kid"), str) or not member["kid"]:
        return None
    if member.get("kty") not in ("RSA", "EC") or member.get("use") not in ("sig", None):
        return None
    if member.get("alg") is not None and member.get("alg") not in ALLOWED_ALGORITHMS:
        return None
    try:
        key = PyJWK(member)
    except PyJWTError:
        return None
    if key.algorithm_name not in ALLOWED_ALGORITHMS:
        return None
    return key if isinstance(key.key, RSAPublicKey | EllipticCurvePublicKey) else None
