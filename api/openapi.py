"""The tenant API's OpenAPI document, served publicly at ``/api/v1/openapi.json``.

Request bodies, scopes, license gating and idempotency are read off the views by
``core.openapi``, the response shapes from ``api/resources.py``, the models the views answer
through; this module states only what code cannot tell: summaries, success statuses and
which model each operation answers with.
"""

from __future__ import annotations

from typing import Any

from api import bp
from api.resources import (
    Broadcast,
    ChatPage,
    Contact,
    ContactPage,
    Health,
    Message,
    MessagePage,
    Ticket,
    TicketPage,
)
from core.http import public
from core.openapi import (
    ID_PATTERN,
    PAGE_QUERY,
    USAGE_QUERY,
    DocumentSpec,
    OpenApiDocument,
    Operation,
    document,
)
from core.resources import Usage

SPEC = DocumentSpec(
    blueprint="api",
    title="Loopwave tenant API",
    version="1",
    description=(
        "Server-to-server API. Authenticate every request with the `x-tenant-api-key` header. "
        "Each operation names the scope its key needs in `security` and `x-required-scope`; "
        "a key holding `*` passes every scope check."
    ),
    scheme_name="tenantApiKey",
    scheme={
        "type": "apiKey",
        "in": "header",
        "name": "x-tenant-api-key",
        "description": "`lw_live_` (or `lw_test_`) + 32 base62 characters, shown once when created",
    },
    auth_errors={401: ("AUTH_INVALID_KEY",)},
    path_parameters={"chat_id": {"type": "string", "pattern": ID_PATTERN.format(prefix="cht")}},
    operations={
        "openapi_document": Operation("This OpenAPI document (public)", 200, OpenApiDocument),
        "health": Operation("The tenant and key behind the presented key", 200, Health),
        "usage": Operation(
            "Requests by key, day, endpoint and outcome in the calling key's mode, newest first",
            200,
            Usage,
            query=USAGE_QUERY,
        ),
        "send_message": Operation("Queue a message to a phone number", 202, Message),
        "list_chats": Operation("Chats, newest first", 200, ChatPage, query=PAGE_QUERY),
        "chat_messages": Operation(
            "A chat's messages, oldest first", 200, MessagePage, query=PAGE_QUERY
        ),
        "list_contacts": Operation("Contacts, newest first", 200, ContactPage, query=PAGE_QUERY),
        "create_contact": Operation("Create a contact", 201, Contact),
        "list_tickets": Operation("Tickets, newest first", 200, TicketPage, query=PAGE_QUERY),
        "create_ticket": Operation("Open a ticket", 201, Ticket, errors=(404,)),
        "create_broadcast": Operation(
            "Queue a broadcast to contacts", 202, Broadcast, errors=(404,)
        ),
    },
)


@bp.get("/openapi.json")
@public
def openapi_document() -> dict[str, Any]:
    return document(SPEC)
