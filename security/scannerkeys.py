"""The public keys a secret scanner signs its reports with, fetched and cached like a JWKS.

GitHub publishes them at ``SECRET_SCANNING_KEYS_URL`` as
``{"public_keys": [{"key_identifier": …, "key": "-----BEGIN PUBLIC KEY-----…"}]}``. The set
is kept for an hour; an unknown identifier (GitHub rotated its key) fetches it again, at most
every ``min_refresh_seconds``, so forged identifiers cannot make us hammer GitHub.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import urllib3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

KEY_SET_LIFESPAN_SECONDS = 3600.0
FETCH_TIMEOUT = urllib3.Timeout(connect=3.0, read=5.0)


class KeysUnavailable(Exception):
    """The key set cannot be fetched (and none is cached)."""


class ScannerKeys:
    def __init__(self, url: str, min_refresh_seconds: float = 30.0):
        self.url = url
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = threading.Lock()
        self._http = urllib3.PoolManager(timeout=FETCH_TIMEOUT, retries=False)

    def verify(self, identifier: str, signature: bytes, body: bytes) -> bool:
        """True when ``signature`` (DER ECDSA, SHA-256) over ``body`` is valid under the
        published key ``identifier``."""
        key = self._key(identifier)
        if key is None:
            return False
        try:
            key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def _key(self, identifier: str) -> ec.EllipticCurvePublicKey | None:
        now = time.monotonic()
        with self._lock:
            stale = now - self._fetched_at > KEY_SET_LIFESPAN_SECONDS
            unknown = identifier not in self._keys
            if (stale or unknown) and now - self._attempted_at >= self.min_refresh_seconds:
                self._attempted_at = now
                try:
                    self._keys = self._fetch()
                    self._fetched_at = now
                except KeysUnavailable:
                    if not self._keys:
                        raise
            elif not self._keys:
                raise KeysUnavailable("the scanner's keys could not be fetched")
            return self._keys.get(identifier)

    def _fetch(self) -> dict[str, ec.EllipticCurvePublicKey]:
        try:
            answer = self._http.request("GET", self.url, redirect=False)
            listed: Any = orjson.loads(answer.data) if answer.status == 200 else None
        except (urllib3.exceptions.HTTPError, orjson.JSONDecodeError) as exc:
            raise KeysUnavailable(f"fetching {self.url} failed") from exc
        if not isinstance(listed, dict) or not isinstance(listed.get("public_keys"), list):
            raise KeysUnavailable(f"{self.url} did not answer a key list")
        keys = {}
        for entry in listed["public_keys"]:
            try:
                key = load_pem_public_key(entry["key"].encode())
                identifier = entry["key_identifier"]
            except (KeyError, TypeError, AttributeError, ValueError):
                continue  # one malformed entry does not spoil the others
            if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(identifier, str):
                keys[identifier] = key
        return keys
