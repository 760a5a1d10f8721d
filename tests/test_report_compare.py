"""The report's comparison section under disclosure control, and cross-output differencing.

Small cohorts with counts worked out by hand: what a side shows at standard (a 3 is ``c``
and every change beside it is ``c``) and at strict (rounded to 5, a count the sums would
give away hidden too, the report's all-children map included in those sums); the checker
catching a tampered comparison cell; T-SDC-10 (a filter that leaves out a few children is
refused at shareable levels).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cscmining import disclosure as sdc
from cscmining.compare import Comparison, Delta, Measure, Side, change_text, compare, count_change
from cscmining.disclosure import STANDARD, STRICT, SUPPRESSED
from cscmining.discover import process_map
from cscmining.errors import UsageError
from cscmining.eventlog import from_records, write_event_log
from cscmining.protected import ProtectedMap, protect_comparison
from cscmining.report import write_report

from reading_support import run_cli

SAMPLES = Path(__file__).parents[1] / "samples"
R, A, C = "Referral", "Assessment start", "Case closed"
WINDOW = (date(2024, 4, 1), date(2025, 3, 31))


def _cohorts(south_short: int = 3, south_full: int = 12):
    """North: 30 children referral → assessment → closed. South: ``south_full`` the same way
    and ``south_short`` straight from referral to closed. At summary level: Front door,
    Assessment, Closed."""
    records, attributes = [], []
    for prefix, n, team, steps in (("kn", 30, "North", [R, A, C]), ("ks", south_full, "South", [R, A, C]),
                                   ("kt", south_short, "South", [R, C])):
        for i in range(n):
            for j, step in enumerate(steps):
                records.append((f"{prefix}{i:02d}", step, f"2024-0{4 + j}-1{i % 9}"))
                attributes.append({"team": team})
    return from_records(records, as_at="2025-03-31", attributes=attributes)


def _by_key(comparison: Comparison) -> dict[tuple[str, ...], Delta]:
    return {d.key: d for d in (*comparison.stages, *comparison.edges)}


def test_standard_shows_a_three_as_c_and_every_change_beside_it_as_c() -> None:
    log = _cohorts()
    raw = compare(log, where=[("team", "North")], vs=[("team", "South")], level="summary")
    shown = _by_key(protect_comparison(raw, STANDARD, whole=process_map(log, level="summary")))
    short = shown[("Front door", "Closed")]  # North 0, South 3 children
    assert (short.a.count, short.b.count, short.b.cases) == (0, SUPPRESSED, SUPPRESSED)
    assert short.b.median_days == SUPPRESSED and short.volume_step == 0
    assert count_change(short) == change_text(short, "volume") == SUPPRESSED
    door = shown[("Front door",)]  # 30 and 15 visits; per 100 children: 100 and 100
    assert (door.a.count, door.b.count, count_change(door)) == (30, 15, "−15")
    assert (door.a.rate, door.b.rate, change_text(door, "volume")) == (100.0, 100.0, "0%")
    assessed = shown[("Front door", "Assessment")]  # 30 days each, 30 and 12 children
    assert (assessed.a.median_days, assessed.b.median_days) == (30, 30)


def _hand_made() -> Comparison:
    """Side A: 40 children, stages X 58 and Y 42 (100 events); side B: 20 children, X 3 and
    Y 47 (50 events); the move X → Y 30 (A) and 3 (B)."""
    def side(name: str, children: int, events: int) -> Side:
        return Side(name, name, children, events, WINDOW, 100 / children, child_days=900.0)

    def measure(n: int, unit: float, median: float) -> Measure:
        return Measure(count=n, cases=n, timed=n, median_days=median, rate=n * unit)

    def delta(kind, key, a, b):
        return Delta(kind, key, tuple(f"n{i}" for i in range(len(key))), a, b, 0, None)

    a, b = side("A", 40, 100), side("B", 20, 50)
    return Comparison(
        mode="cohort", level="summary", per="children", as_at=WINDOW[1], split_date=None,
        a=a, b=b, overlap=0, shifts=(),
        stages=(delta("stage", ("X",), measure(58, a.unit, 10.0), measure(3, b.unit, 4.0)),
                delta("stage", ("Y",), measure(42, a.unit, 20.0), measure(47, b.unit, 21.0))),
        edges=(delta("edge", ("X", "Y"), measure(30, a.unit, 12.0), measure(3, b.unit, 5.0)),),
    )


def test_strict_rounds_to_five_and_hides_what_the_side_total_gives_away() -> None:
    """B's X (3) is c; B's events (50) = X + Y would give it away from Y (47 → 45), so Y,
    the smaller shown term, is hidden too. A's counts round: 58 → 60, 42 → 40."""
    shown = protect_comparison(_hand_made(), STRICT)
    x, y = shown.stages
    assert (x.a.count, x.b.count, y.a.count, y.b.count) == (60, SUPPRESSED, 40, SUPPRESSED)
    assert (shown.a.children, shown.a.events, shown.b.children, shown.b.events) == (40, 100, 20, 50)
    assert count_change(y) == change_text(y, "volume") == SUPPRESSED
    assert y.b.median_days == SUPPRESSED and y.a.median_days == 20  # whole days from 40
    assert shown.a.rate(60) == 150.0  # per 100 *shown* children
    assert shown.months and shown.heading == "A: A   vs   B: B"


def test_at_standard_the_same_counts_are_only_primary_suppressed() -> None:
    """Standard has no secondary suppression (SPEC §6): Y stays shown, unrounded."""
    x, y = protect_comparison(_hand_made(), STANDARD).stages
    assert (x.a.count, x.b.count, y.a.count, y.b.count) == (58, SUPPRESSED, 42, 47)
    # per 100 children: A 42 × 100 / 40 = 105, B 47 × 100 / 20 = 235: +124%
    assert (count_change(y), change_text(y, "volume")) == ("+5", "+124%")


def test_strict_a_plus_b_equals_the_all_children_map() -> None:
    """North and South cover every child, so North + South = the report's map at each
    stage and move: nothing hidden on either side or on the map may be worked out as
    total − other side, or as the sum of two shown sides."""
    log = _cohorts()
    whole = process_map(log, level="summary")
    on_map = ProtectedMap.of(whole, STRICT)
    raw = compare(log, where=[("team", "North")], vs=[("team", "South")], level="summary")
    shown = protect_comparison(raw, STRICT, whole=whole)
    for delta in (*shown.stages, *shown.edges):
        total = (on_map.nodes[delta.key[0]].events if delta.kind == "stage"
                 else on_map.edges[delta.key].count)
        terms = [delta.a.count, delta.b.count, total]
        assert terms.count(SUPPRESSED) != 1, delta.key  # one c among three: derivable
    # the map hides Front door → Assessment (42 moves) at strict: North 30 and South 12
    # would add up to it, so one side is hidden; South's 3 straight to closed are c
    by_key = _by_key(shown)
    assert on_map.edges[("Front door", "Assessment")].count == SUPPRESSED
    assert SUPPRESSED in (by_key[("Front door", "Assessment")].a.count,
                          by_key[("Front door", "Assessment")].b.count)
    assert by_key[("Front door", "Closed")].b.count == SUPPRESSED
    assert (shown.a.children, shown.b.children) == (30, 15)


@pytest.fixture(scope="module")
def cohort_report(tmp_path_factory) -> str:
    """The report of `_cohorts` at standard with North against South."""
    log = _cohorts()
    path = tmp_path_factory.mktemp("report") / "r.html"
    comparison = compare(log, where=[("team", "North")], vs=[("team", "South")],
                         level="summary")
    write_report(log, path, comparison=comparison)
    return path.read_text(encoding="utf-8")


def _section(page: str) -> str:
    return page.split('<section id="comparison">', 1)[1].split("</section>", 1)[0]


def test_the_section_shows_protected_counts_in_count_positions(cohort_report: str) -> None:
    section = _section(cohort_report)
    positions = [p.text for p in sdc.count_positions(section, "html")]
    # the one c: the delta map's Front door → Closed (North 0, South 3) reads 0 → c; the
    # stage table's totals are the sides' visits, 90 and 42
    assert positions.count(SUPPRESSED) == 1 and "90" in positions and "42" in positions
    assert "0 → c" in section and "title=" not in section.split("<svg", 1)[1]
    assert sdc.check_text(cohort_report, STANDARD, kind="html",
                          allowed_dates=[date(2025, 3, 31)]) == []


@pytest.mark.parametrize("tamper", [
    ("0 → c", "0 → 3"),  # a delta map label
    ('<td>Assessment</td><td class="num">30</td><td class="num">12</td>',
     '<td>Assessment</td><td class="num">30</td><td class="num">3</td>'),  # the stage table
])
def test_the_checker_catches_a_tampered_comparison_cell(cohort_report: str, tamper) -> None:
    before, after = tamper
    assert before in cohort_report
    tampered = cohort_report.replace(before, after, 1)
    findings = sdc.check_text(tampered, STANDARD, kind="html",
                              allowed_dates=[date(2025, 3, 31)])
    assert [f.rule for f in findings] == ["SMALL_COUNT"]


def test_a_hidden_line_is_drawn_like_every_hidden_one(cohort_report: str) -> None:
    """Fed a delta map whose c line is drawn wide, the checker objects (SDC-11)."""
    group = cohort_report[:cohort_report.index("0 → c")].rsplit('class="edge">', 1)[1]
    line = group[group.index("<path"):].split(">", 1)[0]
    assert "stroke-width" not in line  # drawn at the suppressed width
    tampered = cohort_report.replace(line, line.replace("<path ", '<path stroke-width="4" '))
    rules = {f.rule for f in sdc.check_text(tampered, STANDARD, kind="html",
                                            allowed_dates=[date(2025, 3, 31)])}
    assert "SUPPRESSED_STYLE" in rules


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the committed samples folder is missing")
@pytest.mark.parametrize("level", ["standard", "strict"])
def test_report_with_a_split_date_at_a_shareable_level(tmp_path: Path, level: str) -> None:
    inputs = [SAMPLES / "cin_census_2025.xml", SAMPLES / "ssda903_2025"]
    out = tmp_path / "change.html"
    code, _, err = run_cli("report", *inputs, "-o", out, "--split-date", "2024-10-01",
                           "--disclosure", level)
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert '<section id="comparison">' in page and "What changed: Before and after" in page
    policy = sdc.Policy.from_name(level)
    sdc.check_file(out, policy, allowed_dates=[date(2025, 3, 31), date(2024, 10, 1)])


def test_a_filter_that_leaves_out_a_few_children_is_refused(tmp_path: Path) -> None:
    """T-SDC-10: with North 30 children and South 3, a strict "North only" report beside one
    for all children would give South's 3 away by subtraction (33 - 30), though each report
    alone shows nothing below K. Refused at strict (secondary suppression's level); the
    message names the filter, never a count. Standard (inside the LA) and none write it."""
    few = _cohorts(south_short=3, south_full=0)
    log = write_event_log(few, tmp_path / "log.parquet")
    out = tmp_path / "north.html"
    code, _, err = run_cli("report", log, "-o", out, "--where", "team=North", "--disclosure", "strict")
    assert code == 2 and "fewer than 10 children" in err and "differencing" in err
    assert "(team = North)" in err and not out.exists()
    assert not any(str(n) in err for n in (3, 30, 33))
    with pytest.raises(UsageError, match="fewer than 10 children"):
        write_report(few, out, where=[("team", "North")], disclosure="strict")
    for level in ("standard", "none"):
        write_report(few, tmp_path / f"{level}.html", where=[("team", "North")], disclosure=level)
        assert (tmp_path / f"{level}.html").exists()


def test_a_filter_whose_complement_is_large_or_empty_passes(tmp_path: Path) -> None:
    """South's 12 left out of North's report: at least K at every count, so no refusal;
    South's own report leaves out North's 30."""
    log = _cohorts(south_short=0, south_full=12)
    write_report(log, tmp_path / "north.html", where=[("team", "North")])
    write_report(log, tmp_path / "south.html", where=[("team", "South")], disclosure="strict")
    assert (tmp_path / "north.html").exists() and (tmp_path / "south.html").exists()
