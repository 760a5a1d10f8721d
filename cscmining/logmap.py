"""Logmaps: YAML files that say which column of which table becomes which activity.

One map per statutory return ships in ``logmaps/`` (``ssda903.yaml``, ``cin_census.yaml``,
``annex_a.yaml``); an LA describes any other CSV or xlsx export with a map of the same shape
(``logmaps/examples/``). Maps are validated strictly: an unknown key or a rule naming a column
the table does not define is an error naming the file and the key path.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ._yaml import Strict, load_model, logmaps_dir
from .errors import LogMapError
from .vocabulary import Activity

Normaliser = Literal["text", "upper", "bool", "sex", "placement"]
SHIPPED = ("ssda903", "cin_census", "annex_a")


def normalise_header(text: str) -> str:
    """Header text reduced to lower-case words: case, spacing and punctuation do not matter."""
    return re.sub(r"[^0-9a-z]+", " ", text.replace("\ufeff", "").lower()).strip()


class PreviousRecord(Strict):
    """Values an event takes from the record before it: the same child's record of the same
    table that began last before this row's date (the rule's ``date`` column), if that record
    ended (``ends``) on this row's date. An SSDA903 placement move is the start of the next
    episode, but the reason for it (REASON_PLACE_CHANGE) is recorded on the episode that ended
    with it."""

    ends: str = Field(description="the date column holding the day the previous record ended")
    attributes: dict[str, str] = Field(
        min_length=1,
        description="event attribute -> column of the previous record whose value (normalised "
        "as the table says) the event carries; blank when there is no previous record or it "
        "did not end on this row's date",
    )


class EventRule(Strict):
    """One kind of event a table row can produce."""

    activity: str | None = Field(default=None, description="the activity, from the vocabulary")
    activity_from: str | None = Field(
        default=None, description="a column whose value names the activity (via `activities`)"
    )
    activities: dict[str, str] = Field(
        default_factory=dict, description="value of `activity_from` -> activity"
    )
    ignore: list[str] = Field(
        default_factory=list,
        description="values of `activity_from` that are deliberately not events (rows used, "
        "no event); any other value missing from `activities` is rejected ACTIVITY_UNMAPPED",
    )
    left_care_from: str | None = Field(
        default=None, description="a REC code or reason label column naming `Left care: <outcome>`"
    )
    date: str = Field(description="the column holding the event's date")
    when: dict[str, list[str]] = Field(
        default_factory=dict, description="column -> values (normalised) the row must have"
    )
    unless: dict[str, list[str]] = Field(
        default_factory=dict, description="column -> values (normalised) the row must not have"
    )
    later_than: str | None = Field(
        default=None, description="emit only when the date is after this date column's date"
    )
    starts: str | None = Field(
        default=None, description="the start date of the interval this date ends"
    )
    attributes: dict[str, str] = Field(
        default_factory=dict, description="event attribute -> column, on this rule's events only"
    )
    previous: PreviousRecord | None = Field(
        default=None, description="event attributes taken from the child's previous record"
    )

    @model_validator(mode="after")
    def _one_activity_source(self) -> EventRule:
        given = [x for x in (self.activity, self.activity_from, self.left_care_from) if x]
        if len(given) != 1:
            raise ValueError("give exactly one of activity, activity_from, left_care_from")
        if self.activity_from and not self.activities:
            raise ValueError("activity_from needs an `activities` map of value -> activity")
        if self.previous:
            twice = sorted(set(self.previous.attributes) & set(self.attributes))
            if twice:
                raise ValueError(f"attributes named both under `attributes` and `previous`: {', '.join(twice)}")
        return self

    def columns(self) -> set[str]:
        named = {self.date, *self.when, *self.unless, *self.attributes.values()}
        named |= {c for c in (self.activity_from, self.left_care_from, self.later_than, self.starts) if c}
        if self.previous:
            named |= {self.previous.ends, *self.previous.attributes.values()}
        return named


CheckKind = Literal["overlap", "multiple_open", "zero_duration", "together"]
#: the flag each kind of check counts, unless the check names its own
CHECK_FLAGS: dict[str, str] = {
    "overlap": "OVERLAP", "multiple_open": "MULTIPLE_OPEN", "zero_duration": "ZERO_DURATION",
    "together": "INCOMPLETE_PAIR",
}


class RowCheck(Strict):
    """A consistency check over a pair of columns; rows that fail it still give their events
    and are counted under the account's ``flags`` (daqapo-style anomalies, 903 rules 148 and
    501, CIN 8935: wrong enough to report, not wrong enough to drop)."""

    kind: CheckKind = Field(
        description="overlap: a record starts before an earlier record of the same child ends "
        "(an open record never ends); multiple_open: a child has more than one record with no "
        "end (each after the first is flagged); zero_duration: start and end on the same day; "
        "together: one column filled and the other blank"
    )
    columns: tuple[str, str] = Field(description="[start, end] date columns; for together any two columns")
    flag: str | None = Field(
        default=None, pattern=r"^[A-Z][A-Z0-9_]*$",
        description="the flag code counted (default OVERLAP, MULTIPLE_OPEN, ZERO_DURATION, INCOMPLETE_PAIR)",
    )

    @property
    def code(self) -> str:
        return self.flag or CHECK_FLAGS[self.kind]


class CodeValidity(Strict):
    """The collection years a code may be used in (a collection year runs 1 April to 31
    March and is named by the year it starts in: 2023 is 2023/24). Either bound may be open."""

    valid_from: int | None = Field(default=None, ge=1900, le=2200, description="first collection year")
    valid_until: int | None = Field(default=None, ge=1900, le=2200, description="last collection year")

    @model_validator(mode="after")
    def _a_bound(self) -> CodeValidity:
        if self.valid_from is None and self.valid_until is None:
            raise ValueError("give valid_from, valid_until or both")
        if self.valid_from is not None and self.valid_until is not None and self.valid_from > self.valid_until:
            raise ValueError("valid_from is after valid_until")
        return self


class CodeYears(Strict):
    """Which codes of a column belong to which collection years' code lists (T-CD-04).

    A row whose code is outside its years keeps its events and is flagged `CODE_WRONG_YEAR`.
    The year is that of the row's own date (``date``), not of the file: a return holds records
    that began in earlier years (an episode open since 2021 is in the 2024/25 return), and
    those were recorded with the codes valid when they began. Codes not listed are valid in
    every year (their values are checked elsewhere, if at all).
    """

    date: str = Field(description="the date column whose collection year the code must be valid in")
    codes: dict[str, CodeValidity] = Field(
        min_length=1, description="code (as the column's normaliser gives it) -> its years"
    )


class TableMap(Strict):
    """A table of a source: how to recognise it, its columns, and the events its rows give."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    columns: dict[str, list[str]] = Field(
        description="canonical column -> header patterns (regex on lower-case words); "
        "an empty list means the canonical name itself"
    )
    required: list[str] = Field(
        default_factory=list, description="columns a file or sheet must have to be this table"
    )
    id: str = Field(description="the column holding the child identifier")
    required_dates: list[str] = Field(
        default_factory=list, description="a row whose date here is missing or bad is rejected"
    )
    supersede_key: list[str] = Field(
        default_factory=list,
        description="columns naming one record across yearly files: a later file's row "
        "supersedes an earlier file's (files are taken in path order)",
    )
    normalise: dict[str, Normaliser] = Field(default_factory=dict)
    case_attributes: dict[str, str] = Field(default_factory=dict)
    before_birth_days: int = Field(
        default=0, ge=0, le=366,
        description="how many days before the child's date of birth (the row's case attribute "
        "birth_date, else the one the child's other tables give) an event may fall: work with "
        "an unborn child (a pre-birth referral or plan) is real; an earlier event is "
        "DATE_BEFORE_DOB",
    )
    attributes: dict[str, str] = Field(default_factory=dict)
    events: list[EventRule] = Field(default_factory=list)
    checks: list[RowCheck] = Field(default_factory=list, description="flags over pairs of columns")
    code_years: dict[str, CodeYears] = Field(
        default_factory=dict,
        description="column -> the collection years its codes are valid in (CODE_WRONG_YEAR)",
    )

    @model_validator(mode="after")
    def _columns_known(self) -> TableMap:
        known = set(self.columns)
        used = {self.id, *self.required, *self.required_dates, *self.supersede_key, *self.normalise,
                *self.case_attributes.values(), *self.attributes.values()}
        used |= {c for check in self.checks for c in check.columns}
        used |= {c for column, years in self.code_years.items() for c in (column, years.date)}
        for rule in self.events:
            used |= rule.columns()
        missing = sorted(used - known)
        if missing:
            raise ValueError(f"columns used but not defined under `columns`: {', '.join(missing)}")
        twice = sorted({name for rule in self.events if rule.previous for name in rule.previous.attributes}
                       & set(self.attributes))
        if twice:
            raise ValueError(f"attributes named both under the table's `attributes` and a rule's `previous`: "
                             f"{', '.join(twice)}")
        for name, patterns in self.columns.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"column {name!r}: pattern {pattern!r} is not a regex: {exc}") from None
        return self

    @cached_property
    def matchers(self) -> dict[str, list[re.Pattern[str]]]:
        return {
            name: [re.compile(p) for p in patterns] or [re.compile(re.escape(normalise_header(name)))]
            for name, patterns in self.columns.items()
        }

    def match_headers(self, headers: list[str]) -> dict[str, int]:
        """Canonical column -> position of the first header that matches it."""
        normal = [normalise_header(h) for h in headers]
        found: dict[str, int] = {}
        for name, patterns in self.matchers.items():
            for pos, header in enumerate(normal):
                if any(p.fullmatch(header) for p in patterns):
                    found[name] = pos
                    break
        return found


class LogMap(Strict):
    """A source: its name, how its dates are written, and its tables."""

    source: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    date_formats: list[str] = Field(default_factory=lambda: ["%d/%m/%Y"], min_length=1)
    activities: list[Activity] = Field(
        default_factory=list, description="activities this map adds to the stage vocabulary"
    )
    tables: list[TableMap] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_tables(self) -> LogMap:
        names = [t.name for t in self.tables]
        if len(names) != len(set(names)):
            raise ValueError("table names must be unique")
        return self

    def table(self, name: str) -> TableMap:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


def load_logmap(path: Path) -> LogMap:
    """Read and validate a logmap file."""
    if not path.is_file():
        raise LogMapError(f"{path}: logmap file not found")
    return load_model(path, LogMap)


def shipped_logmaps() -> dict[str, LogMap]:
    """The maps of the three statutory returns, as shipped with cscmining."""
    return {name: load_logmap(logmaps_dir() / f"{name}.yaml") for name in SHIPPED}


def check_activities(logmap: LogMap, known: set[str], path: Path | str) -> None:
    """Every activity a map can produce must be in the vocabulary (or declared by the map)."""
    declared = known | {a.name for a in logmap.activities}
    for t_index, table in enumerate(logmap.tables):
        for r_index, rule in enumerate(table.events):
            names = [rule.activity] if rule.activity else list(rule.activities.values())
            for name in names:
                if name and name not in declared:
                    raise LogMapError(
                        f"{path}: tables[{t_index}].events[{r_index}]: activity {name!r} is not in "
                        "the stage vocabulary (declare it under `activities:`)"
                    )


