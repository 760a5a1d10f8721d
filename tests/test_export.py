"""Writing the event log: Parquet keeps everything, CSV and XES are read back by other tools."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cscmining.errors import UsageError
from cscmining.eventlog import from_records, is_event_log, read_event_log, write_event_log
from cscmining.xes import render_xes

RECORDS = [
    ("007", "Referral", "2024-04-01"),
    ("007", "Assessment start", "2024-04-01"),
    ("007", "Case closed", "2024-05-13"),
    ("a&<b>\"c", "Contact", "2024-03-31"),
]


def test_parquet_round_trip_keeps_frame_and_metadata(tmp_path: Path) -> None:
    log = from_records(RECORDS, as_at="2024-06-30")
    path = write_event_log(log, tmp_path / "log.parquet")
    assert is_event_log(path)
    back = read_event_log(path)
    pd.testing.assert_frame_equal(back.frame, log.frame)
    assert back.as_at == date(2024, 6, 30)
    assert back.same_day_ties == 1
    assert back.frame["case:concept:name"].tolist()[0] == "007"  # leading zeros kept


def test_csv_keeps_ids_and_calendar_dates(tmp_path: Path) -> None:
    path = write_event_log(from_records(RECORDS), tmp_path / "log.csv")
    text = path.read_text().splitlines()
    assert text[0].startswith("case:concept:name,concept:name,time:timestamp,stage:order,source")
    assert text[1].startswith("007,Referral,2024-04-01,40,")


@pytest.mark.filterwarnings("ignore:Install the optional requirement")  # pm4py's advert for r4pm
def test_xes_is_read_back_by_pm4py_with_the_same_events(tmp_path: Path) -> None:
    log = from_records(RECORDS)
    path = write_event_log(log, tmp_path / "log.xes")
    sys._pm4py_welcome_shown = True  # type: ignore[attr-defined]
    import pm4py

    back = pm4py.read_xes(str(path))
    assert len(back) == 4
    assert sorted(back["case:concept:name"].unique()) == sorted(["007", 'a&<b>"c'])
    # midnight of the same calendar day, never shifted
    assert back["time:timestamp"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-04-01", "2024-04-01", "2024-05-13", "2024-03-31"
    ]


def test_xes_escapes_markup_in_ids_and_activities() -> None:
    text = render_xes(from_records(RECORDS).frame)
    assert 'value="a&amp;&lt;b&gt;&quot;c"' in text
    assert "<b>" not in text


def test_unknown_extension_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown event log format"):
        write_event_log(from_records(RECORDS), tmp_path / "log.json")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind
