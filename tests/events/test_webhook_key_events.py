"""Pentest: reading key metadata through a webhook (SPEC §9.3, §10).

``key.*`` events carry a key's metadata (name, scopes, start, last 4, allowed IPs …), which
only ``org:api_keys:read`` may see. A member holding ``org:webhooks:manage`` alone could
subscribe an endpoint of theirs to ``key.*`` (or ``*``), or point an existing key-event
endpoint at their own URL, and so read what the console refuses them. Each is now a 403.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenants.events import KEY_TYPES
from tenants.models import Tenant
from tests.conftest import TEST_ACTOR
from tests.console.idp import IdentityProvider, bearer, console_config
from tests.events.receiver import Receiver

READ, MANAGE, WEBHOOKS = "org:api_keys:read", "org:api_keys:manage", "org:webhooks:manage"
URL = "http://127.0.0.1:9/hooks"
KEY_EVENT_TYPES = [*KEY_TYPES, "key.leaked", "key.decoy_used"]


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def app_config(idp) -> dict:
    return {**console_config(idp), "WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def tenant(store, idp) -> Tenant:
    return store.create_tenant("Acme", external_id="org_acme", issuer=idp.issuer)


def _member(idp, *permissions: str) -> dict[str, str]:
    token = idp.token(sub="user_ops", role="member", version=1, org_permissions=list(permissions))
    return bearer(token)


def _admin(idp) -> dict[str, str]:
    return bearer(idp.token(sub="user_admin", role="admin"))


def _create(client, headers, events: list[str]):
    return client.post("/console/webhooks", headers=headers, json={"url": URL, "events": events})


@pytest.mark.parametrize("events", [[t] for t in KEY_EVENT_TYPES] + [["*"]])
def test_webhooks_only_manager_cannot_subscribe_to_key_events(client, tenant, idp, events):
    refused = _create(client, _member(idp, WEBHOOKS), events)
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["error"]["code"] == "AUTH_FORBIDDEN"
    assert refused.get_json()["error"]["details"]["required_permission"] == READ
    listed = client.get("/console/webhooks", headers=_admin(idp)).get_json()["data"]
    assert listed == []


def test_webhooks_only_manager_may_subscribe_to_other_events(client, tenant, idp):
    created = _create(client, _member(idp, WEBHOOKS), ["license.updated", "webhook.disabled"])
    assert created.status_code == 201, created.get_json()


@pytest.mark.parametrize("held", [(WEBHOOKS, READ), (WEBHOOKS, MANAGE)])
def test_a_manager_who_may_read_keys_may_subscribe_to_them(client, tenant, idp, held):
    assert _create(client, _member(idp, *held), ["*"]).status_code == 201
    assert _create(client, _member(idp, *held), ["key.created"]).status_code == 201
    assert _create(client, _admin(idp), ["*"]).status_code == 201


def test_webhooks_only_manager_cannot_add_key_events_by_patch(client, tenant, idp):
    manager = _member(idp, WEBHOOKS)
    endpoint = _create(client, manager, ["license.updated"]).get_json()
    for events in (["key.revoked"], ["*"]):
        patched = client.patch(
            f"/console/webhooks/{endpoint['id']}", headers=manager, json={"events": events}
        )
        assert patched.status_code == 403
    assert (
        client.patch(
            f"/console/webhooks/{endpoint['id']}", headers=manager, json={"description": "ops"}
        ).status_code
        == 200
    )


def test_webhooks_only_manager_cannot_redirect_a_key_event_endpoint(client, tenant, idp):
    """An admin's endpoint receives key events: moving its URL would send them elsewhere."""
    endpoint = _create(client, _admin(idp), ["key.created"]).get_json()
    manager = _member(idp, WEBHOOKS)
    moved = client.patch(
        f"/console/webhooks/{endpoint['id']}",
        headers=manager,
        json={"url": "http://127.0.0.1:10/mine"},
    )
    assert moved.status_code == 403
    fetched = client.get(f"/console/webhooks/{endpoint['id']}", headers=_admin(idp)).get_json()
    assert fetched["url"] == URL


def test_webhooks_only_manager_cannot_resend_key_events_to_a_new_url(client, store, tenant, idp):
    """An endpoint once subscribed to key events keeps their deliveries (pending retries, or
    done and retryable) after an admin narrows it: moving its URL, or retrying one of them,
    would hand key metadata to whoever holds the new URL."""
    admin = _admin(idp)
    endpoint = _create(client, admin, ["key.created"]).get_json()
    store.create_key(tenant.id, "ci", TEST_ACTOR)  # a key.created delivery for the endpoint
    narrowed = client.patch(
        f"/console/webhooks/{endpoint['id']}", headers=admin, json={"events": ["license.updated"]}
    )
    assert narrowed.status_code == 200
    manager = _member(idp, WEBHOOKS)
    moved = client.patch(
        f"/console/webhooks/{endpoint['id']}",
        headers=manager,
        json={"url": "http://127.0.0.1:10/mine"},
    )
    assert moved.status_code == 403
    deliveries = client.get(f"/console/webhooks/{endpoint['id']}/deliveries", headers=manager)
    [delivery] = deliveries.get_json()["data"]
    retried = client.post(
        f"/console/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry", headers=manager
    )
    assert retried.status_code == 403
    assert (
        client.post(
            f"/console/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/retry", headers=admin
        ).status_code
        == 202
    )


def test_an_echoing_receivers_answer_to_key_events_is_hidden_from_webhooks_only_managers(
    client, store, tenant, idp, hooks, deliverer
):
    """A receiver that echoes what it got (many error pages and test bins do) puts a key
    event's metadata in the first KiB of its answer, shown in the delivery log."""
    echo = Receiver(answer=b"")
    echo.echo = True
    try:
        endpoint = _create(client, _admin(idp), ["key.created"]).get_json()
        hooks.update(tenant.id, endpoint["id"], TEST_ACTOR, url=echo.url)
        store.create_key(tenant.id, "secret-project-name", TEST_ACTOR)
        assert deliverer.run_once() == 1
    finally:
        echo.stop()
    path = f"/console/webhooks/{endpoint['id']}/deliveries"
    seen_by_admin = client.get(path, headers=_admin(idp)).get_json()["data"]
    assert "secret-project-name" in str(seen_by_admin)  # precondition: the echo was kept
    manager = client.get(path, headers=_member(idp, WEBHOOKS))
    assert manager.status_code == 200
    [delivery] = manager.get_json()["data"]
    assert delivery["status"] == "succeeded" and delivery["attempt_log"][0]["status_code"] == 200
    assert "secret-project-name" not in str(manager.get_json())
