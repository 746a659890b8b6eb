"""Every ``# type: ignore`` of the packages says why (mypy, in ``make lint``, checks that it
names its error code and is still needed: ``ignore-without-code``, ``warn_unused_ignores``)."""

import re

from tests.servers import ROOT

CHECKED = ["api", "console", "core", "dashboard", "tenants", "app.py", "cli.py", "wsgi.py"]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def unexplained_ignores(source: str) -> list[int]:
    """Line numbers of ignores without a code, or without a reason: a comment after the
    ignore on its line, or a comment line right above it (or above its decorators)."""
    lines = source.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        match = IGNORE.search(line)
        if match is None:
            continue
        explained_after = match["rest"].strip().startswith("#")
        above = number - 2
        while above >= 0 and lines[above].strip().startswith("@"):
            above -= 1
        explained_above = above >= 0 and lines[above].strip().startswith("#")
        if not match["codes"] or not (explained_after or explained_above):
            found.append(number)
    return found


def test_every_type_ignore_names_its_code_and_says_why():
    files = [
        path
        for name in CHECKED
        for path in ([ROOT / name] if name.endswith(".py") else (ROOT / name).rglob("*.py"))
    ]
    assert len(files) > 50
    unexplained = {
        str(path.relative_to(ROOT)): lines
        for path in files
        if (lines := unexplained_ignores(path.read_text()))
    }
    assert unexplained == {}


def test_an_ignore_without_code_or_reason_is_found():
    assert unexplained_ignores("x = f()  # type: ignore\n") == [1]
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]\n") == [1]
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]  # f is untyped\n") == []
    assert unexplained_ignores("# f is untyped\nx = f()  # type: ignore[arg-type]\n") == []
    decorated = "# narrower on purpose\n@classmethod\ndef of(cls):  # type: ignore[override]\n"
    assert unexplained_ignores(decorated) == []
    undecorated = "x = 1\n@classmethod\ndef of(cls):  # type: ignore[override]\n"
    assert unexplained_ignores(undecorated) == [3]
