"""Development sign-in (``DEV_LOGIN``): a local identity provider for ``make run``.

The app keeps an RSA key in ``instance/dev_login_key.pem`` (created once, mode 0600), publishes
its public JWKS at ``/dev-login/.well-known/jwks.json`` and mints Clerk-shaped v2 session tokens
at ``POST /dev-login/token``. Those tokens are verified by ``console.tokens`` exactly like any
provider's: the development provider differs only in reading its key set from memory.

Never registered unless ``DEV_LOGIN`` is on; ``core.config`` refuses to start with it on unless
``APP_ENV`` is development or test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, current_app
from jwt.algorithms import RSAAlgorithm
from pydantic import BaseModel, ConfigDict, StringConstraints

from core.http import json_body

DEV_ISSUER = "urn:loopwave:dev-login"
# The one authorized party (``azp``) of development tokens, checked like any provider's. It is
# fixed rather than taken from the request (its ``Origin`` or ``Host``), which the caller
# chooses: a token must never name a party the server did not decide.
DEV_AUTHORIZED_PARTY = "urn:loopwave:dev-login:dashboard"
URL_PREFIX = "/dev-login"
JWKS_PATH = f"{URL_PREFIX}/.well-known/jwks.json"
TOKEN_PATH = f"{URL_PREFIX}/token"
KEY_FILE = "dev_login_key.pem"
TOKEN_LIFETIME_SECONDS = 600
EXTENSION = "loopwave.dev_login"

bp = Blueprint("dev_login", __name__, url_prefix=URL_PREFIX)


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


def dev_login_key() -> DevLoginKey:
    key: DevLoginKey = current_app.extensions[EXTENSION]
    return key


UserId = Annotated[str, StringConstraints(pattern=r"^user_[A-Za-z0-9_-]{1,64}$")]
OrgId = Annotated[str, StringConstraints(pattern=r"^org_[A-Za-z0-9_-]{1,64}$")]
OrgSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    user_id: UserId
    org_id: OrgId | None = None
    org_slug: OrgSlug | None = None
    role: Literal["admin", "member"] = "member"


@bp.get("/.well-known/jwks.json")
def jwks() -> dict[str, Any]:
    return dev_login_key().jwks


@bp.post("/token")
def token() -> dict[str, Any]:
    body = json_body(TokenRequest)
    now = int(time.time())
    claims: dict[str, Any] = {
        "v": 2,
        "iss": DEV_ISSUER,
        "sub": body.user_id,
        "azp": DEV_AUTHORIZED_PARTY,
        "iat": now,
        "nbf": now - 5,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "sid": f"sess_dev_{secrets.token_hex(12)}",
        "sts": "active",
    }
    if body.org_id is not None:
        claims["o"] = {
            "id": body.org_id,
            "rol": body.role,
            "slg": body.org_slug or body.org_id.removeprefix("org_").lower(),
            "per": [],
        }
    return {"token": dev_login_key().mint(claims), "expires_at": claims["exp"]}
