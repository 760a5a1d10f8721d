"""``cscmining map`` and ``bottlenecks`` through the click CLI on a small event log."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import cscmining.cli.map  # noqa: F401  (registers the commands)
from cscmining.cli import cli
from cscmining.discover import bottlenecks, process_map
from cscmining.errors import UsageError
from cscmining.eventlog import from_records, write_event_log
from cscmining.ingest import load

R, A, AA, C = "Referral", "Assessment start", "Assessment authorised", "Case closed"
RECORDS = [
    ("a", R, "2024-01-02"), ("a", A, "2024-01-03"), ("a", AA, "2024-02-01"), ("a", C, "2024-02-10"),
    ("b", R, "2024-01-02"), ("b", A, "2024-01-03"), ("b", AA, "2024-05-01"), ("b", C, "2024-05-10"),
    ("c", R, "2024-03-01"), ("c", "S47 enquiry", "2024-03-04"),
    ("d", R, "2024-06-03"), ("d", "Looked after start", "2024-06-04"),
    ("d", "CLA review", "2024-06-20"),
]
TEAMS = {"a": "North", "b": "North", "c": "South", "d": "North"}


@pytest.fixture
def log_path(tmp_path):
    attributes = [{"team": TEAMS[c]} for c, _, _ in RECORDS]
    log = from_records(RECORDS, as_at="2024-12-31", attributes=attributes)
    return write_event_log(log, tmp_path / "log.parquet")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "140"})


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_map_writes_dot_and_svg(log_path, tmp_path):
    ok("map", log_path, "-o", tmp_path / "m.dot")
    ok("map", log_path, "-o", tmp_path / "m.svg", "--level", "summary", "--metric", "performance")
    assert (tmp_path / "m.dot").read_text(encoding="utf-8").startswith('digraph "process map"')
    svg = (tmp_path / "m.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "Summary map of stage groups" in svg


def test_map_json_is_the_library_result(log_path):
    out = ok("map", log_path, "--json", "--level", "summary", "--where", "team=North",
             "--from", "2024-01-01", "--to", "2024-03-31", "--paths", "50").stdout
    expected = process_map(load([log_path]), level="summary", where=[("team", "North")],
                           start=_d("2024-01-01"), end=_d("2024-03-31"), paths=50).to_dict()
    assert json.loads(out) == json.loads(json.dumps(expected))
    got = json.loads(out)
    assert got["filters"] == ["active 2024-01-01 to 2024-03-31", "team = North"]
    assert got["cases"] == 2  # a and b; d (North) starts in June
    assert got["level"] == "summary"


def test_map_json_spec_numbers(log_path):
    got = json.loads(ok("map", log_path, "--json").stdout)
    edges = {(e["source"], e["target"]): e for e in got["edges"]}
    # A → AA: a 3 Jan → 1 Feb = 29 days; b 3 Jan → 1 May = 28 + 29 + 31 + 30 + 1 = 119 days
    assert edges[(A, AA)]["count"] == 2
    assert edges[(A, AA)]["child_days"] == 29 + 119
    assert edges[(A, AA)]["median_days"] == 74.0
    assert got["start"] == {R: 4}
    assert got["end"] == {"S47 enquiry": 1, "CLA review": 1, C: 2}
    assert got["as_at"] == "2024-12-31"
    assert {n["activity"]: n["waiting"] for n in got["nodes"]}["S47 enquiry"] == 1


def test_map_with_both_file_and_json(log_path, tmp_path):
    # 7 activities, keep the busiest 4 (R, A, AA, C); no pressure points to protect
    result = ok("map", log_path, "-o", tmp_path / "m.png", "--json", "--activities", "50",
                "--top", "0")
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    hidden = json.loads(result.stdout)["hidden"]["activities"]
    assert hidden == ["S47 enquiry", "Looked after start", "CLA review"]
    assert "wrote" in result.stderr and "hidden: 3 stages" in result.stderr


def test_map_needs_somewhere_to_write(log_path):
    result = run("map", log_path)
    assert isinstance(result.exception, UsageError)


def test_map_rejects_unknown_extension_before_work(log_path, tmp_path):
    result = run("map", log_path, "-o", tmp_path / "m.jpeg")
    assert isinstance(result.exception, UsageError)
    assert not (tmp_path / "m.jpeg").exists()


@pytest.mark.parametrize("args, message", [
    (["--where", "teamNorth"], "KEY=VALUE"),
    (["--activities", "120"], "120"),
    (["--metric", "colour"], "colour"),
    (["--level", "medium"], "medium"),
    (["--from", "01/04/2024"], "YYYY-MM-DD"),
])
def test_map_bad_options(log_path, args, message):
    result = run("map", log_path, "--json", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_map_nothing_left_after_filters(log_path):
    result = run("map", log_path, "--json", "--where", "team=West")
    assert isinstance(result.exception, UsageError)
    assert "team = West" in str(result.exception)


def test_bottlenecks_table_and_json(log_path):
    table = ok("bottlenecks", log_path, "--top", "3").stdout
    assert "Where children's time goes" in table
    assert "▲1" in table
    got = json.loads(ok("bottlenecks", log_path, "--top", "3", "--json").stdout)
    expected = bottlenecks(load([log_path]), top=3).to_dict()
    assert got == json.loads(json.dumps(expected))
    assert [b["rank"] for b in got["bottlenecks"]] == [1, 2, 3]


def test_bottlenecks_table_shows_markup_literally(tmp_path):
    from cscmining.vocabulary import Activity, load_vocabulary

    name = "[bold red]x[/]"
    vocab = load_vocabulary().with_activities([Activity(name=name, order=45, group="Front door")])
    log = from_records([("a", R, "2024-01-01"), ("a", name, "2024-01-05")], vocabulary=vocab)
    path = write_event_log(log, tmp_path / "log.parquet")
    assert name in ok("bottlenecks", path).stdout


def _d(text):
    from datetime import date

    return date.fromisoformat(text)
