"""What each tenant API endpoint does (SPEC §8)."""

import sqlalchemy as sa

from core.extensions import db
from tenants.records import Chat, Contact, Message


def test_sending_a_message_creates_contact_and_chat_and_queues_it(client, api_key):
    headers = {"x-tenant-api-key": api_key(scopes=["messages:write", "chats:read"])}
    first = client.post(
        "/api/v1/messages", json={"to": "+14155550111", "text": "one"}, headers=headers
    )
    second = client.post(
        "/api/v1/messages", json={"to": "+14155550111", "text": "two"}, headers=headers
    )
    assert first.status_code == second.status_code == 202
    assert first.get_json()["status"] == "queued"
    assert first.get_json()["chat_id"] == second.get_json()["chat_id"]
    chats = client.get("/api/v1/chats", headers=headers).get_json()["data"]
    assert len(chats) == 1
    thread = client.get(f"/api/v1/chats/{chats[0]['id']}/messages", headers=headers).get_json()
    assert [message["text"] for message in thread["data"]] == ["one", "two"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


def test_contact_is_created_and_listed(client, api_key):
    headers = {"x-tenant-api-key": api_key(scopes=["contacts:write", "contacts:read"])}
    created = client.post(
        "/api/v1/contacts",
        headers=headers,
        json={"name": "Ada", "phone": "+442071838750", "email": "a@b.io"},
    )
    assert created.status_code == 201
    listed = client.get("/api/v1/contacts", headers=headers).get_json()["data"]
    assert listed == [created.get_json()]


def test_duplicate_contact_phone_is_a_conflict(client, api_key):
    headers = {"x-tenant-api-key": api_key()}
    body = {"name": "Ada", "phone": "+442071838750"}
    assert client.post("/api/v1/contacts", json=body, headers=headers).status_code == 201
    response = client.post("/api/v1/contacts", json=body, headers=headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "CONFLICT"


def test_ticket_with_own_contact_and_broadcast_are_created(client, api_key, sample):
    headers = {"x-tenant-api-key": api_key()}
    ticket = client.post(
        "/api/v1/tickets",
        headers=headers,
        json={"subject": "Broken", "body": "It is", "contact_id": sample["contact_id"]},
    )
    assert ticket.status_code == 201
    assert ticket.get_json()["contact_id"] == sample["contact_id"]
    assert ticket.get_json()["status"] == "open"
    broadcast = client.post(
        "/api/v1/broadcasts",
        headers=headers,
        json={
            "name": "Launch",
            "text": "Hi",
            "contact_ids": [sample["contact_id"], sample["contact_id"]],
        },
    )
    assert broadcast.status_code == 202
    assert broadcast.get_json()["status"] == "queued"
    assert broadcast.get_json()["recipients"] == 1


def test_pagination_walks_every_object_once(client, api_key):
    headers = {"x-tenant-api-key": api_key()}
    for number in range(7):
        client.post(
            "/api/v1/contacts",
            json={"name": f"c{number}", "phone": f"+1415555020{number}"},
            headers=headers,
        )
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/contacts", query_string=query, headers=headers).get_json()
        seen += [contact["name"] for contact in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"c{number}" for number in reversed(range(7))]


def test_a_cursor_of_another_list_is_refused_not_a_wrong_page(client, api_key):
    headers = {"x-tenant-api-key": api_key()}
    for number in range(3):
        client.post(
            "/api/v1/messages", json={"to": f"+1415555030{number}", "text": "hi"}, headers=headers
        )
    contacts_cursor = client.get("/api/v1/contacts?limit=1", headers=headers).get_json()[
        "next_cursor"
    ]
    own = client.get(f"/api/v1/contacts?cursor={contacts_cursor}", headers=headers)
    assert own.status_code == 200 and len(own.get_json()["data"]) == 2
    for other_list in ("/api/v1/chats", "/api/v1/tickets"):
        response = client.get(f"{other_list}?cursor={contacts_cursor}", headers=headers)
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["message"] == "The cursor belongs to another list"
        assert error["details"] == {"field": "cursor"}


def test_chat_thread_is_oldest_first_and_paginated(client, api_key):
    headers = {"x-tenant-api-key": api_key()}
    for number in range(3):
        client.post(
            "/api/v1/messages", json={"to": "+14155550111", "text": f"m{number}"}, headers=headers
        )
    chat_id = db.session.scalar(sa.select(Chat.id))
    page = client.get(f"/api/v1/chats/{chat_id}/messages?limit=2", headers=headers).get_json()
    assert [m["text"] for m in page["data"]] == ["m0", "m1"]
    rest = client.get(
        f"/api/v1/chats/{chat_id}/messages?limit=2&cursor={page['next_cursor']}", headers=headers
    ).get_json()
    assert [m["text"] for m in rest["data"]] == ["m2"]
    assert rest["next_cursor"] is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 3


def test_usage_counts_requests_per_key_per_day(client, api_key):
    first, second = api_key(name="first"), api_key(name="second")
    for _ in range(3):
        client.get("/api/v1/health", headers={"x-tenant-api-key": first})
    usage = client.get("/api/v1/usage", headers={"x-tenant-api-key": second}).get_json()["data"]
    by_name = {row["key_name"]: row["requests"] for row in usage}
    assert by_name == {"first": 3}  # a request is counted once it has been answered
    usage = client.get("/api/v1/usage", headers={"x-tenant-api-key": second}).get_json()["data"]
    by_name = {row["key_name"]: row["requests"] for row in usage}
    assert by_name == {"first": 3, "second": 1}
