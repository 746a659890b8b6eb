"""Shared benchmark plumbing: gunicorn on loopback, wrk, medians of alternating rounds."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from tooling.servers import ROOT, Gunicorn

FLASK = str(Path(sys.executable).with_name("flask"))


def flask_cli(env: dict[str, str], *args: str) -> str:
    """Run ``flask --app app ...`` with ``env`` over ours; its last line of output."""
    result = subprocess.run(
        [FLASK, "--app", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


class Server(Gunicorn):
    """gunicorn serving ``module`` on loopback, ready when ``ready_path`` answers. Its output
    (the app's request log lines included: benchmarks run the logging configuration of
    ``env``, by default the deployment default, INFO) goes to ``log_path``, or to /dev/null:
    written through the configured handler either way."""

    def __init__(
        self,
        module: str,
        env: dict[str, str],
        ready_path: str,
        workers: int = 2,
        log_path: str | os.PathLike[str] | None = None,
    ):
        super().__init__(
            env, workers, log_path, module, ready_path, options=("--log-level", "warning")
        )


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench needs wrk: apt-get install wrk")
    return wrk


def wrk_rps(
    url: str | tuple[str, ...],
    headers: dict[str, str],
    seconds: int,
    connections: int = 8,
    threads: int = 2,
    script: str | None = None,
) -> float:
    """Requests/s of one wrk run; a tuple of urls runs one wrk per url at once and sums.

    Any non-2xx answer fails the run (unless ``X-Bench: expect_errors``): a rate that
    includes refusals would measure the wrong thing. ``script``: a wrk Lua script, given a
    token unique to each wrk process as its argument (e.g. to make unique idempotency keys).
    """
    urls = (url,) if isinstance(url, str) else url
    processes = [
        subprocess.Popen(
            _wrk_command(one, headers, seconds, connections, threads, script, n),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, one in enumerate(urls)
    ]
    total = 0.0
    for one, process in zip(urls, processes, strict=True):
        output, errors = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"wrk {one} failed: {errors}")
        total += _parse_wrk(one, headers, output)
    return total


def _wrk_command(
    url: str,
    headers: dict[str, str],
    seconds: int,
    connections: int,
    threads: int,
    script: str | None = None,
    index: int = 0,
) -> list[str]:
    command = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is None:
        return [*command, url]
    return [*command, "-s", script, url, "--", f"{os.getpid()}-{time.time_ns()}-{index}"]


def _parse_wrk(url: str, headers: dict[str, str], output: str) -> float:
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx and "expect_errors" not in headers.get("X-Bench", ""):
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses\n{output}")
    socket_errors = re.search(r"Socket errors:.*", output)
    if socket_errors:
        print(f"warning: {url}: {socket_errors.group(0)}", file=sys.stderr)
    return float(match.group(1))


Target = (
    tuple[str | tuple[str, ...], dict[str, str]]
    | tuple[str | tuple[str, ...], dict[str, str], str | None]
)


def alternating_samples(
    targets: dict[str, Target], rounds: int, seconds: int, connections: int = 8, threads: int = 2
) -> dict[str, list[float]]:
    """Measure each target once per round, in turn, so drift hits all of them alike.
    A target is ``(url, headers)`` or ``(url, headers, wrk script)``.

    Each round starts one target later than the one before (a rotation), so over the rounds
    every target follows every other alike. In a fixed order the first target always came
    right after the last, and in ``make bench-scale`` the last writes (``POST /messages``):
    PostgreSQL's background work after it (WAL flushes, autovacuum) fell on the baseline's
    measurement in every round."""
    samples: dict[str, list[float]] = {name: [] for name in targets}
    names = list(targets)
    for round_number in range(rounds):
        start = round_number % len(names)
        for name in names[start:] + names[:start]:
            url, headers, *script = targets[name]
            samples[name].append(wrk_rps(url, headers, seconds, connections, threads, *script))
    return samples


def print_table(
    results: dict[str, float],
    baseline: str,
    goals: Iterable[tuple[str, float]],
    samples: dict[str, list[float]] | None = None,
):
    """Medians and ratios to ``baseline``, checked against ``goals``.

    With ``samples`` (alternating rounds), each round's ratio is printed and the ratio judged
    is the median of the per-round ratios: both servers of a pair ran back to back under the
    same machine load, so drift between rounds cancels out.
    """
    ratios = {name: rps / results[baseline] for name, rps in results.items()}
    if samples is not None:
        _print_round_ratios(samples, baseline)
        ratios = {
            name: statistics.median(
                rps / base for rps, base in zip(values, samples[baseline], strict=True)
            )
            for name, values in samples.items()
        }
    goal_by_name = dict(goals)
    spread = "" if samples is None else f" {'rounds min-max':>15} {'p25-p75':>10}"
    print(f"{'target':<52} {'req/s':>9} {'ratio':>7}{spread}  goal")
    for name, rps in results.items():
        goal = goal_by_name.get(name)
        verdict = (
            ""
            if goal is None
            else (f">= {goal:.2f} " + ("met" if ratios[name] >= goal else "MISSED"))
        )
        cells = "" if samples is None else _ratio_spread(samples[name], samples[baseline])
        print(f"{name:<52} {rps:>9.0f} {ratios[name]:>6.2f}x{cells}  {verdict}")


def _ratio_spread(values: list[float], baseline: list[float]) -> str:
    """The per-round ratios' range and interquartile range: how far to trust the median."""
    ratios = sorted(rps / base for rps, base in zip(values, baseline, strict=True))
    if len(ratios) < 2:
        return f" {'':>15} {'':>10}"
    low, high = statistics.quantiles(ratios, n=4)[0], statistics.quantiles(ratios, n=4)[2]
    return f" {ratios[0]:>7.2f}-{ratios[-1]:<7.2f} {low:>4.2f}-{high:<5.2f}"


def load_average() -> str:
    """The machine's 1/5/15-minute load average: a shared machine's wall clock depends on it."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} ({os.cpu_count()} cores)"


def _print_round_ratios(samples: dict[str, list[float]], baseline: str) -> None:
    """Ratio to the baseline of the same round: the spread shows how much to trust a median."""
    print(f"per round: ratio to {baseline.strip()} of the same round")
    for name, values in samples.items():
        cells = " ".join(
            f"{rps / base:4.2f}" for rps, base in zip(values, samples[baseline], strict=True)
        )
        print(f"  {name:<50} {cells}")
