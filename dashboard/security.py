"""Clerk's script address, from its publishable key.

Clerk's browser library is served by the instance's Frontend API host, which the publishable
key encodes; it is the one external script of the dashboard, and the dashboard's
Content-Security-Policy (``core.headers.dashboard_csp``) admits that host and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import re

# A Frontend API host: "clerk.example.com" or "happy-cat-12.clerk.accounts.dev".
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
_PREFIXES = ("pk_test_", "pk_live_")
CLERK_JS_PATH = "/npm/@clerk/clerk-js@5/dist/clerk.browser.js"


class InvalidPublishableKey(ValueError):
    """CONSOLE_CLERK_PUBLISHABLE_KEY does not decode to a Frontend API host."""


def clerk_frontend_api(publishable_key: str) -> str:
    """The Frontend API host a publishable key names: ``pk_test_`` + base64("<host>$")."""
    prefix = next((p for p in _PREFIXES if publishable_key.startswith(p)), None)
    if prefix is None:
        raise InvalidPublishableKey("a Clerk publishable key starts with pk_test_ or pk_live_")
    encoded = publishable_key[len(prefix) :]
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        host = decoded.decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidPublishableKey("the publishable key is not valid base64") from exc
    host = host.removesuffix("$").lower()
    if not _HOST.fullmatch(host):
        raise InvalidPublishableKey("the publishable key does not name a host")
    return host
