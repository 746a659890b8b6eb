"""Pentest: key material a client puts where it does not belong is logged, stored or echoed
(SPEC §5: redacted before it is logged, stored or echoed; both modes' prefixes)."""

from __future__ import annotations

import logging
import secrets

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants.keyformat import BASE62, checksum
from tests.console.idp import bearer


def _key_shaped(mode: str) -> str:
    head = f"lw_{mode}_" + "".join(secrets.choice(BASE62) for _ in range(26))
    return head + checksum(head)


def _dump_tables() -> str:
    """Every row of every table, as text."""
    rows = []
    for table in db.metadata.sorted_tables:
        rows.extend(str(row) for row in db.session.execute(sa.select(table)))
    return "\n".join(rows)


@pytest.mark.parametrize("mode", ["live", "test"])
def test_a_key_in_the_url_path_is_not_logged(client, api_key, admin_token, caplog, mode):
    caplog.set_level(logging.INFO)
    leaked = api_key() if mode == "live" else _key_shaped("test")
    client.get(f"/api/v1/health/{leaked}")
    client.patch(f"/console/keys/{leaked}", json={"name": "x"}, headers=bearer(admin_token))
    assert leaked not in caplog.text


@pytest.mark.parametrize("mode", ["live", "test"])
def test_a_key_sent_as_a_scope_is_not_echoed(client, admin_token, mode):
    leaked = _key_shaped(mode)
    response = client.post(
        "/console/keys", json={"name": "x", "scopes": [leaked]}, headers=bearer(admin_token)
    )
    assert response.status_code == 400
    assert leaked not in response.get_data(as_text=True)


def test_a_key_sent_as_idempotency_key_is_not_stored(client, api_key, app):
    leaked = _key_shaped("live")
    response = client.post(
        "/api/v1/contacts",
        json={"name": "Ada", "phone": "+14155550100"},
        headers={"x-tenant-api-key": api_key(), "Idempotency-Key": leaked},
    )
    assert response.status_code == 201
    assert leaked not in _dump_tables()


def test_a_key_sent_as_a_key_name_is_not_stored_or_echoed(client, admin_token):
    leaked = _key_shaped("live")
    response = client.post(
        "/console/keys", json={"name": f"ci {leaked}"}, headers=bearer(admin_token)
    )
    assert response.status_code in (201, 400)
    body = response.get_json()
    assert leaked not in str(body.get("name", "")) and leaked not in str(body.get("error", ""))
    assert leaked not in _dump_tables()


def test_a_test_mode_key_sent_as_x_request_id_is_not_echoed_logged_or_stored(
    client, admin_token, caplog
):
    caplog.set_level(logging.INFO)
    leaked = _key_shaped("test")
    response = client.post(
        "/console/keys", json={"name": "x"}, headers={**bearer(admin_token), "X-Request-Id": leaked}
    )
    assert response.status_code == 201
    assert leaked not in response.headers.get("X-Request-Id", "")
    assert leaked not in caplog.text
    assert leaked not in _dump_tables()


def test_a_key_shaped_organization_slug_is_not_stored_as_a_tenant_name(client, idp_b):
    # Just-in-time creation names the tenant after the token's organization slug, unchecked.
    leaked = _key_shaped("live")
    token = idp_b.token(
        org_id="org_slugged", o={"id": "org_slugged", "rol": "admin", "slg": leaked}
    )
    response = client.get("/console/me", headers=bearer(token))
    assert response.status_code == 200
    assert leaked not in response.get_data(as_text=True)
    assert leaked not in _dump_tables()
