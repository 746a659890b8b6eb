"""Configuration, read once from the environment (and ``.env``) by ``create_app``."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from core.clientip import parse_networks
from tenants.licenses import ENFORCEMENTS

_TRUE = {"1", "true", "yes", "on"}
# The only APP_ENV values that allow DEV_LOGIN, a generated SECRET_KEY and lenient providers.
DEVELOPMENT_ENVS = ("development", "test")


class ConfigError(RuntimeError):
    """The configuration is unsafe or malformed; the app refuses to start."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def read_environment() -> dict[str, str]:
    """The process environment over the values of a ``.env`` file in the working directory."""
    if os.environ.get("LOOPWAVE_IGNORE_DOTENV"):
        return dict(os.environ)
    values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    values.update(os.environ)
    return values


def load_config(
    env: dict[str, str], instance_path: str, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Turn environment variables into Flask config keys (see README, "Configuration").

    ``overrides`` (``create_app``'s argument) are applied before the safety checks, so the
    checks judge the configuration the app will actually run with.
    """
    # Any declared value other than development/test wins: a stray APP_ENV=development must not
    # re-enable development sign-in on a host whose FLASK_ENV says production.
    declared = [
        value
        for value in ((env.get(name) or "").strip().lower() for name in ("APP_ENV", "FLASK_ENV"))
        if value
    ]
    app_env = next(
        (value for value in declared if value not in DEVELOPMENT_ENVS),
        declared[0] if declared else "development",
    )
    database_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'loopwave.db'}"
    enforcement = env.get("LICENSE_ENFORCEMENT", "enforce")
    if enforcement not in ENFORCEMENTS:
        raise ConfigError(f"LICENSE_ENFORCEMENT must be one of {ENFORCEMENTS}")
    issuer = env.get("CONSOLE_ISSUER") or None
    config: dict[str, Any] = {
        "APP_ENV": app_env,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "REDIS_NAMESPACE": env.get("REDIS_NAMESPACE") or default_redis_namespace(database_url),
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "API_KEY_PREFIX": env.get("API_KEY_PREFIX", "lw"),
        "CONSOLE_ISSUER": issuer,
        "CONSOLE_JWKS_URL": env.get("CONSOLE_JWKS_URL")
        or (f"{issuer.rstrip('/')}/.well-known/jwks.json" if issuer else None),
        "CONSOLE_AUTHORIZED_PARTIES": _csv(env.get("CONSOLE_AUTHORIZED_PARTIES")),
        "CONSOLE_AUDIENCE": env.get("CONSOLE_AUDIENCE") or None,
        "CONSOLE_CLOCK_SKEW_SECONDS": _int(env, "CONSOLE_CLOCK_SKEW_SECONDS", 5),
        "CONSOLE_IDPS": env.get("CONSOLE_IDPS") or None,
        "CONSOLE_JWKS_MIN_REFRESH_SECONDS": _int(env, "CONSOLE_JWKS_MIN_REFRESH_SECONDS", 30),
        "CONSOLE_CLERK_PUBLISHABLE_KEY": env.get("CONSOLE_CLERK_PUBLISHABLE_KEY") or None,
        "DEV_LOGIN": _flag(env.get("DEV_LOGIN")),
        "RATE_LIMIT_PER_MINUTE": _int(env, "RATE_LIMIT_PER_MINUTE", 6000),
        "TRUSTED_PROXIES": env.get("TRUSTED_PROXIES") or None,
        "MAX_ACTIVE_KEYS_PER_TENANT": _int(env, "MAX_ACTIVE_KEYS_PER_TENANT", 200),
        "AUTH_FAILURES_PER_MINUTE": _int(env, "AUTH_FAILURES_PER_MINUTE", 600),
        "LICENSE_ENFORCEMENT": enforcement,
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        "LOG_FORMAT": env.get("LOG_FORMAT", "text"),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "USAGE_FLUSH_SECONDS": _int(env, "USAGE_FLUSH_SECONDS", 5),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
    }
    config.update(overrides or {})
    try:
        config["TRUSTED_PROXIES"] = parse_networks(config["TRUSTED_PROXIES"])
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs of reverse proxies"
        ) from exc
    for name in ("MAX_ACTIVE_KEYS_PER_TENANT", "AUTH_FAILURES_PER_MINUTE"):
        if config[name] < 0:
            raise ConfigError(f"{name} must not be negative")
    check_deployment(config)
    return config


def is_development(config: dict[str, Any]) -> bool:
    """True for ``APP_ENV`` development or test: the only ones lenient settings may run in."""
    return str(config.get("APP_ENV") or "").strip().lower() in DEVELOPMENT_ENVS


def check_deployment(config: dict[str, Any]) -> None:
    """Deny by default: outside development/test, refuse to start without ``SECRET_KEY`` or
    with the development sign-in (an unauthenticated admin-token minting endpoint) on."""
    if is_development(config):
        return
    app_env = config.get("APP_ENV")
    if not config.get("SECRET_KEY"):
        raise ConfigError(
            f"SECRET_KEY is required when APP_ENV={app_env!r} (only development and test "
            "generate one)"
        )
    if config.get("DEV_LOGIN"):
        raise ConfigError(
            f"DEV_LOGIN runs only when APP_ENV is development or test, not {app_env!r}: "
            "turn DEV_LOGIN off"
        )


def default_redis_namespace(database_url: str) -> str:
    """Every Redis key and channel starts with this, so deployments sharing one Redis server
    never see each other's counters or invalidations (pub/sub ignores the database number).
    By default it names the deployment by its database: instances of one deployment share
    it, two deployments do not. Set ``REDIS_NAMESPACE`` when instances reach the database
    under different URLs."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(database_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL fails later, where it is used
        shown = database_url
    return "lw:" + hashlib.sha256(shown.encode()).hexdigest()[:12]


def _engine_options(database_url: str) -> dict[str, Any]:
    # hide_parameters: a database error's message (logged with its traceback) names the
    # statement but never its bound values, which carry key hashes and client input (SPEC §5).
    if database_url.startswith("sqlite"):
        # Several gunicorn workers share one SQLite file: wait for the write lock.
        return {"hide_parameters": True, "connect_args": {"timeout": 15}}
    # No pool_pre_ping: it costs a round trip on every checkout. Dead connections are caught
    # without one (core/database.py).
    return {"hide_parameters": True, "pool_size": 5, "max_overflow": 10, "pool_recycle": 1800}


def development_secret(instance_path: str) -> str:
    """A random secret kept in ``instance/`` so development sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
