"""The code stays lint-clean under the rules pinned in pyproject.toml (ruff, pinned in the
test extra so that a new ruff release cannot fail CI with rules nobody chose)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                             "cscmining", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
