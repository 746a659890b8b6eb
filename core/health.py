"""Load-balancer probes, outside both blueprints and without authentication.

``/healthz``: the process answers (liveness; never touches a dependency, so a database
outage does not make the balancer kill healthy workers). ``/readyz``: the database and, when
configured, Redis answer (readiness; a 503 takes the instance out of rotation).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, Response, current_app
from sqlalchemy import text

from core.errors import MESSAGE_BY_CODE, error_response
from core.extensions import db
from tenants import metrics

log = logging.getLogger("loopwave.health")
REDIS_PROBE = "loopwave.redis_probe"


def register_health_routes(app: Flask) -> None:
    if app.config["REDIS_URL"]:
        app.extensions[REDIS_PROBE] = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=0.5, socket_timeout=0.5
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> dict[str, Any] | Response:
        checks = {"database": _database_ok()}
        if REDIS_PROBE in current_app.extensions:
            checks["redis"] = _redis_ok(current_app.extensions[REDIS_PROBE])
        if all(checks.values()):
            return {"status": "ready", "checks": _words(checks)}
        return error_response(
            "SERVICE_UNAVAILABLE",
            MESSAGE_BY_CODE["SERVICE_UNAVAILABLE"],
            {"checks": _words(checks)},
            headers={"Retry-After": "1"},
        )


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means: not ready
        db.session.rollback()
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        return False


def _redis_ok(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        metrics.redis_error("readiness")
        log.warning("readiness: Redis unreachable: %s", type(exc).__name__)
        return False


def _words(checks: dict[str, bool]) -> dict[str, str]:
    return {name: "ok" if ok else "unavailable" for name, ok in checks.items()}
