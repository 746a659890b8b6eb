"""Real servers on loopback for tests and benchmarks: a free port, gunicorn started on it and
stopped with its whole process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    """A loopback port nothing listens on (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn <app>`` with ``workers`` processes on a free loopback port, run from the
    repository root with environment ``env`` over ours, started in its own session so that
    ``stop`` ends the master and its workers together. Its output goes to ``log_path``
    (appended), else is discarded. Ready when ``ready_path`` answers at all."""

    def __init__(
        self,
        env: dict[str, str],
        workers: int = 2,
        log_path: str | os.PathLike[str] | None = None,
        app: str = "wsgi:app",
        ready_path: str = "/api/v1/health",
        options: Sequence[str] = (),
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.ready_path = ready_path
        # The child keeps its own copy of the descriptor: ours is closed at once.
        with open(log_path or os.devnull, "ab") as output:
            self.process = subprocess.Popen(
                [
                    str(GUNICORN),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(workers),
                    *options,
                    app,
                ],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        try:
            self.wait_ready()
        except RuntimeError:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode} "
                    f"(output: {self.log_path or 'discarded'})"
                )
            try:
                requests.get(self.url + self.ready_path, timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(
            f"gunicorn did not start in time (output: {self.log_path or 'discarded'})"
        )

    def worker_pids(self) -> set[int]:
        """The master's child processes: its workers."""
        children: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children.update(int(pid) for pid in (task / "children").read_text().split())
        return children

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
