"""The layers point down only (pyproject's import-linter contracts; README "Layout")."""

import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT


def test_no_import_points_up_a_layer():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout
