"""``cscmining variants | stuck | timescales`` through the click CLI on a small event log."""

from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

import cscmining.cli.analyse  # noqa: F401  (registers the commands)
from cscmining.cli import cli
from cscmining.errors import UsageError
from cscmining.eventlog import from_records, write_event_log
from cscmining.ingest import load
from cscmining.timescales import stuck, timescale_trend
from cscmining.variants import variants

RECORDS = [
    ("a", "Referral", "2024-01-02"), ("a", "Assessment start", "2024-01-03"),
    ("a", "Assessment authorised", "2024-02-01"), ("a", "Case closed", "2024-02-10"),
    ("b", "Referral", "2024-01-02"), ("b", "Assessment start", "2024-01-03"),
    ("b", "Assessment authorised", "2024-05-01"), ("b", "Case closed", "2024-05-10"),
    ("c", "Referral", "2024-03-01"), ("c", "S47 enquiry", "2024-03-04"),
    ("d", "Referral", "2024-03-01"), ("d", "S47 enquiry", "2024-03-04"),
    ("e", "Referral", "2024-06-03"), ("e", "Looked after start", "2024-06-04"),
    ("e", "CLA review", "2024-06-20"), ("e", "CLA review", "2024-09-20"),
    ("e", "CLA review", "2024-12-20"),
    ("f", "Referral", "2024-09-02"), ("f", "Looked after start", "2024-09-03"),
]
TEAMS = {"a": "North", "b": "North", "c": "South", "d": "North", "e": "South", "f": "North"}
NOT_REQUIRED = {"d"}


@pytest.fixture
def log_path(tmp_path):
    attributes = [{"team": TEAMS[c],
                   "icpc_not_required": "true" if c in NOT_REQUIRED and a == "S47 enquiry"
                   else "false"} for c, a, _ in RECORDS]
    log = from_records(RECORDS, as_at="2024-12-31", attributes=attributes)
    return write_event_log(log, tmp_path / "log.parquet")


def run(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env or {"COLUMNS": "120"},
                                catch_exceptions=True)
    return result


def ok(*args, env=None):
    result = run(*args, env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


# ---------------------------------------------------------------------------------------
# --json prints what the library returns


def test_variants_json_is_the_library_result(log_path):
    out = json.loads(ok("variants", log_path, "--json", "--top", "3", "--collapse").stdout)
    assert out == variants(load([log_path]), collapse=True, top=3).to_dict()
    assert out["cases"] == 6 and len(out["variants"]) == 3
    assert set(out["variants"][0]) >= {"activities", "count", "share", "median_days"}


def test_stuck_json_is_the_library_result(log_path):
    out = json.loads(ok("stuck", log_path, "--json").stdout)
    assert out == stuck(load([log_path])).to_dict()
    # c's S47 (no ICPC) and f's first CLA review; d's S47 needed no conference
    assert [(e["case"], e["rule"]) for e in out["stuck"]] == [
        ("c", "icpc"), ("f", "first_cla_review")]
    assert out["as_at"] == "2024-12-31"


def test_timescales_json_is_the_library_result(log_path):
    out = json.loads(ok("timescales", log_path, "--json", "--by", "quarter").stdout)
    assert out == timescale_trend(load([log_path]), by="quarter").to_dict()
    assessment = out["rules"][0]
    assert (assessment["name"], assessment["met"], assessment["breached"]) == ("assessment", 1, 1)
    assert [p["period"] for p in assessment["periods"]] == ["2024-Q1"]


# ---------------------------------------------------------------------------------------
# Options


def test_as_at_rule_and_csv(log_path, tmp_path):
    # as at 22 Mar 2024 only c's S47 (4 Mar) has waited over 15 working days: Tue 5 Mar is
    # day 1, Mon 25 Mar day 15; so at Mon 25 it is not stuck, at Tue 26 it is
    early = json.loads(ok("stuck", log_path, "--as-at", "2024-03-25", "--json").stdout)
    assert [e["rule"] for e in early["stuck"]] == ["assessment"]
    later = json.loads(ok("stuck", log_path, "--as-at", "2024-03-26", "--rule", "icpc",
                          "--json").stdout)
    assert [(e["case"], e["elapsed"], e["limit"]) for e in later["stuck"]] == [("c", 16, 15)]
    assert later["children"] == {"icpc": 1}

    csv = tmp_path / "stuck.csv"
    result = ok("stuck", log_path, "--csv", csv)
    assert csv.read_text().splitlines()[0] == (
        "case,rule,from,to,since,due,elapsed,limit,unit,elapsed_days")
    assert "wrote" in result.stderr and "wrote" not in result.stdout


def test_unknown_rule_lists_the_known_ones(log_path):
    result = run("stuck", log_path, "--rule", "nope")
    assert isinstance(result.exception, UsageError)
    assert "assessment, icpc, first_cp_review, first_cla_review" in str(result.exception)


def test_where_filters_children(log_path):
    out = json.loads(ok("stuck", log_path, "--where", "team=South", "--json").stdout)
    assert [e["case"] for e in out["stuck"]] == ["c"]
    counted = json.loads(ok("variants", log_path, "--where", "team=North", "--json").stdout)
    assert counted["cases"] == 4


def test_period_filter(log_path):
    out = json.loads(ok("variants", log_path, "--from", "2024-06-01", "--json").stdout)
    assert out["cases"] == 4  # e and f start after; c and d are still open (not closed)


def test_summary_level_for_variants_but_not_for_timescales(log_path):
    out = json.loads(ok("variants", log_path, "--level", "summary", "--json").stdout)
    assert out["variants"][0]["activities"][0] == "Front door"
    result = run("timescales", log_path, "--level", "summary")
    assert isinstance(result.exception, UsageError)


# ---------------------------------------------------------------------------------------
# Tables


def test_tables_render_and_fit_80_columns(log_path):
    env = {"COLUMNS": "80", "NO_COLOR": "1", "FORCE_COLOR": "1"}
    for args in (["variants"], ["stuck"], ["timescales", "--by", "quarter"]):
        out = ok(args[0], log_path, *args[1:], env=env).stdout
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert max(len(line) for line in plain.splitlines()) <= 80, plain
        assert not re.search(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])m", out), "colour despite NO_COLOR"
    table = re.sub(r"\x1b\[[0-9;]*m", "", ok("variants", log_path, "--collapse", env=env).stdout)
    assert "CLA review ×3" in table.replace("\u00a0", " ")
    assert "Journey variants" in table


def test_stuck_table_lists_children_and_counts(log_path):
    out = ok("stuck", log_path).stdout
    assert "first_cla_review" in out and "working days" in out
    assert "Children stuck, per rule" in out


def test_as_at_earlier_than_data_and_bad_dates(log_path):
    out = json.loads(ok("timescales", log_path, "--as-at", "2024-02-15", "--json").stdout)
    assert out["as_at"] == date(2024, 2, 15).isoformat()
    assert out["rules"][0]["open"] == 1  # b's assessment: authorised later, open then
    assert run("stuck", log_path, "--as-at", "15/02/2024").exit_code == 2


# ---------------------------------------------------------------------------------------
# Rendering helpers


def test_paths_wrap_between_steps_only():
    from cscmining.render.terminal import pack_steps

    steps = ["Referral", "Assessment start", "Assessment authorised", "Case closed"]
    assert pack_steps(steps, None) == "Referral → Assessment start → Assessment authorised → " \
        "Case closed"
    assert pack_steps(steps, 32).splitlines() == [
        "Referral → Assessment start →", "Assessment authorised →", "Case closed"]
    assert all(len(line) <= 24 for line in pack_steps(steps, 24).splitlines())


def test_stuck_table_keeps_to_the_longest_waits(log_path):
    from rich.console import Console

    from cscmining.render.terminal import stuck_table

    console = Console(width=100, record=True, file=io.StringIO())
    console.print(stuck_table(stuck(load([log_path])), top=1))
    text = console.export_text()
    assert "│ c " in text and "│ f " not in text
    assert "The 1 longest of 2 stuck waits" in text


def test_stuck_csv_defuses_formula_like_child_ids(tmp_path):
    """A child id is the LA's own text: one starting with ``=`` must not run as a formula
    when the analyst opens ``stuck --csv`` in a spreadsheet (T-SEC-05)."""
    log = from_records([(case, "S47 enquiry", "2024-03-04") for case in ("=HYPERLINK(1)", "+44", "ok")],
                       as_at="2024-12-31")
    path = write_event_log(log, tmp_path / "log.parquet")
    csv = tmp_path / "stuck.csv"
    ok("stuck", path, "--csv", csv)
    cases = sorted(line.split(",")[0] for line in csv.read_text().splitlines()[1:])
    assert cases == ["'+44", "'=HYPERLINK(1)", "ok"]
