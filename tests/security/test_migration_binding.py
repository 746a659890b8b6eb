"""Pentest: the issuer-binding migration binds every existing tenant to the *development*
provider when it runs without ``CONSOLE_ISSUER``/``CONSOLE_IDPS`` in its environment (a
migration job given only ``DATABASE_URL`` and ``SECRET_KEY``), even under
``APP_ENV=production``, where the development provider can never run.

Real organizations then reach no tenant (or, with just-in-time creation, a new empty one), and
any copy of the database opened with ``DEV_LOGIN`` (staging, a developer's laptop) lets anyone
who mints a development token for ``org_acme`` administer the real tenant: SPEC §6.3 says the
development provider can never reach a tenant of a real one. Outside development/test the
migration should leave such tenants unbound (as it does with several providers) or refuse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")
DEV_ISSUER = "urn:loopwave:dev-login"


def _flask(env: dict[str, str], *args: str) -> None:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CONSOLE_", "DEV_LOGIN", "DATABASE_URL", "APP_ENV", "FLASK_ENV"))
    }
    subprocess.run(
        [str(FLASK), "--app", "app", *args],
        cwd=ROOT,
        env={**inherited, **env},
        check=True,
        capture_output=True,
    )


def test_a_production_upgrade_without_provider_settings_binds_nothing_to_dev_login(tmp_path):
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    env = {
        "DATABASE_URL": url,
        "LOOPWAVE_INSTANCE_PATH": str(tmp_path),
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "APP_ENV": "production",
        "SECRET_KEY": "a-production-secret",
    }
    _flask(env, "db", "upgrade", "5b87f449f415")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO tenants (id, name, external_id, created_at) "
                "VALUES ('ten_real', 'Real customer', 'org_acme', '2026-01-01 00:00:00')"
            )
        )
    _flask(env, "db", "upgrade")
    with engine.connect() as connection:
        bound = (
            connection.execute(
                sa.text("SELECT issuer FROM organizations WHERE tenant_id = 'ten_real'")
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert DEV_ISSUER not in bound, "a production tenant was bound to the development provider"
