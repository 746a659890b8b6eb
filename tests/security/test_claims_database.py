"""Pentest: claims of a configured provider's signed token that reach a 500 (SPEC §4).

The organization id, its slug (the name of a just-in-time tenant) and ``sub`` (the audit
actor) go to the database unchecked: on PostgreSQL a value longer than its column
(``organizations.external_id``, ``tenants.name``, ``audit_events.actor``: 200 characters) or
holding a NUL byte is a ``DataError``, answered 500. Any user of provider B who can choose an
organization slug (Clerk lets users pick theirs) gets a 500 instead of a tenant. These fail on
PostgreSQL (``TEST_DATABASE_URL``); SQLite neither enforces lengths nor refuses NUL.
"""

from __future__ import annotations

import pytest

from tests.console.idp import bearer


def _assert_not_500(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "org",
    [
        {"id": "org_" + "x" * 300, "rol": "admin", "slg": "long-id"},
        {"id": "org_a\x00b", "rol": "admin", "slg": "nul-id"},
        {"id": "org_long_slug", "rol": "admin", "slg": "s" * 300},
    ],
    ids=["org-id-over-200", "org-id-with-nul", "slug-over-200"],
)
def test_organization_claims_the_database_refuses_are_not_a_500(client, idp_b, org):
    token = idp_b.token(org_id=org["id"], o=org)
    _assert_not_500(client.get("/console/me", headers=bearer(token)))


@pytest.mark.parametrize("sub", ["user_" + "u" * 300, "user_a\x00b"], ids=["long", "nul"])
def test_a_subject_the_audit_log_refuses_is_not_a_500(client, idp_b, sub):
    token = idp_b.token(sub=sub, org_id="org_subjects")
    _assert_not_500(client.post("/console/keys", json={"name": "k"}, headers=bearer(token)))
