"""Development sign-in (``DEV_LOGIN``): a local identity provider for ``make run``.

The app keeps an RSA key in ``instance/dev_login_key.pem`` (created once, mode 0600), publishes
its public JWKS at ``/dev-login/.well-known/jwks.json`` and mints Clerk-shaped v2 session tokens
at ``POST /dev-login/token``. Those tokens are verified by ``console.tokens`` exactly like any
provider's: the development provider differs only in reading its key set from memory.

Never registered unless ``DEV_LOGIN`` is on; ``core.config`` refuses to start with it on unless
``APP_ENV`` is development or test.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, StringConstraints

from console.clerkpermissions import v2_claims
from console.devkey import DevLoginKey
from console.extensions import console_auth
from core.http import json_body

DEV_ISSUER = "urn:loopwave:dev-login"
# The one authorized party (``azp``) of development tokens, checked like any provider's. It is
# fixed rather than taken from the request (its ``Origin`` or ``Host``), which the caller
# chooses: a token must never name a party the server did not decide.
DEV_AUTHORIZED_PARTY = "urn:loopwave:dev-login:dashboard"
URL_PREFIX = "/dev-login"
JWKS_PATH = f"{URL_PREFIX}/.well-known/jwks.json"
TOKEN_PATH = f"{URL_PREFIX}/token"
TOKEN_LIFETIME_SECONDS = 600

bp = Blueprint("dev_login", __name__, url_prefix=URL_PREFIX)


def dev_login_key() -> DevLoginKey:
    """The development provider's key (registered only with ``DEV_LOGIN``, which creates it)."""
    key = console_auth.get().dev_login
    if key is None:
        raise RuntimeError("development sign-in is off: there is no development key")
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
    # Organization permissions a member holds (admins hold all), as Clerk's v2 claims carry them.
    permissions: list[
        Literal["org:api_keys:read", "org:api_keys:manage", "org:webhooks:manage"]
    ] = []


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
        }
        fea, per, fpm = v2_claims(body.permissions)
        claims["o"].update(per=per, fpm=fpm)
        claims["fea"] = fea
    return {"token": dev_login_key().mint(claims), "expires_at": claims["exp"]}
