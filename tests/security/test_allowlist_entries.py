"""Pentest: IP allow-list entries (SPEC §9.2) that meant something other than what they did.

- An entry with an IPv6 zone id (``fe80::1%eth0``) was stored as given and matched that
  address on *every* interface (the zone is ignored when matching): a zone id on another
  host's interface means nothing, so it is refused rather than silently widened.
- An IPv4-mapped entry (``::ffff:203.0.113.7``) was stored as IPv6 and never matched the
  IPv4 client it names (client addresses are compared unmapped), so it locked the key out.
  It is stored as the IPv4 address it carries.
Also held (no change needed): ``X-Forwarded-For`` is ignored without ``TRUSTED_PROXIES``.
"""

from __future__ import annotations

import pytest

from tests.console.idp import bearer


def _create(client, token, allowed_ips):
    return client.post(
        "/console/keys",
        json={"name": "k", "allowed_ips": allowed_ips},
        headers=bearer(token),
    )


@pytest.mark.parametrize("entry", ["fe80::1%eth0", "fe80::1%1", "fe80::1%25eth0"])
def test_an_entry_with_a_zone_id_is_refused(client, admin_token, entry):
    response = _create(client, admin_token, [entry])
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("entry", "stored"),
    [("::ffff:203.0.113.7", "203.0.113.7"), ("::ffff:203.0.113.0/120", "203.0.113.0/24")],
)
def test_an_ipv4_mapped_entry_is_kept_as_ipv4_and_matches(client, admin_token, entry, stored):
    created = _create(client, admin_token, [entry])
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["allowed_ips"] == [stored]
    key = created.get_json()["key"]
    for peer in ("203.0.113.7", "::ffff:203.0.113.7"):
        answer = client.get(
            "/api/v1/health",
            headers={"x-tenant-api-key": key},
            environ_base={"REMOTE_ADDR": peer},
        )
        assert answer.status_code == 200, (peer, answer.get_json())


def test_x_forwarded_for_is_not_believed_without_trusted_proxies(client, admin_token):
    key = _create(client, admin_token, ["203.0.113.7"]).get_json()["key"]
    spoofed = client.get(
        "/api/v1/health",
        headers={"x-tenant-api-key": key, "X-Forwarded-For": "203.0.113.7"},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert spoofed.status_code == 403
    assert spoofed.get_json()["error"]["code"] == "AUTH_IP_NOT_ALLOWED"
