"""Fixtures of the plumbing tests."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.badinput import Caller

REQUEST_TICK_NS = 2_500_000


@pytest.fixture
def request_clock(monkeypatch) -> float:
    """``time.perf_counter_ns`` advancing exactly ``REQUEST_TICK_NS`` per call. The middleware
    reads it when a request comes in and the log line when it is answered, so every logged
    duration is exactly that tick; returned in milliseconds."""
    ticks = itertools.count()
    monkeypatch.setattr(time, "perf_counter_ns", lambda: next(ticks) * REQUEST_TICK_NS)
    return REQUEST_TICK_NS / 1_000_000


@pytest.fixture
def caller(client) -> Caller:
    """Credentials for every kind of endpoint (``tests.badinput.Caller``), minted through the
    development sign-in: the module's ``app_config`` turns ``DEV_LOGIN`` on."""
    return Caller(client)
