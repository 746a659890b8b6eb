"""``/docs``: served from our own origin only, and it really renders both documents."""

from __future__ import annotations

import re

import pytest

from core.docs import DOCUMENTS

ASSETS = ["/docs", "/docs/docs.css"]


@pytest.mark.parametrize("path", ASSETS)
def test_docs_assets_are_served_under_a_strict_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("path", ASSETS)
def test_docs_reference_nothing_outside_our_origin(client, path):
    text = client.get(path).get_data(as_text=True)
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
    assert "<script>" not in text  # no inline script: the CSP would block it anyway


def test_unknown_docs_asset_is_a_404_envelope(client):
    response = client.get("/docs/../app.py")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_every_operation_sits_under_a_heading_of_its_resource(client):
    """An operation whose resource has no group would be listed under the previous heading
    (the OpenAPI document's): every first path segment of both documents has its group."""
    documents = {
        "api.openapi_document": client.get("/api/v1/openapi.json").get_json(),
        "console.openapi_document": client.get("/console/openapi.json").get_json(),
    }
    for view, title, groups in DOCUMENTS:
        segments = {
            next(s for s in path.split("/") if s and s not in ("api", "v1", "console"))
            for path in documents[view]["paths"]
        }
        assert segments <= {group[0] for group in groups}, (title, segments)
