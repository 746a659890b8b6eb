"""axe-core on what a page shows now (``axe-playwright-python`` ships axe and injects it)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_AXE = Axe()


def serious_violations(page: Page, name: str) -> list[str]:
    """The serious and critical axe violations on ``page``, each named ``name: rule (impact)``
    with its first targets; an empty list when there are none."""
    results = _AXE.run(page)
    return [
        f"{name}: {violation['id']} ({violation['impact']}) "
        f"{[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
