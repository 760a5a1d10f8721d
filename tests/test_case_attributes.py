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
