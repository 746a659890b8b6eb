"""The key store below the blueprints: validation, audit, last_used_at, usage."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db, usage_buffer
from tenants import clock as clock_module
from tenants.errors import InvalidInput, KeyRevoked, NotFound
from tenants.models import ApiKey, AuditEvent, KeyUsage
from tests.conftest import TEST_ACTOR


def test_key_without_scopes_gets_all_and_scopes_are_normalised(store, tenant):
    assert store.create_key(tenant.id, "a", TEST_ACTOR).record.scopes == ["*"]
    record = store.create_key(
        tenant.id, "b", TEST_ACTOR, ["tickets:read", "chats:read", "tickets:read"]
    ).record
    assert record.scopes == ["chats:read", "tickets:read"]


@pytest.mark.parametrize("scopes", [["admin"], ["contacts:delete"], ["*", "nope"], [""]])
def test_unknown_scope_is_invalid_and_creates_nothing(store, tenant, scopes):
    with pytest.raises(InvalidInput):
        store.create_key(tenant.id, "bad", TEST_ACTOR, scopes)
    assert store.list_keys(tenant.id) == []


def test_rescoping_to_no_scopes_is_invalid_and_never_widens_to_all(store, tenant):
    """``*`` for an empty list is a creation default; on update it would silently widen access."""
    record = store.create_key(tenant.id, "narrow", TEST_ACTOR, ["chats:read"]).record
    with pytest.raises(InvalidInput):
        store.update_key(tenant.id, record.id, TEST_ACTOR, key_scopes=[])
    assert store.get_key(tenant.id, record.id).scopes == ["chats:read"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, 42])
def test_bad_name_is_invalid(store, tenant, name):
    with pytest.raises(InvalidInput):
        store.create_key(tenant.id, name, TEST_ACTOR)


def test_expiry_in_the_past_is_invalid(store, tenant, clock):
    with pytest.raises(InvalidInput):
        store.create_key(tenant.id, "old", TEST_ACTOR, expires_at=clock.now - timedelta(1))


def test_revoked_key_cannot_be_changed(store, tenant):
    record = store.create_key(tenant.id, "k", TEST_ACTOR).record
    store.revoke_key(tenant.id, record.id, TEST_ACTOR)
    for change in (
        lambda: store.update_key(tenant.id, record.id, TEST_ACTOR, name="x"),
        lambda: store.revoke_key(tenant.id, record.id, TEST_ACTOR),
        lambda: store.rotate_key(tenant.id, record.id, TEST_ACTOR),
    ):
        with pytest.raises(KeyRevoked):
            change()


def test_another_tenants_key_is_not_found(store, tenant, other_tenant):
    record = store.create_key(tenant.id, "k", TEST_ACTOR).record
    with pytest.raises(NotFound):
        store.revoke_key(other_tenant.id, record.id, TEST_ACTOR)
    assert store.get_key(tenant.id, record.id).revoked_at is None


@pytest.mark.parametrize("grace", [-1, 7 * 24 * 3600 + 1, "10", 1.5])
def test_rotation_grace_is_bounded(store, tenant, grace):
    record = store.create_key(tenant.id, "k", TEST_ACTOR).record
    with pytest.raises(InvalidInput):
        store.rotate_key(tenant.id, record.id, TEST_ACTOR, grace_seconds=grace)
    assert len(store.list_keys(tenant.id)) == 1


def test_every_change_is_audited_with_its_actor(store, tenant):
    record = store.create_key(tenant.id, "k", TEST_ACTOR).record
    store.update_key(tenant.id, record.id, TEST_ACTOR, name="renamed")
    store.update_key(tenant.id, record.id, TEST_ACTOR, enabled=False)
    store.update_key(tenant.id, record.id, TEST_ACTOR, enabled=True)
    store.update_key(tenant.id, record.id, TEST_ACTOR, key_scopes=["chats:read"])
    new = store.rotate_key(tenant.id, record.id, TEST_ACTOR, grace_seconds=10)
    store.revoke_key(tenant.id, new.record.id, TEST_ACTOR)
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [event.action for event in events] == [
        "key.created",
        "key.renamed",
        "key.disabled",
        "key.enabled",
        "key.rescoped",
        "key.rotated",
        "key.revoked",
    ]
    assert {(event.actor, event.request_id, event.source_ip) for event in events} == {
        ("user_test_admin", "req_test", "127.0.0.1")
    }


def test_last_used_at_is_written_at_most_once_a_minute(client, api_key, clock):
    key = api_key()
    client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    usage_buffer.get().flush()
    first = db.session.scalar(sa.select(ApiKey.last_used_at))
    assert first == clock.now
    clock.advance(seconds=30)
    client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    usage_buffer.get().flush()
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiKey.last_used_at)) == first
    clock.advance(seconds=31)
    client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    usage_buffer.get().flush()
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiKey.last_used_at)) == clock.now


def test_usage_is_counted_per_day(client, api_key, clock):
    key = api_key()
    for _ in range(2):
        client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    clock.advance(days=1)
    client.get("/api/v1/health", headers={"x-tenant-api-key": key})
    usage_buffer.get().flush()
    rows = db.session.execute(
        sa.select(KeyUsage.day, KeyUsage.requests).order_by(KeyUsage.day)
    ).all()
    assert [requests for _, requests in rows] == [2, 1]
    assert rows[1][0] - rows[0][0] == timedelta(days=1)


def test_counts_of_an_idle_process_are_written_by_its_flusher_thread(app, tenant, api_key):
    """A worker that serves no further request still writes what it counted."""
    import time as wall

    from tenants.usage import UsageBuffer

    key_id = (
        app.test_client()
        .get("/api/v1/health", headers={"x-tenant-api-key": api_key()})
        .get_json()["key"]["id"]
    )
    engine = db.engine
    idle = UsageBuffer(lambda: engine, flush_seconds=1)
    idle.record(tenant.id, key_id, "GET /api/v1/health", clock_module.timestamp(), 200)
    deadline = wall.monotonic() + 10
    requests = 0
    while wall.monotonic() < deadline and requests < 2:
        wall.sleep(0.2)
        db.session.expire_all()
        requests = db.session.scalar(sa.select(sa.func.sum(KeyUsage.requests))) or 0
    assert requests == 2  # the health request above, and the idle buffer's count


def test_counts_of_a_deleted_key_are_dropped_and_do_not_block_the_others(app, tenant, api_key):
    """A key deleted after its requests were counted (a test database reset, a tenant removed)
    must not fail every later flush on the foreign key — nor every usage report with it."""
    from tenants.usage import UsageBuffer

    client = app.test_client()
    key_id = client.get("/api/v1/health", headers={"x-tenant-api-key": api_key()}).get_json()[
        "key"
    ]["id"]
    engine = db.engine
    buffer = UsageBuffer(lambda: engine, flush_seconds=3600)
    now = clock_module.timestamp()
    buffer.record(tenant.id, "key_01GONEGONEGONEGONEGONEGONE", "GET /api/v1/health", now, 200)
    buffer.record(tenant.id, key_id, "GET /api/v1/health", now, 200)
    buffer.flush()  # raised ForeignKeyViolation on PostgreSQL (and kept the counts) before
    buffer.flush()
    db.session.expire_all()
    written = db.session.execute(sa.select(KeyUsage.key_id, KeyUsage.requests)).all()
    assert {k for k, _ in written} == {key_id}
