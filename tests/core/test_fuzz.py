"""Schemathesis against real gunicorn on loopback, bounded for CI (``make fuzz`` goes long).

Fixed seed, a fixed number of examples per operation and mode, a valid key with every scope:
no 5xx, every response as documented, schema-violating input refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.devlogin import DEV_ISSUER
from tests.fuzz import _generated, fuzz, report
from tests.fuzz_server import api_target, console_target
from tests.servers import Gunicorn

CI_EXAMPLES = 15

pytestmark = pytest.mark.server


@pytest.fixture
def live(app, server_env, tmp_path) -> Iterator[Gunicorn]:
    env = {**server_env, "RATE_LIMIT_PER_MINUTE": "0", "DEV_LOGIN": "1"}
    server = Gunicorn(env, workers=2, log_path=tmp_path / "gunicorn.log")
    yield server
    server.stop()


def test_tenant_api_conforms_to_its_document_under_fuzzing(live, api_key, capsys):
    results = fuzz(api_target(live.url, api_key(scopes=["*"])), CI_EXAMPLES)
    lines: list[str] = []
    report(results, lines.append)
    assert sum(result.failures for result in results) == 0, "\n".join(lines)
    assert all(result.cases > 0 for result in results), "\n".join(lines)
    assert {result.label: result.succeeded for result in results}["GET /api/v1/health"] > 0
    assert sum(result.cases for result in results) >= 10 * 2 * CI_EXAMPLES


def test_console_api_conforms_to_its_document_under_fuzzing(live, store):
    store.create_tenant("Fuzz", external_id="org_fuzz", issuer=DEV_ISSUER)
    results = fuzz(console_target(live.url, "org_fuzz"), CI_EXAMPLES)
    lines: list[str] = []
    report(results, lines.append)
    assert sum(result.failures for result in results) == 0, "\n".join(lines)
    succeeded = {result.label: result.succeeded for result in results}
    assert succeeded["GET /console/keys"] > 0, "the admin session token must work"
    assert sum(result.cases for result in results) >= 9 * 2 * CI_EXAMPLES


def test_the_harness_catches_a_document_that_disagrees_with_the_server(live, api_key):
    def require_a_field_the_server_never_sends(document: dict) -> None:
        health = document["components"]["schemas"]["Health"]
        health["properties"]["uptime"] = {"type": "integer"}
        health["required"].append("uptime")

    results = fuzz(
        api_target(live.url, api_key(scopes=["*"])),
        2,
        mutate=require_a_field_the_server_never_sends,
    )
    failures = {result.label: result.failures for result in results}
    assert failures["GET /api/v1/health"] > 0


def test_fuzz_reports_never_print_credentials():
    sent = {
        "Authorization": "Bearer eyJ.secret.token",
        "x-tenant-api-key": "lw_live_secret",
        "Idempotency-Key": "retry-1",
    }
    assert _generated(sent) == {
        "Authorization": "***",
        "x-tenant-api-key": "***",
        "Idempotency-Key": "retry-1",
    }
