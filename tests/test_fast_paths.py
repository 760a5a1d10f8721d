"""The vectorised shortcuts of the ingest path give what the plain, slower way gives.

Each shortcut (issue 6) is checked on a small case worked out by hand, and where a plain
pandas formulation exists, against it on random data.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cscmining.columns import ACTIVITY, CASE, SOURCE, TIMESTAMP
from cscmining.eventlog import (
    _group_ids,
    _rank,
    _reported_by_several_sources,
    attach_case_attributes,
    case_attribute_values,
    sorted_codes,
)
from cscmining.ingest import AGE_BANDS, _with_age_band
from cscmining.sources.engine import _encode_cells
from cscmining.sources.tabular import _sheet_body


def test_sheet_body_pads_cuts_and_blanks() -> None:
    rows = [[1, "a", float("nan")], [2], [3, "b", "c", "d"], []]
    body = _sheet_body(rows, 3)
    assert body.to_numpy().tolist() == [[1, "a", None], [2, None, None], [3, "b", "c"],
                                        [None, None, None]]
    assert list(body.columns) == [0, 1, 2]
    assert all(body[c].dtype == object for c in body.columns)


def test_sheet_body_rectangular_keeps_cell_types() -> None:
    day = dt.date(2024, 4, 1)
    body = _sheet_body([[day, 1.0, True], ["x", None, 45000]], 3)
    assert body.to_numpy().tolist() == [[day, 1.0, True], ["x", None, 45000]]
    assert [type(v) for v in body.iloc[0]] == [dt.date, float, bool]
    assert _sheet_body([], 2).shape == (0, 2)


def test_encode_cells_shares_only_equal_type_and_value() -> None:
    day = dt.date(2020, 1, 1)
    raw = np.array([day, 1, 1.0, True, "1", None, day, -0.0, 0.0, 1, None,
                    dt.datetime(2020, 1, 1), 45000, 45000], dtype=object)
    codes, first = _encode_cells(raw, None)
    # 1 / 1.0 / True / "1" apart, -0.0 apart from 0.0, a date apart from a datetime
    assert codes.tolist() == [0, 1, 2, 3, 4, 5, 0, 6, 7, 1, 5, 8, 9, 9]
    assert first.tolist() == [0, 1, 2, 3, 4, 5, 7, 8, 11, 12]
    # the same serial from a 1904 workbook is another cell
    offsets = np.array([0] * 13 + [1462])
    codes, first = _encode_cells(raw, offsets)
    assert codes.tolist()[-2:] == [9, 10]
    assert first.tolist()[-2:] == [12, 13]


def _frame(cases: list[str], activities: list[str], days: list[int], sources: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        CASE: pd.Categorical(cases), ACTIVITY: pd.Categorical(activities),
        TIMESTAMP: pd.to_datetime("2024-01-01") + pd.to_timedelta(days, unit="D"),
        SOURCE: pd.Categorical(sources),
    })


def test_reported_by_several_sources_by_hand() -> None:
    frame = _frame(
        cases=["a", "a", "a", "b", "b", "c", "c"],
        activities=["R", "R", "S", "R", "R", "S", "S"],
        days=[0, 0, 0, 0, 1, 2, 2],
        sources=["cin", "annex", "cin", "cin", "annex", "cin", "cin"],
    )
    # (a, R, 0) comes from two sources; (b, R) differs by day; (c, S, 2) twice from one source
    got = _reported_by_several_sources(frame, [CASE, ACTIVITY, TIMESTAMP])
    assert got.tolist() == [True, True, False, False, False, False, False]


def test_reported_by_several_sources_matches_groupby() -> None:
    rng = np.random.default_rng(6)
    n = 4000
    frame = _frame(
        cases=[f"c{i}" for i in rng.integers(0, 300, n)],
        activities=[f"A{i}" for i in rng.integers(0, 6, n)],
        days=rng.integers(0, 20, n).tolist(),
        sources=[["cin", "annex", "903", "other"][i] for i in rng.integers(0, 4, n)],
    )
    # only activities A0 and A1 come from more than one source
    frame[SOURCE] = np.where(frame[ACTIVITY].isin(["A0", "A1"]), frame[SOURCE], "903")
    key = [CASE, ACTIVITY, TIMESTAMP]
    expected = (frame.groupby(key, observed=True)[SOURCE].transform("nunique") > 1).to_numpy()
    assert expected.any()
    assert _reported_by_several_sources(frame, key).tolist() == expected.tolist()


@pytest.mark.parametrize("bound", [7, 2**40])  # packed into one integer, or column by column
def test_group_ids_partition_as_groupby(bound: int) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 5, 500), rng.integers(0, 7, 500)
    ids = _group_ids([(a, 5), (b, bound)], 500)
    expected = pd.DataFrame({"a": a, "b": b}).groupby(["a", "b"], sort=False).ngroup().to_numpy()
    assert ids.tolist() == expected.tolist()


def test_rank_orders_dates_as_sort_values() -> None:
    values = pd.Series(pd.to_datetime(["2024-03-01", None, "2024-01-01", "2024-03-01"]))
    ranks, bound = _rank(values)
    assert ranks.tolist() == [1, 2, 0, 1] and bound == 3


def _age_bands_by_joining(case_attrs: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Each child's age band the plain way: chosen date of birth joined to the first event
    date by id, age from year, month and day (the formulation `_with_age_band` replaced)."""
    chosen = case_attribute_values(case_attrs[[CASE, "birth_date"]].dropna())["case:birth_date"]
    dob = pd.to_datetime(chosen.dropna())
    first = events.groupby(CASE, observed=True)[TIMESTAMP].min()
    dob, start = dob.align(first, join="inner")
    age = start.dt.year - dob.dt.year - ((start.dt.month < dob.dt.month)
                                         | ((start.dt.month == dob.dt.month) & (start.dt.day < dob.dt.day)))
    lows = [low for low, _ in AGE_BANDS]
    labels = [label for _, label in AGE_BANDS]
    return age[age >= 0].map(lambda a: labels[np.searchsorted(lows, a, side="right") - 1])


def test_age_bands_match_the_plain_join() -> None:
    rng = np.random.default_rng(6)
    ids = np.array([f"c{i:03d}" for i in range(300)])
    rows = 2_000
    births = pd.to_datetime("2000-01-01") + pd.to_timedelta(rng.integers(0, 9_000, rows), unit="D")
    case_attrs = pd.DataFrame({
        CASE: rng.choice(ids, rows),
        # few distinct dates per child, so some children's rows disagree and some tie
        "birth_date": np.where(rng.random(rows) < 0.1, pd.NaT, births[rng.integers(0, 400, rows)]),
        "sex": rng.choice(["1", "2", None], rows),
    })
    case_attrs["birth_date"] = case_attrs["birth_date"].astype("datetime64[ns]")
    # 29 February, birthdays on the first event's day, events before birth
    case_attrs.loc[:3, "birth_date"] = pd.to_datetime(["2012-02-29", "2010-06-15", "2024-03-01", "2011-06-16"])
    events = pd.DataFrame({
        CASE: pd.Categorical(rng.choice(ids[:280], 5_000)),
        TIMESTAMP: pd.to_datetime("2015-01-01") + pd.to_timedelta(rng.integers(0, 3_650, 5_000), unit="D"),
    })
    banded = _with_age_band(case_attrs, events)
    assert list(banded.columns) == [CASE, "sex", "age_band"]
    assert banded[[CASE, "sex"]].equals(case_attrs[[CASE, "sex"]])
    per_child = banded.dropna(subset=["age_band"]).groupby(CASE)["age_band"].agg(["first", "nunique"])
    assert (per_child["nunique"] == 1).all()
    expected = _age_bands_by_joining(case_attrs, events)
    assert per_child["first"].sort_index().to_dict() == expected.sort_index().to_dict()
    assert set(banded.loc[banded["age_band"].isna(), CASE]).isdisjoint(expected.index)


def test_age_band_left_out_without_any_date_of_birth() -> None:
    case_attrs = pd.DataFrame({CASE: ["a", "b"], "birth_date": pd.Series([pd.NaT, pd.NaT]), "sex": ["1", "2"]})
    events = pd.DataFrame({CASE: pd.Categorical(["a"]), TIMESTAMP: pd.to_datetime(["2020-01-01"])})
    assert list(_with_age_band(case_attrs, events).columns) == [CASE, "sex"]


def test_sorted_codes_of_a_categorical_match_factorize() -> None:
    values = pd.Series(["b", None, "a", "c", "a", "b"], dtype="str")
    # unused and unsorted categories: only the present values are numbered, in sorted order
    categorical = values.astype(pd.CategoricalDtype(pd.Index(["c", "z", "b", "a"], dtype="str")))
    codes, uniques = sorted_codes(categorical)
    expected_codes, expected = pd.factorize(values, sort=True)
    assert codes.tolist() == expected_codes.tolist()
    assert uniques.tolist() == list(expected)


def test_case_attributes_from_categorical_rows_match_plain_rows() -> None:
    rng = np.random.default_rng(3)
    ids = np.array([f"c{i:02d}" for i in range(40)])
    attrs = pd.DataFrame({CASE: rng.choice(ids, 400), "sex": rng.choice(["1", "2", None], 400)})
    events = pd.DataFrame({CASE: pd.Categorical(rng.choice(ids[5:], 300))})
    plain = attach_case_attributes(events, attrs)
    coded = attach_case_attributes(events, attrs.astype("category"))
    assert coded["case:sex"].astype(object).tolist() == plain["case:sex"].astype(object).tolist()
