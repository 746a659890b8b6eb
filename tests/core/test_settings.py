"""Settings (README "Configuration", SPEC §3) through one pydantic-settings model: a malformed
value refuses to start with a ``ConfigError`` naming the variable; ``.env`` in the working
directory is read, the environment wins over it; ``create_app`` overrides go through the same
model and the same deployment checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import create_app
from core.config import ConfigError, load_config

ISSUER = "https://clerk.example.com"

INVALID = [
    ("CONSOLE_CLOCK_SKEW_SECONDS", "five"),  # integer
    ("MAX_ACTIVE_KEYS_PER_TENANT", "-1"),  # integer, not negative
    ("DEV_LOGIN", "maybe"),  # flag
    ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.example"),  # CIDR
    ("TRUSTED_PROXIES", "10.0.0.0/33"),  # CIDR
    ("CONSOLE_IDPS", '[{"issuer": "https://a.example"'),  # JSON
    ("CONSOLE_IDPS", '{"issuer": "https://a.example"}'),  # JSON, but not a list
    ("LICENSE_ENFORCEMENT", "sometimes"),
    ("LOG_FORMAT", "xml"),
    ("LOG_LEVEL", "loud"),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory whose ``.env`` is read: the process environment is cleared of
    every variable the tests here set, and ``LOOPWAVE_IGNORE_DOTENV`` is unset."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOOPWAVE_IGNORE_DOTENV", raising=False)
    for name, _ in INVALID:
        monkeypatch.delenv(name, raising=False)
    for name in ("CONSOLE_AUDIENCE", "CONSOLE_AUTHORIZED_PARTIES", "USAGE_FLUSH_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_invalid_value_refuses_naming_the_variable(tmp_path, name, value):
    with pytest.raises(ConfigError, match=f"{name}: "):
        load_config({name: value}, str(tmp_path))


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_invalid_value_in_the_environment_refuses(workdir, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=f"{name}: "):
        load_config(None, str(workdir))


def test_invalid_value_in_dotenv_refuses(workdir):
    (workdir / ".env").write_text("RATE_LIMIT_PER_MINUTE=lots\n")
    with pytest.raises(ConfigError, match="RATE_LIMIT_PER_MINUTE: "):
        load_config(None, str(workdir))


def test_values_are_read_as_operators_write_them(tmp_path):
    config = load_config(
        {
            "CONSOLE_AUTHORIZED_PARTIES": " https://a.example ,https://b.example,",
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7",
            "DEV_LOGIN": "on",
            "CONSOLE_CLOCK_SKEW_SECONDS": "12",
            "CONSOLE_IDPS": json.dumps([{"issuer": "https://a.example"}]),
            "LOG_LEVEL": "debug",
            "API_KEY_PREFIX": "",  # empty counts as unset
        },
        str(tmp_path),
    )
    assert config["CONSOLE_AUTHORIZED_PARTIES"] == ["https://a.example", "https://b.example"]
    assert [str(net) for net in config["TRUSTED_PROXIES"]] == ["10.0.0.0/8", "192.168.1.7/32"]
    assert config["DEV_LOGIN"] is True
    assert config["CONSOLE_CLOCK_SKEW_SECONDS"] == 12
    assert config["CONSOLE_IDPS"] == [{"issuer": "https://a.example"}]
    assert config["LOG_LEVEL"] == "DEBUG"
    assert config["API_KEY_PREFIX"] == "lw"


def test_defaults_derive_from_other_settings(tmp_path):
    url = "postgresql+psycopg://app:hunter2@db.example/loopwave"
    config = load_config({"DATABASE_URL": url, "CONSOLE_ISSUER": ISSUER}, str(tmp_path))
    assert config["CONSOLE_JWKS_URL"] == f"{ISSUER}/.well-known/jwks.json"
    same_deployment = load_config({"DATABASE_URL": url.replace("hunter2", "other")}, "/x")
    assert config["REDIS_NAMESPACE"] == same_deployment["REDIS_NAMESPACE"]
    assert config["REDIS_NAMESPACE"].startswith("lw:")
    assert load_config({}, str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{tmp_path / 'loopwave.db'}"
    )


def test_dotenv_is_read_and_the_environment_wins(workdir, monkeypatch):
    (workdir / ".env").write_text(
        "CONSOLE_AUDIENCE=from-dotenv\n"
        "USAGE_FLUSH_SECONDS=7\n"
        "CONSOLE_AUTHORIZED_PARTIES=https://dotenv.example\n"
        "SOME_OTHER_TOOL=ignored\n"
    )
    monkeypatch.setenv("CONSOLE_AUTHORIZED_PARTIES", "https://env.example,https://env2.example")
    config = load_config(None, str(workdir))
    assert config["CONSOLE_AUDIENCE"] == "from-dotenv"
    assert config["USAGE_FLUSH_SECONDS"] == 7
    assert config["CONSOLE_AUTHORIZED_PARTIES"] == ["https://env.example", "https://env2.example"]
    assert "SOME_OTHER_TOOL" not in config


def test_loopwave_ignore_dotenv_is_honoured(workdir, monkeypatch):
    (workdir / ".env").write_text("CONSOLE_AUDIENCE=from-dotenv\nDEV_LOGIN=maybe\n")
    monkeypatch.setenv("LOOPWAVE_IGNORE_DOTENV", "1")
    config = load_config(None, str(workdir))
    assert config["CONSOLE_AUDIENCE"] is None and config["DEV_LOGIN"] is False


def test_an_override_of_dev_login_under_production_is_refused(tmp_path):
    production = {"APP_ENV": "production", "SECRET_KEY": "s" * 40}
    assert load_config(production, str(tmp_path))["DEV_LOGIN"] is False
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        load_config(production, str(tmp_path), {"DEV_LOGIN": True})
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        load_config(production, str(tmp_path), {"DEV_LOGIN": "1"})


def test_create_app_refuses_a_dev_login_override_when_the_environment_says_production(
    server_env, migrated, monkeypatch
):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        create_app({"TESTING": True, "DEV_LOGIN": True})


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"RATE_LIMIT_PER_MINUTE": "lots"}, "RATE_LIMIT_PER_MINUTE"),
        ({"DEV_LOGIN": "maybe"}, "DEV_LOGIN"),
        ({"TRUSTED_PROXIES": ["10.0.0.0/8", "proxy.example"]}, "TRUSTED_PROXIES"),
        ({"CONSOLE_IDPS": "not json"}, "CONSOLE_IDPS"),
    ],
)
def test_create_app_overrides_are_validated_like_the_environment(
    server_env, migrated, override, name
):
    with pytest.raises(ConfigError, match=f"{name}: "):
        create_app({"TESTING": True, **override})


def test_overrides_that_name_no_setting_are_set_as_given(tmp_path):
    config = load_config({}, str(tmp_path), {"TESTING": True, "SQLALCHEMY_ECHO": False})
    assert config["TESTING"] is True and config["SQLALCHEMY_ECHO"] is False


def test_secret_values_stay_out_of_the_message(tmp_path):
    with pytest.raises(ConfigError) as refused:
        load_config({"USAGE_FLUSH_SECONDS": "sk_secret_looking_value"}, str(tmp_path))
    assert "USAGE_FLUSH_SECONDS" in str(refused.value)
    assert "sk_secret_looking_value" not in str(refused.value)
