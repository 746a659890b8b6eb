"""The identity providers the console trusts, built once from configuration by ``create_app``.

* the main provider: ``CONSOLE_ISSUER`` (+ ``CONSOLE_JWKS_URL``, ``CONSOLE_AUTHORIZED_PARTIES``,
  ``CONSOLE_AUDIENCE``), Clerk-shaped claims;
* ``CONSOLE_IDPS``: a JSON list of further JWKS-backed providers; ``jwks_url`` may be left out
  when the issuer serves OIDC discovery;
* with ``DEV_LOGIN``: the development provider, whose keys live in ``instance/``.

A malformed entry stops the app at start-up (``ConfigError``) rather than at first sign-in, and
so does, outside development/test, a provider that checks neither ``azp`` nor ``aud``: any
token its issuer signs for any other application would otherwise be accepted here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from console.identity import CLERK_ADMIN_ROLES, ClaimsMapping
from console.signingkeys import DiscoveredKeys, LocalKeys, ProviderKeys, SigningKeys
from console.tokens import TokenPolicy, TokenVerifier
from core.config import ConfigError, is_development
from core.signin import SignInSettings

IDP_FIELDS = {
    "issuer",
    "jwks_url",
    "authorized_parties",
    "audience",
    "tenant_claim",
    "role_claim",
    "permissions_claim",
    "admin_roles",
    "auto_provision",
}


@dataclass(frozen=True)
class Provider:
    policy: TokenPolicy
    mapping: ClaimsMapping
    auto_provision: bool = True

    @property
    def issuer(self) -> str:
        return self.policy.issuer


@dataclass(frozen=True)
class ConsoleAuth:
    """Everything the console's ``before_request`` needs: the verifier and each provider."""

    verifier: TokenVerifier
    providers: dict[str, Provider]


def sign_in_settings(config: dict[str, Any], auth: ConsoleAuth) -> SignInSettings:
    from console.devlogin import JWKS_PATH, TOKEN_PATH

    dev_login = bool(config["DEV_LOGIN"])
    return SignInSettings(
        dev_login=dev_login,
        dev_login_token_url=TOKEN_PATH if dev_login else None,
        dev_login_jwks_url=JWKS_PATH if dev_login else None,
        clerk_publishable_key=config.get("CONSOLE_CLERK_PUBLISHABLE_KEY"),
        issuers=tuple(auth.providers),
    )


def build_console_auth(config: dict[str, Any], dev_jwks: dict[str, Any] | None) -> ConsoleAuth:
    interval = config["CONSOLE_JWKS_MIN_REFRESH_SECONDS"]
    providers: list[Provider] = []
    if config.get("CONSOLE_ISSUER"):
        issuer = config["CONSOLE_ISSUER"]
        jwks_url = config.get("CONSOLE_JWKS_URL") or f"{issuer.rstrip('/')}/.well-known/jwks.json"
        providers.append(
            Provider(
                TokenPolicy(
                    issuer,
                    _keys("CONSOLE_JWKS_URL", jwks_url, issuer, interval),
                    tuple(config.get("CONSOLE_AUTHORIZED_PARTIES") or ()),
                    config.get("CONSOLE_AUDIENCE"),
                ),
                ClaimsMapping(),
            )
        )
        _require_audience_check(
            config, providers[-1], "CONSOLE_AUTHORIZED_PARTIES or CONSOLE_AUDIENCE"
        )
    for entry in _idp_entries(config.get("CONSOLE_IDPS")):
        providers.append(_idp(entry, interval))
        setting = f"CONSOLE_IDPS[{entry['issuer']}]: authorized_parties or audience"
        _require_audience_check(config, providers[-1], setting)
    if dev_jwks is not None:
        from console.devlogin import DEV_AUTHORIZED_PARTY, DEV_ISSUER

        policy = TokenPolicy(DEV_ISSUER, LocalKeys(dev_jwks), (DEV_AUTHORIZED_PARTY,))
        providers.append(Provider(policy, ClaimsMapping()))
    by_issuer: dict[str, Provider] = {}
    for provider in providers:
        if provider.issuer in by_issuer:
            raise ConfigError(f"Identity provider issuer {provider.issuer!r} is configured twice")
        by_issuer[provider.issuer] = provider
    leeway = config["CONSOLE_CLOCK_SKEW_SECONDS"]
    verifier = TokenVerifier([provider.policy for provider in providers], leeway)
    return ConsoleAuth(verifier, by_issuer)


def _require_audience_check(config: dict[str, Any], provider: Provider, setting: str) -> None:
    """Outside development/test a provider must check ``azp`` or ``aud`` (SPEC §3, §6.1)."""
    if is_development(config):
        return
    if not provider.policy.authorized_parties and provider.policy.audience is None:
        raise ConfigError(
            f"{setting} must be set when APP_ENV={config.get('APP_ENV')!r}: tokens of "
            f"{provider.issuer!r} are otherwise accepted whichever application they were "
            "issued to"
        )


def _idp_entries(raw: str | list[Any] | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    try:
        entries = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise ConfigError("CONSOLE_IDPS must be a JSON list of provider objects") from exc
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError("CONSOLE_IDPS must be a JSON list of provider objects")
    for entry in entries:
        unknown = set(entry) - IDP_FIELDS
        if unknown:
            raise ConfigError(f"CONSOLE_IDPS: unknown field(s) {sorted(unknown)}")
        if not isinstance(entry.get("issuer"), str) or not entry["issuer"]:
            raise ConfigError("CONSOLE_IDPS: every provider needs an 'issuer'")
    return entries


def _idp(entry: dict[str, Any], interval: int) -> Provider:
    issuer = entry["issuer"]
    parties = entry.get("authorized_parties") or ()
    if isinstance(parties, str):
        parties = [part.strip() for part in parties.split(",") if part.strip()]
    admin_roles = entry.get("admin_roles") or list(CLERK_ADMIN_ROLES)
    for name, value in (("authorized_parties", parties), ("admin_roles", admin_roles)):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"CONSOLE_IDPS[{issuer}]: {name} must be a list of strings")
    for name in ("jwks_url", "audience", "tenant_claim", "role_claim", "permissions_claim"):
        if entry.get(name) is not None and not isinstance(entry[name], str):
            raise ConfigError(f"CONSOLE_IDPS[{issuer}]: {name} must be a string")
    auto_provision = entry.get("auto_provision", True)
    if not isinstance(auto_provision, bool):
        raise ConfigError(f"CONSOLE_IDPS[{issuer}]: auto_provision must be true or false")
    keys = _keys("CONSOLE_IDPS.jwks_url", entry.get("jwks_url"), issuer, interval)
    return Provider(
        TokenPolicy(issuer, keys, tuple(parties), entry.get("audience")),
        ClaimsMapping(
            entry.get("tenant_claim"),
            entry.get("role_claim"),
            tuple(admin_roles),
            entry.get("permissions_claim"),
        ),
        auto_provision,
    )


def _keys(setting: str, jwks_url: str | None, issuer: str, interval: int) -> SigningKeys:
    try:
        if jwks_url is None:
            return DiscoveredKeys(issuer, interval)
        return ProviderKeys(jwks_url, interval)
    except ValueError as exc:
        raise ConfigError(f"{setting}: {exc}") from exc
