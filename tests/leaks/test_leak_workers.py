"""A true positive revokes the key on the next API request in every gunicorn worker."""

from __future__ import annotations

import json

import pytest
import requests

from tests.servers import Gunicorn

pytestmark = pytest.mark.server


@pytest.fixture
def server(app, server_env, scanner, tmp_path):
    gunicorn = Gunicorn(
        {**server_env, "SECRET_SCANNING_KEYS_URL": scanner.url},
        workers=2,
        log_path=tmp_path / "gunicorn.log",
    )
    yield gunicorn
    gunicorn.stop()


def _statuses(server, key: str, rounds: int = 12) -> set[int]:
    return {
        requests.get(
            f"{server.url}/api/v1/health", headers={"x-tenant-api-key": key}, timeout=5
        ).status_code
        for _ in range(rounds)
    }


def test_reported_key_is_refused_by_every_worker_on_the_next_request(
    server, scanner, api_key, tmp_path
):
    leaked = api_key()
    assert _statuses(server, leaked) == {200}
    body = json.dumps([{"token": leaked, "type": "t", "url": "https://x", "source": "content"}])
    answer = requests.post(
        f"{server.url}/security/secret-scanning",
        data=body.encode(),
        headers=scanner.sign(body.encode()),
        timeout=10,
    )
    assert answer.json()[0]["label"] == "true_positive"
    assert _statuses(server, leaked) == {401}
    assert leaked not in (tmp_path / "gunicorn.log").read_text()
