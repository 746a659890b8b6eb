"""Real servers for tests: gunicorn on a free loopback port, stopped at teardown."""

from __future__ import annotations

from pathlib import Path

from tooling.servers import ROOT, free_port
from tooling.servers import Gunicorn as _Gunicorn

__all__ = ["ROOT", "Gunicorn", "free_port"]


class Gunicorn(_Gunicorn):
    """``gunicorn wsgi:app`` (or ``app``) with ``workers`` processes, environment ``env`` over
    ours. A short graceful timeout keeps teardown quick."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 2,
        log_path: Path | None = None,
        app: str = "wsgi:app",
    ):
        super().__init__(env, workers, log_path, app, options=("--graceful-timeout", "2"))
