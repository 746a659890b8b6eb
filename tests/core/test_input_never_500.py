"""Bad input never reaches a 500 (SPEC §4): deep nesting, out-of-range numbers and dates.

Every case is a 400 ``VALIDATION_ERROR`` envelope and leaves the database as it was.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.extensions import db
from core.http import MAX_JSON_DEPTH, NestingTooDeep, parse_json
from tests.badinput import JSON_ENDPOINTS, assert_envelope, database_text

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def app_config() -> dict:
    return {"DEV_LOGIN": True}


def nested(depth: int, innermost: bytes = b"1") -> bytes:
    return b"[" * depth + innermost + b"]" * depth


def in_a_field(endpoint, value: bytes) -> bytes:
    """The endpoint's valid body with its first field replaced by raw JSON ``value``."""
    first = next(iter(endpoint.body))
    rest = json.dumps({k: v for k, v in endpoint.body.items() if k != first})[1:-1]
    return b'{"' + first.encode() + b'": ' + value + (b", " + rest.encode() if rest else b"") + b"}"


# ~1,100 levels in 2 KiB: the pentest's body; 500 parses in the standard library but is
# still refused; 100,000 is far past any recursion limit.
DEPTHS = [MAX_JSON_DEPTH + 1, 500, 1100, 100_000]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS, ids=str)
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(caller, endpoint, depth):
    before = database_text()
    for body in (
        nested(depth),
        in_a_field(endpoint, nested(depth)),
        b'{"a": ' + nested(depth) + b"}",
    ):
        response = caller.send(endpoint, body)
        assert_envelope(response, 400, "VALIDATION_ERROR")
    assert database_text() == before


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("endpoint", [e for e in JSON_ENDPOINTS if e.auth == "api"], ids=str)
def test_deeply_nested_json_with_an_idempotency_key_is_a_400(caller, endpoint, depth):
    """The idempotency fingerprint reads the body before the view does."""
    before = database_text()
    response = caller.send(
        endpoint, in_a_field(endpoint, nested(depth)), **{"Idempotency-Key": "k1"}
    )
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert database_text() == before
    # The refusal was not remembered: the key is free for the request it was meant for.
    retried = caller.send(endpoint, json.dumps(endpoint.body).encode(), **{"Idempotency-Key": "k1"})
    assert retried.status_code < 500 and "Idempotent-Replayed" not in retried.headers


def test_the_nesting_limit_counts_containers_not_brackets_in_strings():
    assert parse_json(nested(MAX_JSON_DEPTH)) is not None
    assert parse_json(b'{"a": "' + b"[" * 5000 + b'"}') == {"a": "[" * 5000}
    assert parse_json(b'"' + b"{" * 100 + b'"') == "{" * 100
    wide = b"[" + b",".join([b"[1]"] * 5000) + b"]"
    assert len(parse_json(wide)) == 5000
    for too_deep in (nested(MAX_JSON_DEPTH + 1), nested(1100), b'{"a": ' * 40 + b"1" + b"}" * 40):
        with pytest.raises(NestingTooDeep):
            parse_json(too_deep)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    depth=st.integers(min_value=MAX_JSON_DEPTH + 1, max_value=3000),
    kinds=st.lists(st.sampled_from([b"[", b'{"k": ']), min_size=1, max_size=4),
)
def test_any_mix_of_deep_arrays_and_objects_is_refused_without_recursion(depth, kinds):
    opening = b"".join(kinds[i % len(kinds)] for i in range(depth))
    closing = b"".join(
        b"]" if kinds[i % len(kinds)] == b"[" else b"}" for i in reversed(range(depth))
    )
    with pytest.raises(NestingTooDeep):
        parse_json(opening + b"0" + closing)


OUT_OF_RANGE_EXPIRIES = [
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC: OverflowError when stored
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC
    "9999-12-31T23:59:59.999999-00:01",
    "+10000-01-01T00:00:00Z",
    "2030-02-30T00:00:00Z",
    "2030-01-01T00:00:00+99:00",
    10**20,
    1e308,
    -(10**20),
]


@pytest.mark.parametrize("expires_at", OUT_OF_RANGE_EXPIRIES, ids=repr)
def test_an_expiry_out_of_range_is_a_400_and_creates_nothing(caller, expires_at):
    before = database_text()
    response = caller.client.post(
        "/console/keys", json={"name": "x", "expires_at": expires_at}, headers=caller.console
    )
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert database_text() == before


def test_the_latest_representable_expiry_is_accepted(caller):
    response = caller.client.post(
        "/console/keys",
        json={"name": "x", "expires_at": "9999-12-31T23:59:59+00:00"},
        headers=caller.console,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["expires_at"].startswith("9999-12-31T23:59:59")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    local=st.datetimes(min_value=datetime(9999, 12, 30), max_value=datetime(9999, 12, 31, 23, 59)),
    offset_minutes=st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
def test_any_expiry_near_the_end_of_the_calendar_is_a_201_or_a_400(caller, local, offset_minutes):
    """A 201 when the instant has a UTC time (year 9999 at most), a 400 when it has none."""
    sent = local.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    try:
        sent.astimezone(UTC)
        expected = 201
    except OverflowError:
        expected = 400
    response = caller.client.post(
        "/console/keys", json={"name": "x", "expires_at": sent.isoformat()}, headers=caller.console
    )
    assert response.status_code == expected, response.get_json()
    if response.status_code == 201:
        stored = datetime.fromisoformat(response.get_json()["expires_at"])
        assert stored == sent and stored.utcoffset() == timedelta(0)


HUGE_NUMBERS = [b"9" * 5000, b"-" + b"9" * 400, b"1e999", b"-1e999", b"1" + b"0" * 30, b"1.5"]


@pytest.mark.parametrize("number", HUGE_NUMBERS, ids=lambda n: n[:12].decode())
def test_huge_numbers_in_a_body_are_a_400(caller, number):
    before = database_text()
    response = caller.client.post(
        f"/console/keys/{caller.key_id}/rotate",
        data=b'{"grace_seconds": ' + number + b"}",
        content_type="application/json",
        headers=caller.console,
    )
    assert_envelope(response, 400, "VALIDATION_ERROR")
    assert database_text() == before


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/contacts", "limit=" + "1" * 5000),
        ("/api/v1/contacts", "limit=" + "0" * 4400 + "5"),
        ("/console/audit-log", "limit=" + "9" * 4400),
        ("/api/v1/usage", "days=" + "9" * 5000),
        ("/console/usage", "days=" + "1" * 4400),
    ],
    ids=lambda value: value[:24],
)
def test_huge_numbers_in_a_query_are_a_400(caller, path, query):
    headers = caller.console if path.startswith("/console") else caller.api
    response = caller.client.get(f"{path}?{query}", headers=headers)
    assert_envelope(response, 400, "VALIDATION_ERROR")


def test_a_database_error_is_logged_without_its_parameters(app, caplog):
    secret = "lw_live_" + "S3cr3tParam" * 3
    marker = "x" * 7 + "-unmistakable-parameter"

    @app.post("/boom-db")
    def boom_db():
        db.session.execute(
            sa.text(
                "INSERT INTO organizations (tenant_id, issuer, external_id, created_at) "
                "VALUES (:i, NULL, :e, :c)"
            ),
            {"i": marker, "e": secret, "c": datetime.now(UTC)},
        )

    caplog.set_level(logging.DEBUG)
    response = app.test_client().post("/boom-db")
    assert_envelope(response, 500, "INTERNAL_ERROR")
    # the driver's class, the SQLSTATE or SQLite's error name, and the statement as written
    assert "database error on POST /boom-db" in caplog.text
    assert "NotNullViolation (sqlstate 23502" in caplog.text or (
        "IntegrityError (sqlstate SQLITE_CONSTRAINT_NOTNULL" in caplog.text
    ), caplog.text
    assert "INSERT INTO organizations" in caplog.text
    assert marker not in caplog.text
    assert secret not in caplog.text
    assert "S3cr3tParam" not in caplog.text
    assert db.engine.hide_parameters
