"""Timescale rules: working-day and month arithmetic, pairing, statuses, stuck list, trend.

Calendars are worked out by hand in the comments. Bank holidays are England and Wales ones
(gov.uk): 2021 Christmas and Boxing Day fell at a weekend, so Mon 27 and Tue 28 Dec were the
substitutes, and Mon 3 Jan 2022 stood in for New Year's Day; Easter 2024 was Fri 29 Mar and
Mon 1 Apr.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscmining import timescales as ts
from cscmining.errors import UsageError
from cscmining.eventlog import from_records
from cscmining.vocabulary import TimescaleRule, load_vocabulary


def make_log(records, as_at, attributes=None, vocabulary=None):
    return from_records(records, as_at=as_at, attributes=attributes, vocabulary=vocabulary)


def one(log, rule, as_at=None) -> pd.Series:
    """The single evaluated row of ``rule``."""
    rows = ts.evaluate(log, as_at=as_at, rules=rule)
    assert len(rows) == 1, rows
    return rows.iloc[0]


def summary(log, name, as_at=None) -> ts.RuleSummary:
    return next(s for s in ts.summarise(log, as_at=as_at) if s.name == name)


# ---------------------------------------------------------------------------------------
# The calendar


@pytest.mark.parametrize("day", [
    "2024-03-29", "2024-04-01",                # Good Friday, Easter Monday
    "2024-12-25", "2024-12-26", "2025-01-01",  # Christmas, Boxing Day, New Year
    "2020-12-28",                              # Boxing Day (Sat) substitute
    "2021-12-27", "2021-12-28", "2022-01-03",  # Christmas/Boxing/New Year substitutes
    "2022-09-19",                              # the Queen's funeral
])
def test_bank_holidays_are_not_working_days(day):
    calendar = ts.working_calendar(np.array([day], dtype="datetime64[D]"))
    assert not np.is_busday(np.datetime64(day), busdaycal=calendar)


def test_working_days_are_counted_strictly_after_the_start():
    calendar = ts.working_calendar(np.array(["2024-01-01"], dtype="datetime64[D]"))
    d = lambda s: np.array([s], dtype="datetime64[D]")  # noqa: E731
    # Mon 8 Jan: the same day is 0, Tue is 1, the next Mon is 5
    assert ts.elapsed_units(d("2024-01-08"), d("2024-01-08"), "working_days", calendar) == 0
    assert ts.elapsed_units(d("2024-01-08"), d("2024-01-09"), "working_days", calendar) == 1
    assert ts.elapsed_units(d("2024-01-08"), d("2024-01-15"), "working_days", calendar) == 5
    # from Sat 13 Jan: Sun is 0, Mon is 1
    assert ts.elapsed_units(d("2024-01-13"), d("2024-01-14"), "working_days", calendar) == 0
    assert ts.elapsed_units(d("2024-01-13"), d("2024-01-15"), "working_days", calendar) == 1


HOLIDAY_CALENDAR = ts.working_calendar(
    np.array(["1995-01-01", "2034-12-31"], dtype="datetime64[D]"))
HOLIDAYS = set(HOLIDAY_CALENDAR.holidays.tolist())


def _brute_working_days(start: date, end: date) -> int:
    days = (start + timedelta(days=i) for i in range(1, (end - start).days + 1))
    return sum(1 for d in days if d.weekday() < 5 and d not in HOLIDAYS)


dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2033, 12, 31))


@settings(max_examples=300, deadline=None)
@given(dates, st.integers(0, 400))
def test_working_days_match_counting_day_by_day(start, span):
    end = start + timedelta(days=span)
    got = ts.elapsed_units(np.array([start], "datetime64[D]"), np.array([end], "datetime64[D]"),
                           "working_days", HOLIDAY_CALENDAR)
    assert got[0] == _brute_working_days(start, end)


@settings(max_examples=300, deadline=None)
@given(dates, st.integers(1, 60), st.sampled_from(["working_days", "days", "weeks", "months"]),
       st.integers(-3, 3))
def test_due_date_is_the_last_day_within_the_limit(start, within, unit, nudge):
    since = np.array([start], "datetime64[D]")
    due = ts.due_dates(since, within, unit, HOLIDAY_CALENDAR)
    assert ts.elapsed_units(since, due, unit, HOLIDAY_CALENDAR)[0] == within
    if unit == "months":  # the same as pandas' calendar-month arithmetic
        assert due[0] == np.datetime64((pd.Timestamp(start) + pd.DateOffset(months=within)).date())
    probe = due + np.timedelta64(nudge, "D")
    over = ts.elapsed_units(since, probe, unit, HOLIDAY_CALENDAR)[0] > within
    if unit == "working_days":  # over once a working day has passed since the due date
        assert over == (ts.elapsed_units(due, probe, unit, HOLIDAY_CALENDAR)[0] > 0)
    else:
        assert over == (probe[0] > due[0])


def test_month_limits_clip_to_the_end_of_the_month():
    cal = HOLIDAY_CALENDAR
    d = lambda s: np.array([s], dtype="datetime64[D]")  # noqa: E731
    assert ts.due_dates(d("2024-01-31"), 3, "months", cal)[0] == np.datetime64("2024-04-30")
    assert ts.due_dates(d("2023-11-30"), 3, "months", cal)[0] == np.datetime64("2024-02-29")
    assert ts.due_dates(d("2024-02-29"), 12, "months", cal)[0] == np.datetime64("2025-02-28")
    # 31 Jan: 1 Mar is in the 2nd month begun (1 month on is 29 Feb)
    assert ts.elapsed_units(d("2024-01-31"), d("2024-03-01"), "months", cal)[0] == 2


# ---------------------------------------------------------------------------------------
# Met and breached on both sides of each limit


# Assessment started Fri 20 Dec 2024. Working days after it: Mon 23 (1), Tue 24 (2),
# [Wed 25, Thu 26 bank holidays], Fri 27 (3), Mon 30 (4), Tue 31 (5), [Wed 1 Jan holiday],
# Thu 2 (6), Fri 3 (7); five a week from Mon 6 Jan: Fri 10 (12), 17 (17), 24 (22), 31 (27),
# Fri 7 Feb (32), 14 (37), 21 (42), Mon 24 (43), Tue 25 (44), Wed 26 Feb 2025 (45).
@pytest.mark.parametrize("authorised, status, elapsed", [
    ("2025-02-26", "met", 45),
    ("2025-02-27", "breached", 46),
])
def test_assessment_over_christmas_and_new_year(authorised, status, elapsed):
    log = make_log([("c1", "Assessment start", "2024-12-20"),
                    ("c1", "Assessment authorised", authorised)], as_at="2025-03-31")
    row = one(log, "assessment")
    assert (row["status"], row["elapsed"], row["limit"]) == (status, elapsed, 45)
    assert row["due"] == pd.Timestamp("2025-02-26")


# S47 started Thu 21 Mar 2024: Fri 22 (1), Mon 25–Thu 28 (2–5), [Good Friday 29 Mar, Easter
# Monday 1 Apr], Tue 2–Fri 5 (6–9), Mon 8–Fri 12 (10–14), Mon 15 Apr (15).
@pytest.mark.parametrize("icpc, status, elapsed", [
    ("2024-04-12", "met", 14),
    ("2024-04-15", "met", 15),
    ("2024-04-16", "breached", 16),
])
def test_icpc_over_easter(icpc, status, elapsed):
    log = make_log([("c1", "S47 enquiry", "2024-03-21"), ("c1", "ICPC", icpc)],
                   as_at="2024-06-30")
    row = one(log, "icpc")
    assert (row["status"], row["elapsed"]) == (status, elapsed)


# S47 started Thu 23 Dec 2021: Fri 24 (1), [Mon 27, Tue 28 substitutes for Christmas and
# Boxing Day], Wed 29–Fri 31 (2–4), [Mon 3 Jan substitute for New Year's Day], Tue 4–Fri 7
# (5–8), Mon 10–Fri 14 (9–13), Mon 17 (14), Tue 18 Jan 2022 (15).
@pytest.mark.parametrize("icpc, status", [("2022-01-18", "met"), ("2022-01-19", "breached")])
def test_icpc_over_substitute_bank_holidays(icpc, status):
    log = make_log([("c1", "S47 enquiry", "2021-12-23"), ("c1", "ICPC", icpc)],
                   as_at="2022-03-31")
    assert one(log, "icpc")["status"] == status


# Looked after from Easter Saturday 30 Mar 2024: [Sun, Easter Monday 1 Apr], Tue 2–Fri 5
# (1–4), 8–12 (5–9), 15–19 (10–14), 22–26 (15–19), Mon 29 Apr (20).
@pytest.mark.parametrize("review, status", [("2024-04-29", "met"), ("2024-04-30", "breached")])
def test_cla_review_from_a_weekend_start(review, status):
    log = make_log([("c1", "Looked after start", "2024-03-30"), ("c1", "CLA review", review)],
                   as_at="2024-06-30")
    assert one(log, "first_cla_review")["status"] == status


# A plan starting 31 Jan with a 3-month limit is due 30 Apr (the month has no 31st).
@pytest.mark.parametrize("review, status, elapsed", [
    ("2024-04-30", "met", 3),
    ("2024-05-01", "breached", 4),
])
def test_first_cp_review_in_calendar_months(review, status, elapsed):
    log = make_log([("c1", "CP plan start", "2024-01-31"), ("c1", "CP review", review)],
                   as_at="2024-06-30")
    row = one(log, "first_cp_review")
    assert (row["status"], row["elapsed"], row["unit"]) == (status, elapsed, "months")


# S47 on Fri 5 Jan 2024: Mon 8–Fri 12 (1–5), 15–19 (6–10), Mon 22–Fri 26 Jan (11–15). The
# weekend after the due Friday adds no working day, so it is still within the limit.
@pytest.mark.parametrize("icpc, status, elapsed", [
    ("2024-01-26", "met", 15),
    ("2024-01-28", "met", 15),   # a Sunday
    ("2024-01-29", "breached", 16),
])
def test_weekend_after_the_due_day_is_within_the_limit(icpc, status, elapsed):
    log = make_log([("c1", "S47 enquiry", "2024-01-05"), ("c1", "ICPC", icpc)],
                   as_at="2024-06-30")
    row = one(log, "icpc")
    assert (row["status"], row["elapsed"], row["due"]) == (status, elapsed,
                                                           pd.Timestamp("2024-01-26"))


# ---------------------------------------------------------------------------------------
# Stuck and open at the as-at date


# S47 on Thu 21 Mar 2024, no ICPC: due Mon 15 Apr (see above).
@pytest.mark.parametrize("as_at, status, elapsed", [
    ("2024-04-13", "open", 14),   # a Saturday: still 14 working days
    ("2024-04-14", "open", 14),
    ("2024-04-15", "open", 15),   # exactly at the limit: not stuck
    ("2024-04-16", "stuck", 16),
])
def test_open_s47_becomes_stuck_after_the_limit(as_at, status, elapsed):
    log = make_log([("c1", "Referral", "2024-03-20"), ("c1", "S47 enquiry", "2024-03-21")],
                   as_at=as_at)
    row = one(log, "icpc")
    assert (row["status"], row["elapsed"]) == (status, elapsed)


@pytest.mark.parametrize("as_at, status", [("2024-04-30", "open"), ("2024-05-01", "stuck")])
def test_cp_plan_without_review_at_the_month_limit(as_at, status):
    log = make_log([("c1", "CP plan start", "2024-01-31")], as_at=as_at)
    assert one(log, "first_cp_review")["status"] == status


def test_an_as_at_before_the_data_end_ignores_later_events():
    log = make_log([("c1", "S47 enquiry", "2024-03-21"), ("c1", "ICPC", "2024-05-01")],
                   as_at="2024-06-30")
    assert one(log, "icpc")["status"] == "breached"
    row = one(log, "icpc", as_at=date(2024, 4, 16))
    assert (row["status"], row["elapsed"]) == ("stuck", 16)
    assert one(log, "icpc", as_at=date(2024, 4, 15))["status"] == "open"


def test_open_case_with_no_later_events_is_measured_to_the_as_at_date():
    # Looked after from Mon 2 Sep 2024, nothing since; as at Fri 27 Sep: 19 working days
    log = make_log([("c1", "Looked after start", "2024-09-02")], as_at="2024-09-27")
    row = one(log, "first_cla_review")
    assert (row["status"], row["elapsed"], row["elapsed_days"]) == ("open", 19, 25)
    assert pd.isna(row["until"]) and pd.isna(row["journey_end"])


# ---------------------------------------------------------------------------------------
# Pairing


def statuses(log, rule, as_at=None):
    return ts.evaluate(log, as_at=as_at, rules=rule)["status"].tolist()


def test_same_day_icpc_pairs_with_its_s47():
    log = make_log([("c1", "ICPC", "2024-03-01"), ("c1", "S47 enquiry", "2024-03-01")],
                   as_at="2024-12-31")
    row = one(log, "icpc")
    assert (row["status"], row["until"], row["elapsed"]) == ("met", pd.Timestamp("2024-03-01"), 0)


def test_same_day_event_ordered_before_the_start_does_not_pair():
    # CP review (order 100) sorts before CP plan start (130) on the same day
    log = make_log([("c1", "CP plan start", "2024-01-10"), ("c1", "CP review", "2024-01-10")],
                   as_at="2024-12-31")
    assert statuses(log, "first_cp_review") == ["stuck"]


def test_each_start_takes_the_first_unpaired_end_after_it():
    log = make_log([
        ("c1", "ICPC", "2024-01-02"),          # nobody waiting: unused
        ("c1", "S47 enquiry", "2024-01-03"),
        ("c1", "S47 enquiry", "2024-01-04"),
        ("c1", "ICPC", "2024-01-05"),          # closes the first S47
        ("c1", "ICPC", "2024-03-01"),          # closes the second, late
        ("c1", "ICPC", "2024-03-02"),          # unused
        ("c1", "S47 enquiry", "2024-06-03"),   # waiting, stuck at the as-at date
        ("c2", "S47 enquiry", "2024-01-03"),   # another child's ICPC is never borrowed
    ], as_at="2024-12-31")
    rows = ts.evaluate(log, rules="icpc")
    assert rows["case"].tolist() == ["c1", "c1", "c1", "c2"]
    assert rows["status"].tolist() == ["met", "breached", "stuck", "stuck"]
    assert rows["until"].dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "2024-01-05", "2024-03-01", "", ""]


def test_a_rule_from_an_activity_to_itself_pairs_each_with_the_next():
    vocab = load_vocabulary()
    rule = {"name": "cp_reviews", "label": "CP reviews at most 6 months apart",
            "from": "CP review", "to": "CP review", "within": 6, "unit": "months"}
    vocab = vocab.model_copy(update={"timescales": [TimescaleRule.model_validate(rule)]})
    log = make_log([("c1", "CP review", "2024-01-15"), ("c1", "CP review", "2024-07-15"),
                    ("c1", "CP review", "2025-01-16")], as_at="2025-03-01", vocabulary=vocab)
    rows = ts.evaluate(log)
    assert rows["status"].tolist() == ["met", "breached", "open"]


# ---------------------------------------------------------------------------------------
# Journeys that end


def test_a_journey_that_ended_within_the_limit_is_not_stuck():
    log = make_log([("c1", "Looked after start", "2024-01-02"),
                    ("c1", "Left care: returned home", "2024-01-10")], as_at="2024-12-31")
    row = one(log, "first_cla_review")
    assert (row["status"], row["journey_end"]) == ("ended", pd.Timestamp("2024-01-10"))
    s = summary(log, "first_cla_review")
    assert (s.ended, s.stuck, s.breach_rate) == (1, 0, None)


def test_a_journey_that_ended_past_the_limit_without_the_event_is_breached():
    log = make_log([("c1", "Looked after start", "2024-01-02"),
                    ("c1", "Left care: other", "2024-06-10")], as_at="2024-12-31")
    assert one(log, "first_cla_review")["status"] == "breached"


def test_an_end_event_of_a_later_journey_is_not_borrowed():
    log = make_log([("c1", "Looked after start", "2024-01-02"),
                    ("c1", "Left care: returned home", "2024-01-05"),
                    ("c1", "Looked after start", "2024-05-01"),
                    ("c1", "CLA review", "2024-05-10")], as_at="2024-12-31")
    assert statuses(log, "first_cla_review") == ["ended", "met"]


# ---------------------------------------------------------------------------------------
# Exclusion


def test_s47_not_needing_a_conference_is_not_flagged_and_takes_no_icpc():
    log = make_log(
        [("c1", "S47 enquiry", "2024-01-03"), ("c1", "S47 enquiry", "2024-02-01"),
         ("c1", "ICPC", "2024-02-08"),
         ("c2", "S47 enquiry", "2024-01-03"), ("c3", "S47 enquiry", "2024-01-03")],
        as_at="2024-12-31",
        attributes=[{"icpc_not_required": "true"}, {"icpc_not_required": "false"}, {},
                    {"icpc_not_required": " TRUE "}, {"icpc_not_required": None}],
    )
    rows = ts.evaluate(log, rules="icpc")
    assert list(zip(rows["case"], rows["status"], rows["since"].dt.day)) == [
        ("c1", "met", 1), ("c3", "stuck", 3)]


def test_missing_exclusion_column_excludes_nothing():
    log = make_log([("c1", "S47 enquiry", "2024-01-03")], as_at="2024-12-31")
    assert "icpc_not_required" not in log.frame.columns
    assert statuses(log, "icpc") == ["stuck"]


# ---------------------------------------------------------------------------------------
# Summary, stuck list, rule selection


def test_summarise_lists_every_rule_with_counts_and_breach_rate():
    log = make_log([
        ("a", "Assessment start", "2024-01-02"), ("a", "Assessment authorised", "2024-01-20"),
        ("b", "Assessment start", "2024-01-02"), ("b", "Assessment authorised", "2024-06-20"),
        ("c", "Assessment start", "2024-01-02"),
        ("d", "Assessment start", "2024-12-20"),
    ], as_at="2024-12-31")
    result = ts.summarise(log)
    assert [s.name for s in result] == ["assessment", "icpc", "first_cp_review", "first_cla_review"]
    a = result[0]
    assert (a.met, a.breached, a.stuck, a.open, a.ended) == (1, 1, 1, 1, 0)
    assert a.breach_rate == pytest.approx(2 / 3)
    assert (a.from_, a.to, a.within, a.unit) == ("Assessment start", "Assessment authorised",
                                                 45, "working_days")
    assert result[1].breach_rate is None and result[1].met == 0


def test_summarise_on_an_empty_log():
    log = make_log([], as_at="2024-12-31")
    assert all(s.met + s.breached + s.stuck + s.open == 0 for s in ts.summarise(log))


def test_stuck_lists_longest_first_and_counts_children_per_rule():
    log = make_log([
        ("a", "S47 enquiry", "2024-06-03"), ("a", "S47 enquiry", "2024-09-02"),
        ("a", "Assessment start", "2024-05-01"),
        ("b", "Looked after start", "2024-02-01"),
        ("c", "S47 enquiry", "2024-12-20"),                       # open: within the limit
        ("d", "S47 enquiry", "2024-06-03"),
    ], as_at="2024-12-31")
    result = ts.stuck(log)
    listed = [(e["case"], e["rule"], e["since"]) for e in result.to_dict()["stuck"]]
    assert listed == [
        ("b", "first_cla_review", "2024-02-01"),
        ("a", "assessment", "2024-05-01"),
        ("a", "icpc", "2024-06-03"), ("d", "icpc", "2024-06-03"),
        ("a", "icpc", "2024-09-02"),
    ]
    assert result.children == {"assessment": 1, "icpc": 2, "first_cp_review": 0,
                               "first_cla_review": 1}
    assert result.total_children == 3
    first = result.to_dict()["stuck"][0]
    assert set(first) >= {"case", "rule", "from", "to", "since", "elapsed", "limit", "unit"}
    assert (first["from"], first["to"], first["unit"], first["limit"]) == (
        "Looked after start", "CLA review", "working_days", 20)
    assert isinstance(first["elapsed"], int)


def test_stuck_rule_filter_and_unknown_rule():
    log = make_log([("a", "S47 enquiry", "2024-06-03"), ("a", "Assessment start", "2024-05-01")],
                   as_at="2024-12-31")
    assert [e["rule"] for e in ts.stuck(log, rule="icpc").to_dict()["stuck"]] == ["icpc"]
    assert ts.stuck(log, rule="icpc").children == {"icpc": 1}
    with pytest.raises(UsageError, match="known: assessment, icpc, first_cp_review"):
        ts.stuck(log, rule="nope")


def test_stuck_as_at_is_reported():
    log = make_log([("a", "S47 enquiry", "2024-03-21")], as_at="2024-12-31")
    assert ts.stuck(log, as_at=date(2024, 4, 15)).to_dict() == {
        "as_at": "2024-04-15", "stuck": [], "children": {
            "assessment": 0, "icpc": 0, "first_cp_review": 0, "first_cla_review": 0},
        "total_children": 0}
    assert len(ts.stuck(log, as_at=date(2024, 4, 16)).to_dict()["stuck"]) == 1


def test_stuck_csv(tmp_path):
    log = make_log([("a", "S47 enquiry", "2024-06-03")], as_at="2024-12-31")
    path = ts.stuck(log).write_csv(tmp_path / "stuck.csv")
    frame = pd.read_csv(path, dtype=str)
    assert frame.columns.tolist() == ts.STUCK_COLUMNS
    assert frame.iloc[0][["case", "since", "due", "limit"]].tolist() == [
        "a", "2024-06-03", "2024-06-24", "15"]


# ---------------------------------------------------------------------------------------
# Trend


def test_trend_by_month_keeps_empty_months_and_buckets_by_the_start_date():
    log = make_log([
        ("a", "S47 enquiry", "2024-01-31"), ("a", "ICPC", "2024-02-05"),
        ("b", "S47 enquiry", "2024-01-10"), ("b", "ICPC", "2024-03-10"),
        ("c", "S47 enquiry", "2024-04-02"),
        ("d", "S47 enquiry", "2024-12-30"),
    ], as_at="2024-12-31")
    trend = ts.timescale_trend(log, by="month", rules="icpc")
    (icpc,) = trend.rules
    periods = {p.period: p for p in icpc.periods}
    assert list(periods)[:4] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert len(periods) == 12
    assert (periods["2024-01"].met, periods["2024-01"].breached) == (1, 1)
    assert periods["2024-01"].breach_rate == 0.5
    assert periods["2024-02"].breach_rate is None
    assert periods["2024-04"].stuck == 1 and periods["2024-12"].open == 1
    assert (icpc.summary.met, icpc.summary.breached, icpc.summary.stuck, icpc.summary.open) == (
        1, 1, 1, 1)


def test_trend_by_quarter():
    log = make_log([("a", "S47 enquiry", "2024-01-31"), ("b", "S47 enquiry", "2024-08-01")],
                   as_at="2024-12-31")
    (icpc,) = ts.timescale_trend(log, by="quarter", rules=["icpc"]).rules
    assert [(p.period, p.start.isoformat(), p.end.isoformat(), p.stuck) for p in icpc.periods] == [
        ("2024-Q1", "2024-01-01", "2024-03-31", 1),
        ("2024-Q2", "2024-04-01", "2024-06-30", 0),
        ("2024-Q3", "2024-07-01", "2024-09-30", 1),
    ]
    with pytest.raises(UsageError):
        ts.timescale_trend(log, by="week")


# ---------------------------------------------------------------------------------------
# Pairing matches the rule read literally


def _reference_pairs(kinds: list[str]) -> list[int]:
    """Each F (in order) takes the first unused T after it: -1 if none. 'B' is both."""
    used: set[int] = set()
    out = []
    for i, k in enumerate(kinds):
        if k not in "FB":
            continue
        partner = next((j for j in range(i + 1, len(kinds))
                        if kinds[j] in "TB" and j not in used), -1)
        if partner >= 0:
            used.add(partner)
        out.append(partner)
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from("FTx"), max_size=12), min_size=1, max_size=5),
       st.booleans())
def test_vectorised_pairing_matches_the_literal_rule(journeys, same_activity):
    if same_activity:  # a rule from an activity to itself: every such event is both
        journeys = [["B" if k != "x" else k for k in j] for j in journeys]
    kinds = [k for j in journeys for k in j]
    journey = np.repeat(np.arange(len(journeys)), [len(j) for j in journeys])
    is_from = np.array([k in "FB" for k in kinds], dtype=bool)
    is_to = np.array([k in "TB" for k in kinds], dtype=bool)
    rows, partner = ts.pair(is_from, is_to, journey)
    expected, offset = [], 0
    for j in journeys:
        expected += [p + offset if p >= 0 else -1 for p in _reference_pairs(j)]
        offset += len(j)
    assert rows.tolist() == [i for i, k in enumerate(kinds) if k in "FB"]
    assert partner.tolist() == expected


def test_cp_plan_ending_before_its_first_review_stops_the_clock() -> None:
    """CP plan start 2024-01-10, CP plan end 2024-02-20 (child came into care), no review.

    As at 2024-12-31 the 3-month limit (due 2024-04-10) has long passed, but the plan ended
    on 2024-02-20, within the limit: status `ended`, not stuck. A second plan starting
    2024-06-01 with no review and no end is stuck at the as-at date (due 2024-09-01).
    """
    log = from_records(
        [
            ("c1", "CP plan start", "2024-01-10"),
            ("c1", "CP plan end", "2024-02-20"),
            ("c1", "CP plan start", "2024-06-01"),
        ],
        as_at="2024-12-31",
    )
    result = ts.evaluate(log, rules="first_cp_review")
    assert result["status"].astype(str).tolist() == ["ended", "stuck"]
    assert ts.stuck(log, rule="first_cp_review").children == {"first_cp_review": 1}
