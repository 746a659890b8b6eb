"""Pentest: the scope report (SPEC §9.4) must never suggest more than the key holds.

The rate limit is checked before the scope (``api.auth``), so a request for an endpoint the
key may not call is answered 429, not 403, once its window is spent, and counted as
``rate_limited``. The report counted that as traffic that *needed* the endpoint's scope: a
holder of a narrow key could spend its window, then call ``POST /api/v1/broadcasts``, and
the report told the admin to "narrow" the key to a grant holding ``broadcasts:write`` — a
one-click widening the attacker chose.
"""

from __future__ import annotations

from tests.console.idp import bearer


def test_rate_limited_calls_outside_the_grant_are_not_suggested(client, admin_token, api_key):
    key = api_key(scopes=["contacts:read"], rate_limit_per_minute=1)
    headers = {"x-tenant-api-key": key}
    health = client.get("/api/v1/health", headers=headers)
    key_id = health.get_json()["key"]["id"]  # spends the one request of the window
    for _ in range(3):
        refused = client.post("/api/v1/broadcasts", json={}, headers=headers)
        assert refused.status_code == 429
    report = client.get(
        f"/console/keys/{key_id}/scope-report", headers=bearer(admin_token)
    ).get_json()
    assert report["granted"] == ["contacts:read"]
    assert "broadcasts:write" not in report["suggested_scopes"]
    assert set(report["suggested_scopes"]) <= set(report["granted"])
    assert set(report["used"]) <= set(report["granted"])
