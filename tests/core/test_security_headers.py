"""Every surface gets exactly its documented security headers (docs/security.md), once each.

The expected sets are written out here rather than read from ``core.headers``, so a change
of policy is a change of this test and of the documentation too.
"""

from __future__ import annotations

import pytest

from core.middleware import MAX_HEADER_FIELD_BYTES

SECURITY_HEADER_NAMES = (
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Content-Security-Policy",
    "Cache-Control",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Permissions-Policy",
    "Strict-Transport-Security",
)
DATA = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
}
PAGE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DASHBOARD = {**PAGE, "Content-Security-Policy": DASHBOARD_CSP}
DOCS = {**PAGE, "Content-Security-Policy": DOCS_CSP, "Cache-Control": "public, max-age=300"}
HSTS = {"Strict-Transport-Security": "max-age=31536000"}

# (surface, method, path, credentials, status, expected headers)
SURFACES = [
    ("api", "GET", "/api/v1/health", "key", 200, DATA),
    ("api", "GET", "/api/v1/health", None, 401, DATA),
    ("api", "DELETE", "/api/v1/health", "key", 405, DATA),
    ("api", "GET", "/api/v1/openapi.json", None, 200, DATA),
    ("console", "GET", "/console/me", None, 401, DATA),
    ("console", "GET", "/console/openapi.json", None, 200, DATA),
    ("other", "GET", "/healthz", None, 200, DATA),
    ("other", "GET", "/nowhere", None, 404, DATA),
    ("refused", "GET", "/api/v1/health", "oversized", 431, DATA),
    ("dashboard", "GET", "/dashboard/keys", None, 200, {**DASHBOARD, "Cache-Control": "no-store"}),
    ("dashboard", "GET", "/dashboard/nope", None, 404, {**DASHBOARD, "Cache-Control": "no-store"}),
    # A static file keeps Werkzeug's own revalidation: no-cache with an ETag.
    (
        "dashboard",
        "GET",
        "/dashboard/static/js/main.js",
        None,
        200,
        {**DASHBOARD, "Cache-Control": "no-cache"},
    ),
    ("docs", "GET", "/docs", None, 200, DOCS),
    ("docs", "GET", "/docs/docs.css", None, 200, DOCS),
]


def _security_headers(response) -> dict[str, list[str]]:
    return {
        name: response.headers.getlist(name)
        for name in SECURITY_HEADER_NAMES
        if name in response.headers
    }


def _credentials(kind: str | None, api_key) -> dict[str, str]:
    if kind == "key":
        return {"x-tenant-api-key": api_key()}
    if kind == "oversized":
        return {"x-tenant-api-key": api_key(), "X-Padding": "a" * MAX_HEADER_FIELD_BYTES}
    return {}


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize(
    ("surface", "method", "path", "credentials", "status", "expected"),
    SURFACES,
    ids=[f"{surface}-{method}-{path}-{status}" for surface, method, path, _, status, _ in SURFACES],
)
def test_each_surface_gets_exactly_its_documented_headers(
    client, api_key, scheme, surface, method, path, credentials, status, expected
):
    response = client.open(
        path,
        method=method,
        headers=_credentials(credentials, api_key),
        base_url=f"{scheme}://localhost",
    )
    assert response.status_code == status
    if scheme == "https":
        expected = {**expected, **HSTS}
    assert _security_headers(response) == {name: [value] for name, value in expected.items()}
