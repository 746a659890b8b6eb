"""``/metrics`` under gunicorn: every worker's counts in every scrape (multiprocess mode)."""

from __future__ import annotations

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_ACTOR
from tests.servers import Gunicorn

pytestmark = pytest.mark.server

TOKEN = "metrics-token-for-tests"


def _scrape(instance) -> dict[tuple[str, tuple], float]:
    answer = requests.get(
        instance.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _health_count(instance) -> float:
    health = (("method", "GET"), ("route", "/api/v1/health"), ("status", "200"))
    return _scrape(instance).get(("loopwave_http_requests_total", health), 0.0)


def test_every_scrape_sums_the_counts_of_all_workers(server_env, store, tenant, tmp_path):
    instance = Gunicorn({**server_env, "METRICS_TOKEN": TOKEN}, workers=2)
    try:
        key = store.create_key(tenant.id, "server", TEST_ACTOR).full_key
        for _ in range(20):
            answer = requests.get(
                instance.url + "/api/v1/health", headers={"x-tenant-api-key": key}, timeout=10
            )
            assert answer.status_code == 200
        # Scrapes land on either worker; each must see the 20 requests of both, once the
        # other worker has written its counts (each writes them at least once a second).
        deadline = time.monotonic() + 15
        while _health_count(instance) < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [_health_count(instance) for _ in range(6)] == [20.0] * 6
        # The latency histogram of the same route (the readiness probes' 401s included: it is
        # by route only), added up over both workers' counts.
        samples = _scrape(instance)
        route = (("route", "/api/v1/health"),)
        answered = sum(
            count
            for (name, labels), count in samples.items()
            if name == "loopwave_http_requests_total" and ("route", "/api/v1/health") in labels
        )
        assert answered >= 20
        histogram = "loopwave_http_request_duration_seconds"
        assert samples[(f"{histogram}_count", route)] == answered
        assert samples[(f"{histogram}_bucket", (("le", "+Inf"), *route))] == answered
        assert samples[(f"{histogram}_sum", route)] > 0
        refused = requests.get(instance.url + "/metrics", timeout=10)
        assert refused.status_code == 401
    finally:
        instance.stop()
