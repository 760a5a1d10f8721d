"""Values an event takes from the child's previous record (`EventRule.previous`): the reason
for a placement move, REASON_PLACE_CHANGE, is recorded on the SSDA903 episode that ended with
the move, and the shipped map puts it on the next episode's Placement change (or Placed for
adoption) event as ``change_reason``.

Hand-worked cases with exact expectations, then a hypothesis check against a plain Python
statement of the rule (the previous record is the child's used record that began last before
this one; it counts only if it ended on this one's start day; among records that began the
same day the one that ended on it, and among those the reason first in text order).
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cscmining.columns import ACTIVITY, CASE, TIMESTAMP
from cscmining.errors import LogMapError
from cscmining.eventlog import EventLog
from cscmining.logmap import load_logmap

from reading_support import EP, acc, account, ingest, write_csv

REASON = "change_reason"
MOVES = ("Placement change", "Placed for adoption")


def ep(child: str, decom: str, rne: str = "P", dec: str = "", reason: str = "", place: str = "U4") -> str:
    """One row of an SSDA903 episodes file (`EP`); an episode that ended has REC X1 (the
    child stayed in care: the episode ended with a move or a change of legal status)."""
    rec = "X1" if dec else ""
    return f"{child},{decom},{rne},C2,N1,{place},PR1,{dec},{rec},{reason},,,"


def reasons(log: EventLog) -> list[tuple[str, str, str, str | None]]:
    """The log as (child, activity, YYYY-MM-DD, change_reason or None) in log order."""
    frame = log.frame
    days = frame[TIMESTAMP].dt.strftime("%Y-%m-%d").tolist()
    values = frame[REASON].tolist() if REASON in frame.columns else [None] * len(frame)
    return [(c, a, d, None if pd.isna(v) else v)
            for c, a, d, v in zip(frame[CASE].tolist(), frame[ACTIVITY].tolist(), days, values)]


# --- the SSDA903 map -------------------------------------------------------------------------

THREE_EPISODES = [
    ep("1", "01/04/2023", "S", "01/06/2023", "ALLEG"),  # ended by the move of 01/06: its reason
    ep("1", "01/06/2023", "P", "01/09/2023"),  # ended by a change of legal status: no reason
    ep("1", "01/09/2023", "L"),
]


def test_a_move_carries_the_reason_recorded_on_the_episode_it_ended(tmp_path: Path) -> None:
    log, _ = ingest(write_csv(tmp_path / "episodes.csv", [EP, *THREE_EPISODES]))
    assert reasons(log) == [
        ("1", "Looked after start", "2023-04-01", None),
        ("1", "Placement change", "2023-06-01", "ALLEG"),
        ("1", "Legal status change", "2023-09-01", None),
    ]
    assert account(log, "episodes") == acc(3, 3, events=3)
    # a categorical text column like the other event attributes, written to Parquet as text
    assert log.frame[REASON].dtype == log.frame["legal_status"].dtype


def test_placed_for_adoption_carries_the_reason_too(tmp_path: Path) -> None:
    log, _ = ingest(write_csv(tmp_path / "episodes.csv", [
        EP, ep("1", "01/04/2023", "S", "10/10/2023", "CARPL"), ep("1", "10/10/2023", "T", place="A3")]))
    assert reasons(log) == [("1", "Looked after start", "2023-04-01", None),
                            ("1", "Placed for adoption", "2023-10-10", "CARPL")]


def test_no_reason_after_a_gap_or_on_a_first_episode(tmp_path: Path) -> None:
    """Child 1's previous episode ended on 15/05, two weeks before the move of 01/06 (its
    reason describes that episode's end, not this move); child 2's first episode is a move
    (care began before the return's history): there is no previous episode to ask."""
    log, _ = ingest(write_csv(tmp_path / "episodes.csv", [
        EP, ep("1", "01/04/2023", "S", "15/05/2023", "CLOSE"), ep("1", "01/06/2023", "P"),
        ep("2", "01/05/2023", "P", reason="OTHER")]))
    assert reasons(log) == [("1", "Looked after start", "2023-04-01", None),
                            ("1", "Placement change", "2023-06-01", None),
                            ("2", "Placement change", "2023-05-01", None)]


def test_the_previous_episode_is_the_one_that_began_last_not_one_ending_the_same_day(tmp_path: Path) -> None:
    """Episodes 01/04–01/08 (STAND) and 01/06–01/08 (CHILD, overlapping it) both end on the
    day of the move of 01/08: the previous one is the one that began last, 01/06."""
    log, _ = ingest(write_csv(tmp_path / "episodes.csv", [
        EP, ep("1", "01/04/2023", "S", "01/08/2023", "STAND"), ep("1", "01/06/2023", "P", "01/08/2023", "CHILD"),
        ep("1", "01/08/2023", "P")]))
    assert [r for r in reasons(log) if r[1] in MOVES] == [("1", "Placement change", "2023-06-01", None),
                                                          ("1", "Placement change", "2023-08-01", "CHILD")]
    assert account(log, "episodes") == acc(3, 3, events=3, flags={"OVERLAP": 1})


def test_a_rejected_episode_is_not_the_previous_one(tmp_path: Path) -> None:
    """The episode of 31/02/2023 (no such day) is rejected: the previous episode of the move
    of 01/06 is the one of 01/04, which ended on 01/06."""
    log, _ = ingest(write_csv(tmp_path / "episodes.csv", [
        EP, ep("1", "01/04/2023", "S", "01/06/2023", "APPRR"), ep("1", "31/02/2023", "P", "01/06/2023", "LAREQ"),
        ep("1", "01/06/2023", "P")]))
    assert [r for r in reasons(log) if r[1] in MOVES] == [("1", "Placement change", "2023-06-01", "APPRR")]
    assert account(log, "episodes") == acc(3, 2, events=2, rejected={"DATE_INVALID": 1})


def test_rows_in_any_order_give_the_same_reasons(tmp_path: Path) -> None:
    rows = [*THREE_EPISODES, ep("2", "03/03/2023", "S", "04/04/2023", "CREQB"),
            ep("2", "04/04/2023", "U", "05/05/2023", "CUSTOD"), ep("2", "05/05/2023", "P")]
    expected = [
        ("1", "Looked after start", "2023-04-01", None),
        ("1", "Placement change", "2023-06-01", "ALLEG"),
        ("1", "Legal status change", "2023-09-01", None),
        ("2", "Looked after start", "2023-03-03", None),
        ("2", "Placement change", "2023-04-04", "CREQB"),
        ("2", "Placement change", "2023-05-05", "CUSTOD"),
    ]
    for seed in range(6):
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)
        folder = tmp_path / f"shuffled_{seed}"
        folder.mkdir()
        log, _ = ingest(write_csv(folder / "episodes.csv", [EP, *shuffled]))
        assert reasons(log) == expected, seed


def test_the_previous_episode_may_be_in_last_years_file(tmp_path: Path) -> None:
    """2023's return: episode 01/04/2023–01/06/2023 (ALLEG), then the episode of 01/06/2023
    still open at 31 March. 2024's return: that episode again, now closed by a move on
    01/05/2024 (CARPL): the 2023 row is superseded, the 2024 one is the previous episode of
    the move of 01/05/2024; the move of 01/06/2023 finds its previous episode in 2023's file."""
    year_2023 = write_csv(tmp_path / "episodes_2023.csv", [
        EP, ep("7", "01/06/2023", "P"), ep("7", "01/04/2023", "S", "01/06/2023", "ALLEG")])
    year_2024 = write_csv(tmp_path / "episodes_2024.csv", [
        EP, ep("7", "01/05/2024", "P"), ep("7", "01/06/2023", "P", "01/05/2024", "CARPL")])
    log, _ = ingest(year_2023, year_2024)
    assert reasons(log) == [("7", "Looked after start", "2023-04-01", None),
                            ("7", "Placement change", "2023-06-01", "ALLEG"),
                            ("7", "Placement change", "2024-05-01", "CARPL")]
    assert account(log, "episodes", "episodes_2023.csv") == acc(2, 1, events=1, rejected={"SUPERSEDED": 1})
    assert account(log, "episodes", "episodes_2024.csv") == acc(2, 2, events=2)


def test_children_are_told_apart_by_their_normalised_ids(tmp_path: Path) -> None:
    """``12345.0`` is child 12345 written as a number (`_child_keys`), so its episode is the
    previous one of 12345's move; ``012345`` is another child (a leading zero is kept), whose
    episode of 01/05 falls between 12345's two in date order but is not 12345's."""
    log, _ = ingest(write_csv(tmp_path / "episodes.csv", [
        EP, ep("12345.0", "01/04/2023", "S", "01/06/2023", "ALLEG"),
        ep("012345", "01/05/2023", "S", "01/06/2023", "CREQB"),
        ep("12345", "01/06/2023", "P"), ep("012345", "01/06/2023", "P")]))
    assert [r for r in reasons(log) if r[1] in MOVES] == [("012345", "Placement change", "2023-06-01", "CREQB"),
                                                          ("12345", "Placement change", "2023-06-01", "ALLEG")]
    assert account(log, "episodes") == acc(4, 4, events=4, flags={
        "ID_FROM_NUMBER": 1, "ID_LEADING_ZERO_COLLISION_RISK": 4})


def test_the_reason_is_normalised_to_upper_case(tmp_path: Path) -> None:
    log, _ = ingest(write_csv(tmp_path / "episodes.csv", [
        EP, ep("1", "01/04/2023", "S", "01/06/2023", " alleg "), ep("1", "01/06/2023", "P", "01/07/2023", "Carpl"),
        ep("1", "01/07/2023", "B")]))
    assert [r[3] for r in reasons(log)] == [None, "ALLEG", "CARPL"]


def test_two_episodes_begun_the_same_day_the_one_that_ended_on_the_move_counts(tmp_path: Path) -> None:
    """Two episodes of child 1 begin on 01/04 (bad data): one ended on 01/05, the other on
    the move of 01/06, whose reason the move takes whatever the order of the rows. When both
    ended on 01/06 with different reasons, the first in text order (ALLEG before CREQB) is
    taken, again in any order of the rows; a blank reason comes after any reason."""
    ended_elsewhere = [ep("1", "01/04/2023", "S", "01/05/2023", "CLOSE"),
                       ep("1", "01/04/2023", "S", "01/06/2023", "PLACE"), ep("1", "01/06/2023", "P")]
    both_ended = [ep("2", "01/04/2023", "S", "01/06/2023", "CREQB"),
                  ep("2", "01/04/2023", "S", "01/06/2023", "ALLEG"), ep("2", "01/06/2023", "P"),
                  ep("3", "01/04/2023", "S", "01/06/2023", ""),
                  ep("3", "01/04/2023", "S", "01/06/2023", "OTHER"), ep("3", "01/06/2023", "P")]
    for order in (slice(None), slice(None, None, -1)):
        folder = tmp_path / ("forward" if order.step is None else "backward")
        folder.mkdir()
        log, _ = ingest(write_csv(folder / "episodes.csv", [EP, *ended_elsewhere[order], *both_ended[order]]))
        assert [r for r in reasons(log) if r[1] in MOVES] == [("1", "Placement change", "2023-06-01", "PLACE"),
                                                              ("2", "Placement change", "2023-06-01", "ALLEG"),
                                                              ("3", "Placement change", "2023-06-01", "OTHER")]


# --- a user's logmap ----------------------------------------------------------------------

MOVES_MAP = """
source: lcs
tables:
  - name: placements
    columns: {ID: [], START: [], END: [], WHY_ENDED: [], KIND: []}
    required: [ID, START, END, WHY_ENDED]
    id: ID
    normalise: {WHY_ENDED: upper}
    attributes: {placement_type: KIND}
    events:
      - activity: Placement change
        date: START
        previous: {ends: END, attributes: {ended_because: WHY_ENDED, previous_type: KIND}}
"""


def test_a_user_logmap_takes_values_from_the_previous_record(tmp_path: Path) -> None:
    logmap = tmp_path / "lcs.yaml"
    logmap.write_text(MOVES_MAP)
    data = write_csv(tmp_path / "placements.csv", [
        "ID,START,END,WHY_ENDED,KIND", "A,10/01/2024,20/02/2024,breakdown,foster",
        "A,20/02/2024,,,residential", "B,01/01/2024,02/01/2024,plan,foster", "B,05/01/2024,,,kinship"])
    log, _ = ingest(data, logmaps=[logmap])
    frame = log.frame
    got = list(zip(frame[CASE], frame[TIMESTAMP].dt.strftime("%Y-%m-%d"), frame["placement_type"],
                   frame["ended_because"].fillna("-"), frame["previous_type"].fillna("-")))
    assert got == [("A", "2024-01-10", "foster", "-", "-"),
                   ("A", "2024-02-20", "residential", "BREAKDOWN", "foster"),
                   ("B", "2024-01-01", "foster", "-", "-"),
                   ("B", "2024-01-05", "kinship", "-", "-")]  # B's first placement ended on 02/01
    assert account(log, "placements") == acc(4, 4, events=4)


@pytest.mark.parametrize(("previous", "message"), [
    ("{ends: END, attributes: {ended_because: WHY}}",
     r"tables\[0\]: Value error, columns used but not defined under `columns`: WHY$"),
    ("{ends: FINISH, attributes: {ended_because: WHY_ENDED}}",
     r"tables\[0\]: Value error, columns used but not defined under `columns`: FINISH$"),
    ("{ends: END, attributes: {}}",
     r"tables\[0\]\.events\[0\]\.previous\.attributes: Dictionary should have at least 1 item"),
    ("{ends: END, attributes: {ended_because: WHY_ENDED}, closes: END}",
     r"tables\[0\]\.events\[0\]\.previous\.closes: Extra inputs are not permitted"),
    ("{ends: END, attributes: {placement_type: WHY_ENDED}}",
     r"tables\[0\]: Value error, attributes named both under the table's `attributes` and a rule's "
     r"`previous`: placement_type$"),
])
def test_a_logmap_naming_what_the_table_lacks_is_refused(tmp_path: Path, previous: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MOVES_MAP.replace(MOVES_MAP.splitlines()[-1].split(": ", 1)[1], previous))
    with pytest.raises(LogMapError, match=message) as err:
        load_logmap(bad)
    assert str(err.value).startswith(f"{bad}: ")


def test_the_same_name_under_attributes_and_previous_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MOVES_MAP.replace("        previous:", "        attributes: {ended_because: KIND}\n        previous:"))
    with pytest.raises(LogMapError, match=r"tables\[0\]\.events\[0\]: Value error, attributes named both under "
                                          r"`attributes` and `previous`: ended_because$"):
        load_logmap(bad)


# --- against a plain statement of the rule ------------------------------------------------

CHILDREN = {"7": "7", "7.0": "7", "8": "8", "08": "08"}
DAYS = ["01/04/2023", "02/04/2023", "03/04/2023"]


@st.composite
def episodes(draw) -> list[tuple[str, str, str, str, str, str]]:
    """Episodes (child as written, DECOM, RNE, DEC, reason, PLACE) crowded on a few days, so
    children often have several records beginning or ending on one day."""
    rows = []
    for _ in range(draw(st.integers(2, 12))):
        decom = draw(st.integers(0, len(DAYS) - 1))
        # mostly ended the next day, by the move of another episode
        dec = draw(st.sampled_from([None, decom, *[min(decom + 1, len(DAYS) - 1)] * 3]))
        rows.append((draw(st.sampled_from(["7", "7.0", "8", "08"] if draw(st.booleans()) else ["7", "7.0"])),
                     DAYS[decom], draw(st.sampled_from("SLPTBU")), "" if dec is None else DAYS[dec],
                     draw(st.sampled_from(["", "ALLEG", "carpl", "CREQB"])), draw(st.sampled_from(["U4", "A3"]))))
    return rows


def expected_reasons(rows: list[tuple[str, str, str, str, str, str]]) -> list[tuple[str, str, str, str | None]]:
    """The rule, record by record: the moves, each with the reason it should carry."""
    distinct = list(dict.fromkeys(rows))  # an exact duplicate row counts once
    out = []
    for child, decom, rne, _dec, _reason, place in distinct:
        if rne not in "PTBU":
            continue
        mine = [r for r in distinct if CHILDREN[r[0]] == CHILDREN[child] and day(r[1]) < day(decom)]
        latest = max((day(r[1]) for r in mine), default=None)
        ended = sorted(r[4].upper() or "\uffff" for r in mine if day(r[1]) == latest and r[3] == decom)
        reason = ended[0] if ended and ended[0] != "\uffff" else None
        out.append((CHILDREN[child], "Placed for adoption" if place == "A3" else "Placement change",
                    day(decom), reason))
    return sorted(out, key=lambda r: (r[0], r[2], r[1], r[3] or ""))


def day(text: str) -> str:
    d, m, y = text.split("/")
    return f"{y}-{m}-{d}"


@given(rows=episodes(), seed=st.integers(0, 2**16))
@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=[HealthCheck.too_slow])
def test_reasons_follow_the_rule_in_any_order_of_the_rows(tmp_path_factory, rows, seed) -> None:
    folder = tmp_path_factory.mktemp("episodes")
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    lines = [EP, *(ep(c, decom, rne, dec, reason, place) for c, decom, rne, dec, reason, place in shuffled)]
    log, _ = ingest(write_csv(folder / "episodes.csv", lines))
    got = sorted((r for r in reasons(log) if r[1] in MOVES), key=lambda r: (r[0], r[2], r[1], r[3] or ""))
    assert got == expected_reasons(rows)
