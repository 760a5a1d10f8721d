"""Rewrite every golden file in this folder from the current code.

Run it after a deliberate change of output (``.venv/bin/python tests/golden/regenerate.py``),
then read ``git diff tests/golden`` before committing: the diff is the change a user will see.
It ingests the committed samples once into a temporary event log, runs each command through
the CLI in-process, and writes what ``tests/test_golden.py`` compares with (the same code,
`golden_support`), so a fresh regeneration always passes that test.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

# the shared helpers live in tests/, beside reading_support (pytest puts it on sys.path itself)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import golden_support


def regenerate() -> list[Path]:
    """Write the golden files afresh and delete ones no command makes any more."""
    with tempfile.TemporaryDirectory(prefix="cscmining-golden-") as work:
        outputs = golden_support.golden_outputs(Path(work))
    for stale in golden_support.stale_goldens():
        stale.unlink()
        print(f"removed {stale.name} (no command makes it)")
    return golden_support.write_goldens(outputs)


def main() -> None:
    for path in regenerate():
        print(f"wrote {path.relative_to(golden_support.REPO).as_posix()}")


if __name__ == "__main__":
    main()
