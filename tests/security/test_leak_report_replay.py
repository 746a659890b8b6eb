"""Pentest: replayed and repeated secret-scanning reports (SPEC §11).

GitHub's partner protocol signs the body but carries no timestamp or nonce, so whoever sees
one signed report (a logging proxy, a leaked request capture) can post it again at will;
and a report may name one token many times. Each mention re-audited, re-raised
``key.leaked`` (one webhook delivery per endpoint each) and committed a key change that
bumped the invalidation generation, emptying every worker's key cache: one signed body of
1,000 copies of a token made 1,000 events and 1,000 cache flushes. A report that changes
nothing (the key is already marked, and revoked when its tenant wants that) is answered
``true_positive`` and leaves no trace.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from core.extensions import db, keystore
from tenants import events
from tenants.leaks import set_leak_response
from tenants.models import AuditEvent
from tests.conftest import TEST_ACTOR
from tests.leaks import conftest as leaks

URL = "/security/secret-scanning"

# The leak tests' fixtures: a fake token scanner and the app pointed at its keys.
scanner, app_config = leaks.scanner, leaks.app_config


def _post(client, scanner, tokens):
    body = json.dumps([{"token": t, "type": "lw", "url": "https://x/y"} for t in tokens]).encode()
    headers = scanner.sign(body)
    return lambda: client.post(URL, data=body, headers=headers)


def _traces(tenant_id):
    leaked = list(db.session.scalars(events.for_tenant(tenant_id, "key.leaked")))
    audited = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "key.leaked")
    ).all()
    return len(leaked), len(audited)


@pytest.mark.parametrize("response", ["revoke", "notify"])
def test_a_replayed_report_leaves_no_second_trace(
    client, scanner, store, tenant, api_key, response
):
    set_leak_response(store, tenant.id, response, TEST_ACTOR)
    replay = _post(client, scanner, [api_key()])
    first = replay()
    assert first.get_json()[0]["label"] == "true_positive"
    generation = keystore.get().signal.current()
    for _ in range(3):
        again = replay()
        assert again.status_code == 200
        assert again.get_json() == first.get_json()
    assert _traces(tenant.id) == (1, 1)
    assert keystore.get().signal.current() == generation  # no cache flush per replay


def test_one_token_named_many_times_is_handled_once(client, scanner, store, tenant, api_key):
    set_leak_response(store, tenant.id, "notify", TEST_ACTOR)
    key = api_key()
    answer = _post(client, scanner, [key] * 50)()
    assert [entry["label"] for entry in answer.get_json()] == ["true_positive"] * 50
    assert _traces(tenant.id) == (1, 1)


def test_a_later_report_still_revokes_once_the_tenant_asks_for_it(
    client, scanner, store, tenant, api_key
):
    set_leak_response(store, tenant.id, "notify", TEST_ACTOR)
    key = api_key()
    replay = _post(client, scanner, [key])
    replay()
    set_leak_response(store, tenant.id, "revoke", TEST_ACTOR)
    replay()
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": key}).status_code == 401
    assert _traces(tenant.id) == (2, 2)
