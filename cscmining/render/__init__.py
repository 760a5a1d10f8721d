"""Turning results into things people read: graphviz maps, rich tables, HTML.

The helpers here write numbers the way an analyst reads them aloud in a workshop: durations in
days or weeks ("3 d", "2.5 wk", never pm4py's "1MO"), counts with thousands separators, dates
as "1 Apr 2024" (fixed English month names, never the machine's locale, so output does not
depend on where it is made).
"""

from __future__ import annotations

from datetime import date

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: below this many days durations read in days, below `_YEAR_FROM` days in weeks
_WEEKS_FROM = 14
_YEAR_FROM = 730


def number(value: float) -> str:
    """One decimal below 10 (without a trailing ".0"), whole numbers from 10 on."""
    if abs(value) < 9.95:
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text
    return f"{value:,.0f}"


def days(value: float) -> str:
    """A duration in days as days (under two weeks), weeks (under two years) or years."""
    if value < _WEEKS_FROM:
        return f"{number(value)} d"
    if value < _YEAR_FROM:
        return f"{number(value / 7)} wk"
    return f"{number(value / 365.25)} yr"


def count(value: int) -> str:
    return f"{value:,}"


def day(value: date) -> str:
    """``1 Apr 2024``."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 child``, ``2 children``, ``3 events``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
