"""Shared by the bad-input tests: every JSON endpoint, a console admin, the database as text.

Console calls use the development sign-in (``DEV_LOGIN``), whose tokens take the path of any
provider's; the first call creates the organization's tenant just in time, so a test can take
its snapshot of the database after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from core.extensions import db
from tenants import keyformat
from tenants.models import Base

DEV_ORG = "org_badinput"


@dataclass(frozen=True)
class JsonEndpoint:
    """A route that reads a JSON body; ``{key}`` in the path is a key of the tenant,
    ``{endpoint}`` one of its webhook endpoints."""

    method: str
    path: str
    body: dict
    auth: str  # "api", "console" or "none"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def rule(self) -> str:
        """The path as Flask's URL rule spells it."""
        return self.path.replace("{key}", "<key_id>").replace("{endpoint}", "<endpoint_id>")


JSON_ENDPOINTS = [
    JsonEndpoint("POST", "/api/v1/messages", {"to": "+14155550100", "text": "Hi"}, "api"),
    JsonEndpoint("POST", "/api/v1/contacts", {"name": "Ada", "phone": "+14155550101"}, "api"),
    JsonEndpoint("POST", "/api/v1/tickets", {"subject": "Help"}, "api"),
    JsonEndpoint(
        "POST",
        "/api/v1/broadcasts",
        {"name": "B", "text": "T", "contact_ids": ["con_01JD0000000000000000000000"]},
        "api",
    ),
    JsonEndpoint(
        "POST",
        "/console/keys",
        {"name": "new", "description": "d", "metadata": {"team": "t"}, "allowed_ips": ["::1"]},
        "console",
    ),
    JsonEndpoint(
        "PATCH",
        "/console/keys/{key}",
        {"name": "renamed", "description": "d", "metadata": {"team": "t"}},
        "console",
    ),
    JsonEndpoint("POST", "/console/keys/{key}/rotate", {"grace_seconds": 60}, "console"),
    JsonEndpoint("POST", "/console/webhooks", {"url": "https://8.8.8.8/hook"}, "console"),
    JsonEndpoint("PATCH", "/console/webhooks/{endpoint}", {"description": "d"}, "console"),
    JsonEndpoint("PATCH", "/console/settings", {"leak_response": "notify"}, "console"),
    JsonEndpoint("POST", "/dev-login/token", {"user_id": "user_a"}, "none"),
]


class Caller:
    """Credentials for every kind of endpoint, against one tenant (``DEV_ORG``)."""

    def __init__(self, client) -> None:
        self.client = client
        minted = client.post(
            "/dev-login/token", json={"user_id": "user_admin", "org_id": DEV_ORG, "role": "admin"}
        )
        assert minted.status_code == 200, minted.get_json()
        self.console = {"Authorization": f"Bearer {minted.get_json()['token']}"}
        created = client.post("/console/keys", json={"name": "caller"}, headers=self.console)
        assert created.status_code == 201, created.get_json()
        self.key_id = created.get_json()["id"]
        self.api = {"x-tenant-api-key": created.get_json()["key"]}
        # No endpoint is made (a request more would change what the tests snapshot): bodies
        # are checked before the endpoint is looked up, and a valid one meets a 404.
        self.endpoint_id = "whe_01JD0000000000000000000000"

    def headers(self, endpoint: JsonEndpoint) -> dict[str, str]:
        return {"api": self.api, "console": self.console, "none": {}}[endpoint.auth]

    def url(self, rule: str) -> str:
        """``rule`` (Flask's spelling) with this caller's key and endpoint ids."""
        return rule.replace("<key_id>", self.key_id).replace("<endpoint_id>", self.endpoint_id)

    def send(self, endpoint: JsonEndpoint, data: bytes, **headers: str):
        return self.client.open(
            endpoint.path.format(key=self.key_id, endpoint=self.endpoint_id),
            method=endpoint.method,
            data=data,
            content_type="application/json",
            headers={**self.headers(endpoint), **headers},
        )


def database_text() -> str:
    """Every row of every table, as text (usage counters left out: requests move them)."""
    db.session.rollback()
    return "\n".join(
        repr(tuple(row))
        for table in Base.metadata.sorted_tables
        if table.name != "key_usage"
        for row in db.session.execute(sa.select(table))
    )


def key_shaped(mode: str) -> str:
    """A well-formed key of ``mode`` (``live`` or ``test``) that no tenant holds."""
    head = keyformat.generate("lw").full_key.replace("_live_", f"_{mode}_")[:-6]
    return head + keyformat.checksum(head)


def assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["error"]["code"] == code, body
    assert body["request_id"] == response.headers["X-Request-Id"]
