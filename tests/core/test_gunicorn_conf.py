"""``gunicorn.conf.py`` as gunicorn loads it, in a real worker."""

from __future__ import annotations

import pytest
import requests

from tests.servers import Gunicorn

pytestmark = pytest.mark.server


def test_each_worker_freezes_what_it_allocated_before_its_first_request(server_env):
    """``post_worker_init``: the objects the worker made while loading the app are out of
    the collector's generations, so no full collection walks them (docs/performance.md)."""
    server = Gunicorn(server_env, workers=1, app="tests.gcprobe:app")
    try:
        frozen = int(requests.get(f"{server.url}/", timeout=5).text)
    finally:
        server.stop()
    assert frozen > 10_000  # gunicorn, its config and the interpreter's own modules at least
