"""Tenant isolation: a key of tenant B never sees, links or changes tenant A's objects."""

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants.records import Broadcast, Chat, Contact, Message, Ticket
from tests.api.conftest import ENDPOINTS


def _ids(response) -> set[str]:
    return {item["id"] for item in response.get_json()["data"]}


@pytest.mark.parametrize(
    "path", [e.path for e in ENDPOINTS if e.method == "GET" and "{" not in e.path]
)
def test_lists_show_only_the_callers_objects(
    client, api_key, sample, other_tenant, other_sample, path
):
    other_key = api_key(tenant=other_tenant)
    response = client.get(path, headers={"x-tenant-api-key": other_key})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for object_id in sample.values():
        assert object_id not in text
    if path == "/api/v1/health":
        assert response.get_json()["tenant"]["id"] == other_tenant.id


def test_another_tenants_chat_thread_is_not_found(client, api_key, sample, other_tenant):
    other_key = api_key(tenant=other_tenant)
    response = client.get(
        f"/api/v1/chats/{sample['chat_id']}/messages", headers={"x-tenant-api-key": other_key}
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"
    assert sample["message_id"] not in response.get_data(as_text=True)


def test_ticket_cannot_link_another_tenants_contact(client, api_key, sample, other_tenant):
    other_key = api_key(tenant=other_tenant)
    response = client.post(
        "/api/v1/tickets",
        json={"subject": "x", "contact_id": sample["contact_id"]},
        headers={"x-tenant-api-key": other_key},
    )
    assert response.status_code == 404
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Ticket)
            .where(Ticket.tenant_id == other_tenant.id)
        )
        == 0
    )


def test_broadcast_cannot_target_another_tenants_contacts(
    client, api_key, sample, other_tenant, other_sample
):
    other_key = api_key(tenant=other_tenant)
    response = client.post(
        "/api/v1/broadcasts",
        json={
            "name": "b",
            "text": "t",
            "contact_ids": [other_sample["contact_id"], sample["contact_id"]],
        },
        headers={"x-tenant-api-key": other_key},
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["details"]["missing"] == [sample["contact_id"]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 0


def test_message_to_a_number_known_to_another_tenant_creates_our_own_contact_and_chat(
    client, api_key, sample, other_tenant
):
    other_key = api_key(tenant=other_tenant)
    response = client.post(
        "/api/v1/messages",
        json={"to": "+14155550100", "text": "hello"},
        headers={"x-tenant-api-key": other_key},
    )
    assert response.status_code == 202
    assert response.get_json()["chat_id"] != sample["chat_id"]
    tenant_a_messages = db.session.scalars(
        Message.for_tenant(sample_tenant_id(sample), True).with_only_columns(Message.text)
    ).all()
    assert tenant_a_messages == ["first"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 2


def sample_tenant_id(sample: dict) -> str:
    return db.session.get(Contact, sample["contact_id"]).tenant_id
