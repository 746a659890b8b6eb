"""Shared benchmark plumbing: gunicorn on loopback, wrk, medians of alternating rounds."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, module: str, env: dict[str, str], ready_path: str, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                module,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + ready_path, timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{module} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench needs wrk: apt-get install wrk")
    return wrk


def wrk_rps(url: str, headers: dict[str, str], seconds: int, connections: int = 8) -> float:
    command = [require_wrk(), "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx and "expect_errors" not in headers.get("X-Bench", ""):
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses\n{output}")
    return float(match.group(1))


def alternating_medians(
    targets: dict[str, tuple[str, dict[str, str]]], rounds: int, seconds: int
) -> dict[str, float]:
    """Measure each target once per round, in turn, so drift hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (url, headers) in targets.items():
            samples[name].append(wrk_rps(url, headers, seconds))
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(results: dict[str, float], baseline: str, goals: Iterable[tuple[str, float]]):
    base = results[baseline]
    goal_by_name = dict(goals)
    print(f"{'target':<44} {'req/s':>9} {'ratio':>7}  goal")
    for name, rps in results.items():
        goal = goal_by_name.get(name)
        verdict = (
            ""
            if goal is None
            else (f">= {goal:.2f} " + ("met" if rps / base >= goal else "MISSED"))
        )
        print(f"{name:<44} {rps:>9.0f} {rps / base:>6.2f}x  {verdict}")
