"""Date parsing per source, strict and vectorised.

Every source says which text formats its dates use (SSDA903 and Annex A ``dd/mm/YYYY``, the
CIN census ``YYYY-MM-DD``). Nothing is inferred: ``03/04/2021`` in a ``dd/mm/YYYY`` source is
3 April, ``2021-04-03`` there is a ``DATE_FORMAT`` problem, ``31/02/2024`` is ``DATE_INVALID``.
Spreadsheet cells may also hold real dates or day serial numbers, which are read as such.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

#: problem codes, in the words of SPEC §3
DATE_MISSING = "DATE_MISSING"
DATE_FORMAT = "DATE_FORMAT"
DATE_INVALID = "DATE_INVALID"
DATE_OUT_OF_RANGE = "DATE_OUT_OF_RANGE"
DATE_FUTURE = "DATE_FUTURE"
#: a flag, not a problem: a spreadsheet number read as a date
DATE_FROM_SERIAL = "DATE_FROM_SERIAL"

#: social care records in these returns do not predate this (reliability.md DQ-2)
EARLIEST = pd.Timestamp("1990-01-01")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: what a nanosecond timestamp can hold; dates beyond are DATE_OUT_OF_RANGE
_LOWEST, _HIGHEST = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")
#: days from the 1900 system's day 0 to the 1904 system's (a serial n in 1904 is n + 1462)
EXCEL_1904_OFFSET = 1462
_SERIAL_MIN, _SERIAL_MAX = 32874, 73050  # 1990-01-01 .. 2099-12-31

_DIRECTIVES = {"%d": r"\d{1,2}", "%m": r"\d{1,2}", "%Y": r"\d{4}", "%y": r"\d{2}",
               "%H": r"\d{1,2}", "%M": r"\d{2}", "%S": r"\d{2}", "%b": r"[A-Za-z]{3}",
               "%B": r"[A-Za-z]{3,9}", "%f": r"\d{1,6}", "%p": r"[AaPp][Mm]"}


@dataclass
class ParsedDates:
    """Dates (NaT where there is none) and, per cell, the problem or flag code (or None)."""

    values: pd.Series
    problem: pd.Series
    from_serial: pd.Series


@lru_cache(maxsize=64)
def _shape(fmt: str) -> re.Pattern[str]:
    """A regex for the *shape* of ``fmt``: a cell of that shape that fails to parse is invalid."""
    parts = re.split(r"(%[a-zA-Z])", fmt)
    pattern = "".join(_DIRECTIVES.get(p, ".+") if p.startswith("%") else re.escape(p)
                      for p in parts if p)
    return re.compile(pattern)


def _with_optional_time(fmt: str) -> list[str]:
    """A date-only format also accepts a midnight-style time part, as Excel text exports add."""
    if "%H" in fmt:
        return [fmt]
    return [fmt, f"{fmt} %H:%M:%S", f"{fmt} %H:%M"]


def parse_dates(cells: pd.Series, formats: list[str], serial_offset: pd.Series | None = None) -> ParsedDates:
    """Parse a column of cells (text, real dates, or spreadsheet serial numbers).

    Text must match one of ``formats`` (date-only formats also take an ``HH:MM[:SS]`` suffix,
    which is dropped: these returns record days, not times). Blank cells give NaT and
    ``DATE_MISSING``. ``serial_offset`` (days, aligned with ``cells``) is added to day serials
    before they are read in the 1900 system: `EXCEL_1904_OFFSET` for cells of a 1904 workbook.
    """
    n = len(cells)
    values = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    problem = pd.Series(None, index=cells.index, dtype=object)
    from_serial = pd.Series(False, index=cells.index)
    if n == 0:
        return ParsedDates(values, problem, from_serial)

    if cells.dtype == object:
        is_text = cells.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    elif pd.api.types.is_string_dtype(cells.dtype):
        is_text = cells.notna().to_numpy()
    else:
        is_text = np.zeros(n, dtype=bool)
    text = cells[is_text].astype(str).str.strip()
    blank = pd.Series(False, index=cells.index)
    blank[cells.isna()] = True
    blank.loc[text.index[text.eq("").to_numpy()]] = True

    _parse_text(text[text.ne("")], formats, values, problem)
    _parse_cells(cells[~is_text & ~cells.isna().to_numpy()], values, problem, from_serial, serial_offset)

    problem[blank] = DATE_MISSING
    early = values.notna() & (values < EARLIEST)
    problem[early] = DATE_OUT_OF_RANGE
    values[early] = pd.NaT
    return ParsedDates(values, problem, from_serial)


def _parse_text(text: pd.Series, formats: list[str], values: pd.Series, problem: pd.Series) -> None:
    """Parse each distinct text once (a date column repeats a few thousand days) and spread
    the dates and problems back to the cells."""
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques.to_numpy(dtype=object), dtype=object)
    found = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns]")
    trouble = pd.Series(None, index=distinct.index, dtype=object)
    _parse_distinct(distinct, formats, found, trouble)
    values[text.index] = found.to_numpy()[codes]
    problem[text.index] = trouble.to_numpy()[codes]


def _parse_distinct(text: pd.Series, formats: list[str], values: pd.Series, problem: pd.Series) -> None:
    remaining = text
    shaped_any = pd.Series(False, index=text.index)
    for fmt in formats:
        for variant in _with_optional_time(fmt):
            if remaining.empty:
                return
            shaped = remaining.str.fullmatch(_shape(variant))
            if not shaped.any():
                continue
            shaped_any[shaped[shaped].index] = True
            candidates = remaining[shaped]
            parsed = pd.to_datetime(candidates, format=variant, errors="coerce")
            ok = parsed.notna()
            # a real date beyond what a day of this data can be (31/12/9999 "open" markers,
            # 01/04/1023 typos) is out of range, not a crash in the nanosecond arithmetic
            far = ok & ((parsed < _LOWEST) | (parsed > _HIGHEST))
            problem[parsed.index[far]] = DATE_OUT_OF_RANGE
            ok &= ~far
            values[parsed.index[ok]] = parsed[ok].dt.normalize().astype("datetime64[ns]")
            remaining = remaining.drop(parsed.index[ok | far])
    problem[remaining.index] = np.where(shaped_any[remaining.index], DATE_INVALID, DATE_FORMAT)


def _parse_cells(
    cells: pd.Series, values: pd.Series, problem: pd.Series, from_serial: pd.Series,
    serial_offset: pd.Series | None,
) -> None:
    """Real date cells and numeric serials from spreadsheets.

    Each cell is judged on its own in Python (its type decides), but the results are written
    back in one assignment per kind: a pandas assignment per cell costs far more than the
    judging.
    """
    stamp_at: list[object] = []
    stamps: list[object] = []
    serial_at: list[object] = []
    days: list[int] = []
    bad_at: list[object] = []
    far_at: list[object] = []
    for idx, cell in cells.items():
        if isinstance(cell, (dt.datetime, dt.date, pd.Timestamp)):
            if not _LOWEST.year < cell.year < _HIGHEST.year:
                far_at.append(idx)
                continue
            stamp_at.append(idx)
            stamps.append(cell)
        elif isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
            serial = cell + (int(serial_offset[idx]) if serial_offset is not None else 0)
            if float(serial).is_integer() and _SERIAL_MIN <= serial <= _SERIAL_MAX:
                serial_at.append(idx)
                days.append(int(serial))
            else:
                bad_at.append(idx)
        else:
            bad_at.append(idx)
    if stamp_at:
        values.loc[stamp_at] = _midnights(stamps)
    if serial_at:
        values.loc[serial_at] = (_EXCEL_EPOCH + pd.to_timedelta(np.array(days, dtype=np.int64), unit="D")).to_numpy()
        from_serial.loc[serial_at] = True
    if bad_at:
        problem.loc[bad_at] = DATE_FORMAT
    if far_at:
        problem.loc[far_at] = DATE_OUT_OF_RANGE


def _midnights(stamps: list[object]) -> np.ndarray:
    """Date and datetime cells as datetime64[ns] at midnight (``Timestamp(c).normalize()``
    of each), converted together."""
    try:
        return pd.DatetimeIndex(pd.to_datetime(pd.Index(stamps, dtype=object))).normalize().as_unit("ns").to_numpy()
    except (TypeError, ValueError, OverflowError):  # mixed time zones and the like: one by one
        return np.array([pd.Timestamp(c).normalize().as_unit("ns").to_datetime64() for c in stamps])
