"""The tenant API: ``/api/v1``, authenticated by the ``x-tenant-api-key`` header alone."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from api import auth, openapi, views  # noqa: E402,F401  (registers the hooks and routes on bp)
