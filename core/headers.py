"""Every security header Loopwave sends: one policy per surface, carried by the Flask response.

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

How they are set: every response of the app is a ``SecureResponse`` whose ``security_headers``
policy is the data set unless a page blueprint's ``after_request`` hook
(``SecurityHeaders.use_page_policy``) names its own; Werkzeug's ``get_wsgi_response`` then
sends the policy with the response's other headers. The data answers, the hot path, thus
need no hook at all, and these constant headers are not validated again on every request.
The only answers made outside Flask, the middleware's refusals (413, 431, 400 for an
unreadable body), take ``REFUSAL_HEADERS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

from flask import Blueprint, Flask, Response, current_app
from flask.sansio.app import App

Policy: TypeAlias = tuple[tuple[str, str], ...]
WSGIHeaders: TypeAlias = list[tuple[str, str]]
WSGIEnvironment: TypeAlias = dict[str, Any]

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


class SecureResponse(Response):
    """Flask's response, sent with the security headers of its surface (``security_headers``;
    the data set unless a page hook chose another) and, over HTTPS, HSTS."""

    security_headers: Policy = DATA_HEADERS

    def get_wsgi_response(
        self, environ: WSGIEnvironment
    ) -> tuple[Iterable[bytes], str, WSGIHeaders]:
        app_iter, status, headers = super().get_wsgi_response(environ)
        headers.extend(self.security_headers)
        if environ["wsgi.url_scheme"] == "https":
            headers.append(HSTS)
        return app_iter, status, headers


class SecurityHeaders:
    """The pages' policies of each app: a page blueprint's responses take its policy."""

    name = "loopwave.security_headers"

    def init_app(self, app: Flask) -> None:
        app.response_class = SecureResponse
        app.extensions[self.name] = {}

    def use_page_policy(self, blueprint: Blueprint, csp: str | None = None) -> None:
        """Answer every response of ``blueprint`` as a page whose CSP is ``csp``, or the one
        the app set with ``set_page_csp`` (the dashboard's depends on its configuration)."""
        fixed = page_headers(csp) if csp is not None else None

        def set_page_policy(response: SecureResponse) -> SecureResponse:
            response.security_headers = fixed or current_app.extensions[self.name][blueprint.name]
            if "Cache-Control" not in response.headers:
                response.headers["Cache-Control"] = "no-store"
            return response

        blueprint.after_request(set_page_policy)

    def set_page_csp(self, app: App, blueprint: str, csp: str) -> None:
        """The CSP of ``blueprint``'s pages in ``app`` (``use_page_policy`` without one)."""
        app.extensions[self.name][blueprint] = page_headers(csp)
