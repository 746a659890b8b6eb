"""Decoy keys (SPEC §11): answered byte for byte like an unknown key (apart from the request
id), and every use raises ``key.decoy_used`` with time, client address, user agent, path."""

from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event

from core.extensions import db, usage_buffer
from tenants import events, keyformat
from tests.conftest import TEST_ACTOR


def _without_request_id(response) -> tuple[int, dict, list]:
    body = response.get_json()
    body.pop("request_id")
    headers = sorted((k, v) for k, v in response.headers if k.lower() != "x-request-id")
    return response.status_code, body, headers


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/contacts"])
def test_decoy_is_answered_like_an_unknown_key_and_raises_its_event(client, store, tenant, path):
    decoy = store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    unknown = keyformat.generate("lw").full_key
    headers = {"User-Agent": "curl/8.0"}
    for _ in range(2):  # a second use is answered as the first (a decoy is never cached)
        used = client.get(path, headers={**headers, "x-tenant-api-key": decoy.full_key})
        stranger = client.get(path, headers={**headers, "x-tenant-api-key": unknown})
        assert _without_request_id(used) == _without_request_id(stranger)
        assert used.status_code == 401
    usage_buffer.get().flush()  # the event is written off the request thread
    raised = list(db.session.scalars(events.for_tenant(tenant.id, "key.decoy_used")))
    assert len(raised) == 2
    assert raised[0].data["object"]["id"] == decoy.record.id
    assert raised[0].data["path"] == path and raised[0].data["user_agent"] == "curl/8.0"
    assert raised[0].data["client_ip"] == "127.0.0.1" and raised[0].data["used_at"]
    assert decoy.full_key not in str([event.payload() for event in raised])


def test_a_real_key_of_the_tenant_still_works(client, store, tenant, api_key):
    store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": api_key()}).status_code == 200


def _statements(client, key: str) -> list[str]:
    """The SQL a request with ``key`` runs on the request thread (but the once-a-second read
    of the change counter, which falls on any request alike)."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 401
    finally:
        sa_event.remove(engine, "before_cursor_execute", note)
    return [statement for statement in seen if "keystore_changes" not in statement]


def test_a_decoy_costs_the_request_thread_what_an_unknown_key_costs(client, store, tenant):
    """Same statements on the request thread for a decoy as for an unknown key, first use and
    later ones: one lookup by hash, no write; ``key.decoy_used`` is written by the flush."""
    decoy = store.create_key(tenant.id, "tripwire", TEST_ACTOR, decoy=True)
    for _ in range(2):
        for_decoy = _statements(client, decoy.full_key)
        for_unknown = _statements(client, keyformat.generate("lw").full_key)
        assert for_decoy == for_unknown
        assert len(for_decoy) == 1 and for_decoy[0].lstrip().upper().startswith("SELECT")
    assert list(db.session.scalars(events.for_tenant(tenant.id, "key.decoy_used"))) == []
    usage_buffer.get().flush()
    db.session.rollback()  # a fresh read
    assert len(list(db.session.scalars(events.for_tenant(tenant.id, "key.decoy_used")))) == 2
