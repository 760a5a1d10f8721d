"""Case attributes: one value per child, chosen by content, never by row order (T-EP-09, T-ID-06)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cscmining.columns import CASE
from cscmining.eventlog import attach_case_attributes, case_attribute_values


def _attrs(rows: list[tuple[str, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[CASE, "sex", "ethnicity"])


ROWS = [
    ("1", "Male", "WBRI"),
    ("1", "Female", None),
    ("1", "Female", "WBRI"),
    ("2", "Male", "MOTH"),   # a tie: MOTH and AOTH once each -> AOTH sorts first
    ("2", None, "AOTH"),
    ("3", None, None),       # nothing known
    ("4", "Female", "WIRI"),
]


def test_the_most_frequent_value_wins_and_a_tie_goes_to_the_smallest() -> None:
    picked = case_attribute_values(_attrs(ROWS))
    assert picked.index.tolist() == ["1", "2", "3", "4"]
    assert picked.columns.tolist() == ["case:sex", "case:ethnicity"]
    assert picked["case:sex"].tolist()[:2] == ["Female", "Male"]  # 1: Female twice, Male once
    assert picked["case:ethnicity"].tolist()[:2] == ["WBRI", "AOTH"]
    assert picked.loc["3"].isna().all()
    assert picked.loc["4"].tolist() == ["Female", "WIRI"]


def test_any_order_of_the_rows_gives_the_same_values() -> None:
    expected = case_attribute_values(_attrs(ROWS))
    rng = np.random.default_rng(7)
    for _ in range(20):
        shuffled = [ROWS[i] for i in rng.permutation(len(ROWS))]
        pd.testing.assert_frame_equal(case_attribute_values(_attrs(shuffled)), expected)


def test_values_spread_to_every_event_of_the_child() -> None:
    events = pd.DataFrame({CASE: pd.Categorical(["2", "1", "1", "9"])})
    out = attach_case_attributes(events, _attrs(ROWS))
    assert out["case:sex"].tolist()[:3] == ["Male", "Female", "Female"]
    assert out["case:ethnicity"].tolist()[:3] == ["AOTH", "WBRI", "WBRI"]
    assert out.loc[3, ["case:sex", "case:ethnicity"]].isna().all()  # a child with no header
    plain = attach_case_attributes(events.astype({CASE: object}), _attrs(ROWS))
    assert plain["case:sex"].tolist()[:3] == ["Male", "Female", "Female"]


def test_conflicting_dates_of_birth_give_one_age_band_whatever_the_row_order(tmp_path) -> None:
    """Child D1 is born 01/05/2020 in two rows and 01/05/2010 in one: the most frequent date
    wins in either row order, so at the first referral (02/02/2024) the child is 3 (band
    1-4), and the conflict is reported by attribute and count alone."""
    from reading_support import ingest, write_csv

    header = "Child Unique ID,Date of Birth,Date of referral"
    rows = ["D1,01/05/2010,03/03/2024", "D1,01/05/2020,02/02/2024", "D1,01/05/2020,04/04/2024",
            "D2,01/05/2010,02/02/2024"]  # the odd one first: row order alone would pick it
    bands = []
    for order in (rows, rows[::-1]):
        log, read = ingest(write_csv(tmp_path / f"l3_{len(bands)}.csv", [header, *order]))
        per_child = log.frame.groupby("case:concept:name", observed=True)["case:age_band"].first()
        bands.append(per_child.astype(str).to_dict())
        assert [n for n in read.notes if "ATTRIBUTE_CONFLICT" in n] == [(
            "ATTRIBUTE_CONFLICT: 1 child(ren) have more than one birth_date in the input rows; the "
            "log keeps each child's most frequent value (a tie: the first in order)")]
    assert bands == [{"D1": "1-4", "D2": "10-15"}] * 2
