"""The browser dashboard (``/`` and ``/dashboard/...``): static pages that call the console API.

The pages are plain HTML/CSS/JS served by Flask — no build step. Everything the page does,
it does through ``/console`` with a session token, exactly like any other console client;
this blueprint only serves the shell, its configuration and the security headers.
"""

from dashboard.views import bp

__all__ = ["bp"]
