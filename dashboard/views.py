"""Routes of the dashboard: one HTML shell per page, and its configuration."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response as WerkzeugResponse

from core.extensions import security_headers, sign_in
from core.headers import dashboard_csp
from dashboard.security import CLERK_JS_PATH, InvalidPublishableKey, clerk_frontend_api
from tenants.events import TYPES as EVENT_TYPES
from tenants.scopes import SCOPES
from tenants.webhooks import SUBSCRIBABLE

bp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard/static",
)

CLERK_HOST = "loopwave.dashboard.clerk_host"
CLERK_PROBLEM = "loopwave.dashboard.clerk_problem"
log = logging.getLogger("loopwave.dashboard")
KEY_ID = re.compile(r"key_[0-9A-Za-z]{1,64}")
ENDPOINT_ID = re.compile(r"whe_[0-9A-Za-z]{1,64}")
# Page slug -> (title, the console permission it needs, SPEC §9.3; None: everyone). The shell
# is the same; the script renders the page and hides what /console/me does not grant.
READ_KEYS = "org:api_keys:read"
PAGES: dict[str, tuple[str, str | None]] = {
    "keys": ("API keys", READ_KEYS),
    "audit-log": ("Audit log", READ_KEYS),
    "usage": ("Usage", None),
    "webhooks": ("Webhooks", "org:webhooks:manage"),
    "events": ("Events", READ_KEYS),
    # The tenant's settings are read with the keys (GET /console/settings); changing them needs
    # org:api_keys:manage, which the page checks itself.
    "settings": ("Settings", READ_KEYS),
}


@bp.record_once
def _resolve_clerk_host(state: BlueprintSetupState) -> None:
    """Decode the publishable key once at start-up; the dashboard's security headers admit
    the host it names (``core.headers``).

    A malformed key is logged and shown on the sign-in page instead of stopping the app: the
    console API does not need it, and no script address is ever derived from it.
    """
    publishable_key = state.app.config.get("CONSOLE_CLERK_PUBLISHABLE_KEY")
    host = problem = None
    if publishable_key:
        try:
            host = clerk_frontend_api(publishable_key)
        except InvalidPublishableKey as exc:
            problem = f"CONSOLE_CLERK_PUBLISHABLE_KEY is not usable: {exc}"
            log.error(problem)
    state.app.extensions[CLERK_HOST] = host
    state.app.extensions[CLERK_PROBLEM] = problem
    security_headers.set_page_csp(state.app, bp.name, dashboard_csp(host))


security_headers.use_page_policy(bp)


@bp.get("/")
@bp.get("/dashboard/")
def index() -> WerkzeugResponse:
    return redirect(url_for("dashboard.page", slug="keys"))


@bp.get("/dashboard/keys/<key_id>")
def key_page(key_id: str) -> str:
    """One key's page. The id only picks what the script asks the console API for (it is
    JSON in the page, never markup); a key of another tenant is the API's 404."""
    if not KEY_ID.fullmatch(key_id):
        abort(404)
    return page("keys", render="key", extra={"keyId": key_id}, title="API key")


@bp.get("/dashboard/webhooks/<endpoint_id>")
def webhook_page(endpoint_id: str) -> str:
    """One webhook endpoint's page, like a key's: the id only picks what the script asks for."""
    if not ENDPOINT_ID.fullmatch(endpoint_id):
        abort(404)
    return page(
        "webhooks", render="webhook", extra={"endpointId": endpoint_id}, title="Webhook endpoint"
    )


@bp.get("/dashboard/<slug>")
def page(
    slug: str, render: str | None = None, extra: dict[str, str] | None = None, title: str = ""
) -> str:
    if slug not in PAGES:
        abort(404)
    nav_title, permission = PAGES[slug]
    title = title or nav_title
    clerk_host = current_app.extensions.get(CLERK_HOST)
    settings = sign_in.get()
    config = {
        "page": render or slug,
        **(extra or {}),
        "permission": permission,
        "scopes": list(SCOPES),
        "eventTypes": list(EVENT_TYPES),
        "webhookEventTypes": list(SUBSCRIBABLE),
        **settings.as_page_config(),
        "clerkProblem": current_app.extensions.get(CLERK_PROBLEM),
    }
    return render_template(
        "dashboard.html",
        title=title,
        slug=slug,
        pages=PAGES,
        config=config,
        clerk_script=f"https://{clerk_host}{CLERK_JS_PATH}" if clerk_host else None,
        clerk_publishable_key=settings.clerk_publishable_key,
    )
