"""Per-key rate limits, in process (memory storage); across instances in tests/scale."""

import pytest

from app import create_app
from core.extensions import db


def _get(client, key):
    return client.get("/api/v1/health", headers={"x-tenant-api-key": key})


def test_request_over_the_keys_limit_is_429_with_retry_after(client, api_key):
    key = api_key(rate_limit_per_minute=3)
    answers = [_get(client, key) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers[:3]] == ["2", "1", "0"]
    limited = answers[3]
    assert limited.get_json()["error"]["code"] == "RATE_LIMITED"
    assert limited.get_json()["request_id"] == limited.headers["X-Request-Id"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Limit"] == "3"


def test_another_key_of_the_same_tenant_is_unaffected(client, api_key):
    limited, other = api_key(rate_limit_per_minute=1), api_key()
    assert _get(client, limited).status_code == 200
    assert _get(client, limited).status_code == 429
    assert _get(client, other).status_code == 200


def test_key_limit_zero_means_unlimited(client, api_key):
    key = api_key(rate_limit_per_minute=0)
    assert {_get(client, key).status_code for _ in range(5)} == {200}
    assert "X-RateLimit-Limit" not in _get(client, key).headers


@pytest.mark.parametrize("default, expected", [(2, [200, 200, 429]), (0, [200, 200, 200])])
def test_configured_default_applies_to_keys_without_their_own(
    migrated, store, api_key, default, expected
):
    key = api_key()
    limited_app = create_app({"TESTING": True, "RATE_LIMIT_PER_MINUTE": default})
    with limited_app.app_context():
        client = limited_app.test_client()
        assert [_get(client, key).status_code for _ in range(3)] == expected
        db.session.remove()
        db.engine.dispose()


def test_unauthenticated_requests_are_not_counted_against_a_key(client, api_key):
    key = api_key(rate_limit_per_minute=1)
    for _ in range(3):
        assert client.get("/api/v1/health").status_code == 401
    assert _get(client, key).status_code == 200


@pytest.mark.parametrize("bad", [-1, 1_000_001, "60", 1.5, True])
def test_store_refuses_a_malformed_rate_limit(store, tenant, bad):
    from tenants.errors import InvalidInput
    from tests.conftest import TEST_ACTOR

    with pytest.raises(InvalidInput) as raised:
        store.create_key(tenant.id, "k", TEST_ACTOR, rate_limit_per_minute=bad)
    assert raised.value.details == {"field": "rate_limit_per_minute"}
    assert store.list_keys(tenant.id) == []
