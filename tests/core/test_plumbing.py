"""The application's own plumbing under Flask: JSON through orjson, no cookie sessions, and
the end-of-request database cleanup."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import session
from markupsafe import Markup

from core.extensions import db


def test_json_answers_are_compact_sorted_utf8_and_end_with_a_newline(client, api_key):
    headers = {"x-tenant-api-key": api_key(scopes=["contacts:write"])}
    body = {"name": "Zoë Ωmega 北京", "phone": "+14155550100", "email": "zoe@example.com"}
    response = client.post("/api/v1/contacts", json=body, headers=headers)
    assert response.status_code == 201
    raw = response.get_data()
    assert "Zoë Ωmega 北京".encode() in raw  # UTF-8, not \\u escapes
    assert raw.endswith(b"}\n") and b'", "' not in raw and b'": ' not in raw
    answer = json.loads(raw)
    assert list(answer) == sorted(answer)
    assert answer["name"] == body["name"]


def test_error_envelopes_go_through_the_same_encoder(client, api_key):
    headers = {"x-tenant-api-key": api_key(scopes=["contacts:write"])}
    body = {"name": "Zoë", "phone": "+1 (415) 555-01ä0"}
    raw = client.post("/api/v1/contacts", json=body, headers=headers).get_data()
    assert raw.endswith(b"}\n") and b'", "' not in raw
    assert json.loads(raw)["error"]["code"] == "VALIDATION_ERROR"
    missing = client.get("/api/v1/health").get_data()
    assert missing.endswith(b"}\n") and json.loads(missing)["error"]["code"] == "AUTH_INVALID_KEY"
    # The middleware's own refusals (431, 413) are encoded the same way.
    refused = client.get("/api/v1/health", headers={"X-Big": "x" * 20_000})
    assert refused.status_code == 431
    assert refused.get_data().endswith(b"}\n") and b'", "' not in refused.get_data()


def test_the_encoder_converts_what_flasks_default_converts(app):
    value = {
        "b": Decimal("1.50"),
        "a": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        2: Markup("<b>x</b>"),
        "n": None,
    }
    assert app.json.dumps(value) == (
        '{"2":"<b>x</b>","a":"2026-11-25T12:00:00+00:00","b":"1.50","n":null}'
    )
    assert (
        app.json.dumps({"z": 1, "a": [1, 2]}, indent=2)
        == '{\n  "a": [\n    1,\n    2\n  ],\n  "z": 1\n}'
    )
    assert app.json.dumps({"z": 1, "a": 2}, sort_keys=False) == '{"z":1,"a":2}'
    # An option only the standard library has: it takes the call, with the same conversions.
    assert app.json.dumps({"é": Decimal("2")}, ensure_ascii=True) == '{"\\u00e9":"2"}'
    assert app.json.dumps({"b": 1, "a": 2}, indent=4) == '{\n    "a": 2,\n    "b": 1\n}'
    # Values orjson refuses go to the standard library too, escaped as Flask's provider did.
    assert app.json.dumps({"s": "\ud800", "n": 2**70}) == f'{{"n":{2**70},"s":"\\ud800"}}'
    with app.test_request_context():
        assert app.json.response({"s": "x\udfff"}).get_data() == b'{"s":"x\\udfff"}\n'
    with pytest.raises(TypeError):
        app.json.dumps({"x": object()})
    assert app.json.loads('{"a": [1, "é"]}') == {"a": [1, "é"]}
    assert app.json.loads(b'{"a": 1}') == {"a": 1}
    assert app.json.loads(f'{{"n": {2**70}}}') == {"n": 2**70}  # exact, not a float


def test_debug_mode_indents_json_answers(app, client):
    app.debug = True
    raw = client.get("/api/v1/health").get_data()
    assert raw.startswith(b'{\n  "error": {\n')


def test_no_cookie_session_is_ever_opened_or_set(app, client, api_key):
    response = client.get("/api/v1/health", headers={"x-tenant-api-key": api_key()})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    with app.test_request_context("/"):
        first = session._get_current_object()
    with app.test_request_context("/"):
        assert session._get_current_object() is first  # one shared null session
        for write in (
            lambda: session.__setitem__("user", "someone"),
            lambda: session.update(user="someone"),
            lambda: session.__ior__({"user": "someone"}),
        ):
            with pytest.raises(RuntimeError):
                write()
        assert dict(session) == {}


def test_the_session_of_an_app_context_gives_its_connection_back_when_it_ends(app):
    db.session.remove()  # the fixture's own session
    pool = db.engine.pool
    with app.app_context():
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
        assert pool.checkedout() == 1
    assert pool.checkedout() == 0
    outer = db.session()
    outer.execute(sa.text("SELECT 1"))
    with app.app_context():
        assert db.session() is not outer
        assert db.session.execute(sa.text("SELECT 1")).scalar() == 1
        assert pool.checkedout() == 2
    assert pool.checkedout() == 1  # the inner context's connection is back, the outer kept
