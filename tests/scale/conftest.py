"""Two gunicorn masters on different loopback ports sharing the test database and Redis.

The test process's own key store uses the same ``REDIS_URL``, so a change made there is
announced to both instances exactly as a console request on one instance would announce it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from core.extensions import db
from tests.conftest import _empty_tables, reset_auth_failure_counts
from tests.redis_service import clear_run_keys, shared_redis_url
from tests.servers import Gunicorn


@pytest.fixture(scope="session")
def redis_url() -> str:
    return shared_redis_url()


@pytest.fixture
def app(migrated, server_env, redis_url) -> Iterator[Flask]:
    clear_run_keys(redis_url)
    app = create_app({"TESTING": True, "REDIS_URL": redis_url})
    reset_auth_failure_counts(Path(app.instance_path))
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def instances(migrated, server_env, redis_url, tmp_path_factory) -> Iterator[list[Gunicorn]]:
    logs: Path = tmp_path_factory.mktemp("instances")
    env = {**server_env, "REDIS_URL": redis_url}
    first = Gunicorn({**env, "LOG_FORMAT": "json"}, log_path=logs / "instance1.log")
    try:
        second = Gunicorn(env, log_path=logs / "instance2.log")
    except Exception:
        first.stop()
        raise
    yield [first, second]
    first.stop()
    second.stop()
