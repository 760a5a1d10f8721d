"""SSDA903 as a CSV set and as XML: events worked out by hand from the fixtures.

Fixtures: ``fixtures/ssda903_csv/`` (header, episodes, reviews, missing, ad1, placed_adoption)
and ``fixtures/ssda903.xml`` (the same children: AD1 dates, AREVIEW, AMISSING and AD_PLACED in
HEADER, CHILDID for CHILD, PL for PLACE). Rules (SPEC §2.1): RNE S -> Looked after start;
RNE L -> Legal status change; RNE P/T/B/U -> Placement change, or Placed for adoption when
PLACE is A3-A6; DEC with REC not X1 -> ``Left care: <outcome>``; REVIEW -> CLA review;
MIS_START -> Missing; AD1 DATE_INT and PlacedAdoption DATE_PLACED -> Adoption decision
(merged when the same); DATE_MATCH -> Matched with adopters.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from cscmining.columns import ACTIVITY, CASE, SOURCE

from reading_support import (
    FIXTURES,
    acc,
    account,
    activity_counts,
    events,
    ingest,
    ingest_fixture,
    write_csv,
)

CSV_SET = FIXTURES / "ssda903_csv"
XML = FIXTURES / "ssda903.xml"
EPISODES_HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"

#: the log, in order: cases sort as strings ("0102" < "101"), then date, then stage order
EXPECTED = [
    # 0102: S on 10/06/2023 (C1, U4)
    ("0102", "Looked after start", "2023-06-10"),
    ("0102", "CLA review", "2023-07-05"),
    # B on 20/08/2023 with PLACE U5 (fostering for adoption, not A3-A6): one Placement change,
    # no extra Legal status change although LS changed C1 -> E1
    ("0102", "Placement change", "2023-08-20"),
    # AD1 DATE_INT 01/09/2023 and PlacedAdoption DATE_PLACED 01/09/2023: one event, merged
    ("0102", "Adoption decision", "2023-09-01"),
    ("0102", "Matched with adopters", "2023-09-20"),
    # T on 05/10/2023 with PLACE A5 -> Placed for adoption
    ("0102", "Placed for adoption", "2023-10-05"),
    # DEC 15/03/2024 REC E11 -> adopted
    ("0102", "Left care: adopted", "2024-03-15"),
    # 101: S 01/04/2023 (ends 14/05/2023 X1: no event for X1)
    ("101", "Looked after start", "2023-04-01"),
    ("101", "CLA review", "2023-04-20"),
    # P on 14/05/2023 and a missing episode starting the same day: 160 before 180
    ("101", "Placement change", "2023-05-14"),
    ("101", "Missing", "2023-05-14"),
    ("101", "Missing", "2023-06-10"),
    # L on 01/09/2023 (V2 -> C2, same placement K2)
    ("101", "Legal status change", "2023-09-01"),
    ("101", "CLA review", "2023-10-20"),
    # DEC 10/01/2024 REC E45 -> special guardianship
    ("101", "Left care: special guardianship", "2024-01-10"),
    # 103: S 02/01/2024, DEC 28/02/2024 REC E4A -> returned home
    ("103", "Looked after start", "2024-01-02"),
    ("103", "CLA review", "2024-01-24"),
    ("103", "Left care: returned home", "2024-02-28"),
    # 104: S 20/03/2024, DEC blank: an open episode gives its start only
    ("104", "Looked after start", "2024-03-20"),
]


def test_csv_set_events_in_order() -> None:
    log, read = ingest_fixture(CSV_SET)
    assert events(log) == EXPECTED
    assert (log.events, log.cases, log.merged, log.same_day_ties) == (19, 4, 1, 1)
    assert activity_counts(log) == {
        "Looked after start": 4, "Placement change": 2, "Legal status change": 1,
        "Placed for adoption": 1, "Left care: adopted": 1, "Left care: special guardianship": 1,
        "Left care: returned home": 1, "CLA review": 4, "Missing": 2, "Adoption decision": 1,
        "Matched with adopters": 1,
    }
    assert read.errors == [] and read.notes == []


def test_csv_set_accounting() -> None:
    log, _ = ingest_fixture(CSV_SET)
    assert {a.table for a in log.accounts} == {
        "header", "episodes", "reviews", "missing", "ad1", "placed_adoption"}
    assert account(log, "header") == acc(4, 4, events=0)
    # 8 episodes: 4 starts (S) + 2 placement changes + 1 legal status + 1 placed for adoption
    # + 3 endings (E45, E11, E4A); X1 endings and the open episode give none
    assert account(log, "episodes") == acc(8, 8, events=11)
    assert account(log, "reviews") == acc(4, 4, events=4)
    assert account(log, "missing") == acc(2, 2, events=2)
    assert account(log, "ad1") == acc(1, 1, events=2)
    # its one event merged into AD1's Adoption decision: the row is still used
    assert account(log, "placed_adoption") == acc(1, 1, events=1)


def test_xml_gives_the_same_log_as_the_csv_set() -> None:
    csv_log, _ = ingest_fixture(CSV_SET)
    xml_log, read = ingest_fixture(XML)
    assert events(xml_log) == EXPECTED
    assert (xml_log.events, xml_log.cases, xml_log.merged, xml_log.same_day_ties) == (19, 4, 1, 1)
    assert read.errors == []
    # accounting unit: one row per record element (CHILD, EPISODE, AREVIEW, AMISSING, AD_PLACED)
    assert account(xml_log, "child") == acc(4, 4, events=2)  # HEADER carries AD1's two dates
    assert account(xml_log, "episodes") == acc(8, 8, events=11)
    assert account(xml_log, "reviews") == acc(4, 4, events=4)
    assert account(xml_log, "missing") == acc(2, 2, events=2)
    assert account(xml_log, "placed_adoption") == acc(1, 1, events=1)
    # same attributes too (PL was renamed PLACE)
    cols = [CASE, ACTIVITY, "legal_status", "placement_type", "reason"]

    def episodes(log):
        return log.frame.loc[log.frame[SOURCE] == "ssda903/episodes", cols].reset_index(drop=True)

    assert episodes(xml_log).equals(episodes(csv_log))


def test_event_and_case_attributes() -> None:
    log, _ = ingest_fixture(CSV_SET)
    f = log.frame
    placed = f[(f[CASE] == "0102") & (f[ACTIVITY] == "Placed for adoption")].iloc[0]
    # attributes keep the raw code (A5), the condition used the collapsed form; the move's
    # reason is the REASON_PLACE_CHANGE of the episode that ended that day, not its own
    assert (placed["legal_status"], placed["placement_type"]) == ("E1", "A5")
    assert pd.isna(placed["reason"]) and placed["change_reason"] == "CARPL"
    left = f[(f[CASE] == "101") & (f[ACTIVITY] == "Left care: special guardianship")].iloc[0]
    assert left["reason"] == "E45"
    sexes = f.groupby(CASE)["case:sex"].first().to_dict()
    assert sexes == {"0102": "Female", "101": "Male", "103": "Female", "104": "Male"}
    assert f.groupby(CASE)["case:ethnicity"].first().to_dict()["103"] == "BAFR"
    assert "case:birth_date" not in f.columns  # date of birth becomes an age band only


REC_OUTCOMES = [
    ("E11", "Left care: adopted"), ("E12", "Left care: adopted"),
    ("E41", "Left care: child arrangements order"),
    *[(c, "Left care: special guardianship") for c in ("E43", "E44", "E45", "E46", "E47", "E48")],
    ("E4A", "Left care: returned home"), ("E4B", "Left care: returned home"),
    ("E13", "Left care: returned home"),
    ("E5", "Left care: independent living"), ("E6", "Left care: independent living"),
    ("E17", "Left care: independent living"),
    *[(c, "Left care: other") for c in ("E2", "E3", "E7", "E8", "E9", "E14", "E15", "E16", "E99")],
    ("e4a", "Left care: returned home"),  # lower case still the code
]


@pytest.fixture(scope="module")
def rec_log(tmp_path_factory):
    """One episode per REC code, child ``R<n>`` for the n-th code: one file, one ingest."""
    path = write_csv(tmp_path_factory.mktemp("rec") / "episodes.csv", [
        EPISODES_HEADER,
        *[f"R{n},01/04/2023,S,C2,N1,U4,PR1,01/02/2024,{rec},,,," for n, (rec, _) in enumerate(REC_OUTCOMES)],
    ])
    return ingest(path)[0]


@pytest.mark.parametrize(("n", "rec", "activity"), [(n, *pair) for n, pair in enumerate(REC_OUTCOMES)])
def test_rec_codes_name_the_left_care_outcome(rec_log, n: int, rec: str, activity: str) -> None:
    mine = [e for e in events(rec_log) if e[0] == f"R{n}"]
    assert mine == [(f"R{n}", "Looked after start", "2023-04-01"), (f"R{n}", activity, "2024-02-01")]


def test_reason_for_new_episode_rules(tmp_path) -> None:
    """Each RNE code, with adoption and non-adoption placements, in one file."""
    path = write_csv(tmp_path / "episodes.csv", [
        EPISODES_HEADER,
        "8,01/04/2023,S,V2,N1,U4,PR1,01/05/2023,X1,,,,",     # S -> Looked after start
        "8,01/05/2023,U,C2,N1,U5,PR1,01/06/2023,X1,CARPL,,,",  # U, U5 -> Placement change
        "8,01/06/2023,B,E1,N1,A4,PR1,01/07/2023,X1,CARPL,,,",  # B, A4 -> Placed for adoption
        "8,01/07/2023,T,E1,N1,A3,PR1,01/08/2023,X1,PLACE,,,",  # T, A3 -> Placed for adoption
        "8,01/08/2023,P,E1,N1,A6,PR1,01/09/2023,X1,CARPL,,,",  # P, A6 -> Placed for adoption
        "8,01/09/2023,l,E1,N1,A6,PR1,01/10/2023,X1,,,,",       # l (lower case) -> Legal status change
        "8,01/10/2023,P,E1,N1,K2,PR4,,,CARPL,,,",               # P, K2 -> Placement change; open
        "9,01/04/2023,Q,V2,N1,U4,PR1,,,,,,",                   # unknown RNE: no event, row used
    ])
    log, _ = ingest(path)
    assert events(log) == [
        ("8", "Looked after start", "2023-04-01"),
        ("8", "Placement change", "2023-05-01"),
        ("8", "Placed for adoption", "2023-06-01"),
        ("8", "Placed for adoption", "2023-07-01"),
        ("8", "Placed for adoption", "2023-08-01"),
        ("8", "Legal status change", "2023-09-01"),
        ("8", "Placement change", "2023-10-01"),
    ]
    assert account(log, "episodes") == acc(8, 8, events=7)


def test_ad1_and_placed_adoption_differ_then_both_count(tmp_path) -> None:
    """Different dates are different facts: no merge (SPEC §2.2 merges identical ones only)."""
    write_csv(tmp_path / "ad1.csv", [
        "CHILD,DOB,DATE_INT,DATE_MATCH,FOSTER_CARE,NB_ADOPTR,SEX_ADOPTR,LS_ADOPTR",
        "5,01/01/2020,01/09/2023,,0,1,F1,L0",
    ])
    write_csv(tmp_path / "placed.csv", [
        "CHILD,DOB,DATE_PLACED,DATE_PLACED_CEASED,REASON_PLACED_CEASED",
        "5,01/01/2020,01/09/2023,,",   # the same decision: merged with AD1
        "5,01/01/2020,15/02/2024,,",   # a second decision: its own event
    ])
    log, _ = ingest(tmp_path, as_at=date(2024, 3, 31))
    assert events(log) == [("5", "Adoption decision", "2023-09-01"), ("5", "Adoption decision", "2024-02-15")]
    assert log.merged == 1
    assert account(log, "placed_adoption") == acc(2, 2, events=2)
    # DATE_MATCH blank: no Matched event and no problem
    assert account(log, "ad1") == acc(1, 1, events=1)


def test_csv_tables_recognised_by_headers_not_names(tmp_path) -> None:
    """File names say nothing: the header row decides the table."""
    write_csv(tmp_path / "reviews.csv", [EPISODES_HEADER, "1,01/04/2023,S,V2,N1,U1,PR1,,,,,,"])
    write_csv(tmp_path / "data.txt", ["CHILD,DOB,REVIEW,REVIEW_CODE", "1,01/01/2010,20/04/2023,PN1"])
    log, _ = ingest(tmp_path / "reviews.csv", tmp_path / "data.txt")
    assert events(log) == [("1", "Looked after start", "2023-04-01"), ("1", "CLA review", "2023-04-20")]
    assert {a.table for a in log.accounts} == {"episodes", "reviews"}
