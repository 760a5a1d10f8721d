"""Comparisons on hand-worked logs: periods, cohorts, rates, steps, ranking, maps, determinism."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from cscmining.compare import (
    MONTH_DAYS,
    NOISE_Z,
    Measure,
    compare,
    duration_step,
    simplify,
    step,
    volume_step,
)
from cscmining.disclosure import STANDARD
from cscmining.discover import process_map
from cscmining.errors import UsageError
from cscmining.eventlog import from_records
from cscmining.render.compare_table import COLUMNS, shift_rows, shifts_table
from cscmining.render.delta import FILL, LINE, comparison_svg, step_labels, to_dot
from cscmining.render.dot import quote, render
from cscmining.vocabulary import Activity, load_vocabulary

R, A, AA, C = "Referral", "Assessment start", "Assessment authorised", "Case closed"
S47, ICPC = "S47 enquiry", "ICPC"

# ---------------------------------------------------------------------------------------
# Periods: split 1 Mar 2024, events 1 Jan to 30 Apr 2024, as at 30 Jun 2024 (2024 is leap)
#
# c1: R 10 Jan, A 12 Jan, AA 20 Feb | C 5 Mar       before: R, A, AA; after: C
# c2: R 26 Feb | A 4 Mar, AA 10 Apr (open)          before: R; after: A, AA
# c3: | R 10 Mar, A 11 Mar, AA 25 Mar, C 2 Apr      after: all four
# c4: R 1 Nov, A 3 Nov (before --from) C 15 Jan     before: C only (its moves start earlier)
# c5: | R 20 Apr, A 10 May (after --to, open)       after: R; A is only the bridge
#
# Moves count in the period of their first event, with their full duration:
#   before  R→A: c1 12−10 = 2 d, c2 26 Feb→4 Mar = 3 + 4 = 7 d (crosses the split)
#           A→AA: c1 12 Jan→20 Feb = 19 + 20 = 39 d;  AA→C: c1 20 Feb→5 Mar = 9 + 5 = 14 d
#   after   R→A: c3 1 d, c5 20 Apr→10 May = 10 + 10 = 20 d (ends after --to)
#           A→AA: c2 4 Mar→10 Apr = 27 + 10 = 37 d, c3 11→25 Mar = 14 d; AA→C: c3 25 Mar→2 Apr 8 d
# Children active in the window (span overlaps it; open journeys run to the as-at date):
#   before [1 Jan, 29 Feb]: c1, c2, c4 = 3;  after [1 Mar, 30 Apr]: c1, c2, c3, c5 = 4
PERIOD = [
    ("c1", R, "2024-01-10"), ("c1", A, "2024-01-12"), ("c1", AA, "2024-02-20"),
    ("c1", C, "2024-03-05"),
    ("c2", R, "2024-02-26"), ("c2", A, "2024-03-04"), ("c2", AA, "2024-04-10"),
    ("c3", R, "2024-03-10"), ("c3", A, "2024-03-11"), ("c3", AA, "2024-03-25"),
    ("c3", C, "2024-04-02"),
    ("c4", R, "2023-11-01"), ("c4", A, "2023-11-03"), ("c4", C, "2024-01-15"),
    ("c5", R, "2024-04-20"), ("c5", A, "2024-05-10"),
]
SPLIT, FROM, TO = date(2024, 3, 1), date(2024, 1, 1), date(2024, 4, 30)


@pytest.fixture(scope="module")
def period_log():
    return from_records(PERIOD, as_at="2024-06-30")


@pytest.fixture(scope="module")
def periods(period_log):
    return compare(period_log, split_date=SPLIT, start=FROM, end=TO, per="children")


def _measures(deltas):
    return {d.key: (d.a.count, d.a.median_days, d.b.count, d.b.median_days) for d in deltas}


def test_period_sides(periods):
    a, b = periods.a, periods.b
    assert (a.name, a.window, a.children, a.events) == ("before", (FROM, date(2024, 2, 29)), 3, 5)
    assert (b.name, b.window, b.children, b.events) == ("after", (SPLIT, TO), 4, 8)
    assert periods.overlap == 2  # c1 and c2 span the split
    assert (a.window_days, b.window_days) == (60, 61)  # 31 + 29; 31 + 30
    assert periods.mode == "period" and periods.heading == "Before and after 1 Mar 2024"


def test_period_moves_count_where_they_start(periods):
    assert _measures(periods.edges) == {
        (R, A): (2, 4.5, 2, 10.5),     # before [2, 7] → 4.5; after [1, 20] → 10.5
        (A, AA): (1, 39.0, 2, 25.5),   # after [14, 37] → 25.5
        (AA, C): (1, 14.0, 1, 8.0),
    }


def test_period_stages_count_their_own_events(periods):
    # events in each window; the median is to the child's next step (bridges included):
    #   before R: c1 2 d, c2 7 d → 4.5; A: c1 39; AA: c1 14; C (c4): no next step
    #   after R: c3 1, c5 20 → 10.5; A: c2 37, c3 14 → 25.5; AA: c3 8 (c2 open); C: none
    assert _measures(periods.stages) == {
        (R,): (2, 4.5, 2, 10.5), (A,): (1, 39.0, 2, 25.5), (AA,): (1, 14.0, 2, 8.0),
        (C,): (1, None, 2, None),
    }
    aa = next(d for d in periods.stages if d.key == (AA,))
    assert (aa.a.timed, aa.b.timed) == (1, 1)  # c2's authorisation has no next step yet


def test_rates_per_100_children(periods):
    # before 3 children: 100 / 3 per event; after 4: 25 per event
    r_a = next(d for d in periods.edges if d.key == (R, A))
    assert r_a.a.rate == pytest.approx(200 / 3) and r_a.b.rate == 50.0
    assert r_a.rate_change == pytest.approx(50 - 200 / 3)
    assert r_a.rate_share == pytest.approx(-0.25)      # 50 / 66.7 − 1
    assert r_a.median_change == 6.0                    # 10.5 − 4.5
    assert r_a.volume_step == 0                        # 2 against 2: well within chance
    assert r_a.duration_step is None                   # under 5 timed moves a side


def test_rates_per_month_are_the_period_default(period_log):
    c = compare(period_log, split_date=SPLIT, start=FROM, end=TO)
    assert c.per == "month" and c.rate_words == "a month"
    r = next(d for d in c.stages if d.key == (R,))
    assert r.a.rate == pytest.approx(2 * MONTH_DAYS / 60)   # 2 referrals in 60 days
    assert r.b.rate == pytest.approx(2 * MONTH_DAYS / 61)   # 2 in 61 days


def test_before_period_is_as_long_as_after_by_default(period_log):
    # after: 1 Mar to 30 Jun = 31 + 30 + 31 + 30 = 122 days; before: the 122 days to 29 Feb
    # run from 31 Oct 2023 (1 + 30 + 31 + 31 + 29 = 122) ...
    earlier = from_records([*PERIOD, ("c0", R, "2023-06-01")], as_at="2024-06-30")
    c = compare(earlier, split_date=SPLIT)
    assert c.b.window == (SPLIT, date(2024, 6, 30))
    assert c.a.window == (date(2023, 10, 31), date(2024, 2, 29))
    assert c.a.window_days == c.b.window_days == 122
    # ... but these data start on 1 Nov 2023: 121 days, within 10% of 122, so no note
    c = compare(period_log, split_date=SPLIT)
    assert c.a.window == (date(2023, 11, 1), date(2024, 2, 29))
    assert not any("differ in length" in n for n in c.notes)


def test_unequal_periods_and_one_sided_stages_get_notes(period_log):
    c = compare(period_log, split_date=SPLIT, start=date(2023, 11, 1), end=TO)  # 121 and 61 d
    assert any("differ in length (17 wk and 8.7 wk)" in n for n in c.notes)
    log = from_records([*PERIOD, ("c6", S47, "2024-03-20")], as_at="2024-06-30")
    c = compare(log, split_date=SPLIT, start=FROM, end=TO)
    assert f"Only after 1 Mar 2024: {S47}." in " ".join(c.notes)
    s47 = next(d for d in c.stages if d.key == (S47,))
    assert s47.status == "new" and s47.a.count == 0 and s47.rate_share is None


def test_summary_visits_stay_in_the_period_they_began():
    # c: S47 25 Feb and ICPC 3 Mar are one Child protection visit from 25 Feb: a before visit
    log = from_records([("c", R, "2024-02-20"), ("c", S47, "2024-02-25"), ("c", ICPC, "2024-03-03"),
                        ("c", C, "2024-03-20")], as_at="2024-04-30")
    detail = compare(log, split_date=SPLIT, start=FROM, end=TO)
    summary = compare(log, split_date=SPLIT, start=FROM, end=TO, level="summary")
    assert _measures(detail.stages)[(ICPC,)][:3:2] == (0, 1)  # the ICPC event is after
    cp = _measures(summary.stages)[("Child protection",)]
    assert (cp[0], cp[2]) == (1, 0)
    # the visit's move to Closed starts on 25 Feb: before, 25 Feb → 20 Mar = 4 + 20 = 24 d
    assert _measures(summary.edges)[("Child protection", "Closed")] == (1, 24.0, 0, None)


# ---------------------------------------------------------------------------------------
# Cohorts: 40 children in team N, 40 in team S (per 100 children = count × 2.5)
#
# N: 40 × R d0, A d2, AA d6, C d14            R→A 2 d, A→AA 4 d, AA→C 8 d
# S: 20 × R d0, A d2, AA d13, C d21           R→A 2 d, A→AA 11 d, AA→C 8 d
#    20 × R d0, S47 d1, C d10                 R→S47 1 d, S47→C 9 d
# Rates per 100 children (A → B): R→A 100 → 50, A→AA 100 → 50, AA→C 100 → 50,
#   R→S47 0 → 50, S47→C 0 → 50; stages R 100 → 100, A 100 → 50, AA 100 → 50, S47 0 → 50,
#   C 100 → 100.
# Totals per 100 children, mean of the sides: moves (300 + 250) / 2 = 275; events
#   (400 + 350) / 2 = 375; child-days N 40 × 14 = 560 → 1,400, S 20 × 21 + 20 × 10 = 620
#   → 1,550, mean 1,475.
# Scores: A→AA duration 7 d × 75 (mean rate) / 1,475 = 0.356; volume 50 / 275 = 0.182 for
#   the four other edges; stages 50 / 375 = 0.133 (A, AA, S47); R and C unchanged.
# Ties by children (40 before 20), then edges before stages, each in stage order:
#   R→A, AA→C (40); R→S47, S47→C (20); stages A, AA (40), S47 (20).


def _journeys(prefix: str, n: int, steps: list[tuple[str, int]], team: str):
    records, attrs = [], []
    for i in range(n):
        for activity, offset in steps:
            records.append((f"{prefix}{i:02d}", activity, date.fromordinal(
                date(2024, 1, 1).toordinal() + i + offset).isoformat()))
            attrs.append({"team": team})
    return records, attrs


def _log(*groups):
    records, attrs = [], []
    for group in groups:
        r, a = _journeys(*group)
        records += r
        attrs += a
    return from_records(records, as_at="2024-12-31", attributes=attrs)


@pytest.fixture(scope="module")
def cohort_log():
    return _log(("n", 40, [(R, 0), (A, 2), (AA, 6), (C, 14)], "N"),
                ("s", 20, [(R, 0), (A, 2), (AA, 13), (C, 21)], "S"),
                ("t", 20, [(R, 0), (S47, 1), (C, 10)], "S"))


@pytest.fixture(scope="module")
def cohorts(cohort_log):
    return compare(cohort_log, where=["team=N"], vs=[("team", "S")])


def test_cohort_rates_and_steps(cohorts):
    assert (cohorts.a.children, cohorts.b.children, cohorts.overlap) == (40, 40, 0)
    assert (cohorts.a.label, cohorts.b.label) == ("team = N", "team = S")
    edges = {d.key: d for d in cohorts.edges}
    assert {k: (d.a.rate, d.b.rate) for k, d in edges.items()} == {
        (R, A): (100, 50), (R, S47): (0, 50), (A, AA): (100, 50), (S47, C): (0, 50),
        (AA, C): (100, 50),
    }
    assert list(edges) == [(R, A), (R, S47), (A, AA), (S47, C), (AA, C)]  # stage order
    assert edges[(R, A)].volume_step == -3       # −50%
    assert edges[(R, S47)].volume_step == 3      # new
    assert edges[(R, S47)].status == "new"
    assert edges[(A, AA)].duration_step == 3     # 4 d → 11 d: +175%
    assert edges[(AA, C)].duration_step == 0     # 8 d → 8 d
    assert edges[(A, AA)].ids == ("n4", "n7")    # the map's ids (vocabulary order)


def test_largest_shifts_ranked_with_reasons(cohorts):
    got = [(s.rank, s.item.where, s.measure, round(s.score, 4)) for s in cohorts.shifts]
    assert got == [
        (1, f"{A} → {AA}", "duration", round(7 * 75 / 1475, 4)),
        (2, f"{R} → {A}", "volume", round(50 / 275, 4)),
        (3, f"{AA} → {C}", "volume", round(50 / 275, 4)),
        (4, f"{R} → {S47}", "volume", round(50 / 275, 4)),
        (5, f"{S47} → {C}", "volume", round(50 / 275, 4)),
        (6, A, "volume", round(50 / 375, 4)),
        (7, AA, "volume", round(50 / 375, 4)),
        (8, S47, "volume", round(50 / 375, 4)),
    ]
    first = cohorts.shifts[0]
    assert first.text == (f"{A} → {AA}: median up from 4 d to 11 d; "
                          "moves down from 100 to 50 per 100 children (−50%)")
    assert cohorts.shifts[3].reasons == ("moves up from none to 50 per 100 children (new)",)
    assert cohorts.shifts[5].reasons == ("events down from 100 to 50 per 100 children (−50%)",)
    assert [s.rank for s in cohorts.largest(2, "duration")] == [1]
    # A→AA also moved 50 per 100 children: by volume it ties with the others, first by rank
    assert [s.rank for s in cohorts.largest(3, "volume")] == [1, 2, 3]


def test_rates_make_unequal_cohorts_comparable():
    # 20 children in N and 40 in S, each R → A → C: per 100 children nothing changed;
    # a month (same window) S is twice as busy
    log = _log(("n", 20, [(R, 0), (A, 1), (C, 5)], "N"), ("s", 40, [(R, 0), (A, 1), (C, 5)], "S"))
    per_child = compare(log, where=["team=N"], vs=["team=S"])
    assert all(d.rate_change == 0 and d.volume_step == 0 for d in per_child.edges)
    assert per_child.shifts == ()
    per_month = compare(log, where=["team=N"], vs=["team=S"], per="month")
    assert all(d.rate_share == pytest.approx(1.0) for d in per_month.edges)
    # spread u·√(20 + 40) = 7.7u, change 20u > 2 × 7.7u: a real change, +100% = step 3
    assert all(d.volume_step == 3 for d in per_month.edges)


def test_cohort_without_window_is_the_map_of_that_cohort(cohort_log, cohorts):
    mapped = process_map(cohort_log, where=["team=S"])
    assert {e.key: (e.count, e.median_days) for e in mapped.edges} == {
        d.key: (d.b.count, d.b.median_days) for d in cohorts.edges if d.b.count}
    assert {n.activity: n.events for n in mapped.nodes} == {
        d.key[0]: d.b.count for d in cohorts.stages if d.b.count}


def test_children_in_both_cohorts_get_a_note():
    log = from_records([("x", R, "2024-01-01"), ("x", C, "2024-01-05"), ("y", R, "2024-01-02")],
                       attributes=[{"team": "N"}, {"team": "S"}, {"team": "N"}])
    c = compare(log, where=["team=N"], vs=["team=S"])
    assert c.overlap == 1 and c.notes == ("1 child is in both cohorts: their journeys count "
                                          "on both sides.",)


# ---------------------------------------------------------------------------------------
# Steps


def _m(count: int, median: float | None = None, unit: float = 1.0) -> Measure:
    return Measure(count=count, cases=count, timed=count, median_days=median, rate=count * unit)


@pytest.mark.parametrize("change, expected", [
    (0.0, 0), (0.0999, 0), (0.10, 1), (-0.2499, -1), (0.25, 2), (-0.49, -2), (0.5, 3),
    (-0.75, -3), (4.0, 3),
])
def test_step_bins(change, expected):
    assert step(change) == expected


def test_volume_step_noise_guard():
    # 1 → 3 with the same unit: change 2 against 2·√(1 + 3) = 4: chance
    assert volume_step(_m(1), _m(3), 1.0, 1.0) == 0
    # 0 → 3: 3 < 2·√3 = 3.46; 0 → 4: 4 ≥ 2·√4 = 4: new
    assert volume_step(_m(0), _m(3), 1.0, 1.0) == 0
    assert volume_step(_m(0), _m(4), 1.0, 1.0) == 3
    assert volume_step(_m(4), _m(0), 1.0, 1.0) == -3
    # 100 → 120: 20 ≥ 2·√220 = 29.7? no: chance; 100 → 140: 40 ≥ 2·√240 = 31: +40% = step 2
    assert volume_step(_m(100), _m(120), 1.0, 1.0) == 0
    assert volume_step(_m(100), _m(140), 1.0, 1.0) == 2
    assert NOISE_Z == 2.0
    assert volume_step(_m(0), _m(0), 1.0, 1.0) == 0


def test_duration_step_needs_enough_moves_and_a_day():
    assert duration_step(_m(4, 10.0), _m(50, 30.0)) is None     # under 5 moves on A
    assert duration_step(_m(5, 10.0), _m(5, 10.9)) == 0        # under a day
    assert duration_step(_m(5, 10.0), _m(5, 13.0)) == 2        # +30%
    assert duration_step(_m(5, 0.0), _m(5, 1.0)) == 3          # from 0 days
    assert duration_step(_m(5, 20.0), _m(5, 5.0)) == -3        # −75%


# ---------------------------------------------------------------------------------------
# Usage


@pytest.mark.parametrize("kwargs, message", [
    ({}, "say what to compare"),
    ({"split_date": SPLIT, "vs": ["team=S"]}, "not both"),
    ({"vs": ["team=S"]}, "--vs needs --where"),
    ({"split_date": date(2020, 1, 1)}, "no 'before' period"),
    ({"split_date": date(2025, 1, 1)}, "no 'after' period"),
    ({"split_date": SPLIT, "start": SPLIT}, "--from must be before --split-date"),
    ({"split_date": SPLIT, "end": date(2024, 2, 1)}, "--to must be on or after"),
    ({"where": ["team=N"], "vs": ["team=nobody"]}, "no children in cohort B (team = nobody)"),
    ({"where": ["team=N"], "vs": ["team=S"], "per": "week"}, "--per must be"),
])
def test_usage_errors(cohort_log, kwargs, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        compare(cohort_log, **kwargs)


def test_no_events_in_a_window_is_a_usage_error(period_log):
    # c4 is active from 1 Nov 2023 to 15 Jan 2024 but has no event from 1 to 10 Jan
    with pytest.raises(UsageError, match="no events in the period 1 Jan 2024 to 9 Jan 2024"):
        compare(period_log, split_date=date(2024, 1, 10), start=FROM)


# ---------------------------------------------------------------------------------------
# JSON, simplification, table rows


def test_to_dict(cohorts):
    data = json.loads(json.dumps(cohorts.to_dict()))
    assert data["mode"] == "cohort" and data["per"] == "children" and data["split_date"] is None
    assert data["a"]["children"] == 40 and data["a"]["conditions"] == ["team = N"]
    edge = next(e for e in data["edges"] if (e["source"], e["target"]) == (A, AA))
    assert edge["a"] == {"count": 40, "cases": 40, "timed": 40, "median_days": 4.0, "rate": 100.0}
    assert edge["median_change_days"] == 7.0 and edge["duration_step"] == 3
    assert data["shifts"][0]["text"] == cohorts.shifts[0].text
    assert data["stages"][0] == {**data["stages"][0], "activity": R, "status": "both"}


def test_simplify_keeps_marked_shifts(cohorts):
    # busiest 20% of 5 edges = 1 (R→A, the first at rate 100); the top 2 shifts of each
    # measure stay: overall A→AA and R→A, by volume the same two (ties go by rank), by
    # duration A→AA alone. AA→C (rate 100, rank 3) goes.
    kept = simplify(cohorts, paths=20, top=2)
    assert [d.key for d in kept.edges] == [(R, A), (A, AA)]
    assert [d.key[0] for d in kept.stages] == [R, A, AA]
    assert kept.hidden.activities == (S47, C) and kept.hidden.paths == 3
    assert kept.hidden.moves == 20 + 20 + (40 + 20)  # R→S47, S47→C, AA→C over both sides
    assert kept.shifts == cohorts.shifts
    assert simplify(cohorts) is cohorts
    with pytest.raises(UsageError):
        simplify(cohorts, paths=101)


def test_shift_rows(cohorts):
    rows = shift_rows(cohorts, top=2)
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0] == {
        "rank": "1", "where": f"{A} → {AA}", "rate": "100 → 50", "rate_change": "−50%",
        "median": "4 d → 11 d", "median_change": "+7 d",
        "why": "; ".join(cohorts.shifts[0].reasons),
    }
    assert shift_rows(cohorts, top=5)[3]["rate_change"] == "new"
    assert shift_rows(cohorts, top=5)[3]["median"] == "– → 1 d"


def test_shifts_table_shows_markup_as_written():
    from rich.console import Console

    vocab = load_vocabulary().with_activities([Activity(name="[bold]x", order=45, group="G")])
    # N: 10 children R → [bold]x; S: 10 children R only. [bold]x: 100 → none per 100 children
    records = [(f"{t}{i}", R, "2024-01-01") for t in "ns" for i in range(10)]
    records += [(f"n{i}", "[bold]x", "2024-01-02") for i in range(10)]
    log = from_records(records, vocabulary=vocab, as_at="2024-03-01",
                       attributes=[{"team": r[0][0].upper()} for r in records])
    c = compare(log, where=["team=N"], vs=["team=S"])
    console = Console(record=True, width=120)
    console.print(shifts_table(c))
    text = console.export_text()
    assert "A: team = N   vs   B: team = S: the largest shifts" in text
    assert "[bold]x" in text and "events down from 100 to none per 100 children (gone)" in text


# ---------------------------------------------------------------------------------------
# The delta map


def test_delta_dot_structure(cohorts):
    source = to_dot(cohorts, metric="volume", top=3)
    assert source.startswith('digraph "comparison map" {\n') and source.endswith("}\n")
    # R→A: fewer (−50%: step −3), marked ◆2; R→S47 new: dashed, step 3
    assert re.search(r'^  n3 -> n4 \[label="◆2  100 → 50", color="#08519C"', source, re.M)
    assert re.search(r'^  n3 -> n5 \[label="none → 50", color="#A63603", .*style=dashed',
                     source, re.M)
    assert re.search(r'^  n3 \[label="Referral\\n100 → 100", fillcolor="#F2F2F2"', source, re.M)
    assert re.search(rf'^  n4 \[label="{A}\\n100 → 50", fillcolor="{FILL[-3]}"', source, re.M)
    duration = to_dot(cohorts, metric="duration", top=3)
    assert re.search(rf'^  n4 -> n7 \[label="◆1  4 d → 11 d", color="{LINE[3]}"', duration, re.M)
    assert "Largest shifts in median time" in duration
    assert step_labels()[-2] == "25–50%" and step_labels()[3] == "50% or more"


def test_delta_title_block(periods):
    source = to_dot(periods)
    for text in ("Before and after 1 Mar 2024",
                 "as at 30 Jun 2024", "numbers: before → after",
                 "No large shifts in volume"):
        assert html.escape(text) in source, text
    # each side's counts are the whole text of an element of their own (the checker's rule)
    for text in ("Before: 1 Jan 2024 to 29 Feb 2024 (8.6 wk) — <B>3</B> children, "
                 "<B>5</B> events",
                 "After: 1 Mar 2024 to 30 Apr 2024 (8.7 wk) — <B>4</B> children, "
                 "<B>8</B> events"):
        assert text in source, text


def test_hostile_labels_are_escaped():
    hostile = 'a"b\\c<d>&'
    vocab = load_vocabulary().with_activities([Activity(name=hostile, order=45, group='<g">')])
    records = [(f"h{i}", R, "2024-01-01") for i in range(8)]
    records += [(f"h{i}", hostile, "2024-01-03") for i in range(8)]
    team = 'T"<x>&\\'
    attrs = [{"team": team if r[0] < "h4" else "U"} for r in records]
    log = from_records(records, vocabulary=vocab, as_at="2024-02-01", attributes=attrs)
    for level in ("detail", "summary"):
        c = compare(log, where=[("team", team)], vs=["team=U"], level=level)
        source = to_dot(c)
        name = hostile if level == "detail" else '<g">'
        assert quote(name)[1:-1] in source                 # a DOT string in the node label
        assert html.escape(team) in source                  # in the HTML-like title block
        svg = render(source, "svg").decode("utf-8")
        assert "<d>" not in svg and "<x>" not in svg and '<g">' not in svg
        assert html.escape(name, quote=False).replace('"', "&quot;") in svg
        tips = re.findall(r'tooltip="((?:[^"\\]|\\.)*)"', source)
        assert tips and not any("<" in t or "T\\\"" in t or "a\\\"b" in t for t in tips)


def test_comparison_svg(cohorts):
    """The report's delta map: no title block (the report says it in HTML), tooltips kept
    for the analyst; shareable, none (`test_report_compare.py`)."""
    svg = comparison_svg(cohorts, metric="duration", top=2)
    assert svg.startswith("<?xml") and "<svg" in svg and "Comparing children" not in svg
    assert "xlink:title" in svg
    assert "xlink:title" not in comparison_svg(cohorts, metric="duration", policy=STANDARD)


def test_the_report_draws_the_delta_map_top_to_bottom(cohorts):
    """Embedded, the map runs top to bottom (it fits a page's width at about twice the label
    size), the same on every run; drawn on its own, left to right like every map."""
    embedded = to_dot(cohorts, embedded=True)
    assert 'graph [rankdir=TB, ' in embedded and 'nodesep="0.3", ranksep="0.3"' in embedded
    assert embedded == to_dot(cohorts, embedded=True)
    assert 'graph [rankdir=LR, ' in to_dot(cohorts)
    width, height = (float(v) for v in re.search(
        r'viewBox="0\.00 0\.00 ([\d.]+) ([\d.]+)"', comparison_svg(cohorts)).groups())
    assert width < 1.5 * height


SCRIPT = """
import json
from cscmining.compare import compare
from cscmining.eventlog import from_records
from cscmining.render.delta import to_dot
records = {records!r}
attrs = [{{"team": "N" if int(c[1:]) % 2 else "S"}} for c, _, _ in records]
log = from_records(records, as_at="2024-06-30", attributes=attrs)
for kwargs in ({{"where": ["team=N"], "vs": ["team=S"]}}, {{"split_date": "2024-03-01"}}):
    if "split_date" in kwargs:
        import datetime
        kwargs["split_date"] = datetime.date.fromisoformat(kwargs["split_date"])
    c = compare(log, **kwargs)
    print(json.dumps(c.to_dict(), sort_keys=False))
    print(to_dot(c, metric="volume"))
    print(to_dot(c, metric="duration", top=10))
"""


def test_output_is_identical_across_hash_seeds():
    steps = (R, A, S47, ICPC, AA, C)
    records = [(f"x{i}", act, f"2024-0{1 + (i + k) % 5}-{10 + i % 15}")
               for i in range(60) for k, act in enumerate(steps) if (i + k) % 4]
    records = sorted(records)
    script = SCRIPT.format(records=records)
    outputs = []
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent.parent)
        outputs.append(done.stdout)
    assert outputs[0].count('digraph "comparison map"') == 4
    assert outputs[0] == outputs[1] == outputs[2]
