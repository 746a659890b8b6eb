"""The development provider's signing key (``DEV_LOGIN``): an RSA key kept in
``instance/dev_login_key.pem``, created once with mode 0600, and its public JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_FILE = "dev_login_key.pem"


class DevLoginKey:
    """The development provider's key and public JWKS (``kid``: its RFC 7638 thumbprint)."""

    def __init__(self, private_key: rsa.RSAPrivateKey):
        self._private_key = private_key
        public = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
        self.kid = _thumbprint(public)
        self.jwks = {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    @classmethod
    def load_or_create(cls, instance_path: str) -> DevLoginKey:
        return cls(_load_or_create_pem(Path(instance_path) / KEY_FILE))

    def mint(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})


def _thumbprint(public_jwk: dict[str, Any]) -> str:
    canonical = json.dumps(
        {"e": public_jwk["e"], "kty": "RSA", "n": public_jwk["n"]}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _load_or_create_pem(path: Path) -> rsa.RSAPrivateKey:
    """Create the key once; several workers starting together agree on one file (``link``)."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise RuntimeError(f"{path} does not hold an RSA private key")
    return loaded
