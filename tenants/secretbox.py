"""Webhook signing secrets at rest: encrypted, since signing needs them back (SPEC §10).

An API key is stored as a hash because verifying only needs to recompute it; a webhook
secret must be *used* to sign every delivery, so it is kept encrypted instead: AES-256-GCM
under a key derived (HKDF-SHA256) from ``SECRET_KEY``, with the endpoint's id as associated
data, so a ciphertext copied onto another endpoint does not decrypt. Threat model in
docs/security.md ("Webhook secrets"): a database dump alone reveals no secret; a dump
together with ``SECRET_KEY`` reveals them all, as it would let anyone mint sessions anyway.
"""

from __future__ import annotations

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
_VERSION = "v1"


class SecretUnreadable(Exception):
    """A stored secret does not decrypt (``SECRET_KEY`` changed, or the row was tampered)."""


def new_signing_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes: the Standard Webhooks secret format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class SecretBox:
    def __init__(self, secret_key: str):
        self._aead = AESGCM(
            HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=None,
                info=b"loopwave webhook signing secrets v1",
            ).derive(secret_key.encode())
        )

    def seal(self, secret: str, owner_id: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), owner_id.encode())
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, owner_id: str) -> str:
        version, _, encoded = stored.partition(":")
        try:
            if version != _VERSION:
                raise ValueError(version)
            raw = base64.b64decode(encoded)
            return self._aead.decrypt(raw[:12], raw[12:], owner_id.encode()).decode()
        except (ValueError, InvalidTag):
            raise SecretUnreadable("a webhook signing secret does not decrypt") from None
