"""``GET /metrics``: Prometheus text, behind ``METRICS_TOKEN``; off (404) without it."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from core.extensions import db
from core.metrics import LatencyHistogram
from tenants import metrics
from tenants.redis_signal import RedisSignal
from tests.redis_service import RUN_NAMESPACE, PrivateRedis

TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_config() -> dict:
    return {"METRICS_TOKEN": TOKEN}


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_without_a_token_setting_there_is_no_metrics_route(migrated):
    plain = create_app({"TESTING": True, "METRICS_TOKEN": None})
    with plain.app_context():
        answer = plain.test_client().get("/metrics", headers=AUTH)
        db.engine.dispose()
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"X-Metrics-Token": TOKEN}],
    ids=["none", "wrong", "no-bearer", "other-header"],
)
def test_a_scrape_without_the_token_is_refused(client, headers):
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert b"loopwave_" not in answer.get_data()


def test_requests_are_counted_by_route_template_status_and_timed(client, api_key):
    key = api_key(["chats:read"])
    before = scrape(client)
    for _ in range(3):
        assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    assert client.get("/api/v1/chats/cht_nope/messages", headers={"x-tenant-api-key": key})
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    health = {"route": "/api/v1/health", "method": "GET", "status": "200"}
    assert delta("loopwave_http_requests_total", **health) == 3
    assert delta("loopwave_http_request_duration_seconds_count", route="/api/v1/health") == 3
    assert delta("loopwave_http_request_duration_seconds_sum", route="/api/v1/health") > 0
    buckets = [
        delta("loopwave_http_request_duration_seconds_bucket", route="/api/v1/health", le=le)
        for le in metrics.LATENCY_LES
    ]
    assert buckets == sorted(buckets) and buckets[-1] == 3  # cumulative, "+Inf" holds all
    assert all(name != metrics.LATENCY_IN_BUCKET_NAME + "_total" for name, _ in after)
    thread = "/api/v1/chats/<chat_id>/messages"  # the template, never the id
    assert (
        sum(
            delta("loopwave_http_requests_total", route=thread, method="GET", status=status)
            for status in ("200", "404")
        )
        == 1
    )
    assert delta("loopwave_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert not any("cht_nope" in str(labels) for _, labels in after)


def test_auth_failures_by_reason_and_key_cache_hits(client, api_key):
    key = api_key(["contacts:read"])
    before = scrape(client)
    assert client.get("/api/v1/health").status_code == 401
    assert (
        client.get("/api/v1/health", headers={"x-tenant-api-key": "lw_live_x"}).status_code == 401
    )
    assert client.get("/api/v1/tickets", headers={"x-tenant-api-key": key}).status_code == 403
    for _ in range(3):
        assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 200
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("loopwave_auth_failures_total", reason="AUTH_INVALID_KEY") == 2
    assert delta("loopwave_auth_failures_total", reason="AUTH_INSUFFICIENT_SCOPE") == 1
    hits = delta("loopwave_key_cache_lookups_total", result="hit")
    misses = delta("loopwave_key_cache_lookups_total", result="miss")
    assert (hits, misses) == (3, 2)  # the key's first use, and the malformed key's


def test_the_invalidation_channel_and_the_usage_backlog_are_exposed(client, api_key):
    metrics.invalidation_channel(healthy=False)
    metrics.invalidation_lag(0.25)
    down = scrape(client)
    metrics.invalidation_channel(healthy=True)
    up = scrape(client)
    assert value(down, "loopwave_invalidation_channel_healthy") == 0
    assert value(up, "loopwave_invalidation_channel_healthy") == 1
    assert value(up, "loopwave_invalidation_lag_seconds_count") >= 1
    assert ("loopwave_usage_flush_backlog_requests", ()) in up
    for name in ("loopwave_redis_errors", "loopwave_database_errors"):
        assert name in client.get("/metrics", headers=AUTH).get_data(as_text=True)


def test_the_signal_reports_channel_health_and_the_lag_of_each_announcement(client):
    """Through Redis itself: subscribing makes the channel healthy, an announcement is
    observed as lag, and a subscription that breaks makes it unhealthy."""
    private = PrivateRedis()
    try:
        writer = RedisSignal(private.url, RUN_NAMESPACE)
        reader = RedisSignal(private.url, RUN_NAMESPACE)
        metrics.invalidation_channel(healthy=False)
        assert reader.heard() is True  # subscribed
        healthy = scrape(client)
        lags_before = value(healthy, "loopwave_invalidation_lag_seconds_count")
        writer.bump()
        assert reader.heard() is True
        after = scrape(client)
    finally:
        private.stop()
    assert value(healthy, "loopwave_invalidation_channel_healthy") == 1
    assert value(after, "loopwave_invalidation_lag_seconds_count") == lags_before + 1
    assert reader.heard() is False  # the subscription's connection is gone
    assert value(scrape(client), "loopwave_invalidation_channel_healthy") == 0


def test_latencies_land_in_their_buckets():
    """The histogram rebuilt from the processes' counts: each latency in the first bucket
    whose bound is at least as large, cumulative, with its count and sum."""
    route = "/test/latency-buckets"
    tally = metrics.Tally()
    for seconds in (0.0005, 0.001, 0.003, 0.003, 7.0):
        tally.count_request((route, "GET", "200"), 0.0, seconds)
    tally.flush()
    (histogram,) = [
        family
        for family in LatencyHistogram(REGISTRY).collect()
        if family.name == "loopwave_http_request_duration_seconds"
    ]
    assert histogram.type == "histogram"
    samples = {
        (sample.name, sample.labels.get("le")): sample.value
        for sample in histogram.samples
        if sample.labels["route"] == route
    }
    bucket = "loopwave_http_request_duration_seconds_bucket"
    assert samples[(bucket, "0.001")] == 2  # 0.0005 and 0.001 (le: less than or equal)
    assert samples[(bucket, "0.0025")] == 2
    assert samples[(bucket, "0.005")] == 4
    assert samples[(bucket, "5.0")] == 4
    assert samples[(bucket, "+Inf")] == 5
    assert samples[("loopwave_http_request_duration_seconds_count", None)] == 5
    assert samples[("loopwave_http_request_duration_seconds_sum", None)] == pytest.approx(7.0075)


def test_the_webhook_backlog_and_lag_are_read_at_scrape_time(client, clock):
    from core.extensions import keystore, webhooks
    from tests.conftest import TEST_ACTOR

    tenant = keystore.get().create_tenant("Acme")
    assert value(scrape(client), "loopwave_webhook_backlog_deliveries") == 0
    webhooks.get().allow_private = True
    endpoint = webhooks.get().create(tenant.id, TEST_ACTOR, "http://127.0.0.1:9/", ["*"]).endpoint
    webhooks.get().send_test(tenant.id, endpoint.id)
    webhooks.get().send_test(tenant.id, endpoint.id)
    clock.advance(seconds=30)
    samples = scrape(client)
    assert value(samples, "loopwave_webhook_backlog_deliveries") == 2
    assert value(samples, "loopwave_webhook_lag_seconds") == 30


def test_latencies_of_one_route_add_up_across_methods_and_statuses():
    route = "/test/latency-statuses"
    tally = metrics.Tally()
    tally.count_request((route, "GET", "200"), 0.0, 0.001)
    tally.count_request((route, "GET", "404"), 0.0, 0.003)
    tally.count_request((route, "POST", "201"), 0.0, 0.003)
    tally.flush()
    (histogram,) = [
        family
        for family in LatencyHistogram(REGISTRY).collect()
        if family.name == "loopwave_http_request_duration_seconds"
    ]
    samples = {
        (sample.name, sample.labels.get("le")): sample.value
        for sample in histogram.samples
        if sample.labels["route"] == route
    }
    assert samples[("loopwave_http_request_duration_seconds_bucket", "0.001")] == 1
    assert samples[("loopwave_http_request_duration_seconds_bucket", "0.005")] == 3
    assert samples[("loopwave_http_request_duration_seconds_count", None)] == 3
    assert samples[("loopwave_http_request_duration_seconds_sum", None)] == pytest.approx(0.007)
