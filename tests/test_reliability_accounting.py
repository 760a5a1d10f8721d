"""Row accounting under faults: research/reliability.md §3.6 (T-ACC-01 … 05, 08).

A transform that loses a row or an event must fail the run (`AccountingError`, exit 2, no
log written), never produce a smaller log quietly. The faults are test doubles: a step of
the pipeline replaced by one that drops something.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import cscmining.eventlog as eventlog
import cscmining.ingest as ingest_module
from cscmining.accounting import TableAccount
from cscmining.columns import ACTIVITY, CASE, SOURCE, TIMESTAMP
from cscmining.discover import process_map
from cscmining.errors import AccountingError, RejectRateError
from cscmining.eventlog import EventLog, assemble

from reading_support import EP, FIXTURES, acc, account, ingest, run_cli, write_csv

run = run_cli


def balanced(log: EventLog) -> None:
    for a in log.accounts:
        a.check()
    assert sum(a.events for a in log.accounts) == log.events + log.merged


# --- T-ACC-01: every kind of rejection in one file --------------------------------------------


def test_acc_01_every_reject_type_in_one_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [
        EP,
        "1,01/04/2023,S,V2,N1,U4,PR1,01/06/2023,E11,,,,",     # used: 2 events
        "1,01/04/2023,S,V2,N1,U4,PR1,01/06/2023,E11,,,,",     # duplicate
        ",01/04/2023,S,V2,N1,U4,PR1,,,,,,",                   # ID_MISSING
        "1.2E+05,01/04/2023,S,V2,N1,U4,PR1,,,,,,",            # ID_CORRUPT
        "2,31/02/2023,S,V2,N1,U4,PR1,,,,,,",                  # DATE_INVALID
        "3,2023-04-01,S,V2,N1,U4,PR1,,,,,,",                  # DATE_FORMAT
        "4,,S,V2,N1,U4,PR1,,,,,,",                            # DATE_MISSING
        "5,01/04/1989,S,V2,N1,U4,PR1,,,,,,",                  # DATE_OUT_OF_RANGE
        "6,01/04/2025,S,V2,N1,U4,PR1,,,,,,",                  # DATE_FUTURE
        "7,01/04/2023,S,V2,N1",                               # ROW_SHAPE
        ",,,,,,,,,,,,",                                       # blank
        "8,01/04/2023,S,V2,N1,U4,PR1,01/03/2023,E11,,,,",     # used, END_BEFORE_START
        "9,01/04/2023,S,V2,N1,U4,PR1,01/05/2024,E11,,,,",     # used, end DATE_FUTURE
        "10.0,02/04/2023,S,V2,N1,U4,PR1,,,,,,",               # used, ID_FROM_NUMBER
    ])
    log, _ = ingest(path, as_at=date(2024, 3, 31))
    assert account(log, "episodes") == acc(
        14, 4, duplicate=1, blank=1, events=5,
        rejected={"ID_MISSING": 1, "ID_CORRUPT": 1, "DATE_INVALID": 1, "DATE_FORMAT": 1,
                  "DATE_MISSING": 1, "DATE_OUT_OF_RANGE": 1, "DATE_FUTURE": 1, "ROW_SHAPE": 1},
        flags={"END_BEFORE_START": 1, "DATE_FUTURE": 1, "ID_FROM_NUMBER": 1})
    balanced(log)


@pytest.mark.parametrize("fixture", ["ssda903_csv", "ssda903.xml", "cin_small.xml", "cin_more.xml", "annex_a_csv"])
def test_every_event_is_accounted_to_its_table(fixture: str) -> None:
    """ACC-3: the events each table's rows gave add up to the log (merged copies included)."""
    log, _ = ingest(FIXTURES / fixture)
    balanced(log)


# --- T-ACC-02: a transform that drops a row or an event fails the run ---------------------


def _lose_one_merged_event(monkeypatch) -> None:
    real = eventlog.merge_sources

    def lossy(frame: pd.DataFrame):
        merged_frame, merged = real(frame)
        return merged_frame.iloc[1:].reset_index(drop=True), merged

    monkeypatch.setattr(eventlog, "merge_sources", lossy)


def test_acc_02_an_event_lost_while_merging_fails_the_run(tmp_path: Path, monkeypatch) -> None:
    _lose_one_merged_event(monkeypatch)
    with pytest.raises(AccountingError, match="merging lost events"):
        ingest(FIXTURES / "cin_small.xml")
    out = tmp_path / "log.parquet"
    code, _, err = run("ingest", FIXTURES / "cin_small.xml", "-o", out)
    assert code == 2 and "error: merging lost events" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_acc_02_a_row_lost_before_the_engine_fails_the_run(monkeypatch) -> None:
    real = ingest_module.read_files

    def lossy(*args, **kwargs):
        result = real(*args, **kwargs)
        table = next(t for t in result.tables if t.table == "episodes")
        table.frame = table.frame.iloc[1:].reset_index(drop=True)
        return result

    monkeypatch.setattr(ingest_module, "read_files", lossy)
    with pytest.raises(AccountingError):
        ingest(FIXTURES / "ssda903_csv")


def test_acc_02_an_event_lost_between_the_engine_and_the_log_fails_the_run(monkeypatch) -> None:
    real = ingest_module.process_table

    def lossy(*args, **kwargs):
        result = real(*args, **kwargs)
        if len(result.events):
            result.events = result.events.iloc[1:].reset_index(drop=True)
        return result

    monkeypatch.setattr(ingest_module, "process_table", lossy)
    with pytest.raises(AccountingError):
        ingest(FIXTURES / "ssda903_csv")


def test_acc_02_a_table_account_that_does_not_add_up_names_the_table() -> None:
    from cscmining.accounting import TableAccount

    broken = TableAccount(path="e.csv", source="ssda903", table="episodes", rows_read=5, used=3, blank=1)
    with pytest.raises(AccountingError, match=r"e.csv: table episodes: 5 rows read but 4 accounted for"):
        broken.check()


# --- T-ACC-03: pm4py never gets (or silently drops) a row with a gap -------------------------


def test_acc_03_an_event_without_a_date_never_reaches_pm4py() -> None:
    log = eventlog.from_records([("c1", "Referral", "2024-01-01"), ("c1", "Case closed", "2024-02-01")])
    events = log.frame[[CASE, ACTIVITY, TIMESTAMP, SOURCE, "source:row"]].copy()
    events.loc[1, TIMESTAMP] = pd.NaT
    with pytest.raises(AccountingError, match="without a child, activity or date"):
        assemble(events, vocabulary=log.vocabulary, as_at=log.as_at)


def test_acc_03_if_pm4py_lost_an_event_the_cross_check_stops(monkeypatch) -> None:
    import cscmining.discover as discover

    log, _ = ingest(FIXTURES / "cin_small.xml")
    process_map(log, check=True)  # agrees as it is
    real = discover.pm4py_dfg
    monkeypatch.setattr(discover, "pm4py_dfg", lambda frame: real(frame.iloc[:-1]))
    with pytest.raises(AccountingError, match="pm4py and cscmining disagree"):
        process_map(log, check=True)


# --- T-ACC-04: a table with too many rejected rows stops the run ------------------------------

L3 = "Child Unique ID,Date of referral"


def referrals(tmp_path: Path, good: int, bad_format: int, bad_day: int) -> Path:
    """An Annex A list 3 with ``good`` referrals, then ``bad_format`` ISO dates (DATE_FORMAT)
    and ``bad_day`` 31 Februaries (DATE_INVALID)."""
    rows = [f"G{i},02/02/2024" for i in range(good)] + [f"F{i},2024-02-02" for i in range(bad_format)]
    rows += [f"D{i},31/02/2024" for i in range(bad_day)]
    return write_csv(tmp_path / "l3.csv", [L3, *rows])


def test_acc_04_six_bad_rows_in_a_hundred_stop_the_run(tmp_path: Path) -> None:
    path = referrals(tmp_path, 94, 4, 2)
    with pytest.raises(RejectRateError) as info:
        ingest(path)
    message = str(info.value)
    assert message.startswith("DQ_REJECT_RATE: more than 5% of a table's rows rejected, no event log written")
    assert message.endswith(f"{path}: table list_3: 6 of 100 rows rejected (6.0%; most often DATE_FORMAT 4, "
                            "DATE_INVALID 2)")
    assert ingest(path, max_reject_rate=0.06)[0].events == 94  # 6 % is not above 6 %
    assert ingest(path, max_reject_rate=1)[0].events == 94


def test_acc_04_five_in_a_hundred_pass_and_small_tables_are_not_held_to_it(tmp_path: Path) -> None:
    assert ingest(referrals(tmp_path, 95, 5, 0))[0].events == 95
    log, _ = ingest(referrals(tmp_path, 50, 49, 0))  # 99 rows: under the minimum
    assert account(log, "list_3") == acc(99, 50, events=50, rejected={"DATE_FORMAT": 49})


def test_acc_04_blank_and_superseded_rows_are_not_faults() -> None:
    """Blank rows are not records, and a record a later yearly file repeats is no fault of the
    extract: of 200 rows, 10 blank and 90 superseded leave 100; 4 bad pass, 6 bad (6 %) stop."""
    from collections import Counter

    from cscmining.accounting import check_reject_rates

    def episodes(bad: int) -> TableAccount:
        account_ = TableAccount(path="e.csv", source="ssda903", table="episodes", rows_read=200,
                                used=100 - bad, blank=10, rejected=Counter(SUPERSEDED=90, DATE_FORMAT=bad))
        account_.check()
        return account_

    superseded = frozenset({"SUPERSEDED"})
    check_reject_rates([episodes(4)], 0.05, not_faults=superseded)
    with pytest.raises(RejectRateError, match=r"e.csv: table episodes: 94 of 190 rows rejected \(49.5%"):
        check_reject_rates([episodes(4)], 0.05)
    with pytest.raises(RejectRateError, match=r"6 of 100 rows rejected \(6.0%; most often DATE_FORMAT 6\)$"):
        check_reject_rates([episodes(6)], 0.05, not_faults=superseded)


def test_acc_04_events_after_a_chosen_as_at_date_are_not_faults(tmp_path: Path) -> None:
    """With --as-at the analyst leaves later events out on purpose; without it, a date after
    the data's own reference date is a typo and counts."""
    path = write_csv(tmp_path / "l3.csv", [L3, *[f"R{i},02/0{1 + i % 2}/2024" for i in range(100)]])
    log, _ = ingest(path, as_at=date(2024, 1, 31))
    assert account(log, "list_3") == acc(100, 50, events=50, rejected={"DATE_FUTURE": 50})


def test_acc_04_the_cli_stops_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    path = referrals(tmp_path, 70, 20, 10)
    out = tmp_path / "out" / "log.parquet"
    out.parent.mkdir()
    code, _, err = run("ingest", path, "-o", out)
    assert code == 2 and "Traceback" not in err
    assert "30 of 100 rows rejected (30.0%; most often DATE_FORMAT 20, DATE_INVALID 10)" in err
    assert list(out.parent.iterdir()) == []
    code, _, err = run("variants", path)  # an analysis of raw inputs draws nothing either
    assert code == 2 and "DQ_REJECT_RATE" in err
    code, _, err = run("ingest", path, "-o", out, "--max-reject-rate", "0.3", "--json")
    assert code == 0 and out.exists()
    code, _, err = run("ingest", path, "-o", out, "--force", "--max-reject-rate", "1.5")
    assert code == 2 and "--max-reject-rate" in err


# --- T-ACC-05: pm4py's warning switch changes nothing -----------------------------------------


def test_acc_05_pm4py_warnings_off_changes_no_account(monkeypatch) -> None:
    before, _ = ingest(FIXTURES / "ssda903_csv", FIXTURES / "cin_small.xml")
    monkeypatch.setenv("PM4PY_SHOW_INTERNAL_WARNINGS", "False")
    after, _ = ingest(FIXTURES / "ssda903_csv", FIXTURES / "cin_small.xml")
    assert [a.to_dict() for a in after.accounts] == [a.to_dict() for a in before.accounts]
    pd.testing.assert_frame_equal(after.frame, before.frame)
    assert process_map(after, check=True).to_dict() == process_map(before, check=True).to_dict()


# --- T-ACC-08: missing keys are never dropped by a group-by ------------------------------------


def test_acc_08_rows_without_an_id_are_counted_not_grouped_away(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l3.csv", ["Child Unique ID,Gender,Date of referral",
                                           ",F,01/02/2024", " ,,02/02/2024", "A,,03/02/2024", "A,F,04/02/2024"])
    log, _ = ingest(path)
    assert account(log, "list_3") == acc(4, 2, events=2, rejected={"ID_MISSING": 2})
    assert log.frame["case:sex"].tolist() == ["Female", "Female"]
