"""Period, attribute and level filters: whole journeys, exact boundaries, documented meaning."""

from __future__ import annotations

from datetime import date

import pytest

from cscmining.columns import ACTIVITY, CASE, ORDER, TIMESTAMP
from cscmining.errors import UsageError
from cscmining.eventlog import from_records
from cscmining.focus import (
    at_level,
    describe_focus,
    focus,
    parse_where,
    resolve_key,
    summary_vocabulary,
)

R, A, C, CIN = "Referral", "Assessment start", "Case closed", "CIN plan start"
APRIL = {"start": date(2023, 4, 1), "end": date(2023, 4, 30)}

PERIOD_RECORDS = [
    ("a", R, "2023-01-10"), ("a", C, "2023-02-10"),    # closed before April: out
    ("b", R, "2023-03-01"), ("b", C, "2023-06-01"),    # spans April, no event in it: in
    ("c", R, "2023-01-01"), ("c", CIN, "2023-01-20"),  # open since January: in
    ("d", R, "2023-05-15"),                             # starts after April: out
    ("e", R, "2023-04-10"), ("e", C, "2023-04-11"),    # inside: in
    ("f", R, "2023-03-01"), ("f", C, "2023-04-01"),    # closed on the first day: in
    ("g", R, "2023-04-30"), ("g", C, "2023-05-02"),    # starts on the last day: in
    ("h", R, "2023-02-01"), ("h", C, "2023-03-31"),    # closed the day before: out
]


def cases(log):
    return sorted(log.frame[CASE].unique())


@pytest.fixture
def period_log():
    return from_records(PERIOD_RECORDS, as_at="2023-06-30")


def test_period_keeps_active_journeys_whole(period_log):
    focused = focus(period_log, **APRIL)
    assert cases(focused) == ["b", "c", "e", "f", "g"]
    # whole journeys: b's closure in June and g's in May are kept
    b = focused.frame.loc[focused.frame[CASE] == "b", TIMESTAMP].dt.strftime("%Y-%m-%d").tolist()
    assert b == ["2023-03-01", "2023-06-01"]
    assert focused.events == 10


def test_period_open_ends(period_log):
    assert cases(focus(period_log, start=date(2023, 5, 1))) == ["b", "c", "d", "g"]
    assert cases(focus(period_log, end=date(2023, 1, 15))) == ["a", "c"]


def test_open_journey_is_active_only_until_the_as_at_date():
    log = from_records([("c", R, "2023-01-01")], as_at="2023-03-31")
    assert cases(focus(log, start=date(2023, 3, 31))) == ["c"]
    assert cases(focus(log, start=date(2023, 4, 1))) == []


def test_period_must_run_forwards(period_log):
    with pytest.raises(UsageError, match="after --to"):
        focus(period_log, start=date(2023, 5, 1), end=date(2023, 4, 1))


def test_no_filters_is_the_same_log(period_log):
    assert focus(period_log) is period_log


# ---------------------------------------------------------------------------------------
# --where


@pytest.fixture
def team_log():
    records = [
        ("a", R, "2024-01-01"), ("a", A, "2024-01-02"),
        ("b", R, "2024-01-01"), ("b", A, "2024-01-05"),
        ("c", R, "2024-01-01"),
    ]
    # team is an event attribute (it changes: a moved North → South); sex a case attribute
    attributes = [
        {"team": "North", "case:sex": "F"}, {"team": "South", "case:sex": "F"},
        {"team": "East", "case:sex": "M"}, {"team": "East", "case:sex": "M"},
        {"team": None, "case:sex": "F"},
    ]
    return from_records(records, attributes=attributes)


def test_where_event_attribute_matches_any_event(team_log):
    assert cases(focus(team_log, where=[("team", "South")])) == ["a"]
    # whole journey kept, including a's North event
    assert focus(team_log, where=[("team", "South")]).events == 2


def test_where_is_trimmed_and_case_insensitive(team_log):
    assert cases(focus(team_log, where=[parse_where(" team = north ")])) == ["a"]


def test_where_same_key_any_value_different_keys_all(team_log):
    assert cases(focus(team_log, where=[("team", "North"), ("team", "East")])) == ["a", "b"]
    assert cases(focus(team_log, where=[("team", "East"), ("sex", "F")])) == []
    assert cases(focus(team_log, where=["sex=F", "team=north"])) == ["a"]


def test_where_case_attribute_by_short_or_full_name(team_log):
    assert cases(focus(team_log, where=[("sex", "F")])) == ["a", "c"]
    assert cases(focus(team_log, where=[("case:sex", "M")])) == ["b"]


def test_where_missing_values_match_nothing(team_log):
    assert cases(focus(team_log, where=[("team", "nan")])) == []
    assert cases(focus(team_log, where=[("team", "None")])) == []


def test_case_attribute_wins_over_event_attribute():
    log = from_records([("a", R, "2024-01-01")], attributes=[{"team": "X", "case:team": "Y"}])
    assert resolve_key(log.frame, "team") == "case:team"


def test_where_unknown_key_names_the_known_ones(team_log):
    with pytest.raises(UsageError, match=r"--where colour: no such .*known: .*case:sex.*team"):
        focus(team_log, where=[("colour", "red")])


@pytest.mark.parametrize("text", ["team", "=North", "team=", "  "])
def test_parse_where_rejects_other_shapes(text):
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_where(text)


def test_parse_where_keeps_equals_in_values():
    assert parse_where("reason=a=b") == ("reason", "a=b")


def test_describe_focus():
    assert describe_focus() == ()
    assert describe_focus(start=date(2023, 4, 1), where=["team=North", "team=East", "sex=F"]) == (
        "active from 2023-04-01", "team = North or East", "sex = F")
    assert describe_focus(end=date(2024, 3, 31)) == ("active until 2024-03-31",)
    assert describe_focus(start=date(2023, 4, 1), end=date(2024, 3, 31)) == (
        "active 2023-04-01 to 2024-03-31",)


# ---------------------------------------------------------------------------------------
# --level


def test_summary_level_collapses_consecutive_events_of_a_group():
    log = from_records([
        ("x", "Contact", "2024-01-01"), ("x", R, "2024-01-02"), ("x", A, "2024-01-03"),
        ("x", "S47 enquiry", "2024-01-05"), ("x", "ICPC", "2024-01-20"),
        ("x", "Assessment authorised", "2024-01-25"), ("x", "CP plan start", "2024-01-25"),
        ("y", "Looked after start", "2024-02-01"), ("y", "CLA review", "2024-02-20"),
        ("y", "CLA review", "2024-05-20"),
    ])
    summary = at_level(log, "summary")
    frame = summary.frame
    assert list(zip(frame[CASE], frame[ACTIVITY], frame[TIMESTAMP].dt.strftime("%m-%d"))) == [
        ("x", "Front door", "01-01"),        # the visit starts at its first event
        ("x", "Assessment", "01-03"),
        ("x", "Child protection", "01-05"),
        ("x", "Assessment", "01-25"),        # back again: a second visit
        ("x", "Child protection", "01-25"),
        ("y", "Looked after", "02-01"),      # three events, one visit
    ]
    assert frame[ORDER].tolist() == [10, 50, 60, 50, 60, 140]
    assert summary.vocabulary.order["Child protection"] == 60
    assert str(frame[ACTIVITY].dtype) == str(log.frame[ACTIVITY].dtype)
    assert at_level(log, "detail") is log


def test_focus_applies_the_level_last(team_log):
    summary = focus(team_log, where=[("team", "South")], level="summary")
    assert summary.frame[ACTIVITY].tolist() == ["Front door", "Assessment"]


def test_unknown_level():
    with pytest.raises(UsageError, match="--level"):
        at_level(from_records([("a", R, "2024-01-01")]), "medium")


def test_summary_vocabulary_groups():
    vocab = from_records([("a", R, "2024-01-01")]).vocabulary
    groups = summary_vocabulary(vocab)
    assert [g.name for g in groups.activities] == vocab.groups
    assert groups.terminal == frozenset({"Left care", "Closed"})
    assert groups.timescales == []
    assert groups.order["Front door"] == 10 and groups.order["Adoption"] == 165
