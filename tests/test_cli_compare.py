"""``cscmining compare`` through the click CLI: JSON is the library's, files, table, errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import cscmining.cli.compare  # noqa: F401  (registers the command)
from cscmining.cli import cli, main
from cscmining.compare import compare, simplify
from cscmining.errors import UsageError
from cscmining.eventlog import from_records, write_event_log
from cscmining.ingest import load

R, A, AA, C, S47 = "Referral", "Assessment start", "Assessment authorised", "Case closed", \
    "S47 enquiry"
SAMPLES = Path(__file__).parent.parent / "samples"

# North: 12 children, R then A 2 days later, then C 10 days after that, Jan to Mar 2024.
# South: 12 children, R then S47 a day later, then C 20 days after that, Apr to Jun 2024.
# So North vs South: R→A gone, R→S47 new; before 1 Apr vs after: the same, by period.


def _records() -> tuple[list[tuple[str, str, str]], list[dict[str, str]]]:
    records, attrs = [], []
    for i in range(12):
        for team, month, steps in (("North", 1, ((R, 0), (A, 2), (C, 12))),
                                   ("South", 4, ((R, 0), (S47, 1), (C, 21)))):
            first = date(2024, month, 1 + i).toordinal()
            for activity, offset in steps:
                records.append((f"{team[0]}{i:02d}", activity,
                                date.fromordinal(first + offset).isoformat()))
                attrs.append({"team": team})
    return records, attrs


@pytest.fixture(scope="module")
def log_path(tmp_path_factory):
    records, attrs = _records()
    log = from_records(records, as_at="2024-06-30", attributes=attrs)
    return write_event_log(log, tmp_path_factory.mktemp("log") / "log.parquet")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "120"})


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _json(result) -> dict:
    return json.loads(result.stdout)


@pytest.mark.parametrize("args, kwargs", [
    (["--split-date", "2024-04-01"], {"split_date": date(2024, 4, 1)}),
    (["--where", "team=North", "--vs", "team=South", "--level", "summary"],
     {"where": [("team", "North")], "vs": [("team", "South")], "level": "summary"}),
    (["--split-date", "2024-04-01", "--from", "2024-01-10", "--to", "2024-05-31", "--per",
      "children"],
     {"split_date": date(2024, 4, 1), "start": date(2024, 1, 10), "end": date(2024, 5, 31),
      "per": "children"}),
])
def test_json_is_the_library_result(log_path, args, kwargs):
    got = _json(ok("compare", log_path, *args, "--json"))
    expected = compare(load([log_path]), **kwargs).to_dict()
    assert got == json.loads(json.dumps(expected))


def test_json_after_simplification(log_path):
    got = _json(ok("compare", log_path, "--split-date", "2024-04-01", "--paths", "40",
                   "--top", "1", "--json"))
    expected = simplify(compare(load([log_path]), split_date=date(2024, 4, 1)), paths=40, top=1)
    assert got == json.loads(json.dumps(expected.to_dict()))
    assert got["hidden"]["paths"] > 0


def test_cohorts_numbers(log_path):
    got = _json(ok("compare", log_path, "--where", "team=North", "--vs", "team=South", "--json"))
    assert got["mode"] == "cohort" and got["per"] == "children"
    assert (got["a"]["children"], got["b"]["children"], got["overlap"]) == (12, 12, 0)
    edges = {(e["source"], e["target"]): e for e in got["edges"]}
    # North: 12 R→A moves per 12 children = 100 per 100; South none
    assert edges[(R, A)]["a"]["rate"] == 100.0 and edges[(R, A)]["status"] == "gone"
    assert edges[(R, S47)]["b"]["median_days"] == 1.0 and edges[(R, S47)]["status"] == "new"
    assert edges[(S47, C)]["b"]["median_days"] == 20.0
    assert got["shifts"][0]["rank"] == 1 and got["shifts"][0]["text"]


def test_table_by_default(log_path):
    out = ok("compare", log_path, "--where", "team=North", "--vs", "team=South",
             "--top", "3").stdout
    assert "A: team = North   vs   B: team = South: the largest shifts" in out
    assert "moves down from 100 to none per 100 children (gone)" in out
    assert "A: team = North — 12 children, 36 events." in out


def test_writes_maps(log_path, tmp_path):
    result = ok("compare", log_path, "--split-date", "2024-04-01", "-o", tmp_path / "c.svg")
    svg = (tmp_path / "c.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "Before and after 1 Apr 2024" in svg
    assert "wrote" in result.stderr and "marked shift" in result.stderr
    ok("compare", log_path, "--split-date", "2024-04-01", "-o", tmp_path / "c.dot",
       "--metric", "duration", "--level", "summary", "--json")
    dot = (tmp_path / "c.dot").read_text(encoding="utf-8")
    assert dot.startswith('digraph "comparison map" {') and "Summary map" in dot
    ok("compare", log_path, "--where", "team=North", "--vs", "team=South",
       "-o", tmp_path / "c.png", "--top", "2")
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")


def test_unknown_extension_is_refused_before_work(log_path, tmp_path):
    result = run("compare", log_path, "--split-date", "2024-04-01", "-o", tmp_path / "c.jpeg")
    assert isinstance(result.exception, UsageError)
    assert not (tmp_path / "c.jpeg").exists()


@pytest.mark.parametrize("args, message", [
    ([], "say what to compare"),
    (["--split-date", "2024-04-01", "--where", "team=North", "--vs", "team=South"], "not both"),
    (["--vs", "team=South"], "--vs needs --where"),
    (["--where", "team=North", "--vs", "team=West"], "no children in cohort B (team = West)"),
    (["--split-date", "2023-01-01"], "no 'before' period"),
])
def test_usage_errors_are_one_line(log_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", str(log_path), *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (["--vs", "South"], "KEY=VALUE"),
    (["--split-date", "01/04/2024"], "YYYY-MM-DD"),
    (["--split-date", "2024-04-01", "--metric", "frequency"], "frequency"),
    (["--split-date", "2024-04-01", "--per", "week"], "week"),
    (["--split-date", "2024-04-01", "--paths", "120"], "120"),
])
def test_bad_options(log_path, args, message):
    result = run("compare", log_path, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_samples_before_and_after(tmp_path):
    inputs = [SAMPLES / "cin_census_2025.xml", SAMPLES / "ssda903_2025",
              SAMPLES / "annex_a_2025.xlsx"]
    result = ok("-q", "compare", *inputs, "--split-date", "2024-10-01", "--paths", "30",
                "-o", tmp_path / "c.svg", "--json")
    got = _json(result)
    assert got["a"]["window"] == {"from": "2024-04-02", "to": "2024-09-30"}
    assert got["b"]["window"] == {"from": "2024-10-01", "to": "2025-03-31"}
    # Annex A's contacts list covers the six months to 31 Mar 2025 only: the note says so
    assert any(n.startswith("Only after 1 Oct 2024: Contact") for n in got["notes"])
    assert "Largest shifts in volume" in (tmp_path / "c.svg").read_text(encoding="utf-8")
