"""Routes of the dashboard: one HTML shell per page, its configuration and headers."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response as WerkzeugResponse

from core.services import sign_in_settings
from dashboard.security import (
    CLERK_JS_PATH,
    InvalidPublishableKey,
    clerk_frontend_api,
    page_headers,
)
from tenants.scopes import SCOPES

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
# Page slug -> (title, admins only). The shell is the same; the script renders the page.
PAGES = {
    "keys": ("API keys", True),
    "audit-log": ("Audit log", True),
    "usage": ("Usage", False),
}


@bp.record_once
def _resolve_clerk_host(state: BlueprintSetupState) -> None:
    """Decode the publishable key once at start-up.

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


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.update(page_headers(current_app.extensions.get(CLERK_HOST)))
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@bp.get("/dashboard/")
def index() -> WerkzeugResponse:
    return redirect(url_for("dashboard.page", slug="keys"))


@bp.get("/dashboard/<slug>")
def page(slug: str) -> str:
    if slug not in PAGES:
        abort(404)
    title, admin_only = PAGES[slug]
    clerk_host = current_app.extensions.get(CLERK_HOST)
    sign_in = sign_in_settings()
    config = {
        "page": slug,
        "adminOnly": admin_only,
        "scopes": list(SCOPES),
        **sign_in.as_page_config(),
        "clerkProblem": current_app.extensions.get(CLERK_PROBLEM),
    }
    return render_template(
        "dashboard.html",
        title=title,
        slug=slug,
        pages=PAGES,
        config=config,
        clerk_script=f"https://{clerk_host}{CLERK_JS_PATH}" if clerk_host else None,
        clerk_publishable_key=sign_in.clerk_publishable_key,
    )
