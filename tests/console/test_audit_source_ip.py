"""Audit entries record the client IP as SPEC §3 ``TRUSTED_PROXIES`` defines it."""

from __future__ import annotations

import pytest

from tests.console.idp import bearer

CLIENT = "203.0.113.5"


def _create_and_read_source_ip(client, admin_token, peer: str) -> str:
    headers = {**bearer(admin_token), "X-Forwarded-For": f"198.51.100.1, {CLIENT}"}
    environ = {"REMOTE_ADDR": peer}
    created = client.post(
        "/console/keys", json={"name": "audited"}, headers=headers, environ_base=environ
    )
    assert created.status_code == 201
    log = client.get("/console/audit-log", headers=bearer(admin_token)).get_json()["data"]
    return log[0]["source_ip"]


class TestBehindTrustedProxy:
    @pytest.fixture
    def app_config(self, app_config) -> dict:
        return {**app_config, "TRUSTED_PROXIES": "10.0.0.0/8"}

    def test_audit_records_the_forwarded_client(self, client, admin_token):
        assert _create_and_read_source_ip(client, admin_token, "10.0.0.2") == CLIENT

    def test_an_untrusted_peer_cannot_forward(self, client, admin_token):
        assert _create_and_read_source_ip(client, admin_token, "198.51.100.77") == "198.51.100.77"


def test_without_trusted_proxies_audit_records_the_peer(client, admin_token):
    assert _create_and_read_source_ip(client, admin_token, "10.0.0.2") == "10.0.0.2"
