"""Answers built as bytes (``core.answers``, ``core.errors``), headers added by the request
plumbing (``core.middleware.add_headers``) and the stopped clock of the benchmarks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.answers import CachedBodies
from core.errors import envelope
from core.jsonprovider import encode
from core.middleware import RequestPlumbing, add_headers
from tenants import clock
from tests.conftest import TEST_ACTOR


class Snapshot:
    def __init__(self, name: str) -> None:
        self.name = name


def _shape(first: Snapshot, second: Snapshot | None) -> dict[str, str | None]:
    return {"name": first.name, "other": None if second is None else second.name}


def test_a_body_is_encoded_once_per_snapshot_and_again_for_a_new_one():
    bodies = CachedBodies()
    first = Snapshot("a")
    body = bodies.body("k", first, None, _shape, False)
    assert body == b'{"name":"a","other":null}\n'
    assert bodies.body("k", first, None, _shape, False) is body  # the same bytes, not rebuilt
    # An equal but new snapshot (a change replaces the snapshot) builds the body again.
    assert bodies.body("k", Snapshot("b"), None, _shape, False) == b'{"name":"b","other":null}\n'
    second = Snapshot("s")
    paired = bodies.body("k", first, second, _shape, False)
    assert json.loads(paired) == {"name": "a", "other": "s"}
    assert bodies.body("k", first, Snapshot("s"), _shape, False) is not paired
    assert bodies.body("k", first, second, _shape, True) == encode(
        _shape(first, second), indent=True, newline=True
    )


def test_a_full_cache_starts_again_empty():
    bodies = CachedBodies(size=2)
    kept = Snapshot("a")
    body = bodies.body(1, kept, None, _shape, False)
    bodies.body(2, Snapshot("b"), None, _shape, False)
    bodies.body(3, Snapshot("c"), None, _shape, False)
    assert bodies.body(1, kept, None, _shape, False) is not body


def test_health_shows_a_renamed_key_on_the_next_request(client, store, tenant, api_key):
    key = api_key()
    headers = {"x-tenant-api-key": key}
    assert client.get("/api/v1/health", headers=headers).get_json()["key"]["name"] == "test key"
    (row,) = store.list_keys(tenant.id)
    store.update_key(tenant.id, row.id, TEST_ACTOR, name="renamed")
    assert client.get("/api/v1/health", headers=headers).get_json()["key"]["name"] == "renamed"


def test_an_error_envelope_is_the_encoded_envelope_with_this_requests_id(client):
    for rid in ("req-one", "req-two"):
        answer = client.get("/api/v1/health", headers={"X-Request-Id": rid})
        expected = envelope(
            rid, "AUTH_INVALID_KEY", "Missing API key: send it in the x-tenant-api-key header"
        )
        assert answer.get_data() == encode(expected, newline=True)
        assert answer.headers["X-Request-Id"] == rid


def test_the_request_plumbing_adds_headers_to_whatever_the_answer_is():
    def app(environ, start_response):
        add_headers(environ, [("X-One", "1")])
        add_headers(environ, (("X-Two", "2"), ("X-Three", "3")))
        start_response("403 FORBIDDEN", [("Content-Type", "application/json")])
        return [b"{}"]

    sent = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.url_scheme": "http"}
    body = RequestPlumbing(app, 1024)(
        environ, lambda status, headers, exc=None: sent.append(headers)
    )
    assert list(body) == [b"{}"]
    names = [name for name, _ in sent[0]]
    assert names[:4] == ["Content-Type", "X-One", "X-Two", "X-Three"]
    assert "X-Request-Id" in names


def test_a_stopped_clock_reads_its_moment_at_no_extra_cost():
    moment = datetime(2026, 11, 30, 23, 59, 59, 250_000, tzinfo=UTC)
    clock.stop_at(moment)
    try:
        assert clock.now() == moment
        assert clock.timestamp() == moment.timestamp()
        assert clock.timestamp() == moment.timestamp()
    finally:
        clock.set_source(None)
    assert clock.timestamp() > moment.timestamp() - 10 * 365 * 86400
    assert clock.now().tzinfo is UTC
