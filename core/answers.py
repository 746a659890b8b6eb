"""JSON answers built as bytes: the encoded body of an answer that depends only on immutable
snapshots, kept per snapshot, and the response that carries such a body.

A cached API key's health answer and a signed-in user's ``/me`` answer depend only on the
snapshots the authentication already holds for the request (``tenants.verify.VerifiedKey``;
``console.identity.Identity`` and ``console.tenancy.TenantRef``). Those objects are never
changed: a change to the key, the tenant or the session gives a new snapshot. So the encoded
body is remembered beside the snapshots it was built from and used again only while the
request's snapshots are *the same objects* (``is``, not ``==``): a new snapshot builds a
new body, and nothing else needs invalidating. Building the dicts and encoding them was a
tenth of such a request (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask, Response

from core.jsonprovider import encode

JSON = "application/json"


def json_answer(app: Flask, body: bytes, status: int = 200) -> Response:
    """``app``'s response (``SecureResponse``: the security headers of its surface) carrying
    ``body``, already encoded JSON: what Flask's JSON provider builds, without encoding."""
    return app.response_class(body, status=status, content_type=JSON)


class CachedBodies:
    """Encoded JSON bodies by name, each valid while built from the same two snapshots.

    At most ``size`` names; when full it starts again empty (``dict.clear`` is atomic under
    the GIL, where evicting one entry while other threads insert is not)."""

    def __init__(self, size: int = 10_000) -> None:
        self._entries: dict[Hashable, tuple[object, object, bool, bytes]] = {}
        self._size = size

    def body(
        self,
        name: Hashable,
        first: Any,
        second: Any,
        shape: Callable[[Any, Any], dict[str, Any]],
        indent: bool,
    ) -> bytes:
        """The body of ``shape(first, second)`` encoded as the JSON provider encodes an
        answer (keys sorted, a trailing newline; indented when ``indent``: debug mode)."""
        entry = self._entries.get(name)
        if entry is not None and entry[0] is first and entry[1] is second and entry[2] is indent:
            return entry[3]
        body = encode(shape(first, second), indent=indent, newline=True)
        entries = self._entries
        if len(entries) >= self._size:
            entries.clear()
        entries[name] = (first, second, indent, body)
        return body
