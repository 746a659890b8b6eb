"""``/security``: reports from secret scanners (SPEC §11). No session or API key here: every
request is authenticated by the scanner's signature (``security.views``)."""

from flask import Blueprint

bp = Blueprint("security", __name__, url_prefix="/security")

from security import views  # noqa: E402,F401  (registers the routes on bp)
