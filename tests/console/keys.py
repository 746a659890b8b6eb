"""Console key calls shared by the console and pentest tests."""

from __future__ import annotations

from tests.console.idp import bearer


def call(client, token, method, path, body=None):
    return client.open(path, method=method, headers=bearer(token), json=body)


def create_key(client, token, **fields):
    """``POST /console/keys`` named ``k`` unless ``fields`` say otherwise; asserts a 201."""
    response = call(client, token, "POST", "/console/keys", {"name": "k", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()
