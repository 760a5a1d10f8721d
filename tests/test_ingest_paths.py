"""The fast paths of ingest give the same log as the plain ones (issue 6).

The readers hand events over with categorical text columns and the log is merged and sorted
on integer codes; a large UTF-8 CSV is decoded only as far as its header; columns no rule
reads are looked at only where blank-row and duplicate detection need them; XML rows are
kept column by column. Each test pins one of these against the behaviour it replaces.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cscmining.ingest as ingest_module
import cscmining.sources.tabular as tabular
from cscmining.columns import ACTIVITY, CASE, ROW, SOURCE, TIMESTAMP
from cscmining.errors import InputFilesError
from cscmining.eventlog import assemble
from cscmining.sources.xml import _Rows
from cscmining.vocabulary import load_vocabulary

from reading_support import FIXTURES, acc, account, events, ingest, write_csv

EP_HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"


def _captured_inputs(monkeypatch, *paths: Path) -> dict:
    """What `build_event_log` hands to `assemble` for ``paths`` (events, case attributes)."""
    seen: dict = {}
    real = ingest_module.assemble

    def spy(events, **kwargs):
        seen.update(events=events.copy(), case_attrs=kwargs.get("case_attrs"), as_at=kwargs["as_at"])
        return real(events, **kwargs)

    monkeypatch.setattr(ingest_module, "assemble", spy)
    ingest(*paths)
    return seen


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as object columns of their values (what readers used to give)."""
    return frame.assign(**{
        c: np.asarray(frame[c].array, dtype=object) for c in frame.columns
        if isinstance(frame[c].dtype, pd.CategoricalDtype)
    })


def test_categorical_and_plain_events_give_the_same_log(tmp_path, monkeypatch) -> None:
    """Merging (CIN and Annex A report the same referrals and ICPCs), completing attributes
    from merged copies, same-day ties and case attributes: the codes path and the plain
    pandas path agree exactly."""
    shutil.copy(FIXTURES / "cin_small.xml", tmp_path / "cin.xml")
    shutil.copytree(FIXTURES / "annex_a_csv", tmp_path / "annex_a")
    shutil.copytree(FIXTURES / "ssda903_csv", tmp_path / "903")
    seen = _captured_inputs(monkeypatch, tmp_path)
    events_in = seen["events"]
    assert isinstance(events_in[CASE].dtype, pd.CategoricalDtype)
    vocabulary = load_vocabulary()
    fast = assemble(events_in, vocabulary=vocabulary, as_at=seen["as_at"], case_attrs=seen["case_attrs"])
    slow = assemble(_plain(events_in), vocabulary=vocabulary, as_at=seen["as_at"], case_attrs=seen["case_attrs"])
    assert fast.merged > 0 and fast.same_day_ties > 0
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert (fast.merged, fast.same_day_ties) == (slow.merged, slow.same_day_ties)


def _tied(values: list[tuple[str, str]]) -> pd.DataFrame:
    """Events of one child, day, activity and table, differing only in two attributes."""
    n = len(values)
    return pd.DataFrame({
        CASE: ["c"] * n, ACTIVITY: ["Referral"] * n,
        TIMESTAMP: pd.to_datetime(["2024-05-01"] * n), SOURCE: ["annex_a/list_3"] * n,
        ROW: np.arange(2, n + 2, dtype="int64"),
        "a": [v[0] for v in values], "b": [v[1] for v in values],
    })


@pytest.mark.parametrize("categorical", [False, True])
def test_same_day_ties_order_by_the_joined_attribute_text(categorical: bool) -> None:
    """Tied events are ordered by their attribute values joined with "\\x1f" (SPEC §2). With
    printable values that is the order column by column ("U1" before "U12", blank first);
    a value with a control character (a tab sorts before the separator) changes it, and
    the log follows the joined text either way."""
    values = [("x", "z"), ("x\t", "a"), ("U12", "a"), ("U1", "b"), ("", "q"), ("U1", "")]
    frame = _tied(values)
    frame = frame.assign(a=frame["a"].replace("", None), b=frame["b"].replace("", None))
    if categorical:
        frame = frame.assign(a=frame["a"].astype("category"), b=frame["b"].astype("category"))
    log = assemble(frame, vocabulary=load_vocabulary(), as_at=pd.Timestamp("2024-06-01").date())
    got = list(zip(log.frame["a"].fillna("").tolist(), log.frame["b"].fillna("").tolist()))
    assert got == sorted(values, key=lambda v: v[0] + "\x1f" + v[1])
    assert got.index(("x\t", "a")) < got.index(("x", "z"))


def _episodes(path: Path, rows: list[str]) -> Path:
    return write_csv(path, [EP_HEADER, *rows])


def test_columns_no_rule_reads_still_decide_blank_and_duplicate_rows(tmp_path) -> None:
    """URN is read by no rule, yet a row differing only there is no duplicate, a row holding
    only a URN is no blank row, and cells are compared cleaned (spaces, NBSP)."""
    base = "C1,01/01/2024,S,V2,N1,U1,PR1,,,,,,"
    _episodes(tmp_path / "episodes.csv", [
        base + "SC1",
        base + "SC2",  # differs in URN only: a row of its own (and an event)
        base + " SC1\u00a0",  # equal once cleaned: a duplicate
        ",,,,,,,,,,,,SC9",  # not blank: no child id
        ",,,,,,,,,,,, ",  # blank
        base + "SC3",
        ",,,,,,,,,,,,\u00a0",  # trailing blank: not a row
    ])
    log, _ = ingest(tmp_path / "episodes.csv")
    # three open episodes of one child from the same day: the second and third overlap (T-EP-02)
    assert account(log, "episodes") == acc(6, 3, events=3, duplicate=1, blank=1, rejected={"ID_MISSING": 1},
                                           flags={"OVERLAP": 2})
    assert events(log) == [("C1", "Looked after start", "2024-01-01")] * 3


def _large_csv(tmp_path: Path, extra: list[str] | None = None, *, title: bool = True) -> Path:
    rows = [f"C{i:04d},{1 + i % 28:02d}/01/2024,S,V2,N1,U1,PR1,,,,,,SC{i}" for i in range(300)]
    lines = (["SSDA903 episodes", ""] if title else []) + [EP_HEADER, *rows, *(extra or [])]
    return write_csv(tmp_path / "episodes.csv", lines)


@pytest.fixture
def small_head(monkeypatch) -> None:
    """Make every test file "large": only its first 400 bytes are decoded for the header."""
    monkeypatch.setattr(tabular, "HEAD_BYTES", 400)


def test_large_csv_read_from_its_head_as_from_its_whole_text(tmp_path, small_head) -> None:
    path = _large_csv(tmp_path, ['C9999,02/02/2024,S,V2,N1,"U1",PR1,,,"CAR\nPL",,,SC'])
    log, _ = ingest(path)
    assert account(log, "episodes") == acc(301, 301, events=301)
    ragged = _large_csv(tmp_path, ["C9999,02/02/2024,S,V2", "C9998,03/02/2024,S,V2,N1,U1,PR1,,,,,,SC"])
    log, _ = ingest(ragged)
    assert account(log, "episodes") == acc(302, 301, events=301, rejected={"ROW_SHAPE": 1})


def test_large_csv_with_bad_bytes_late_is_the_encoding_error(tmp_path, small_head) -> None:
    path = _large_csv(tmp_path)
    data = path.read_bytes()
    at = len(data) - 40
    path.write_bytes(data[:at] + b"\xff" + data[at:])
    with pytest.raises(InputFilesError) as info:
        ingest(path)
    assert [(e.code, e.detail) for e in info.value.errors] == [
        ("ENCODING", f"not valid UTF-8 text at byte offset {at}; save it as 'CSV UTF-8' or pass --encoding cp1252")]


def test_large_csv_whose_head_has_no_header_is_read_whole(tmp_path, small_head) -> None:
    """Title rows longer than the head: the header is found in the whole text."""
    path = write_csv(tmp_path / "episodes.csv", ["x" * 500, "", EP_HEADER, "C1,01/01/2024,S,V2,N1,U1,PR1,,,,,,"])
    log, _ = ingest(path)
    assert account(log, "episodes") == acc(1, 1, events=1)


def test_xml_rows_kept_column_by_column_make_the_frame_of_their_records() -> None:
    records = [{"a": "1", "b": None}, {"c": "x", "a": "1"}, {}, {"b": "y"}]
    rows = _Rows()
    for record in records:
        rows.add(record)
    frame = rows.frame()
    expected = pd.DataFrame.from_records(records)
    assert list(frame.columns) == list(expected.columns) == ["a", "b", "c"]
    assert frame.astype(object).where(frame.notna(), None).values.tolist() == \
        expected.astype(object).where(expected.notna(), None).values.tolist()
