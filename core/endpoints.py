"""Tenant API endpoints by name: ``POST /api/v1/messages``, the route's method and template.

Usage is counted per endpoint (SPEC §9.4), and the scope report maps each endpoint to the
scope its view requires (``api.auth.require_scope`` marks it on the view), read off the URL map
so the two cannot drift.
"""

from __future__ import annotations

from flask import Flask

ENDPOINT_SCOPES = "loopwave.endpoint_scopes"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})


def endpoint_label(method: str, rule: str) -> str:
    return f"{method} {rule}"


def scopes_by_endpoint(app: Flask, blueprint: str = "api") -> dict[str, str | None]:
    """Every endpoint of ``blueprint`` and the scope it requires (``None``: any valid key),
    worked out once per application."""
    known = app.extensions.get(ENDPOINT_SCOPES)
    if known is None:
        known = app.extensions[ENDPOINT_SCOPES] = {
            endpoint_label(method, rule.rule): getattr(
                app.view_functions[rule.endpoint], "required_scope", None
            )
            for rule in app.url_map.iter_rules()
            if rule.endpoint.partition(".")[0] == blueprint
            for method in sorted((rule.methods or set()) - IGNORED_METHODS)
        }
    return known
