"""T-DET-02: the main commands' outputs on the committed samples equal the golden files.

A deliberate change of output is made by regenerating (`golden_support.REGENERATE`) and
reading the diff; anything else that changes a byte here is a regression. The samples are
ingested once per module, so the whole comparison takes a few seconds.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from golden_support import GOLDEN_NAMES, REGENERATE, golden_outputs, golden_path, stale_goldens

#: diff lines shown on a mismatch: enough to see what changed, short enough to read
DIFF_LINES = 40


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every golden output, from the current code, once for all the tests here."""
    return golden_outputs(tmp_path_factory.mktemp("golden"))


def short_diff(name: str, expected: str, actual: str) -> str:
    """The first `DIFF_LINES` lines of a unified diff, golden file to current output."""
    lines = list(difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True),
        fromfile=f"tests/golden/{name}", tofile="current output", n=2,
    ))
    more = len(lines) - DIFF_LINES
    tail = [f"... {more} more diff line(s)\n"] if more > 0 else []
    return "".join(lines[:DIFF_LINES] + tail)


def mismatch_message(name: str, golden: Path, actual: str) -> str | None:
    """None when ``golden`` holds exactly ``actual`` (bytes), else what to show and do."""
    if not golden.is_file():
        return f"{name}: no golden file; create it with `{REGENERATE}`"
    expected, wanted = golden.read_bytes(), actual.encode("utf-8")
    if expected == wanted:
        return None
    if expected.replace(b"\r\n", b"\n") == wanted:
        # a diff would mark every line changed and show nothing: say what it is
        return (f"{name}: only the line ends differ (CRLF in the golden file); check it out "
                "with LF line ends (tests/golden/.gitattributes asks git for them)")
    diff = short_diff(name, expected.decode("utf-8", errors="replace"), actual)
    return (f"{name} differs from the golden file:\n{diff}"
            f"If the change is deliberate, run `{REGENERATE}` and read the diff before committing.")


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_output_matches_golden_file(outputs: dict[str, str], name: str) -> None:
    message = mismatch_message(name, golden_path(name), outputs[name])
    if message:
        pytest.fail(message, pytrace=False)


def test_every_golden_file_is_made_by_a_command() -> None:
    """A file left behind by a renamed or dropped case would never be checked again."""
    assert [p.name for p in stale_goldens()] == []


def test_a_one_character_edit_is_reported_with_a_diff_and_the_command(
    outputs: dict[str, str], tmp_path: Path,
) -> None:
    """The comparison really looks at the bytes, and says how to regenerate."""
    edited = tmp_path / "stuck.json"
    text = outputs["stuck.json"]
    edited.write_bytes(text.replace('"as_at"', '"as_At"', 1).encode("utf-8"))
    message = mismatch_message("stuck.json", edited, text)
    assert message is not None
    assert '-  "as_At"' in message and '+  "as_at"' in message
    assert REGENERATE in message
    edited.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert "line ends" in (mismatch_message("stuck.json", edited, text) or "")
    edited.write_bytes(text.encode("utf-8"))
    assert mismatch_message("stuck.json", edited, text) is None
