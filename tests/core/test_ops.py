"""Probes, structured logs and usage counting through Redis, in process."""

import json
import logging
from datetime import UTC, datetime

import redis
import sqlalchemy as sa

from app import create_app
from core.extensions import db, usage_buffer
from tenants.models import ApiKey, KeyUsage
from tenants.redis_usage import RedisUsageBuffer
from tests.redis_service import PrivateRedis, clear_run_keys, shared_redis_url

# Counts of this test's keys only: an app of an earlier test may still flush its late counts
# (its flusher thread) into the run's Redis tally or database while this test runs.
this_test_keys = ApiKey.id == KeyUsage.key_id


def test_healthz_and_readyz_answer_without_a_key(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_is_503_when_redis_is_configured_but_down(migrated):
    private = PrivateRedis()
    app = create_app({"TESTING": True, "REDIS_URL": private.url})
    private.stop()
    with app.app_context():
        answer = app.test_client().get("/readyz")
        assert answer.status_code == 503
        error = answer.get_json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert error["details"]["checks"] == {"database": "ok", "redis": "unavailable"}
        db.engine.dispose()


def test_json_log_has_one_line_per_request_without_the_secret(
    migrated, store, api_key, capsys, request_clock
):
    key = api_key()
    app = create_app({"TESTING": True, "LOG_FORMAT": "json"})
    with app.app_context():
        app.test_client().get("/api/v1/health", headers={"x-tenant-api-key": key})
        db.engine.dispose()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    request_lines = [line for line in lines if line["logger"] == "loopwave.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["status"] == 200 and line["path"] == "/api/v1/health"
    assert line["request_id"].startswith("req_") and line["duration_ms"] == request_clock
    key_row = store.session.scalars(sa.select(ApiKey)).one()
    assert (line["tenant_id"], line["key_id"]) == (key_row.tenant_id, key_row.id)
    assert key not in json.dumps(lines)
    logging.getLogger().handlers.clear()


def _redis_app(url):
    return create_app({"TESTING": True, "REDIS_URL": url})


def test_usage_of_two_processes_adds_up_through_redis_into_one_row(migrated, store, api_key):
    """Two apps stand for two processes: each counts in memory (nothing flushes by itself
    here), a flush ships the counts through Redis into the database, and the shared tally is
    left empty."""
    url = shared_redis_url()
    clear_run_keys(url)
    key = api_key()
    config = {"TESTING": True, "REDIS_URL": url, "USAGE_FLUSH_SECONDS": 3600}
    first, second = create_app(config), create_app(config)
    for app, requests in ((first, 3), (second, 2)):
        with app.app_context():
            client = app.test_client()
            for _ in range(requests):
                client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    for app in (first, second):
        with app.app_context():
            buffer = usage_buffer.get()
            assert isinstance(buffer, RedisUsageBuffer)
            buffer.flush()
            assert not redis.Redis.from_url(url).exists(buffer.counts_key)
    with first.app_context():
        rows = db.session.scalars(sa.select(KeyUsage).join(ApiKey, this_test_keys)).all()
        assert [(row.day, row.requests) for row in rows] == [(datetime.now(UTC).date(), 5)]
        assert db.session.scalars(sa.select(ApiKey.last_used_at)).one() is not None
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_usage_goes_straight_to_the_database_when_redis_is_down(migrated, store, api_key):
    private = PrivateRedis()
    key = api_key()
    app = _redis_app(private.url)
    private.stop()
    with app.app_context():
        client = app.test_client()
        answers = [client.get("/api/v1/health", headers={"x-tenant-api-key": key}) for _ in "ab"]
        assert [answer.status_code for answer in answers] == [200, 200]
        usage_buffer.get().flush()
        counted = sa.select(KeyUsage.requests).join(ApiKey, this_test_keys)
        assert db.session.scalars(counted).one() == 2
        db.engine.dispose()


def test_usage_through_redis_keeps_endpoint_and_outcome_and_reads_older_fields(
    migrated, store, tenant, api_key
):
    """A flush through Redis keeps each count's endpoint and outcome; a tally field pushed by
    an instance of the previous release (``tenant|key|day``) is written as endpoint ``*``."""
    url = shared_redis_url()
    clear_run_keys(url)
    key = api_key()
    app = create_app({"TESTING": True, "REDIS_URL": url, "USAGE_FLUSH_SECONDS": 3600})
    with app.app_context():
        client = app.test_client()
        key_id = client.get("/api/v1/health", headers={"x-tenant-api-key": key}).get_json()
        key_id = key_id["key"]["id"]
        client.get("/api/v1/contacts", headers={"x-tenant-api-key": key})
        client.get("/api/v1/contacts?limit=0", headers={"x-tenant-api-key": key})
        buffer = usage_buffer.get()
        today = datetime.now(UTC).date().isoformat()
        redis.Redis.from_url(url).hincrby(buffer.counts_key, f"{tenant.id}|{key_id}|{today}", 4)
        buffer.flush()
        rows = db.session.execute(
            sa.select(KeyUsage.endpoint, KeyUsage.outcome, KeyUsage.requests).join(
                ApiKey, this_test_keys
            )
        ).all()
        db.engine.dispose()
    assert sorted(tuple(row) for row in rows) == [
        ("*", "success", 4),
        ("GET /api/v1/contacts", "client_error", 1),
        ("GET /api/v1/contacts", "success", 1),
        ("GET /api/v1/health", "success", 1),
    ]
