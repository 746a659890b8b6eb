"""Hostile and mangled keys are refused with 401 before the database is touched at all.

A ``before_cursor_execute`` listener counts every statement the app sends while the request
runs: a key that fails the shape or checksum test must cost zero queries, so a flood of
garbage keys cannot load the database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from core.extensions import db
from tenants.scopes import VALID
from tests.conftest import TEST_ACTOR
from tests.keymutations import header_safe_text, near_misses

# Function-scoped fixtures (app, client, tenant) are shared by the examples of one test, which
# is what we want: each example is one more request against the same app and database.
SHARED_FIXTURES = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
    deadline=None,
)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)


@pytest.fixture
def queries(app) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def real_key(api_key) -> str:
    return api_key()


def assert_refused_without_query(client, queries: QueryCounter, presented: str) -> None:
    before = len(queries.statements)
    response = client.get("/api/v1/health", headers={"x-tenant-api-key": presented})
    assert response.status_code == 401, presented
    assert response.get_json()["error"]["code"] == "AUTH_INVALID_KEY"
    assert queries.statements[before:] == [], presented


def test_the_counter_sees_the_lookup_of_a_well_formed_key(client, api_key, queries):
    assert client.get("/api/v1/health", headers={"x-tenant-api-key": api_key()}).status_code == 200
    assert queries.statements, "a real lookup must be counted, or the other tests prove nothing"


@settings(SHARED_FIXTURES, max_examples=300)
@given(candidate=header_safe_text())
def test_random_strings_are_refused_without_a_query(client, queries, candidate):
    assert_refused_without_query(client, queries, candidate)


@settings(SHARED_FIXTURES, max_examples=300)
@given(data=st.data())
def test_near_misses_of_a_real_key_are_refused_without_a_query(client, real_key, queries, data):
    mangled = data.draw(near_misses(real_key))
    assert_refused_without_query(client, queries, mangled)


@settings(SHARED_FIXTURES, max_examples=25)
@given(
    name=st.text(st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=60).filter(
        str.strip
    ),
    scopes=st.lists(st.sampled_from(sorted(VALID)), max_size=4),
)
def test_every_issued_key_verifies(client, store, tenant, name, scopes):
    issued = store.create_key(tenant.id, name, TEST_ACTOR, scopes)
    response = client.get("/api/v1/health", headers={"x-tenant-api-key": issued.full_key})
    assert response.status_code == 200
    assert response.get_json()["key"]["id"] == issued.record.id
