"""Deny by default (SPEC §3, §6.4, issue 11 §4 and §7): outside ``APP_ENV`` development/test
the app refuses to start with development sign-in on, without ``SECRET_KEY``, or with an
identity provider that checks neither ``azp`` nor ``aud``.

Black-box: the real ``flask`` command is started with the environment an operator would set,
and must exit with a message naming the setting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from core.config import ConfigError
from tests.servers import ROOT

FLASK = Path(sys.executable).with_name("flask")
ISSUER = "https://clerk.example.com"


def _start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """``flask --app app routes``: builds the app exactly as gunicorn would, then exits."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(
            ("CONSOLE_", "DEV_LOGIN", "APP_ENV", "FLASK_ENV", "SECRET_KEY", "WEBHOOK_")
        )
    }
    environment.update(
        LOOPWAVE_IGNORE_DOTENV="1",
        LOOPWAVE_INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'guards.db'}",
        **env,
    )
    return subprocess.run(
        [str(FLASK), "--app", "app", "routes"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("app_env", ["production", "staging", "prod", "Preview"])
def test_dev_login_refuses_to_start_outside_development_and_test(tmp_path, app_env):
    started = _start(tmp_path, APP_ENV=app_env, SECRET_KEY="s" * 40, DEV_LOGIN="1")
    assert started.returncode != 0
    assert "ConfigError" in started.stderr and "DEV_LOGIN" in started.stderr


@pytest.mark.parametrize("app_env", ["development", "test"])
def test_dev_login_starts_in_development_and_test(tmp_path, app_env):
    started = _start(tmp_path, APP_ENV=app_env, DEV_LOGIN="1")
    assert started.returncode == 0, started.stderr
    assert "/dev-login/token" in started.stdout


def test_secret_key_is_required_outside_development_and_test(tmp_path):
    started = _start(tmp_path, APP_ENV="staging")
    assert started.returncode != 0
    assert "ConfigError" in started.stderr and "SECRET_KEY" in started.stderr


def test_create_app_overrides_are_checked_too(server_env, migrated):
    with pytest.raises(ConfigError, match="DEV_LOGIN"):
        create_app({"APP_ENV": "staging", "DEV_LOGIN": True})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"APP_ENV": "production", "SECRET_KEY": None})


def test_main_provider_without_azp_or_aud_refuses_to_start(tmp_path):
    started = _start(tmp_path, APP_ENV="production", SECRET_KEY="s" * 40, CONSOLE_ISSUER=ISSUER)
    assert started.returncode != 0
    assert "CONSOLE_AUTHORIZED_PARTIES or CONSOLE_AUDIENCE" in started.stderr


@pytest.mark.parametrize(
    "setting",
    [{"CONSOLE_AUTHORIZED_PARTIES": "https://console.example.com"}, {"CONSOLE_AUDIENCE": "lw"}],
)
def test_main_provider_with_azp_or_aud_starts(tmp_path, setting):
    started = _start(
        tmp_path, APP_ENV="production", SECRET_KEY="s" * 40, CONSOLE_ISSUER=ISSUER, **setting
    )
    assert started.returncode == 0, started.stderr


def test_further_provider_without_azp_or_aud_refuses_to_start(tmp_path):
    lenient = {"issuer": "https://example.eu.auth0.com/", "jwks_url": "https://x.example/jwks"}
    started = _start(
        tmp_path,
        APP_ENV="staging",
        SECRET_KEY="s" * 40,
        CONSOLE_ISSUER=ISSUER,
        CONSOLE_AUDIENCE="lw",
        CONSOLE_IDPS=json.dumps([lenient]),
    )
    assert started.returncode != 0
    assert "CONSOLE_IDPS[https://example.eu.auth0.com/]: authorized_parties or audience" in (
        started.stderr
    )


def test_lenient_providers_start_in_development(tmp_path):
    lenient = {"issuer": "https://example.eu.auth0.com/", "jwks_url": "https://x.example/jwks"}
    started = _start(
        tmp_path, APP_ENV="development", CONSOLE_ISSUER=ISSUER, CONSOLE_IDPS=json.dumps([lenient])
    )
    assert started.returncode == 0, started.stderr


def test_webhooks_to_private_addresses_refuse_to_start_in_production(tmp_path):
    started = _start(tmp_path, APP_ENV="production", SECRET_KEY="s" * 40, WEBHOOK_ALLOW_PRIVATE="1")
    assert started.returncode != 0
    assert "ConfigError" in started.stderr and "WEBHOOK_ALLOW_PRIVATE" in started.stderr
