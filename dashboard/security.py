"""Security headers of the dashboard pages and Clerk's script address.

The Content-Security-Policy allows scripts from our own origin only. With Clerk configured,
Clerk's browser library — served by the instance's Frontend API host, which the publishable
key encodes — is the one external script, and the host is added to the directives Clerk
needs. Nothing else may load from another origin.
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


def content_security_policy(clerk_host: str | None) -> str:
    """The page CSP: our origin only, plus Clerk's Frontend API host when configured."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    if clerk_host:
        origin = f"https://{clerk_host}"
        directives["script-src"].append(origin)
        directives["connect-src"].append(origin)
        directives["img-src"].append("https://img.clerk.com")
        directives["worker-src"] = ["'self'", "blob:"]
        # Clerk's sign-in components style themselves at run time; scripts stay strict.
        directives["style-src"].append("'unsafe-inline'")
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def page_headers(clerk_host: str | None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(clerk_host),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
