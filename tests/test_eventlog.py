"""Order, merging and duplicates in the assembled event log (SPEC §2, §2.2, §3).

Order: (case, timestamp, stage:order, source, source row). Merging: the same (child,
activity, date) from different source tables is one event, as many as the largest number
one table gave. Exact duplicate rows of one table (every field equal, also across yearly
files) count once, the copies as ``duplicate``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pandas as pd

from cscmining.columns import ACTIVITY, CASE, ROW, SOURCE
from cscmining.eventlog import from_records

from reading_support import FIXTURES, acc, account, events, ingest, short, write_csv

EP_HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
HD_HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
L3_HEADER = "Child Unique ID,Gender,Date of referral,Referral Source"


def test_three_events_on_one_day_follow_stage_order() -> None:
    """Given in the reverse order, they come out 40, 50, 60; the two ties are counted."""
    log = from_records([
        ("c", "S47 enquiry", "2024-05-02"),
        ("c", "Assessment start", "2024-05-02"),
        ("c", "Referral", "2024-05-02"),
        ("c", "Contact", "2024-05-01"),
    ])
    assert events(log) == [
        ("c", "Contact", "2024-05-01"),
        ("c", "Referral", "2024-05-02"),
        ("c", "Assessment start", "2024-05-02"),
        ("c", "S47 enquiry", "2024-05-02"),
    ]
    assert log.frame["stage:order"].tolist() == [10, 40, 50, 60]
    assert log.same_day_ties == 2


def test_same_day_events_from_files_in_reverse_row_order(tmp_path) -> None:
    """Three lists, each naming one event on 05/01/2024; file and row order do not matter."""
    write_csv(tmp_path / "a.csv", ["Child Unique ID,Strategy discussion initiating Section 47 Enquiry Start Date",
                                   "T1,05/01/2024"])
    write_csv(tmp_path / "b.csv", ["Child Unique ID,Continuous Assessment Start Date,"
                                   "Continuous Assessment Date of Authorisation", "T1,05/01/2024,"])
    write_csv(tmp_path / "c.csv", [L3_HEADER, "T1,F,05/01/2024,g) Police"])
    log, _ = ingest(tmp_path)
    assert events(log) == [("T1", "Referral", "2024-01-05"), ("T1", "Assessment start", "2024-01-05"),
                           ("T1", "S47 enquiry", "2024-01-05")]
    assert (log.same_day_ties, log.merged) == (2, 0)


def test_cin_and_annex_a_referral_and_icpc_merge(tmp_path) -> None:
    """CIN census referral = Annex A list 3 referral; the ICPC in CINdetails, Section47 and
    Annex A list 5 is one event. 10 CIN events + 2 referrals + 1 ICPC + 1 S47 -> still 10."""
    write_csv(tmp_path / "l3.csv", [L3_HEADER, "C001,M,02/04/2024,a) 1A: Individual",
                                    "0042,F,01/06/2024,g) Police"])
    write_csv(tmp_path / "l5.csv", [
        "Child Unique ID,Strategy discussion initiating Section 47 Enquiry Start Date,"
        "Date of Initial Child Protection Conference", "C001,03/04/2024,20/04/2024"])
    shutil.copy(FIXTURES / "cin_small.xml", tmp_path / "cin.xml")
    log, _ = ingest(tmp_path)
    cin_only, _ = ingest(FIXTURES / "cin_small.xml")
    assert events(log) == events(cin_only)
    # merged: ICPC (Section47 into CINdetails) 1 + list 5 ICPC 1 + list 5 S47 1 + 2 referrals
    assert (log.events, log.cases, log.merged) == (10, 2, 5)
    assert account(log, "list_3") == acc(2, 2, events=2)
    assert account(log, "list_5") == acc(1, 1, events=2)
    # the kept copy is the first source in sort order, its attributes completed by the others
    f = log.frame
    ref = f[(f[CASE] == "C001") & (f[ACTIVITY] == "Referral")].iloc[0]
    assert ref[SOURCE] == "annex_a/list_3"
    assert (ref["referral_source"], ref["primary_need"]) == ("a) 1A: Individual", "N1")


def test_identical_events_within_one_table_stay_separate(tmp_path) -> None:
    """Two list 3 rows for one child and day (different sources: two referrals) are two
    events; with one CIN referral that day the group keeps the larger count, 2."""
    write_csv(tmp_path / "l3.csv", [L3_HEADER, "0042,F,01/06/2024,g) Police",
                                    "0042,F,01/06/2024,a) 1A: Individual"])
    shutil.copy(FIXTURES / "cin_small.xml", tmp_path / "cin.xml")
    log, _ = ingest(tmp_path)
    refs = [e for e in events(log) if e[:2] == ("0042", "Referral")]
    assert refs == [("0042", "Referral", "2024-06-01")] * 2
    assert (log.events, log.merged) == (11, 2)  # the referral and the repeated ICPC
    assert account(log, "list_3") == acc(2, 2, events=2)


def test_exact_duplicate_rows_count_once(tmp_path) -> None:
    write_csv(tmp_path / "l3.csv", [
        L3_HEADER,
        "D1,F,01/02/2024,g) Police",
        "D1,F,01/02/2024,g) Police",      # every field equal: duplicate
        "D1, F ,01/02/2024,g) Police ",   # equal once stripped: duplicate
        "D1,F,01/02/2024,5D",             # another source: a second referral that day
    ])
    log, _ = ingest(tmp_path)
    assert events(log) == [("D1", "Referral", "2024-02-01")] * 2
    assert account(log, "list_3") == acc(4, 2, duplicate=2, events=2)


def test_exact_duplicates_across_two_yearly_files(tmp_path) -> None:
    """The 2024 return repeats the header rows and the still-open episode of the 2023 one."""
    y23, y24 = tmp_path / "2023", tmp_path / "2024"
    y23.mkdir(), y24.mkdir()
    write_csv(y23 / "header.csv", [HD_HEADER, "1,1,01/01/2010,WBRI,A1,,", "2,2,01/01/2012,WBRI,A2,,"])
    write_csv(y23 / "episodes.csv", [EP_HEADER,
                                     "1,01/06/2022,S,C2,N1,U4,PR1,,,,,,",            # open
                                     "2,01/09/2022,S,V2,N1,U6,PR1,01/12/2022,E13,,,,"])
    write_csv(y24 / "header.csv", [HD_HEADER, "1,1,01/01/2010,WBRI,A1,,", "2,2,01/01/2012,WBRI,A2,,",
                                   "3,2,01/01/2015,WBRI,A3,,"])
    write_csv(y24 / "episodes.csv", [EP_HEADER,
                                     "1,01/06/2022,S,C2,N1,U4,PR1,,,,,,",            # still open
                                     "3,01/05/2023,S,V2,N1,U6,PR1,,,,,,"])
    log, _ = ingest(y24, y23)
    assert events(log) == [
        ("1", "Looked after start", "2022-06-01"),
        ("2", "Looked after start", "2022-09-01"),
        ("2", "Left care: returned home", "2022-12-01"),
        ("3", "Looked after start", "2023-05-01"),
    ]
    accounts = {(Path(a.path).parent.name, a.table): short(a) for a in log.accounts}
    assert accounts[("2023", "episodes")] == acc(2, 2, events=3)
    # the copy is counted in the later file (files are taken in path order)
    assert accounts[("2024", "episodes")] == acc(2, 1, duplicate=1, events=1)
    assert accounts[("2023", "header")] == acc(2, 2, events=0)
    assert accounts[("2024", "header")] == acc(3, 1, duplicate=2, events=0)


def _shuffled_copy(src: Path, dst: Path, seed: int) -> None:
    """Every CSV under ``src`` again under ``dst``, same names, data rows shuffled."""
    rng = random.Random(seed)
    for path in sorted(src.rglob("*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        body = lines[1:]
        rng.shuffle(body)
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_csv(target, [lines[0], *body])


def _tie_rich_data(root: Path) -> None:
    """The 903 and Annex A fixtures plus rows that tie on child, day and table."""
    shutil.copytree(FIXTURES / "ssda903_csv", root / "903")
    shutil.copytree(FIXTURES / "annex_a_csv", root / "annex_a")
    (root / "extra").mkdir()
    write_csv(root / "extra" / "l3.csv", [
        L3_HEADER,
        "K1,F,05/01/2024,a) 1A: Individual", "K1,F,05/01/2024,g) Police", "K1,F,05/01/2024,5D",
        "K1,F,05/01/2024,g) Police", "K2,M,06/01/2024,g) Police", "K2,M,07/01/2024,g) Police",
        "A1,M,10/01/2024,5D",  # a second referral for A1 that day, beside list_3_referrals.csv
    ])
    write_csv(root / "extra" / "ep.csv", [
        EP_HEADER,
        # two episodes of one child ending the same day with different outcomes (both 210)
        "K1,05/01/2024,S,V2,N1,U1,PR1,01/02/2024,E13,,,,",
        "K1,06/01/2024,S,V2,N1,U1,PR1,01/02/2024,E45,,,,",
        "K1,05/01/2024,P,V2,N1,U4,PR1,01/02/2024,E11,CARPL,,,",
    ])


def test_shuffled_rows_give_an_identical_log(tmp_path) -> None:
    """The log does not depend on the order of rows in the files.

    Decision: "identical" means every column except ``source:row`` (which says where each
    event was read, and so must change when the rows move). To make that hold, events that
    tie on (child, day, stage order, source table) are ordered by activity and attribute
    values before the row number.
    """
    _tie_rich_data(tmp_path / "a")
    base, _ = ingest(tmp_path / "a")
    for seed in (1, 2):
        _shuffled_copy(tmp_path / "a", tmp_path / f"s{seed}", seed)
        log, _ = ingest(tmp_path / f"s{seed}")
        pd.testing.assert_frame_equal(log.frame.drop(columns=[ROW]), base.frame.drop(columns=[ROW]))
        assert (log.same_day_ties, log.merged) == (base.same_day_ties, base.merged)
        assert [short(a) for a in log.accounts] == [short(a) for a in base.accounts]
    k1 = [e for e in events(base) if e[0] == "K1"]
    assert k1 == [
        ("K1", "Referral", "2024-01-05"), ("K1", "Referral", "2024-01-05"),
        ("K1", "Referral", "2024-01-05"),
        ("K1", "Looked after start", "2024-01-05"), ("K1", "Placement change", "2024-01-05"),
        ("K1", "Looked after start", "2024-01-06"),
        ("K1", "Left care: adopted", "2024-02-01"), ("K1", "Left care: returned home", "2024-02-01"),
        ("K1", "Left care: special guardianship", "2024-02-01"),
    ]
    # same-day referrals from one table: ordered by their attributes (referral source)
    f = base.frame
    assert f.loc[(f[CASE] == "K1") & (f[ACTIVITY] == "Referral"), "referral_source"].tolist() == [
        "5D", "a) 1A: Individual", "g) Police"]


def test_input_path_order_does_not_matter(tmp_path) -> None:
    _tie_rich_data(tmp_path)
    paths = [tmp_path / "903", tmp_path / "annex_a" / "list_3_referrals.csv", tmp_path / "extra",
             tmp_path / "annex_a", FIXTURES / "cin_small.xml"]
    first, _ = ingest(*paths)
    second, _ = ingest(*reversed(paths))
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert [a.to_dict() for a in first.accounts] == [a.to_dict() for a in second.accounts]
    # a file named twice (directly and inside its folder) is read once
    assert len([a for a in first.accounts if a.path.endswith("list_3_referrals.csv")]) == 1


def test_cases_counts_the_children_of_a_sorted_log_and_of_its_subsets() -> None:
    """`EventLog.cases` counts runs of the sorted child column: it must equal the number of
    distinct children, whatever order the records came in and after a filter."""
    records = [("b", "Referral", "2024-01-02"), ("a", "Referral", "2024-01-03"),
               ("b", "Assessment start", "2024-01-05"), ("c", "Referral", "2024-01-01"),
               ("a", "Case closed", "2024-02-01")]
    log = from_records(records)
    assert log.cases == 3 == log.frame["case:concept:name"].nunique()
    assert log.with_frame(log.frame[log.frame["concept:name"] == "Referral"]).cases == 3
    assert log.with_frame(log.frame.iloc[0:0]).cases == 0
    assert log.with_frame(log.frame.iloc[0:1]).cases == 1
    # the same counts whatever the child column's type (Arrow text, categorical, objects)
    assert isinstance(log.frame["case:concept:name"].dtype, pd.StringDtype)
    for dtype in ("category", object):
        retyped = log.frame.astype({"case:concept:name": dtype})
        assert log.with_frame(retyped).cases == 3
        assert log.with_frame(retyped.iloc[0:1]).cases == 1


def test_the_parquet_log_keeps_statistics_for_dates_and_numbers_only(tmp_path) -> None:
    """Readers skip row groups by the date column's min/max (`engines.sources`); text columns
    (child ids, codes) are written without them, which saves a quarter of the writing."""
    import pyarrow.parquet as pq

    from cscmining.columns import TIMESTAMP
    from cscmining.eventlog import read_event_log, write_event_log

    log = from_records([("b", "Referral", "2024-01-02"), ("a", "Referral", "2024-01-03"),
                        ("a", "Case closed", "2024-02-01")])
    path = write_event_log(log, tmp_path / "log.parquet")
    group = pq.ParquetFile(path).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(group.num_columns)}
    assert stats[TIMESTAMP].has_min_max and str(stats[TIMESTAMP].min)[:10] == "2024-01-02"
    assert stats[CASE] is None and stats[ACTIVITY] is None
    assert read_event_log(path).frame.equals(log.frame)
