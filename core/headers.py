"""Every security header Loopwave sends: one policy per surface, set on the Flask response.

Surfaces (docs/security.md, "Security headers", lists the same sets):

* **data** — the tenant API (``/api/v1``), the console API (``/console``) and every response
  outside a page blueprint (``/healthz``, ``/readyz``, ``/metrics``, unknown paths): JSON or
  plain text that a browser must never render, frame or cache.
* **dashboard** — every response of the dashboard blueprint: its pages, with a strict CSP
  (our origin only, plus Clerk's Frontend API host when configured), and their static files.
* **docs** — ``/docs`` and its script and style sheet.

Pages (dashboard, docs) also carry the headers that act only on a document a browser renders
(referrer, opener and powerful-feature policies); data answers leave them out, as OWASP's
REST Security Cheat Sheet advises. Every surface gets ``Strict-Transport-Security`` over HTTPS.

``SecurityHeaders.init_app`` registers the one ``after_request`` hook that sets them: it runs
for every response Flask makes, errors included. The only answers made outside Flask, the
middleware's refusals (413, 431, 400 for an unreadable body), take ``REFUSAL_HEADERS``.
"""

from __future__ import annotations

from typing import TypeAlias

from flask import Flask, Response, request

Policy: TypeAlias = tuple[tuple[str, str], ...]

NOSNIFF = ("X-Content-Type-Options", "nosniff")
NO_FRAMING = ("X-Frame-Options", "DENY")
NOT_CACHED = ("Cache-Control", "no-store")
HSTS = ("Strict-Transport-Security", "max-age=31536000")

DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Headers that act only on a page a browser renders.
PAGE_ONLY = (
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)

DATA_HEADERS: Policy = (NOSNIFF, NO_FRAMING, ("Content-Security-Policy", DATA_CSP), NOT_CACHED)
REFUSAL_HEADERS = DATA_HEADERS


def page_headers(csp: str) -> Policy:
    """The headers of a page surface whose Content-Security-Policy is ``csp``. A page route may
    set its own ``Cache-Control`` (a static file's revalidation, ``/docs``' max-age); without
    one, ``no-store`` is added."""
    return (NOSNIFF, NO_FRAMING, ("Content-Security-Policy", csp), *PAGE_ONLY)


DOCS_HEADERS = page_headers(DOCS_CSP)


def dashboard_csp(clerk_host: str | None) -> str:
    """The dashboard's CSP: our origin only, plus Clerk's Frontend API host when configured."""
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


class SecurityHeaders:
    """The extension that sets each surface's headers on every response of an app."""

    name = "loopwave.security_headers"

    def init_app(self, app: Flask) -> None:
        pages: dict[str | None, Policy] = {"docs": DOCS_HEADERS}
        app.extensions[self.name] = pages

        def set_security_headers(response: Response) -> Response:
            this_request = request._get_current_object()
            page = pages.get(this_request.blueprint)
            headers = response.headers
            if page is None:
                headers.extend(DATA_HEADERS)
            else:
                headers.extend(page)
                if "Cache-Control" not in headers:
                    headers.add(*NOT_CACHED)
            if this_request.environ["wsgi.url_scheme"] == "https":
                headers.add(*HSTS)
            return response

        app.after_request(set_security_headers)

    def use_page_policy(self, app: Flask, blueprint: str, csp: str) -> None:
        """Answer every response of ``blueprint`` as a page whose CSP is ``csp``."""
        app.extensions[self.name][blueprint] = page_headers(csp)
