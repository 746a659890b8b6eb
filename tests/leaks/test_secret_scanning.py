"""``POST /security/secret-scanning`` (SPEC §11): GitHub's partner protocol, signatures
checked against keys served by our own scanner on loopback."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from core.extensions import db
from tenants import events, keyformat
from tenants.leaks import set_leak_response
from tenants.models import ApiKey, AuditEvent, Base
from tests.conftest import TEST_ACTOR

URL = "/security/secret-scanning"
HEALTH = "/api/v1/health"


def _report(client, scanner, tokens, **sign):
    body = json.dumps(
        [
            {
                "token": token,
                "type": "loopwave_api_key",
                "url": "https://github.com/o/r/blob/x",
                "source": "content",
            }
            for token in tokens
        ]
    ).encode()
    return client.post(URL, data=body, headers=scanner.sign(body, **sign))


def _dump() -> str:
    return "\n".join(
        str(row)
        for table in Base.metadata.sorted_tables
        for row in db.session.execute(sa.select(table))
    )


def test_true_positive_revokes_audits_marks_and_raises_key_leaked(
    client, scanner, api_key, tenant, caplog
):
    caplog.set_level(logging.DEBUG)
    leaked = api_key()
    assert client.get(HEALTH, headers={"x-tenant-api-key": leaked}).status_code == 200
    answer = _report(client, scanner, [leaked])
    assert answer.status_code == 200
    assert answer.get_json() == [
        {"token_raw": leaked, "token_type": "loopwave_api_key", "label": "true_positive"}
    ]
    assert client.get(HEALTH, headers={"x-tenant-api-key": leaked}).status_code == 401
    key = db.session.scalars(sa.select(ApiKey)).one()
    assert key.revoked_at is not None and key.leaked_at is not None
    entry = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "key.leaked")).one()
    assert entry.actor == "secret-scanning:github"
    assert entry.changes["url"] == "https://github.com/o/r/blob/x"
    (event,) = db.session.scalars(events.for_tenant(tenant.id, "key.leaked"))
    assert event.data["object"]["id"] == key.id and event.data["response"] == "revoked"
    assert [e.type for e in db.session.scalars(events.for_tenant(tenant.id, "key.revoked"))]
    assert leaked not in _dump()
    assert leaked not in caplog.text


def test_notify_tenant_keeps_the_key_working(client, store, scanner, api_key, tenant):
    set_leak_response(store, tenant.id, "notify", TEST_ACTOR)
    leaked = api_key()
    assert _report(client, scanner, [leaked]).get_json()[0]["label"] == "true_positive"
    assert client.get(HEALTH, headers={"x-tenant-api-key": leaked}).status_code == 200
    key = db.session.scalars(sa.select(ApiKey)).one()
    assert key.leaked_at is not None and key.revoked_at is None
    (event,) = db.session.scalars(events.for_tenant(tenant.id, "key.leaked"))
    assert event.data["response"] == "notified"


def test_unknown_and_foreign_tokens_are_false_positives(client, scanner, api_key, store):
    unknown = keyformat.generate("lw").full_key
    assert store.verifier.is_well_formed(unknown)
    labels = _report(client, scanner, [unknown, "ghp_notours", ""]).get_json()
    assert [entry["label"] for entry in labels] == ["false_positive"] * 3
    assert db.session.scalars(sa.select(AuditEvent)).all() == []


@pytest.mark.parametrize("forgery", ["other_key", "no_headers", "unknown_identifier", "bad_b64"])
def test_unsigned_or_badly_signed_reports_are_refused_and_change_nothing(
    client, scanner, api_key, forgery
):
    leaked = api_key()
    body = json.dumps([{"token": leaked, "type": "t", "url": "u", "source": "s"}]).encode()
    headers = scanner.sign(body)
    if forgery == "other_key":
        headers = scanner.sign(body, key=ec.generate_private_key(ec.SECP256R1()))
    elif forgery == "no_headers":
        headers = {"Content-Type": "application/json"}
    elif forgery == "unknown_identifier":
        headers["Github-Public-Key-Identifier"] = "someone-else"
    else:
        headers["Github-Public-Key-Signature"] = "***"
    answer = client.post(URL, data=body, headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["code"] == "AUTH_INVALID_TOKEN"
    assert leaked not in answer.get_data(as_text=True)
    assert client.get(HEALTH, headers={"x-tenant-api-key": leaked}).status_code == 200


def test_a_signature_over_another_body_is_refused(client, scanner, api_key):
    leaked = api_key()
    body = json.dumps([{"token": leaked}]).encode()
    headers = scanner.sign(b"[]")
    assert client.post(URL, data=body, headers=headers).status_code == 401


def test_keys_are_cached(client, scanner, api_key):
    for _ in range(3):
        assert _report(client, scanner, ["x"]).status_code == 200
    assert scanner.fetches == 1


def test_unavailable_keys_are_a_503(client, scanner):
    scanner.available = False
    assert _report(client, scanner, ["x"]).status_code == 503


@pytest.mark.parametrize("body", [b"{}", b"not json", b'[{"token": 1}]', b"[1]"])
def test_malformed_reports_are_a_400(client, scanner, body):
    answer = client.post(URL, data=body, headers=scanner.sign(body))
    assert answer.status_code == 400
