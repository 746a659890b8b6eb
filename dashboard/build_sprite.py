"""Rebuild ``dashboard/static/icons.svg``, the dashboard's one icon set, from Lucide.

The dashboard has no build step, so the sprite is committed; this script is how it was made
and how to remake it after adding a name to ``ICONS``::

    python -m dashboard.build_sprite                 # npm pack lucide-static@VERSION (needs npm)
    python -m dashboard.build_sprite path/to/package # an unpacked lucide-static package

Each Lucide icon becomes a ``<symbol id="NAME">`` of the sprite, drawn by
``<svg class="icon"><use href="/dashboard/static/icons.svg#NAME"></use></svg>``: one
same-origin file, so the CSP (``img-src 'self'``) holds and nothing comes from a CDN. The
stroke (colour, width, caps) is left to the CSS (``.icon`` in dashboard.css), so icons follow
the text colour. Lucide's ISC licence is copied beside the sprite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from xml.etree import ElementTree  # noqa: S405 - parses the pinned Lucide package's own files

VERSION = "1.62.0"
STATIC = Path(__file__).resolve().parent / "static"
SVG_NS = "http://www.w3.org/2000/svg"
# The icons the dashboard uses (dashboard.html and static/js/*.js, `icon("NAME")`).
ICONS = (
    "activity",
    "arrow-left",
    "book-open",
    "chart-column",
    "chevron-down",
    "circle-alert",
    "circle-check",
    "circle-pause",
    "circle-play",
    "copy",
    "flask-conical",
    "inbox",
    "key-round",
    "list",
    "list-checks",
    "ellipsis",
    "log-out",
    "pencil",
    "plus",
    "refresh-cw",
    "rotate-cw",
    "scroll-text",
    "send",
    "shield-alert",
    "trash-2",
    "triangle-alert",
    "webhook",
    "x",
)


def npm_pack(into: Path) -> Path:
    """Fetch lucide-static@VERSION with npm (the ordinary client) and unpack it."""
    subprocess.run(
        ["npm", "pack", f"lucide-static@{VERSION}", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
    )
    tarball = next(into.glob("lucide-static-*.tgz"))
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    return into / "package"


def symbol(package: Path, name: str) -> str:
    """One icon as a <symbol>: Lucide's shapes, without its stroke attributes."""
    ElementTree.register_namespace("", SVG_NS)
    root = ElementTree.parse(package / "icons" / f"{name}.svg").getroot()  # noqa: S314
    for child in root:
        child.tail = None
    shapes = "".join(
        ElementTree.tostring(child, encoding="unicode").replace(f' xmlns="{SVG_NS}"', "")
        for child in root
    )
    return f'<symbol id="{name}" viewBox="{root.get("viewBox")}">{shapes}</symbol>'


def build(package: Path) -> None:
    symbols = "\n".join(symbol(package, name) for name in sorted(ICONS))
    version = json.loads((package / "package.json").read_text())["version"]
    sprite = (
        f"<!-- Lucide {version} (ISC licence, icons.LICENSE.txt): {len(ICONS)} icons, "
        "made by dashboard/build_sprite.py -->\n"
        f'<svg xmlns="{SVG_NS}">\n{symbols}\n</svg>\n'
    )
    (STATIC / "icons.svg").write_text(sprite)
    shutil.copyfile(package / "LICENSE", STATIC / "icons.LICENSE.txt")


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        build(Path(argv[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        build(npm_pack(Path(tmp)))


if __name__ == "__main__":
    main(sys.argv)
