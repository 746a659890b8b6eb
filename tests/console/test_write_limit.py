"""Console writes are limited per signed-in user and per tenant (docs/security.md, pentest
#14): a loop of ``POST /console/webhooks/<id>/test`` or key creates is refused with 429
``RATE_LIMITED`` and ``Retry-After`` (SPEC §4) once the window is spent, and the refused write
changes nothing: no event, no audit entry, no key, no delivery. A new token of the same person
does not reset the window; the tenant's window bounds what all its members write together;
reads are never limited; with Redis the windows hold across processes.
"""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import func, select

from app import create_app
from core.extensions import db, keystore, webhooks
from tenants.events import Event
from tenants.models import ApiKey, AuditEvent
from tenants.webhooks import WebhookDelivery
from tests.conftest import TEST_ACTOR
from tests.console.idp import bearer
from tests.redis_service import RUN_NAMESPACE, clear_run_keys, shared_redis_url

PER_USER = 3
PER_TENANT = 5


@pytest.fixture
def app_config(app_config) -> dict:
    return {
        **app_config,
        "WEBHOOK_ALLOW_PRIVATE": True,
        "CONSOLE_WRITES_PER_MINUTE": PER_USER,
        "CONSOLE_TENANT_WRITES_PER_MINUTE": PER_TENANT,
    }


def _counts() -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Event, AuditEvent, ApiKey, WebhookDelivery)
    )


def _assert_limited(response, scope: str, limit: int) -> None:
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert error["details"] == {"limit_per_minute": limit, "scope": scope}
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_webhook_test_events_beyond_the_users_limit_are_429_and_change_nothing(client, idp, tenant):
    endpoint = webhooks.get().create(tenant.id, TEST_ACTOR, "http://127.0.0.1:9/h", ["*"])
    token = idp.token(sub="user_admin", org_id="org_acme", role="admin")
    url = f"/console/webhooks/{endpoint.endpoint.id}/test"
    for _ in range(PER_USER):
        assert client.post(url, headers=bearer(token)).status_code == 202
    before = _counts()
    _assert_limited(client.post(url, headers=bearer(token)), "user", PER_USER)
    # A new session of the same person is the same person.
    fresh = idp.token(sub="user_admin", org_id="org_acme", role="admin")
    _assert_limited(client.post(url, headers=bearer(fresh)), "user", PER_USER)
    _assert_limited(
        client.post("/console/keys", json={"name": "k"}, headers=bearer(fresh)), "user", PER_USER
    )
    assert _counts() == before
    # Reading is not writing.
    assert client.get("/console/events", headers=bearer(fresh)).status_code == 200
    assert client.get("/console/keys", headers=bearer(token)).status_code == 200


def test_the_tenants_limit_bounds_all_its_members_and_no_other_tenant(
    client, idp, tenant, other_tenant
):
    def create(sub: str, org: str = "org_acme"):
        token = idp.token(sub=sub, org_id=org, role="admin")
        return client.post("/console/keys", json={"name": sub}, headers=bearer(token))

    assert [create("user_a").status_code for _ in range(PER_USER)] == [201] * PER_USER
    _assert_limited(create("user_a"), "user", PER_USER)  # not counted against the tenant
    assert [create("user_b").status_code for _ in range(2)] == [201, 201]
    before = _counts()
    _assert_limited(create("user_c"), "tenant", PER_TENANT)
    assert _counts() == before
    assert create("user_a", org="org_globex").status_code == 201  # its own windows


def test_a_spent_tenant_window_does_not_keep_an_admin_from_revoking_a_key(client, idp, tenant):
    """Revoking stops harm: other members' writes must not block it during an incident. It
    is held to the person's own window only, and does not spend the tenant's."""

    def token(sub: str) -> str:
        return idp.token(sub=sub, org_id="org_acme", role="admin")

    def create(sub: str):
        return client.post("/console/keys", json={"name": sub}, headers=bearer(token(sub)))

    keys = [create("user_a").get_json()["id"] for _ in range(PER_USER)]
    keys += [create("user_b").get_json()["id"] for _ in range(PER_TENANT - PER_USER)]
    _assert_limited(create("user_c"), "tenant", PER_TENANT)
    revoked = [
        client.post(f"/console/keys/{key_id}/revoke", headers=bearer(token("user_c")))
        for key_id in keys[:PER_USER]
    ]
    assert [answer.status_code for answer in revoked] == [200] * PER_USER
    assert all(answer.get_json()["revoked_at"] for answer in revoked)
    # The person's own window still holds, and the tenant's stayed spent.
    _assert_limited(
        client.post(f"/console/keys/{keys[PER_USER]}/revoke", headers=bearer(token("user_c"))),
        "user",
        PER_USER,
    )
    _assert_limited(create("user_d"), "tenant", PER_TENANT)


def test_refused_writes_do_not_use_up_the_tenants_allowance(client, idp, tenant):
    """A member without the permission loops on writes: each is a 403 and changes nothing,
    so it counts nowhere, and the admins' writes still go through."""
    member = idp.token(sub="user_member", org_id="org_acme", role="member")
    admin = idp.token(sub="user_admin", org_id="org_acme", role="admin")
    for _ in range(PER_TENANT + 2):
        refused = client.post("/console/keys", json={"name": "k"}, headers=bearer(member))
        assert refused.status_code == 403
    for _ in range(2):  # a 400 neither
        assert client.post("/console/keys", json={}, headers=bearer(admin)).status_code == 400
    created = [
        client.post("/console/keys", json={"name": "k"}, headers=bearer(admin)).status_code
        for _ in range(PER_USER)
    ]
    assert created == [201] * PER_USER


def test_with_redis_the_windows_hold_across_processes(migrated, server_env, app_config, idp):
    url = shared_redis_url()
    clear_run_keys(url)
    config = {"TESTING": True, **app_config, "REDIS_URL": url}
    first, second = create_app(config), create_app(config)
    token = idp.token(sub="user_admin", org_id="org_acme", role="admin")
    with first.app_context():
        keystore.get().create_tenant("Acme", external_id="org_acme", issuer=idp.issuer)
    try:
        statuses = []
        for number in range(PER_USER + 1):
            answering = (first, second)[number % 2]
            with answering.test_client() as client:
                response = client.post(
                    "/console/keys", json={"name": f"k{number}"}, headers=bearer(token)
                )
                statuses.append(response.status_code)
        assert statuses == [201] * PER_USER + [429]
        keys = redis.Redis.from_url(url).keys(f"{RUN_NAMESPACE}*consolewrite*")
        assert keys  # counted in Redis, under the deployment's namespace
    finally:
        for app in (first, second):
            with app.app_context():
                db.engine.dispose()
