"""``cscmining report``, and ``--disclosure`` on ``map`` and ``bottlenecks``, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cscmining.cli as cli_module
from cscmining import disclosure as sdc
from cscmining.cli import cli
from cscmining.demo import run_demo, sample_inputs
from cscmining.disclosure import STANDARD, STRICT
from cscmining.eventlog import from_records, write_event_log
from cscmining.ingest import build_event_log

SAMPLES = Path(__file__).parents[1] / "samples"
R, A, AA, C = "Referral", "Assessment start", "Assessment authorised", "Case closed"

cli_module._register()


@pytest.fixture(scope="module")
def log_path(tmp_path_factory) -> Path:
    """30 children referral → assessment → closed, 4 straight to closed, 2 still open."""
    records = []
    for i in range(36):
        steps = [R, A, AA, C] if i < 30 else [R, C] if i < 34 else [R, A]
        records += [(f"kid{i:03d}", s, f"2024-0{4 + j}-1{i % 9}") for j, s in enumerate(steps)]
    folder = tmp_path_factory.mktemp("log")
    return write_event_log(from_records(records, as_at="2025-03-31"), folder / "log.parquet")


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"COLUMNS": "140"})


def ok(*args: object):
    result = run(*args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_report_writes_a_standard_page_by_default(log_path, tmp_path):
    out = tmp_path / "reports" / "year.html"
    result = ok("report", log_path, "-o", out)
    text = out.read_text(encoding="utf-8")
    assert STANDARD.describe() in text
    assert "checked" in result.stderr
    assert sdc.check_text(text, STANDARD, kind="html", forbidden_ids=["kid000", "kid035"],
                          allowed_dates=[sdc.date(2025, 3, 31)]) == []


def test_report_strict_and_its_options(log_path, tmp_path):
    out = tmp_path / "strict.html"
    ok("report", log_path, "-o", out, "--disclosure", "strict", "--by", "month",
       "--from", "2024-04-01", "--to", "2025-03-31")
    text = out.read_text(encoding="utf-8")
    assert STRICT.describe() in text and "active 2024-04 to 2025-03" in text
    assert sdc.check_text(text, STRICT, kind="html") == []


@pytest.mark.parametrize("args, said", [
    (["-o", "report.pdf"], "written as .html"),
    (["-o", "r.html", "--where", "team"], "KEY=VALUE"),
    (["-o", "r.html", "--disclosure", "loose"], "loose"),
])
def test_report_refuses_bad_options(log_path, tmp_path, capsys, args, said):
    argv = [str(tmp_path / a) if a.endswith(("html", "pdf")) else a for a in args]
    with pytest.raises(SystemExit) as stopped:
        cli_module.main(["report", str(log_path), *argv])
    assert stopped.value.code == 2 and said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_report_is_replaced_only_with_force(log_path, tmp_path, capsys):
    out = tmp_path / "r.html"
    out.write_text("mine", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        cli_module.main(["report", str(log_path), "-o", str(out)])
    assert stopped.value.code == 2 and "--force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "mine"
    ok("report", log_path, "-o", out, "--force")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_report_naming_a_child_fails_and_is_not_written(log_path, tmp_path):
    """A filter on one child's id prints that id in the page: the checker stops the run."""
    out = tmp_path / "one.html"
    result = CliRunner().invoke(cli, ["report", str(log_path), "-o", str(out),
                                      "--where", "case:concept:name=kid007"])
    assert result.exit_code != 0
    assert isinstance(result.exception, sdc.DisclosureError)
    assert "an input child id" in str(result.exception)
    assert "kid007" not in str(result.exception)
    assert list(tmp_path.iterdir()) == []


def test_the_main_entry_point_exits_2_on_a_disclosure_failure(log_path, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli_module.main(["report", str(log_path), "-o", str(tmp_path / "x.html"),
                         "--where", "case:concept:name=kid007"])
    assert stopped.value.code == 2
    assert "must not be shared" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


# ---------------------------------------------------------------------------------------
# map and bottlenecks


def test_map_at_standard_shows_c_and_is_checked(log_path, tmp_path):
    out = tmp_path / "map.svg"
    result = ok("map", log_path, "-o", out, "--disclosure", "standard")
    svg = out.read_text(encoding="utf-8")
    assert "checked" in result.stderr
    assert sdc.check_text(svg, STANDARD, kind="svg", allowed_dates=[sdc.date(2025, 3, 31)]) == []
    texts = {p.text for p in sdc.count_positions(svg, "svg")}
    assert "c" in texts and "30" in texts and "4" not in texts and "2" not in texts


def test_map_without_disclosure_is_the_analysts_map(log_path, tmp_path):
    ok("map", log_path, "-o", tmp_path / "m.dot")
    dot = (tmp_path / "m.dot").read_text(encoding="utf-8")
    assert "36 children" in dot and "2 waiting now" in dot


@pytest.mark.parametrize("suffix", [".png", ".dot"])
def test_map_formats_at_strict(log_path, tmp_path, suffix):
    ok("map", log_path, "-o", tmp_path / f"m{suffix}", "--disclosure", "strict",
       "--level", "summary")
    if suffix == ".dot":
        assert sdc.check_text((tmp_path / "m.dot").read_text(encoding="utf-8"), STRICT,
                              kind="dot") == []


def _counts(value, key=None):
    """Every count in a JSON document, by the checker's rule for keys."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _counts(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _counts(v, key)
    elif isinstance(value, int) and not isinstance(value, bool) and sdc._is_count_name(key or ""):
        yield value
    elif value == "c":
        yield value


@pytest.mark.parametrize("command", ["map", "bottlenecks"])
def test_json_at_strict_holds_only_c_zero_or_multiples_of_five(log_path, command):
    data = json.loads(ok(command, log_path, "--json", "--disclosure", "strict").stdout)
    counts = list(_counts(data))
    assert counts and all(v in ("c", 0) or (v >= 10 and v % 5 == 0) for v in counts)
    assert data["disclosure"] == "strict"


def test_bottlenecks_table_at_standard(log_path):
    out = ok("bottlenecks", log_path, "--disclosure", "standard").stdout
    assert "Disclosure control: standard" in out


# ---------------------------------------------------------------------------------------
# The demo


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the committed samples folder is missing")
def test_the_demo_writes_a_checked_report(tmp_path):
    result = run_demo(SAMPLES, tmp_path / "demo")
    assert result.report.path == tmp_path / "demo" / "report.html"
    assert result.report.path in result.written
    log, _ = build_event_log(sample_inputs(SAMPLES))
    ids = set(log.frame["case:concept:name"].astype(str))
    sdc.check_file(result.report.path, STANDARD, forbidden_ids=ids, allowed_dates=[log.as_at])


def test_report_with_a_comparison_section_for_the_analyst(tmp_path: Path) -> None:
    """`report --split-date` at --disclosure none: every number, dates to the day (the
    shareable levels: `test_report_compare.py`)."""
    inputs = [SAMPLES / "cin_census_2025.xml", SAMPLES / "ssda903_2025"]
    ok("report", *inputs, "-o", tmp_path / "b.html", "--split-date", "2024-10-01",
       "--disclosure", "none")
    page = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert '<section id="comparison">' in page and "What changed: Before and after 1 Oct 2024" in page
