"""``LoopwaveFlask.ensure_sync``: plain functions and their methods run as they are; anything
that is, or may be, a coroutine function goes to Flask's own ``ensure_sync``."""

from __future__ import annotations

from functools import partial

import pytest

from core.http import LoopwaveFlask


class _Hooks:
    def plain(self):
        return "plain"

    async def coroutine(self):
        return "coroutine"


def _plain():
    return "plain"


async def _coroutine():
    return "coroutine"


@pytest.fixture
def flask_paths(monkeypatch):
    """Which callables reached Flask's own ``ensure_sync``."""
    seen = []

    def stock(self, func):
        seen.append(func)
        return func

    monkeypatch.setattr("flask.Flask.ensure_sync", stock)
    return seen


def test_plain_functions_and_methods_are_returned_as_they_are(flask_paths):
    app = LoopwaveFlask(__name__)
    hooks = _Hooks()
    assert app.ensure_sync(_plain) is _plain
    assert app.ensure_sync(hooks.plain) == hooks.plain
    assert app.ensure_sync(lambda: None) is not None
    assert flask_paths == []


def test_coroutines_and_other_callables_take_flasks_path(flask_paths):
    app = LoopwaveFlask(__name__)
    hooks = _Hooks()
    wrapped = partial(_plain)
    for func in (_coroutine, hooks.coroutine, wrapped):
        app.ensure_sync(func)
    assert flask_paths == [_coroutine, hooks.coroutine, wrapped]


def test_an_async_view_is_not_run_as_a_plain_function():
    """Without the ``async`` extra Flask refuses an ``async def`` view: it was seen as one."""
    app = LoopwaveFlask(__name__)
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(_coroutine)
