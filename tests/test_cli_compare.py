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
from cscmining.disclosure import STANDARD, DisclosureError, Policy, check_file, check_text
from cscmining.errors import UsageError
from cscmining.eventlog import from_records, write_event_log
from cscmining.ingest import load
from cscmining.outputs import SHARE_DIR_ENV

from reading_support import run_cli

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


# ---------------------------------------------------------------------------------------
# --disclosure: every output drawn from the protected comparison, and checked
#
# North: 12 children R → A → C. South: 7 children R → S47 → C and 3 children R → A → C.
# Detail level, North (A) against South (B), per 100 children of each side:
#   children 12 | 10; events 36 | 30; R 12 | 10; A 12 | 3; S47 0 | 7; C 12 | 10
#   moves R→A 12 | 3, A→C 12 | 3, R→S47 0 | 7, S47→C 0 | 7
# standard (K = 6): South's 3s are c, and so is every change beside them; the rest as is.
# strict (K = 10, to 5): 12 → 10, 36 → 35, South's 7s and 3s are c; 10 and 30 stay.


@pytest.fixture(scope="module")
def teams_path(tmp_path_factory):
    records, attrs = [], []
    for prefix, n, team, steps in (("n", 12, "North", (R, A, C)), ("s", 7, "South", (R, S47, C)),
                                   ("t", 3, "South", (R, A, C))):
        for i in range(n):
            for j, activity in enumerate(steps):
                records.append((f"{prefix}{i:02d}", activity, f"2024-0{2 + j}-{10 + i}"))
                attrs.append({"team": team})
    log = from_records(records, as_at="2024-06-30", attributes=attrs)
    return write_event_log(log, tmp_path_factory.mktemp("teams") / "log.parquet")


TEAMS = ("--where", "team=North", "--vs", "team=South")


def _items(got: dict) -> dict:
    return {d.get("activity") or (d["source"], d["target"]): d
            for d in (*got["stages"], *got["edges"])}


def test_standard_shows_a_three_as_c_and_its_change_as_c(teams_path, tmp_path):
    got = _json(ok("compare", teams_path, *TEAMS, "--disclosure", "standard", "--json"))
    items = _items(got)
    assert (got["a"]["children"], got["b"]["children"]) == (12, 10)
    assert (got["a"]["events"], got["b"]["events"]) == (36, 30)
    for key in (A, (R, A), (A, C)):  # South's 3 children
        item = items[key]
        assert (item["a"]["count"], item["b"]["count"], item["b"]["cases"]) == (12, "c", "c")
        assert item["b"]["rate"] == item["rate_change"] == item["rate_share"] == "c"
        assert item["b"]["median_days"] == item["median_change_days"] == "c"
        assert item["volume_step"] == 0
    s47 = items[(R, S47)]  # 7 moves of 10 children: 70 per 100, new
    assert (s47["b"]["count"], s47["b"]["rate"], s47["volume_step"]) == (7, 70.0, 3)
    assert "min_shift" not in got and got["as_at"] == "2024-06"
    assert [s["where"] for s in got["shifts"]] == [f"{R} → {S47}", f"{S47} → {C}", S47]
    out = tmp_path / "teams.dot"
    ok("compare", teams_path, *TEAMS, "--disclosure", "standard", "-o", out)
    dot = out.read_text(encoding="utf-8")
    assert f'label="{A}\\n12 → c", fillcolor="#FFFFFF", color="#9A9A9A"' in dot
    assert 'n3 -> n4 [label="12 → c", color="#9A9A9A", penwidth=1.0' in dot
    assert "tooltip" not in dot and "Disclosure control: standard" in dot
    assert "— <B>12</B> children, <B>36</B> events" in dot
    table = ok("compare", teams_path, *TEAMS, "--disclosure", "standard").stdout
    assert "c  confidential: a count from 1 to 5" in table


def test_strict_rounds_to_five(teams_path):
    got = _json(ok("compare", teams_path, *TEAMS, "--disclosure", "strict", "--json"))
    items = _items(got)
    assert (got["a"]["children"], got["b"]["children"]) == (10, 10)
    assert (got["a"]["events"], got["b"]["events"]) == (35, 30)
    assert [(items[k]["a"]["count"], items[k]["b"]["count"]) for k in (R, A, S47, C)] == \
        [(10, 10), (10, "c"), (0, "c"), (10, 10)]
    assert items[(R, S47)]["b"]["count"] == items[(S47, C)]["b"]["count"] == "c"
    assert items[R]["a"]["rate"] == 100.0  # 10 shown referrals per 100 of 10 shown children
    assert got["shifts"] == []  # nothing shown changed beyond chance


def test_the_checker_fails_a_run_that_shows_a_small_count(teams_path, tmp_path, monkeypatch):
    """With protection switched off by mistake, the checker still stops every output: the
    DOT and SVG before they take their names, the DOT a PNG is drawn from, the JSON."""
    import cscmining.cli.compare as command

    monkeypatch.setattr(command, "protect_comparison", lambda comparison, *_, **__: comparison)
    for name in ("c.dot", "c.svg", "c.png"):
        result = run("compare", teams_path, *TEAMS, "--disclosure", "standard",
                     "-o", tmp_path / name)
        assert isinstance(result.exception, DisclosureError), name
        assert "SMALL_COUNT" in {f.rule for f in result.exception.findings}
    result = run("compare", teams_path, *TEAMS, "--disclosure", "standard", "--json")
    assert isinstance(result.exception, DisclosureError) and result.stdout == ""
    assert "SMALL_COUNT" in {f.rule for f in result.exception.findings}
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("before, after, rule", [
    ('label="12 → c", color="#9A9A9A"', 'label="12 → 3", color="#9A9A9A"', "SMALL_COUNT"),
    ('label="12 → c", color="#9A9A9A", penwidth=1.0', 'label="12 → c", color="#9A9A9A", '
     'penwidth=4.0', "SUPPRESSED_STYLE"),
])
def test_the_checker_reads_both_counts_of_a_delta_map_label(teams_path, tmp_path, before,
                                                             after, rule):
    out = tmp_path / "c.dot"
    ok("compare", teams_path, *TEAMS, "--disclosure", "standard", "-o", out)
    dot = out.read_text(encoding="utf-8")
    assert check_text(dot, STANDARD, kind="dot") == []
    assert before in dot
    findings = check_text(dot.replace(before, after, 1), STANDARD, kind="dot")
    assert [f.rule for f in findings] == [rule]


def test_share_folder_takes_standard_and_refuses_none(teams_path, tmp_path, monkeypatch):
    share = tmp_path / "share"
    share.mkdir()
    monkeypatch.setenv(SHARE_DIR_ENV, str(share))
    code, _, err = run_cli("compare", teams_path, *TEAMS, "--disclosure", "standard",
                           "-o", share / "teams.svg")
    assert code == 0 and "checked" in err and (share / "teams.svg").exists()
    for args in ((), ("--disclosure", "none")):
        code, _, err = run_cli("compare", teams_path, *TEAMS, *args, "-o", share / "raw.svg")
        assert code == 2 and "INTERNAL_IN_SHARE_DIR" in err and err.count("\n") == 1
    assert sorted(p.name for p in share.iterdir()) == ["teams.svg"]


@pytest.mark.parametrize("level", ["standard", "strict"])
def test_samples_at_a_shareable_level(tmp_path, level):
    inputs = [SAMPLES / "cin_census_2025.xml", SAMPLES / "ssda903_2025",
              SAMPLES / "annex_a_2025.xlsx"]
    policy = Policy.from_name(level)
    ids = load(inputs).frame["case:concept:name"].astype(str).unique()
    for name in ("c.svg", "c.dot"):
        ok("-q", "compare", *inputs, "--split-date", "2024-10-01", "--paths", "30",
           "--disclosure", level, "-o", tmp_path / name)
        check_file(tmp_path / name, policy, forbidden_ids=ids)
    text = ok("-q", "compare", *inputs, "--split-date", "2024-10-01", "--disclosure", level,
              "--json").stdout
    assert check_text(text, policy, kind="json", forbidden_ids=ids) == []
    got = json.loads(text)
    assert got["a"]["window"] == {"from": "2024-04", "to": "2024-09"}
    counts = [m["count"] for d in (*got["stages"], *got["edges"]) for m in (d["a"], d["b"])]
    assert "c" in counts and all(n == "c" or n == 0 or n >= policy.threshold for n in counts)
    if level == "strict":
        assert all(n == "c" or n % 5 == 0 for n in counts)
    assert "Disclosure control" in (tmp_path / "c.svg").read_text(encoding="utf-8")
