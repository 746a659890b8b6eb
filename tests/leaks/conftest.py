from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.leaks.scanner import Scanner


@pytest.fixture
def scanner() -> Iterator[Scanner]:
    server = Scanner()
    yield server
    server.stop()


@pytest.fixture
def app_config(scanner) -> dict:
    return {"SECRET_SCANNING_KEYS_URL": scanner.url}
