"""``cscmining ingest`` on the command line: JSON shape, exit codes, one-line errors, privacy.

Runs go through `cscmining.cli.main` (the function behind the ``cscmining`` script, which
turns errors into one line and an exit code) inside click's CliRunner isolation; one run
goes through a real ``python -m cscmining`` subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cscmining.eventlog import read_event_log

from reading_support import EP, FIXTURES, events, run_cli, write_csv

#: a value planted in bad rows and files: it must never appear in what the user sees
SECRET = "ZQX9931"


run = run_cli


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_json_shape_and_log_written(tmp_path) -> None:
    out = tmp_path / "log.parquet"
    code, stdout, stderr = run("ingest", FIXTURES / "ssda903_csv", "-o", out, "--json")
    assert code == 0, stderr
    payload = json.loads(stdout)
    assert (payload["events"], payload["cases"]) == (19, 4)
    assert payload["as_at"] == "2024-03-20" and payload["merged"] == 1 and payload["same_day_ties"] == 1
    files = payload["files"]
    assert [(Path(f["path"]).name, f["source"], f["table"]) for f in files] == [
        ("ad1.csv", "ssda903", "ad1"), ("episodes.csv", "ssda903", "episodes"),
        ("header.csv", "ssda903", "header"), ("missing.csv", "ssda903", "missing"),
        ("placed_adoption.csv", "ssda903", "placed_adoption"), ("reviews.csv", "ssda903", "reviews")]
    for f in files:  # SPEC §5 fields and types
        for key in ("rows_read", "used", "rejected", "duplicate", "blank"):
            assert isinstance(f[key], int)
        assert isinstance(f["path"], str) and isinstance(f["reasons"], dict)
        assert f["rows_read"] == f["used"] + f["rejected"] + f["duplicate"] + f["blank"]
    episodes = next(f for f in files if f["table"] == "episodes")
    assert {k: episodes[k] for k in ("rows_read", "used", "rejected", "duplicate", "blank", "reasons")} == {
        "rows_read": 8, "used": 8, "rejected": 0, "duplicate": 0, "blank": 0, "reasons": {}}
    log = read_event_log(out)
    assert (log.events, log.cases) == (19, 4)
    assert events(log)[0] == ("0102", "Looked after start", "2023-06-10")


def test_json_counts_rejections_by_reason(tmp_path) -> None:
    path = write_csv(tmp_path / "e.csv", [
        EP, "1,01/04/2023,S,V2,N1,U4,PR1,,,,,,", f"{SECRET},31/02/2024,S,V2,N1,U4,PR1,,,,,,",
        ",01/04/2023,S,V2,N1,U4,PR1,,,,,,", "1,01/04/2023,S,V2,N1,U4,PR1,,,,,,",
        f"2,01/04/2023,S,V2,N1,U4,PR1,,,{SECRET}", "", "3,01/07/2024,S,V2,N1,U4,PR1,,,,,,",
    ])
    code, stdout, stderr = run("ingest", path, "-o", tmp_path / "log.parquet", "--json", "--as-at", "2024-03-31")
    assert code == 0, stderr
    payload = json.loads(stdout)
    (f,) = payload["files"]
    assert {k: f[k] for k in ("rows_read", "used", "rejected", "duplicate", "blank", "reasons")} == {
        "rows_read": 7, "used": 1, "rejected": 4, "duplicate": 1, "blank": 1,
        "reasons": {"DATE_FUTURE": 1, "DATE_INVALID": 1, "ID_MISSING": 1, "ROW_SHAPE": 1}}
    assert (payload["events"], payload["cases"]) == (1, 1)
    assert SECRET not in stdout and SECRET not in stderr


def test_table_output_without_json(tmp_path) -> None:
    code, stdout, stderr = run("ingest", FIXTURES / "cin_small.xml", "-o", tmp_path / "log.csv")
    assert code == 0, stderr
    assert "10 events for 2 children; 3 same-day ties" in stdout.replace("\n", " ")
    assert f"wrote {tmp_path / 'log.csv'}" in stderr.replace("\n", "")
    assert (tmp_path / "log.csv").read_text().count("\n") == 11  # header + 10 events


def test_broken_file_exit_2_one_line_no_traceback(tmp_path) -> None:
    good = write_csv(tmp_path / "good.csv", [EP, "1,01/04/2023,S,V2,N1,U4,PR1,,,,,,"])
    bad = tmp_path / "bad.xml"
    bad.write_text(f"<?xml version='1.0'?><Message><Children><Child>{SECRET}</Children></Message>")
    out = tmp_path / "log.parquet"
    code, _stdout, stderr = run("ingest", good, bad, "-o", out)
    assert code == 2
    assert "Traceback" not in stderr and SECRET not in stderr
    assert error_lines(stderr) == [
        f"error: {bad}: BROKEN_XML: not well-formed XML (line 1) (no event log written; "
        "--keep-going builds it from the other files)"]
    assert len(stderr.strip().splitlines()) == 2  # "reading 2 file(s)" and the error
    assert not out.exists()


def test_two_broken_files_are_both_listed(tmp_path) -> None:
    empty = tmp_path / "a.csv"
    empty.write_bytes(b"")
    doctype = tmp_path / "b.xml"
    doctype.write_text('<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY x "y">]><Message>&x;</Message>')
    code, _, stderr = run("-q", "ingest", tmp_path, "-o", tmp_path / "log.parquet")
    assert code == 2 and "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("error: 2 input files could not be read")
    assert lines[1:] == [f"  {empty}: EMPTY_FILE: the file is empty",
                         f"  {doctype}: XML_FORBIDDEN: the XML has a DOCTYPE or entity declarations, which are refused"]


def test_keep_going_writes_the_log_from_the_good_files(tmp_path) -> None:
    good = write_csv(tmp_path / "good.csv", [EP, "1,01/04/2023,S,V2,N1,U4,PR1,,,,,,"])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(f"{EP}\r\n{SECRET},01/04/2023,S,V2,N1,U4,PR1,,,,\xa3,,\r\n".encode("cp1252"))
    out = tmp_path / "log.parquet"
    code, stdout, stderr = run("ingest", good, bad, "-o", out, "--keep-going", "--json")
    assert code == 0, stderr
    payload = json.loads(stdout)
    assert (payload["events"], payload["cases"]) == (1, 1)
    assert [Path(f["path"]).name for f in payload["files"]] == ["good.csv"]
    assert payload["unreadable"] == [{"path": str(bad), "code": "ENCODING"}]
    # (the note is wrapped to the terminal's width: compare without line breaks)
    assert "skipped (--keep-going):" in stderr and f"{bad.name}: ENCODING:" in stderr
    assert SECRET not in stderr and SECRET not in stdout
    assert read_event_log(out).events == 1


def test_encoding_and_as_at_options(tmp_path) -> None:
    path = write_csv(tmp_path / "e.csv", [EP, "1,01/04/2023,S,V2,N1,U4,PR1,01/06/2024,E11,,£,,"], encoding="cp1252")
    code, _, stderr = run("ingest", path, "-o", tmp_path / "log.parquet")
    assert code == 2 and "--encoding cp1252" in stderr
    code, stdout, stderr = run("ingest", path, "-o", tmp_path / "log.parquet", "--json",
                               "--encoding", "cp1252", "--as-at", "2024-03-31")
    assert code == 0, stderr
    (f,) = json.loads(stdout)["files"]
    assert (f["used"], f["flags"]) == (1, {"DATE_FUTURE": 1})


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["https://example.org/annex_a.xlsx"], "only local files and folders can be read"),
        (["missing.csv"], "missing.csv: no such file or folder"),
        (["--as-at", "03/04/2024", "x.csv"], "is not a date written YYYY-MM-DD"),
    ],
)
def test_usage_errors(tmp_path, args: list[str], expected: str) -> None:
    code, _, stderr = run("ingest", *args, "-o", tmp_path / "log.parquet")
    assert code == 2 and expected in stderr and "Traceback" not in stderr


def test_unknown_file_kind(tmp_path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(f"name,comment\r\n{SECRET},hello\r\n")
    code, _, stderr = run("ingest", path, "-o", tmp_path / "log.parquet")
    assert code == 2 and SECRET not in stderr
    assert error_lines(stderr) == [
        f"error: {path}: UNKNOWN_TABLE: its header row matches no SSDA903 table, Annex A list or "
        "logmap table (no event log written; --keep-going builds it from the other files)"]


def test_xlsx_error_names_sheet_not_values(tmp_path) -> None:
    from reading_support import build_xlsx

    path = build_xlsx(tmp_path / "a.xlsx", {"Referrals": [
        ["Child Unique ID", "Continuous Assessment Start Date"], [SECRET, "01/01/2024"]]})
    code, _, stderr = run("ingest", path, "-o", tmp_path / "log.parquet")
    assert code == 2 and SECRET not in stderr
    assert "sheet 'Referrals': missing column(s): Continuous Assessment Date of Authorisation" in stderr


def test_error_message_with_brackets_in_path(tmp_path) -> None:
    folder = tmp_path / "[/old]"  # two folders, "[" and "old]": the path reads "[/old]"
    folder.mkdir(parents=True)
    bad = folder / "e.csv"
    bad.write_bytes(b"")
    code, _, stderr = run("ingest", bad, "-o", tmp_path / "log.parquet")
    assert code == 2 and "Traceback" not in stderr and f"{bad}: EMPTY_FILE" in stderr


@pytest.mark.slow
def test_real_subprocess(tmp_path) -> None:
    """``python -m cscmining ingest`` end to end, as an analyst runs it."""
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = tmp_path / "log.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "cscmining", "ingest", str(FIXTURES / "cin_small.xml"),
         str(FIXTURES / "annex_a_csv"), "-o", str(out), "--json"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert (payload["events"], payload["cases"]) == (35, 7)
    assert read_event_log(out).events == 35
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    done = subprocess.run(
        [sys.executable, "-m", "cscmining", "ingest", str(bad), "-o", str(out), "--force"],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [
        f"error: {bad}: EMPTY_FILE: the file is empty (no event log written; "
        "--keep-going builds it from the other files)"]


def test_json_carries_the_notes_said_on_stderr(tmp_path) -> None:
    """A pipeline reading ``--json`` (often with ``-q``) gets the notes too: here the one
    about a column no rule reads, naming the file and the column, never a cell."""
    path = write_csv(tmp_path / "e.csv", [EP + ",EXTRA", "1,01/04/2023,S,V2,N1,U4,PR1,,,,,,,x"])
    code, stdout, stderr = run("-q", "ingest", path, "-o", tmp_path / "log.parquet", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["notes"] == [f"{path}: 1 column(s) not used: EXTRA"]
