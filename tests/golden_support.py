"""Golden files: what the main commands print for the committed samples, and how to make it.

Shared by ``tests/golden/regenerate.py`` (writes the files) and ``tests/test_golden.py``
(compares with them), so both run the same commands and normalise the same way: a golden
file can only disagree with the test because the code's output changed.

Not a test module (no ``test_`` prefix); pytest puts this folder on ``sys.path``, and
``regenerate.py`` puts it there itself.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reading_support import run_cli

REPO = Path(__file__).resolve().parent.parent
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
SAMPLES = REPO / "samples"
#: the samples' reference date, given to every command so no output depends on today's date
AS_AT = "2025-03-31"
#: the one file here that is not a golden output
README = "README.md"
#: asks git for LF line ends here on every platform, so the bytes compare equal
GITATTRIBUTES = ".gitattributes"
REGENERATE_SCRIPT = "regenerate.py"
REGENERATE = f"python tests/golden/{REGENERATE_SCRIPT}"
#: the event log `ingest` writes into the work folder; every analysis reads it
LOG_NAME = "log.parquet"


@dataclass(frozen=True)
class GoldenCase:
    """One command whose output is kept in ``tests/golden/<name>``.

    ``args`` follow ``cscmining`` and the event log; with ``writes_file`` the command is given
    ``-o <work folder>/<name>`` and the golden text is the file it writes, else its stdout.
    """

    name: str
    args: tuple[str, ...]
    writes_file: bool = False


#: `ingest` is not here: it makes the log the others read (`ingest_samples`)
INGEST_NAME = "ingest.json"
ANALYSES: tuple[GoldenCase, ...] = (
    GoldenCase("map_summary.json", ("map", "--level", "summary", "--json")),
    GoldenCase("map_detail.json", ("map", "--level", "detail", "--json")),
    GoldenCase("map_summary.dot", ("map", "--level", "summary"), writes_file=True),
    GoldenCase("map_detail.dot", ("map", "--level", "detail"), writes_file=True),
    GoldenCase("map_detail_strict.json", ("map", "--disclosure", "strict", "--json")),
    # the ten commonest journeys, as the demo lists; `variants_total` still counts them all
    GoldenCase("variants.json", ("variants", "--top", "10", "--json")),
    GoldenCase("stuck.json", ("stuck", "--json")),
    # quarters, as the demo uses: monthly buckets back to 2017 would triple the file
    GoldenCase("timescales.json", ("timescales", "--by", "quarter", "--json")),
    GoldenCase("bottlenecks.json", ("bottlenecks", "--json")),
)
GOLDEN_NAMES: tuple[str, ...] = (INGEST_NAME, *(case.name for case in ANALYSES))


def cli_output(*args: object) -> str:
    """Stdout of ``cscmining ARGS`` run in-process; a failing command stops the run."""
    code, out, err = run_cli(*args)
    if code != 0:
        raise RuntimeError(f"cscmining {' '.join(map(str, args))} exited {code}: {err.strip()}")
    return out


def sample_inputs() -> list[Path]:
    """The sample returns `cscmining demo` reads: one format of each, not `alternative_formats`."""
    from cscmining.demo import sample_inputs as demo_inputs

    return demo_inputs(SAMPLES)


def ingest_samples(work: Path) -> str:
    """Ingest the samples into ``work/log.parquet``; return the raw ``ingest --json`` text."""
    return cli_output("ingest", *sample_inputs(), "-o", work / LOG_NAME, "--as-at", AS_AT,
                      "--json")


def run_case(case: GoldenCase, work: Path) -> str:
    """The raw output of one analysis of the event log in ``work`` (stdout or written file)."""
    args: list[object] = [case.args[0], work / LOG_NAME, *case.args[1:], "--as-at", AS_AT]
    if not case.writes_file:
        return cli_output(*args)
    target = work / case.name
    cli_output(*args, "-o", target)
    return target.read_text(encoding="utf-8")


def golden_outputs(work: Path) -> dict[str, str]:
    """Every golden file's expected text, computed from the current code in ``work``."""
    raw = {INGEST_NAME: ingest_samples(work)}
    raw.update((case.name, run_case(case, work)) for case in ANALYSES)
    return {name: normalise(name, text) for name, text in raw.items()}


def normalise(name: str, text: str) -> str:
    """The text to keep for output ``name``: the same on every machine and every run.

    JSON is re-written so that input paths are relative to the repository in ``/`` form (the
    checkout's location is no part of the output), and a compact one-line output (the
    analyses print one line for speed) is pretty-printed with sorted keys so a change shows
    as a readable diff; an indented output keeps its own key order. Nothing else varies: no
    command here prints the version or the time, and ``--as-at`` is fixed. DOT is kept as
    written.
    """
    if not name.endswith(".json"):
        return text if text.endswith("\n") else text + "\n"
    payload = _relative_paths(json.loads(text))
    compact = "\n" not in text.strip()
    return json.dumps(payload, indent=2, sort_keys=compact) + "\n"


def _relative_paths(value: Any) -> Any:
    """``value`` with every ``"path"`` inside the repository made relative, in ``/`` form, and
    the paths in ``"notes"`` too."""
    if isinstance(value, list):
        return [_relative_paths(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: _relative_path(v) if k == "path" else _relative_notes(v) if k == "notes"
            else _relative_paths(v) for k, v in value.items()}


def _relative_notes(notes: list[str]) -> list[str]:
    """Notes with the repository's location cut from the paths they begin with."""
    return [note.replace(f"{REPO}{os.sep}", "") for note in notes]


def _relative_path(value: Any) -> Any:
    if not isinstance(value, str) or not Path(value).is_absolute():
        return value
    path = Path(value).resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else value


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / name


def write_goldens(outputs: dict[str, str]) -> list[Path]:
    """Write each output as UTF-8 with ``\\n`` line ends (byte-identical on any platform)."""
    written = []
    for name, text in sorted(outputs.items()):
        path = golden_path(name)
        path.write_bytes(text.encode("utf-8"))
        written.append(path)
    return written


def stale_goldens() -> list[Path]:
    """Files in the golden folder that no command makes any more (a case renamed or dropped)."""
    keep = {*GOLDEN_NAMES, README, REGENERATE_SCRIPT, GITATTRIBUTES}
    return sorted(p for p in GOLDEN_DIR.iterdir() if p.is_file() and p.name not in keep)
