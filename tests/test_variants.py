"""Journey variants: exact counts, ranking, collapsed loops, durations, pm4py as the oracle."""

from __future__ import annotations

import itertools
import random
import sys
from collections import Counter

import pandas as pd
import pytest

from cscmining.columns import ACTIVITY, CASE
from cscmining.errors import UsageError
from cscmining.eventlog import from_records
from cscmining.focus import at_level
from cscmining.variants import variants

R, A, AA, C = "Referral", "Assessment start", "Assessment authorised", "Case closed"
LA, REV, MOVE = "Looked after start", "CLA review", "Placement change"

RECORDS = [
    # a, b: R A C; a takes 31 days (1 Jan to 1 Feb), b 60 (to 1 Mar, 2024 is a leap year)
    ("a", R, "2024-01-01"), ("a", A, "2024-01-02"), ("a", C, "2024-02-01"),
    ("b", R, "2024-01-01"), ("b", A, "2024-01-02"), ("b", C, "2024-03-01"),
    # c: R LA REV REV (79 days); d: R LA REV (19 days); e: R LA REV REV REV (100 days)
    ("c", R, "2024-01-01"), ("c", LA, "2024-01-05"), ("c", REV, "2024-01-20"),
    ("c", REV, "2024-03-20"),
    ("d", R, "2024-01-01"), ("d", LA, "2024-01-05"), ("d", REV, "2024-01-20"),
    ("e", R, "2024-01-01"), ("e", LA, "2024-01-05"), ("e", REV, "2024-01-20"),
    ("e", REV, "2024-02-20"), ("e", REV, "2024-04-10"),
    # f: R only, same day as nothing else (0 days)
    ("f", R, "2024-05-01"),
]


@pytest.fixture
def log():
    return from_records(RECORDS, as_at="2024-12-31")


def rows(result):
    return [(v.rank, v.activities, v.count) for v in result.variants]


def test_exact_variants_ranked_by_children_then_path(log):
    result = variants(log)
    assert (result.cases, result.total) == (6, 5)
    assert rows(result) == [
        (1, (R, A, C), 2),
        # one child each: in path order, stage order step by step, a path before its
        # continuations (Referral alone first; Looked after after Assessment)
        (2, (R,), 1),
        (3, (R, LA, REV), 1),
        (4, (R, LA, REV, REV), 1),
        (5, (R, LA, REV, REV, REV), 1),
    ]
    top = result.variants[0]
    assert top.share == pytest.approx(2 / 6) and top.cumulative_share == pytest.approx(2 / 6)
    assert result.variants[-1].cumulative_share == pytest.approx(1.0)
    # median of 31 and 60 days; 90th percentile 31 + 0.9 * 29
    assert (top.median_days, top.p90_days) == pytest.approx((45.5, 57.1))
    assert [v.median_days for v in result.variants[1:]] == [0.0, 19.0, 79.0, 100.0]


def test_collapse_merges_loops_and_keeps_their_range(log):
    result = variants(log, collapse=True)
    assert rows(result) == [(1, (R, LA, REV), 3), (2, (R, A, C), 2), (3, (R,), 1)]
    looped = result.variants[0]
    assert looped.repeats == ((1, 1), (1, 1), (1, 3))
    # days 19, 79, 100: median 79, 90th percentile 79 + 0.8 * 21
    assert (looped.median_days, looped.p90_days) == pytest.approx((79.0, 95.8))
    assert looped.steps() == [(R, 1, 1), (LA, 1, 1), (REV, 1, 3)]


def test_uncollapsed_steps_merge_consecutive_repeats_for_display(log):
    longest = variants(log).variants[-1]
    assert longest.steps() == [(R, 1, 1), (LA, 1, 1), (REV, 3, 3)]


def test_summary_level_uses_stage_group_visits_but_whole_journey_days(log):
    result = variants(log, level="summary")
    assert rows(result) == [
        (1, ("Front door", "Looked after"), 3),
        (2, ("Front door", "Assessment", "Closed"), 2),
        (3, ("Front door",), 1),
    ]
    # days run to each child's last event, not to the start of their last visit
    assert result.variants[0].median_days == 79.0


def test_top_keeps_the_totals(log):
    result = variants(log, top=2)
    assert [v.rank for v in result.variants] == [1, 2]
    assert (result.cases, result.total) == (6, 5)
    with pytest.raises(UsageError):
        variants(log, top=0)


def test_ranking_does_not_depend_on_child_identifiers():
    renamed = {c: f"z{i}" for i, c in enumerate("abcdef"[::-1])}
    other = from_records([(renamed[c], a, d) for c, a, d in RECORDS], as_at="2024-12-31")
    original = from_records(RECORDS, as_at="2024-12-31")
    assert variants(other).to_dict() == variants(original).to_dict()


def test_same_day_events_follow_the_stage_order():
    log = from_records([("a", R, "2024-01-01"), ("a", "Contact", "2024-01-01")],
                       as_at="2024-12-31")
    assert variants(log).variants[0].activities == ("Contact", R)


def test_to_dict_shape(log):
    out = variants(log, top=1).to_dict()
    assert out == {
        "cases": 6, "variants_total": 5, "level": "detail", "collapse": False,
        "variants": [{"rank": 1, "activities": [R, A, C], "count": 2, "share": 2 / 6,
                      "cumulative_share": 2 / 6, "median_days": 45.5,
                      "p90_days": pytest.approx(57.1)}],
    }
    assert variants(log, collapse=True, top=1).to_dict()["variants"][0]["repeats"] == [
        [1, 1], [1, 1], [1, 3]]


def test_empty_log():
    assert variants(from_records([], as_at="2024-01-01")).to_dict() == {
        "cases": 0, "variants_total": 0, "level": "detail", "collapse": False, "variants": []}


# ---------------------------------------------------------------------------------------
# pm4py as the oracle


def _random_log(seed: int):
    rng = random.Random(seed)
    steps = [R, A, AA, "S47 enquiry", "ICPC", "CP plan start", "CP review", LA, REV, MOVE, C]
    records = []
    for i in range(400):
        day = pd.Timestamp("2023-01-01") + pd.Timedelta(days=rng.randrange(300))
        for _ in range(rng.randint(1, 9)):
            records.append((f"c{i:04d}", rng.choice(steps), day.date().isoformat()))
            day += pd.Timedelta(days=rng.choice([0, 0, 1, 3, 20]))  # many same-day ties
    return from_records(records, as_at="2024-12-31")


def _pm4py_variants(frame: pd.DataFrame) -> Counter:
    sys._pm4py_welcome_shown = True  # silence the import banner
    import pm4py

    found = pm4py.get_variants(frame, activity_key=ACTIVITY, case_id_key=CASE,
                               timestamp_key="time:timestamp")
    return Counter({k: (v if isinstance(v, int) else len(v)) for k, v in found.items()})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_pm4py_on_the_sorted_log(seed):
    log = _random_log(seed)
    ours = Counter({v.activities: v.count for v in variants(log).variants})
    assert ours == _pm4py_variants(log.frame)
    counts = [v.count for v in variants(log).variants]
    assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize("seed", [4, 5])
def test_collapsed_and_summary_match_pm4py_paths_with_runs_merged(seed):
    log = _random_log(seed)
    expected = Counter()
    for path, n in _pm4py_variants(log.frame).items():
        expected[tuple(k for k, _ in itertools.groupby(path))] += n
    collapsed = variants(log, collapse=True).variants
    assert Counter({v.activities: v.count for v in collapsed}) == expected
    summary = at_level(log, "summary")
    assert Counter({v.activities: v.count for v in variants(log, level="summary").variants}) == \
        _pm4py_variants(summary.frame)
