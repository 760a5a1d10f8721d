"""Writing an event log as XES (IEEE 1849), so other process-mining tools can read it.

Dates in these returns are days, not instants: each is written as midnight UTC of that same
day (``2024-04-02T00:00:00.000+00:00``) — the calendar date is never shifted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .columns import ACTIVITY, CASE, CASE_PREFIX, TIMESTAMP

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <global scope="trace"><string key="concept:name" value="__INVALID__"/></global>
  <global scope="event"><string key="concept:name" value="__INVALID__"/><date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/></global>
  <classifier name="Activity" keys="concept:name"/>
"""
_TAIL = "</log>\n"


def _escape(values: pd.Series) -> pd.Series:
    """XML attribute escaping, vectorised."""
    return (
        values.astype(str)
        .str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
        .str.replace('"', "&quot;", regex=False)
        .str.replace("\n", "&#10;", regex=False)
    )


def _string_attrs(frame: pd.DataFrame, columns: list[str], strip_prefix: str = "") -> pd.Series:
    """``<string key=… value=…/>`` for each non-empty attribute of each row, concatenated."""
    out = pd.Series("", index=frame.index, dtype=object)
    for column in columns:
        values = frame[column]
        present = values.notna()
        key = _escape(pd.Series([column.removeprefix(strip_prefix)])).iloc[0]
        piece = '<string key="' + key + '" value="' + _escape(values[present]) + '"/>'
        out[present] = out[present] + piece
    return out


def render_xes(frame: pd.DataFrame) -> str:
    """The XES document for a sorted event log frame (cases contiguous)."""
    if frame.empty:
        return _HEAD + _TAIL
    case = frame[CASE].to_numpy()
    first = np.r_[True, case[1:] != case[:-1]]
    last = np.r_[case[1:] != case[:-1], True]
    case_cols = [c for c in frame.columns if c.startswith(CASE_PREFIX) and c != CASE]
    event_cols = [c for c in frame.columns
                  if c not in (CASE, ACTIVITY, TIMESTAMP) and not c.startswith(CASE_PREFIX)
                  and frame[c].dtype == object]
    stamps = frame[TIMESTAMP].dt.strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    events = (
        '    <event><string key="concept:name" value="' + _escape(frame[ACTIVITY]) + '"/>'
        + '<date key="time:timestamp" value="' + stamps + '"/>'
        + _string_attrs(frame, event_cols) + "</event>\n"
    )
    heads = pd.Series("", index=frame.index, dtype=object)
    opening = frame.loc[first]
    heads[first] = ('  <trace><string key="concept:name" value="' + _escape(opening[CASE]) + '"/>'
                    + _string_attrs(opening, case_cols, CASE_PREFIX) + "\n")
    tails = pd.Series("", index=frame.index, dtype=object)
    tails[last] = "  </trace>\n"
    return _HEAD + "".join((heads + events + tails).tolist()) + _TAIL


def write_xes(frame: pd.DataFrame, path: Path) -> None:
    """Write the frame as XES to ``path``."""
    path.write_text(render_xes(frame), encoding="utf-8")
