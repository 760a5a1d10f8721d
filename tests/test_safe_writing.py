"""Safe writing (SEC-6, T-ACC-06/07, T-SEC-05/09/13): atomic, owner-only, never replacing
an output without ``--force``, and CSV cells that a spreadsheet cannot run as formulas.
"""

from __future__ import annotations

import ast
import csv
import io
import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import cscmining
import cscmining.cli as cli_module
from cscmining import outputs
from cscmining.errors import UsageError
from cscmining.eventlog import from_records, read_event_log, write_event_log
from cscmining.outputs import atomic_path, check_output, csv_safe, force_option, refusing_to_replace

from reading_support import FIXTURES, run_cli

PACKAGE = Path(cscmining.__file__).parent
POSIX = os.name == "posix"


run = run_cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    """Temporary files of atomic writes left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# --- T-SEC-09: permissions -----------------------------------------------------------------


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
@pytest.mark.parametrize("suffix", ["parquet", "csv", "xes"])
def test_the_event_log_is_owner_only_whatever_the_umask(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"log.{suffix}"
    old = os.umask(0)
    try:
        code, _, err = run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", out)
    finally:
        os.umask(old)
    assert code == 0, err
    assert mode(out) == 0o600
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_private_by_default_shareable_by_umask(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "internal.bin") as tmp:
        assert mode(tmp) == 0o600  # private while it is being written, too
        tmp.write_bytes(b"x")
    assert mode(tmp_path / "internal.bin") == 0o600
    old = os.umask(0o027)
    try:
        outputs.write_text(tmp_path / "shared.json", "{}")
    finally:
        os.umask(old)
    assert mode(tmp_path / "shared.json") == 0o640


# --- --force --------------------------------------------------------------------------------


def test_ingest_refuses_to_replace_a_log_before_reading_anything(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "log.parquet"
    out.write_bytes(b"an analyst's earlier log")
    import cscmining.ingest as ingest_module

    def read_files(*_a, **_k):
        raise AssertionError("inputs read although the output is taken")

    with monkeypatch.context() as patch:
        patch.setattr(ingest_module, "read_files", read_files)
        code, _, err = run("ingest", FIXTURES / "cin_small.xml", "-o", out)
    assert code == 2 and "Traceback" not in err
    assert f"error: {out} exists; use --force to replace it" in err
    assert out.read_bytes() == b"an analyst's earlier log"
    code, _, err = run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", out, "--force")
    assert code == 0, err
    assert read_event_log(out).events == 10
    assert leftovers(tmp_path) == []


def test_an_output_that_appears_during_the_run_is_not_replaced(tmp_path: Path, monkeypatch) -> None:
    """The check before the run is repeated, atomically, at the final rename."""
    import cscmining.cli.ingest as ingest_cli

    out = tmp_path / "log.parquet"
    real = ingest_cli.build_event_log

    def slow_build(*args, **kwargs):
        out.write_bytes(b"written by someone else meanwhile")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_cli, "build_event_log", slow_build)
    code, _, err = run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", out)
    assert code == 2 and f"{out} exists; use --force to replace it" in err
    assert out.read_bytes() == b"written by someone else meanwhile"
    assert leftovers(tmp_path) == []
    code, _, err = run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", out, "--force")
    assert code == 0 and read_event_log(out).events == 10


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    code, _, err = run("ingest", FIXTURES / "cin_small.xml", "-o", tmp_path, "--force")
    assert code == 2 and "is a folder; give a file name" in err


def test_samples_refuses_to_replace_files_without_force(tmp_path: Path) -> None:
    out = tmp_path / "s"
    args = ["-q", "samples", "-o", out, "--children", "5"]
    assert run(*args)[0] == 0
    episodes = out / "ssda903_2025" / "episodes.csv"
    episodes.write_text("edited by hand")
    code, _, err = run(*args, "--seed", "7")
    assert code == 2 and "exists; use --force to replace it" in err
    assert episodes.read_text() == "edited by hand"
    assert run(*args, "--force")[0] == 0
    assert episodes.read_text().startswith("\ufeffCHILD,")
    # nothing half-made is left behind, under a final name or a hidden one
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "alternative_formats", "annex_a_2025.xlsx", "cin_census_2025.xml", "ssda903_2025"]


def test_force_option_on_any_command(tmp_path: Path) -> None:
    """The shared mechanism the other commands use: one decorator per command."""
    calls = []

    @click.command()
    @click.option("-o", "--output", type=click.Path(path_type=Path))
    @click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None)
    @force_option("output", "csv_path")
    def command(output: Path, csv_path: Path | None) -> None:
        calls.append((output, csv_path))
        outputs.write_text(output, "new")
        if csv_path is not None:
            outputs.write_text(csv_path, "new")

    runner = CliRunner()
    first, second = tmp_path / "a.svg", tmp_path / "b.csv"
    assert runner.invoke(command, ["-o", str(first)]).exit_code == 0
    second.write_text("old")
    result = runner.invoke(command, ["-o", str(tmp_path / "c.svg"), "--csv", str(second)])
    assert isinstance(result.exception, UsageError) and "b.csv exists; use --force" in str(result.exception)
    assert len(calls) == 1 and not (tmp_path / "c.svg").exists()  # refused before any work
    assert runner.invoke(command, ["-o", str(first), "--csv", str(second), "--force"]).exit_code == 0
    assert first.read_text() == second.read_text() == "new"
    assert "--force" in runner.invoke(command, ["--help"]).output


#: every command that writes a named output file, and the option naming it
NAMED_OUTPUTS = [
    ("ingest", "output", ["-o", "{out}.parquet"]),
    ("map", "output", ["-o", "{out}.dot"]),
    ("stuck", "csv_path", ["--csv", "{out}.csv"]),
    ("compare", "output", ["--split-date", "2023-10-01", "-o", "{out}.dot"]),
    ("report", "output", ["-o", "{out}.html"]),
]


@pytest.fixture(scope="module")
def small_log(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("force") / "log.parquet"
    code, _, err = run("-q", "ingest", FIXTURES / "ssda903_csv", FIXTURES / "cin_small.xml",
                       FIXTURES / "annex_a_csv", "-o", out)
    assert code == 0, err
    return out


@pytest.mark.parametrize(("command", "param", "args"), NAMED_OUTPUTS, ids=[c for c, _, _ in NAMED_OUTPUTS])
def test_every_named_output_is_replaced_only_with_force(tmp_path: Path, small_log: Path, command: str,
                                                         param: str, args: list[str]) -> None:
    cli_module._register()
    found = cli_module.cli.commands.get(command)
    if found is None or "force" not in {p.name for p in found.params}:
        pytest.xfail(f"`{command}` has no --force yet: add @force_option({param!r}) (see the report)")
    taken = [a.format(out=tmp_path / "taken") for a in args]
    path = Path(taken[-1])
    path.write_bytes(b"kept")
    source = FIXTURES / "cin_small.xml" if command == "ingest" else small_log
    code, _, err = run("-q", command, source, *taken)
    assert code == 2 and f"{path} exists; use --force to replace it" in err
    assert path.read_bytes() == b"kept"
    code, _, err = run("-q", command, source, *taken, "--force")
    assert code == 0, err
    assert path.read_bytes() != b"kept" and leftovers(tmp_path) == []


def test_library_writers_replace_unless_told_not_to(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    outputs.write_text(path, "1")
    outputs.write_text(path, "2")  # `demo` replaces its own outputs
    assert path.read_text() == "2"
    with pytest.raises(UsageError, match="exists; use --force"):
        outputs.write_text(path, "3", overwrite=False)
    with refusing_to_replace([path]), pytest.raises(UsageError, match="exists; use --force"):
        outputs.write_text(path, "4")
    outputs.write_text(path, "5")  # the guard ends with its block
    assert path.read_text() == "5" and leftovers(tmp_path) == []
    with pytest.raises(UsageError):
        check_output(path)
    assert check_output(path, force=True) == path


def test_demo_replaces_its_own_outputs(tmp_path: Path) -> None:
    from cscmining.demo import run_demo

    first = run_demo(FIXTURES, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in first.written if p.suffix != ".parquet"}
    second = run_demo(FIXTURES, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in second.written if p.suffix != ".parquet"} == before
    assert leftovers(tmp_path / "out") == []
    if POSIX:
        assert mode(tmp_path / "out" / "event_log.parquet") == 0o600


# --- T-ACC-06: a run killed half-way -----------------------------------------------------


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import cscmining.eventlog as eventlog
    from cscmining.cli import main

    real = eventlog._write_parquet

    def slow(log, path):
        real(log, path)
        Path(sys.argv[1]).write_text(str(path))  # half-way: the data is in the temporary file
        time.sleep(120)

    eventlog._write_parquet = slow
    main(["-q", "ingest", sys.argv[2], "-o", sys.argv[3]])
""")


@pytest.mark.skipif(not POSIX, reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_t_acc_06_a_killed_run_leaves_no_file_under_the_final_name(tmp_path: Path, sig: int) -> None:
    script = tmp_path / "slow.py"
    script.write_text(SLOW_WRITER)
    marker, out = tmp_path / "half-way", tmp_path / "out" / "log.parquet"
    proc = subprocess.Popen([sys.executable, str(script), str(marker), str(FIXTURES / "cin_small.xml"), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.communicate(timeout=5)[1].decode()
        temporary = Path(marker.read_text())
        assert temporary.parent == out.parent and temporary.name.startswith(".log.parquet.")
        assert temporary.stat().st_size > 0 and not out.exists()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert not out.exists()
    if sig == signal.SIGINT:  # Python unwinds: the temporary file goes too
        assert proc.returncode == 130 and err.decode().strip().endswith("interrupted")
        assert leftovers(out.parent) == []
    else:  # the process died on the spot: only a hidden temporary file can remain
        assert leftovers(out.parent) in ([], [temporary.name])
    # the re-run is complete and reads back
    assert run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", out)[0] == 0
    assert read_event_log(out).events == 10


# --- T-ACC-07: nowhere to write ---------------------------------------------------------------


def test_t_acc_07_output_folder_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", blocker / "log.parquet")
    assert code == 2 and "Traceback" not in err
    assert f"{blocker / 'log.parquet'}: cannot write here" in err


def test_t_acc_07_disk_full_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    import cscmining.eventlog as eventlog

    def full(_log, path):
        Path(path).write_bytes(b"PAR1 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(eventlog, "_write_parquet", full)
    out = tmp_path / "log.parquet"
    code, _, err = run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", out)
    assert code == 2 and f"{out}: cannot write (No space left on device)" in err
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.skipif(not POSIX or os.geteuid() == 0, reason="root can write into read-only folders")
def test_t_acc_07_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", folder / "log.parquet")
    finally:
        folder.chmod(0o700)
    assert code == 2 and "cannot write here (Permission denied)" in err


# --- T-SEC-13: nothing left in the system temp folder --------------------------------------


def test_t_sec_13_no_files_left_in_the_temp_folder(tmp_path: Path, monkeypatch) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    log = tmp_path / "log.parquet"
    for args in (["ingest", FIXTURES / "ssda903_csv", FIXTURES / "cin_small.xml", "-o", log],
                 ["map", log, "-o", tmp_path / "map.svg"],
                 ["variants", log, "--json"],
                 ["stuck", log, "--csv", tmp_path / "stuck.csv"],
                 ["ingest", tmp_path / "missing.csv", "-o", tmp_path / "failed.parquet"]):
        run("-q", *args)
    assert list(private_tmp.iterdir()) == []
    assert leftovers(tmp_path) == []


# --- every writer goes through `outputs` ------------------------------------------------------

WRITE_CALLS = {"write_text", "write_bytes", "to_csv", "to_parquet", "write_table", "to_excel",
               "to_json", "savefig", "save", "dump"}
#: helpers that write to the path they are given; every call must hand them an atomic temp path
PATH_WRITERS = {"_write_parquet", "write_xes"}


def _atomic_names(tree: ast.AST) -> set[str]:
    """Names bound by ``with atomic_path(...) as NAME`` (temporary paths)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                func = getattr(call, "func", None)
                called = getattr(func, "id", None) or getattr(func, "attr", None)
                if called == "atomic_path" and isinstance(item.optional_vars, ast.Name):
                    names.add(item.optional_vars.id)
    return names


def _raw_writes(path: Path) -> list[str]:
    """Calls in a module that write a file other than through `cscmining.outputs`.

    Allowed: functions imported from `outputs`; writes to the temporary path of a ``with
    atomic_path(...) as tmp`` block; the body of a `PATH_WRITERS` helper (its callers are
    checked instead); ``to_csv()``/``to_json()`` without a path (they return the text).
    """
    tree = ast.parse(path.read_text(), str(path))
    from_outputs = {alias.asname or alias.name for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("outputs")
                    for alias in node.names}
    temporary = _atomic_names(tree)
    helpers = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name in PATH_WRITERS
               for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in helpers:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
        args = {a.id for a in node.args if isinstance(a, ast.Name)}
        if owner == "outputs" or (isinstance(func, ast.Name) and name in from_outputs):
            continue
        if name in PATH_WRITERS:
            if not args & temporary:
                found.append(f"{where} {name} (not given an atomic_path temporary)")
            continue
        if name in ("to_csv", "to_json", "to_parquet") and not node.args \
                and not any(k.arg in ("path", "path_or_buf") for k in node.keywords):
            continue  # no path: the text or bytes are returned
        if name in WRITE_CALLS and owner not in ("json", "yaml") and owner not in temporary \
                and not args & temporary:
            found.append(f"{where} {name}")
        if name in ("open", "fdopen"):
            modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
            modes += [k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)]
            if any(isinstance(m, str) and set(m) & set("wax+") for m in modes):
                found.append(f"{where} open({modes[0]!r})")
    return found


def _modules() -> list[Path]:
    skip = {"outputs.py", "pseudonym.py", "samples.py"}  # the writers; the key (O_EXCL 0600); below
    return [p for p in sorted(PACKAGE.rglob("*.py")) if str(p.relative_to(PACKAGE)) not in skip]


def test_every_writer_goes_through_outputs() -> None:
    """Files are written by `cscmining.outputs` (atomic, permissions, --force) and nowhere else."""
    assert len(_modules()) > 20
    found = [w for path in _modules() for w in _raw_writes(path)]
    assert found == []


def test_samples_module_writes_through_outputs() -> None:
    assert _raw_writes(PACKAGE / "samples.py") == []


def test_the_write_lint_finds_raw_writes(tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from pathlib import Path\nfrom .outputs import atomic_path, write_text\n"
        "Path('x').write_text('y')\nopen('z', 'w')\nimport pandas\npandas.DataFrame().to_csv('a.csv')\n"
        "open('r.txt').read()\nwrite_text(Path('ok'), 'fine')\n"
        "with atomic_path(Path('p')) as tmp:\n    tmp.write_text('fine')\n    frame.to_csv(tmp)\n"
        "    _write_parquet(log, tmp)\n_write_parquet(log, Path('direct'))\n"
        "def _write_parquet(log, path):\n    pq.write_table(t, path)\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert [w.split(" ", 1)[1] for w in _raw_writes(bad)] == [
        "write_text", "open('w')", "to_csv", "_write_parquet (not given an atomic_path temporary)"]


# --- T-SEC-05: CSV cells a spreadsheet would run as formulas -----------------------------------


HOSTILE = ["=HYPERLINK(\"http://x\",\"a\")", "+1+2", "-2+3", "@SUM(A1)", "\tx", "=1"]


def test_t_sec_05_csv_export_defuses_formulas(tmp_path: Path) -> None:
    records = [(child, "Referral", f"2024-01-{i + 1:02d}") for i, child in enumerate(HOSTILE)]
    records.append(("plain", "Referral", "2024-02-01"))
    attributes = [{"team": value} for value in reversed(HOSTILE)] + [{"team": "-"}]
    log = from_records(records, attributes=attributes)
    out = write_event_log(log, tmp_path / "log.csv")
    rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
    assert len(rows) == len(records)
    for row in rows:
        for column in ("case:concept:name", "team"):
            assert not row[column].startswith(outputs.FORMULA_START), (column, row[column])
    cases = {row["case:concept:name"] for row in rows}
    assert cases == {"'" + h for h in HOSTILE} | {"plain"}
    assert {row["team"] for row in rows} == {"'" + h for h in HOSTILE} | {"'-"}
    # numbers and dates are written as they are
    assert {row["stage:order"] for row in rows} == {"40"}
    assert sorted(row["time:timestamp"] for row in rows)[0] == "2024-01-01"


def test_csv_export_keeps_a_carriage_return_inside_a_cell(tmp_path: Path) -> None:
    log = from_records([("c1", "Referral", "2024-01-01")], attributes=[{"team": "North\rEast"}])
    with write_event_log(log, tmp_path / "l.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))  # newline="": a CR inside a quoted cell stays a CR
    assert [row["team"] for row in rows] == ["North\rEast"]


def test_csv_safe_prefixes_every_formula_start() -> None:
    import pandas as pd

    cells = pd.Series([f"{c}x" for c in outputs.FORMULA_START] + [" =x", "x=", "'=x"])
    assert csv_safe(pd.DataFrame({"t": cells}))["t"].tolist() == [
        f"'{c}x" for c in outputs.FORMULA_START] + [" =x", "x=", "'=x"]


def test_csv_safe_leaves_numbers_and_the_frame_alone() -> None:
    import pandas as pd

    frame = pd.DataFrame({"text": ["=1", "ok", None], "n": [-1, 2, 3], "x": [-1.5, 0.0, 2.5],
                          "when": pd.to_datetime(["2024-01-01"] * 3),
                          "mixed": pd.Series([-4, "+x", None], dtype=object)})
    safe = csv_safe(frame)
    assert safe["text"].tolist()[:2] == ["'=1", "ok"] and pd.isna(safe["text"].iloc[2])
    assert safe["n"].tolist() == [-1, 2, 3] and safe["x"].tolist() == [-1.5, 0.0, 2.5]
    assert safe["mixed"].tolist()[:2] == [-4, "'+x"]
    assert frame["text"].tolist()[0] == "=1"  # the caller's frame is not changed
    assert (safe.dtypes == frame.dtypes).all()


def test_csv_safe_handles_categorical_text() -> None:
    import pandas as pd

    frame = pd.DataFrame({"team": pd.Categorical(["=cmd", "North", None, "=cmd"]),
                          "code": pd.Categorical(["A", "B", "A", "B"]),
                          "n": pd.Categorical([1, -2, 1, 3])})
    safe = csv_safe(frame)
    assert safe["team"].tolist()[:2] == ["'=cmd", "North"] and pd.isna(safe["team"].iloc[2])
    assert safe["code"].dtype == frame["code"].dtype  # nothing risky: left as it was
    assert safe["n"].tolist() == [1, -2, 1, 3]


def test_no_replace_on_a_file_system_without_hard_links(tmp_path: Path, monkeypatch) -> None:
    def no_links(*_a, **_k):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "x.csv"
    outputs.write_text(path, "first", overwrite=False)
    with pytest.raises(UsageError, match="exists; use --force"):
        outputs.write_text(path, "second", overwrite=False)
    assert path.read_text() == "first" and leftovers(tmp_path) == []


def test_an_error_inside_the_block_is_not_mistaken_for_a_taken_name(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot write \(File exists\)"):
        with atomic_path(tmp_path / "x.bin", overwrite=False):
            raise FileExistsError(17, "File exists")
    assert list(tmp_path.iterdir()) == []
