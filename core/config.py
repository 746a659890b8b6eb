"""Configuration: one pydantic-settings model of the environment variables (README,
"Configuration"; SPEC §3), read once by ``create_app`` and turned into Flask config keys.

The process environment wins over a ``.env`` file in the working directory, which is not read
when ``LOOPWAVE_IGNORE_DOTENV`` is set. ``create_app(config)`` overrides that name a setting
are validated by the same model, and the deployment checks judge the configuration the app
will actually run with.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, NonNegativeInt, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from core.clientip import Networks, parse_networks
from tenants.licenses import ENFORCEMENTS

# The only APP_ENV values that allow DEV_LOGIN, a generated SECRET_KEY and lenient providers.
DEVELOPMENT_ENVS = ("development", "test")


class ConfigError(RuntimeError):
    """The configuration is unsafe or malformed; the app refuses to start."""


class Settings(BaseSettings):
    """Every environment variable of the README's "Configuration" table, by its own name.

    An empty variable counts as unset. Values that are not JSON by nature are read as
    operators write them: comma-separated lists, ``1``/``true``/``on`` flags (``NoDecode``
    keeps pydantic-settings from expecting JSON for the list-typed ones).
    """

    model_config = SettingsConfigDict(
        env_file=".env", case_sensitive=True, env_ignore_empty=True, extra="ignore"
    )

    APP_ENV: str | None = None
    FLASK_ENV: str | None = None
    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    REDIS_NAMESPACE: str | None = None
    SECRET_KEY: str | None = None
    API_KEY_PREFIX: str = "lw"
    CONSOLE_ISSUER: str | None = None
    CONSOLE_JWKS_URL: str | None = None
    CONSOLE_AUTHORIZED_PARTIES: Annotated[list[str], NoDecode] = Field(default_factory=list)
    CONSOLE_AUDIENCE: str | None = None
    CONSOLE_CLOCK_SKEW_SECONDS: NonNegativeInt = 5
    CONSOLE_IDPS: Annotated[list[dict[str, Any]] | None, NoDecode] = None
    CONSOLE_JWKS_MIN_REFRESH_SECONDS: NonNegativeInt = 30
    CONSOLE_CLERK_PUBLISHABLE_KEY: str | None = None
    DEV_LOGIN: bool = False
    TRUSTED_PROXIES: Annotated[Networks, NoDecode] = ()
    MAX_ACTIVE_KEYS_PER_TENANT: NonNegativeInt = 200
    AUTH_FAILURES_PER_MINUTE: NonNegativeInt = 600
    RATE_LIMIT_PER_MINUTE: NonNegativeInt = 6000
    # Console writes (POST/PATCH/PUT/DELETE) per signed-in user, and per tenant (0: none).
    CONSOLE_WRITES_PER_MINUTE: NonNegativeInt = 120
    CONSOLE_TENANT_WRITES_PER_MINUTE: NonNegativeInt = 600
    LICENSE_ENFORCEMENT: str = "enforce"
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: Literal["text", "json"] = "text"
    USAGE_FLUSH_SECONDS: NonNegativeInt = 5
    METRICS_TOKEN: str | None = None
    WEBHOOK_ALLOW_PRIVATE: bool = False
    # The authorities a webhook receiver's certificate must chain to (a PEM file); none:
    # certifi's public ones. For a private CA, or a test's own.
    WEBHOOK_CA_BUNDLE: str | None = None
    SECRET_SCANNING_KEYS_URL: str = "https://api.github.com/meta/public_keys/secret_scanning"  # noqa: S105 - a URL
    # How long a worker's claim on a delivery lasts: far longer than one attempt (15 s).
    WEBHOOK_LEASE_SECONDS: int = Field(default=120, ge=1)
    # Events older than this many days are purged with their finished deliveries (0: never;
    # at most ten years, so the cut-off date is always a date).
    EVENT_RETENTION_DAYS: int = Field(default=30, ge=0, le=3650)
    LOOPWAVE_INSTANCE_PATH: str | None = None

    # False: only the values given as arguments are read (``GivenSettings``).
    read_environment: ClassVar[bool] = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: the arguments (overrides), then the environment, then .env; never a
        # secrets directory.
        if not cls.read_environment:
            return (init_settings,)
        return init_settings, env_settings, dotenv_settings

    @field_validator("CONSOLE_AUTHORIZED_PARTIES", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("CONSOLE_IDPS", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise ValueError(f"must be a JSON list of provider objects ({exc})") from exc
        return value

    @field_validator("TRUSTED_PROXIES", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Networks:
        try:
            return parse_networks(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "must be comma-separated IP addresses or CIDRs of reverse proxies"
            ) from exc

    @field_validator("LICENSE_ENFORCEMENT")
    @classmethod
    def _enforcement(cls, value: str) -> str:
        if value not in ENFORCEMENTS:
            raise ValueError(f"must be one of {', '.join(ENFORCEMENTS)}")
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in logging.getLevelNamesMapping():
            raise ValueError("must be a logging level such as DEBUG, INFO or WARNING")
        return value.upper()

    @property
    def app_env(self) -> str:
        """``APP_ENV``, else ``FLASK_ENV``, else development; but any declared value other
        than development/test wins: a stray APP_ENV=development must not re-enable
        development sign-in on a host whose FLASK_ENV says production."""
        declared = [
            value
            for value in ((name or "").strip().lower() for name in (self.APP_ENV, self.FLASK_ENV))
            if value
        ]
        return next(
            (value for value in declared if value not in DEVELOPMENT_ENVS),
            declared[0] if declared else "development",
        )


class GivenSettings(Settings):
    """The same settings from the given values only: neither the process environment nor
    ``.env`` is read (``load_config`` called with an explicit environment)."""

    read_environment = False


def read_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The process environment over ``.env`` (unless ``LOOPWAVE_IGNORE_DOTENV``), under the
    ``overrides`` that name a setting; ``ConfigError`` naming the variable when invalid."""
    env_file = None if os.environ.get("LOOPWAVE_IGNORE_DOTENV") else ".env"
    try:
        return Settings(_env_file=env_file, **_setting_overrides(overrides))
    except ValidationError as exc:
        raise _config_error(exc) from None


def load_config(
    env: Mapping[str, str] | None,
    instance_path: str,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Flask config keys from the variables in ``env`` only, or from the process environment
    and ``.env`` when ``env`` is ``None``, under ``overrides`` (see ``app_config``)."""
    if env is None:
        return app_config(read_settings(overrides), instance_path, overrides)
    given = {name: value for name, value in env.items() if value != ""}
    try:
        settings = GivenSettings(**{**given, **_setting_overrides(overrides)})
    except ValidationError as exc:
        raise _config_error(exc) from None
    return app_config(settings, instance_path, overrides)


def app_config(
    settings: Settings, instance_path: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The Flask config keys of ``settings`` (validated with the overrides that name a
    setting), the other overrides (``TESTING``, ``SQLALCHEMY_*``, …) set as given; then the
    deployment checks run on the result. Defaults that derive from other settings (database
    file, Redis namespace, JWKS URL) are filled in here."""
    database_url = settings.DATABASE_URL or f"sqlite:///{Path(instance_path) / 'loopwave.db'}"
    issuer = settings.CONSOLE_ISSUER
    jwks_url = settings.CONSOLE_JWKS_URL or (
        f"{issuer.rstrip('/')}/.well-known/jwks.json" if issuer else None
    )
    config = settings.model_dump(
        exclude={"APP_ENV", "FLASK_ENV", "DATABASE_URL", "LOOPWAVE_INSTANCE_PATH"}
    )
    config.update(
        APP_ENV=settings.app_env,
        SQLALCHEMY_DATABASE_URI=database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(database_url),
        REDIS_NAMESPACE=settings.REDIS_NAMESPACE or default_redis_namespace(database_url),
        CONSOLE_JWKS_URL=jwks_url,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    config.update({k: v for k, v in (overrides or {}).items() if k not in Settings.model_fields})
    check_deployment(config)
    return config


def _setting_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (overrides or {}).items() if k in Settings.model_fields}


def _config_error(exc: ValidationError) -> ConfigError:
    # Each problem named by its variable; the rejected values are left out of the message,
    # since some settings (SECRET_KEY, METRICS_TOKEN, URLs with passwords) are secrets.
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
        for error in exc.errors(include_url=False, include_input=False)
    )
    return ConfigError(f"invalid configuration: {problems}")


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
    if config.get("WEBHOOK_ALLOW_PRIVATE"):
        raise ConfigError(
            f"WEBHOOK_ALLOW_PRIVATE runs only when APP_ENV is development or test, not "
            f"{app_env!r}: webhooks could then reach internal addresses"
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
