"""Turning the rows of a table into events, with an exact account of every row.

One function, `process_table`, serves every source: the statutory returns and the tables of
a user's logmap differ only in their `TableMap`. It works on all files of one table at once
(so exact duplicate rows are found across yearly files too), fully vectorised.

Where a row ends (SPEC §3), in this order of precedence:
  * rejected by the reader (``ROW_SHAPE``);
  * ``blank`` (blank rows after the last data row are not rows at all);
  * ``duplicate``: every field equal to an earlier row of the same table;
  * rejected: no usable child id, or a bad or missing date in a required date column;
  * otherwise used; a row that produced no event *because of* a problem with one of its
    dates is rejected with that problem's code; problems on rows that did produce events
    are counted as ``flags``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ..accounting import TableAccount
from ..codes import ID_CORRUPT, ID_FROM_NUMBER, ID_MISSING, NORMALISERS, clean_text, left_care_activities, normalise_ids
from ..columns import ACTIVITY, CASE, FILE, ROW as EVENT_ROW, SOURCE, TIMESTAMP
from ..dates import DATE_FROM_SERIAL, DATE_FUTURE, DATE_MISSING, EXCEL_1904_OFFSET, ParsedDates, parse_dates
from ..logmap import EventRule, LogMap, TableMap
from ..vocabulary import Vocabulary
from .base import ROW, RawTable

USED, BLANK, DUPLICATE = "used", "blank", "duplicate"
END_BEFORE_START = "END_BEFORE_START"
#: a record a later file of the same table reports again (e.g. an episode open at one year
#: end and closed in the next year's return): the later submission wins
SUPERSEDED = "SUPERSEDED"
ACTIVITY_UNMAPPED = "ACTIVITY_UNMAPPED"
#: the stand-in for "no problem" in problem arrays
OK = ""
#: attributes keep the raw cell for these normalisers (they collapse codes for conditions)
_RAW_ATTRIBUTE = {"placement", "text"}
BIRTH_DATE = "birth_date"


@dataclass
class TableResult:
    events: pd.DataFrame
    case_attributes: pd.DataFrame
    accounts: list[TableAccount]


def process_table(
    raws: list[RawTable],
    table: TableMap,
    logmap: LogMap,
    vocabulary: Vocabulary,
    *,
    future_after: date | None,
) -> TableResult:
    """All files of one table: their events, their children's attributes, their accounts.

    ``future_after`` is the date after which an event has not happened yet: the run's as-at
    date, else each file's own reference date, else today.
    """
    frame, file_index = _stack(raws, table)
    n = len(frame)
    data_cols = list(table.columns)
    text = {c: clean_text(frame[c]) for c in data_cols}
    status = np.full(n, USED, dtype=object)

    reader_rejects = frame["__reader_reject"].to_numpy(dtype=object)
    blank = np.logical_and.reduce([text[c].isna().to_numpy() for c in data_cols]) if data_cols \
        else np.ones(n, dtype=bool)
    status[blank] = BLANK
    has_reject = reader_rejects != OK
    status[has_reject] = reader_rejects[has_reject]
    dupes = _duplicates(text, data_cols) & (status == USED)
    status[dupes] = DUPLICATE

    ids, id_code = normalise_ids(frame[table.id])
    id_bad = id_code.isin([ID_MISSING, ID_CORRUPT]).to_numpy() & (status == USED)
    status[id_bad] = id_code.to_numpy(dtype=object)[id_bad]
    flags = [pd.Series(np.where(id_code.eq(ID_FROM_NUMBER), ID_FROM_NUMBER, OK))]

    superseded = _superseded(table, ids, text, file_index, status == USED)
    status[superseded] = SUPERSEDED

    normal = {c: NORMALISERS[table.normalise.get(c, "text")](text[c]) for c in data_cols}
    limits = _future_limits(raws, file_index, future_after)
    per_file = np.array([EXCEL_1904_OFFSET if raw.date1904 else 0 for raw in raws], dtype=np.int64)
    offsets = pd.Series(per_file[file_index], index=frame.index)
    dates = _parse_date_columns(frame, table, logmap, limits, offsets)
    for parsed in dates.values():
        flags.append(pd.Series(np.where(parsed.from_serial.to_numpy(), DATE_FROM_SERIAL, OK)))

    for column in table.required_dates:
        problem = dates[column].problem.fillna(OK).to_numpy(dtype=object)
        bad = (problem != OK) & (status == USED)
        status[bad] = problem[bad]

    usable = status == USED
    event_frames: list[pd.DataFrame] = []
    problems: list[np.ndarray] = []
    produced = np.zeros(n, dtype=np.int64)
    for rule in table.events:
        emitted, problem = _apply_rule(rule, table, frame, ids, text, normal, dates, usable, vocabulary, logmap)
        produced += emitted.to_numpy(dtype=bool)
        problems.append(problem)
        if emitted.any():
            event_frames.append(_events_for(rule, table, logmap, frame, ids, text, normal, dates, emitted, vocabulary))

    first_problem = _first_nonempty(problems, n)
    failed = usable & (produced == 0) & (first_problem != OK)
    status[failed] = first_problem[failed]
    flagged_problem = np.where(usable & (produced > 0), first_problem, OK)
    flags.append(pd.Series(flagged_problem))

    events = pd.concat(event_frames, ignore_index=True) if event_frames else empty_events()
    accounts = _accounts(raws, file_index, status, flags, frame, events)
    case_attrs = _case_attributes(table, ids, normal, text, dates, status == USED)
    return TableResult(events, case_attrs, accounts)


# --- stacking files and finding blanks and duplicates -------------------------------------


def _stack(raws: list[RawTable], table: TableMap) -> tuple[pd.DataFrame, np.ndarray]:
    """One frame for all files of the table; trailing blank rows of each file removed."""
    parts = []
    for index, raw in enumerate(raws):
        frame = raw.frame.copy()
        for column in table.columns:
            if column not in frame.columns:
                frame[column] = None
        frame = frame[[*table.columns, ROW]]
        frame["__reader_reject"] = frame[ROW].map(raw.rejected_rows).fillna(OK) if raw.rejected_rows else OK
        frame = _drop_trailing_blanks(frame, list(table.columns))
        frame["__file"] = index
        parts.append(frame)
    stacked = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*table.columns, ROW])
    return stacked, stacked["__file"].to_numpy(dtype=np.int64)


def _drop_trailing_blanks(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    filled = np.zeros(len(frame), dtype=bool)
    for column in columns:
        filled |= clean_text(frame[column]).notna().to_numpy()
    filled |= frame["__reader_reject"].to_numpy(dtype=object) != OK
    if not filled.any():
        return frame.iloc[:0]
    return frame.iloc[: int(np.flatnonzero(filled)[-1]) + 1]


def _superseded(
    table: TableMap, ids: pd.Series, text: dict[str, pd.Series], file_index: np.ndarray,
    usable: np.ndarray,
) -> np.ndarray:
    """Rows whose `supersede_key` appears again in a later file of the same table."""
    if not table.supersede_key or not usable.any():
        return np.zeros(len(ids), dtype=bool)
    keys = pd.DataFrame({c: ids if c == table.id else text[c] for c in table.supersede_key})
    keys = keys.fillna("\x00").assign(__file=file_index)[usable]
    latest = keys.groupby(list(table.supersede_key), sort=False)["__file"].transform("max")
    out = np.zeros(len(ids), dtype=bool)
    out[np.flatnonzero(usable)] = (keys["__file"] < latest).to_numpy()
    return out


def _duplicates(text: dict[str, pd.Series], columns: list[str]) -> np.ndarray:
    if not columns:
        return np.zeros(0, dtype=bool)
    cells = pd.DataFrame({c: text[c].fillna("\x00") for c in columns})
    return cells.duplicated(keep="first").to_numpy()


# --- dates ------------------------------------------------------------------------------


def _future_limits(raws: list[RawTable], file_index: np.ndarray, future_after: date | None) -> np.ndarray:
    per_file = [
        np.datetime64(future_after or raw.reference_date or date.today(), "ns") for raw in raws
    ]
    if not per_file:
        return np.array([], dtype="datetime64[ns]")
    return np.array(per_file, dtype="datetime64[ns]")[file_index]


def _parse_date_columns(
    frame: pd.DataFrame, table: TableMap, logmap: LogMap, limits: np.ndarray, serial_offsets: pd.Series,
) -> dict[str, ParsedDates]:
    event_dates = {r.date for r in table.events} | set(table.required_dates)
    context_dates = {c for r in table.events for c in (r.later_than, r.starts) if c}
    birth = table.case_attributes.get(BIRTH_DATE)
    parsed: dict[str, ParsedDates] = {}
    for column in sorted(event_dates | context_dates | ({birth} if birth else set())):
        result = parse_dates(frame[column], logmap.date_formats, serial_offsets)
        if column in event_dates:
            future = result.values.to_numpy() > limits
            result.problem[future] = DATE_FUTURE
            result.values[future] = pd.NaT
        parsed[column] = result
    return parsed


# --- rules ------------------------------------------------------------------------------


def _condition(rule: EventRule, normal: dict[str, pd.Series], usable: np.ndarray) -> np.ndarray:
    mask = usable.copy()
    for column, values in rule.when.items():
        mask &= normal[column].isin(values).to_numpy()
    for column, values in rule.unless.items():
        mask &= ~normal[column].isin(values).to_numpy()
    return mask


def _apply_rule(
    rule: EventRule, table: TableMap, frame: pd.DataFrame, ids: pd.Series,
    text: dict[str, pd.Series], normal: dict[str, pd.Series], dates: dict[str, ParsedDates],
    usable: np.ndarray, vocabulary: Vocabulary, logmap: LogMap,
) -> tuple[pd.Series, np.ndarray]:
    """Which rows this rule turns into an event; and per row the problem that stopped one."""
    applies = _condition(rule, normal, usable)
    parsed = dates[rule.date]
    values = parsed.values
    problem = parsed.problem.fillna(OK).to_numpy(dtype=object).copy()
    problem[problem == DATE_MISSING] = OK  # an empty optional date is not a problem
    ok = values.notna().to_numpy() & applies
    if rule.later_than:
        other = dates[rule.later_than].values
        ok &= ~(other.notna() & (values <= other)).to_numpy()
    if rule.starts:
        start = dates[rule.starts].values
        before = (start.notna() & (values < start)).to_numpy() & ok
        problem[before] = END_BEFORE_START
        ok &= ~before
    if rule.activity_from:
        mapped = normal[rule.activity_from].isin(list(rule.activities)).to_numpy()
        ignored = normal[rule.activity_from].isin(rule.ignore).to_numpy()
        unmapped = ok & ~mapped & ~ignored
        problem[unmapped] = ACTIVITY_UNMAPPED
        ok &= mapped
    problem[~applies] = OK
    return pd.Series(ok), problem


def _events_for(
    rule: EventRule, table: TableMap, logmap: LogMap, frame: pd.DataFrame, ids: pd.Series,
    text: dict[str, pd.Series], normal: dict[str, pd.Series], dates: dict[str, ParsedDates],
    emitted: pd.Series, vocabulary: Vocabulary,
) -> pd.DataFrame:
    rows = emitted.to_numpy()
    if rule.activity:
        activity: pd.Series | str = rule.activity
    elif rule.activity_from:
        activity = normal[rule.activity_from][rows].map(rule.activities).to_numpy()
    else:
        assert rule.left_care_from is not None
        activity = left_care_activities(text[rule.left_care_from][rows], vocabulary).to_numpy()
    events = pd.DataFrame({
        CASE: ids[rows].to_numpy(),
        ACTIVITY: activity,
        TIMESTAMP: dates[rule.date].values[rows].to_numpy(),
        SOURCE: f"{logmap.source}/{table.name}",
        EVENT_ROW: frame[ROW].to_numpy()[rows].astype("int64"),
        FILE: frame["__file"].to_numpy()[rows],
    })
    for name, column in {**table.attributes, **rule.attributes}.items():
        kind = table.normalise.get(column, "text")
        values = text[column] if kind in _RAW_ATTRIBUTE else normal[column]
        events[name] = values[rows].to_numpy()
    return events


def empty_events() -> pd.DataFrame:
    """No events, with the columns and types of real ones (concatenation keeps them)."""
    return pd.DataFrame({
        CASE: pd.Series(dtype=object), ACTIVITY: pd.Series(dtype=object),
        TIMESTAMP: pd.Series(dtype="datetime64[ns]"), SOURCE: pd.Series(dtype=object),
        EVENT_ROW: pd.Series(dtype="int64"), FILE: pd.Series(dtype="int64"),
    })


def _first_nonempty(arrays: list[np.ndarray], n: int) -> np.ndarray:
    out = np.full(n, OK, dtype=object)
    for arr in arrays:
        take = (out == OK) & (arr != OK)
        out[take] = arr[take]
    return out


# --- accounts and case attributes ---------------------------------------------------------


def _accounts(
    raws: list[RawTable], file_index: np.ndarray, status: np.ndarray, flags: list[pd.Series],
    frame: pd.DataFrame, events: pd.DataFrame,
) -> list[TableAccount]:
    event_counts = np.bincount(events[FILE].to_numpy(dtype=np.int64), minlength=len(raws)) if len(events) \
        else np.zeros(len(raws), dtype=np.int64)
    accounts = []
    for index, raw in enumerate(raws):
        mine = file_index == index
        counts = Counter(status[mine].tolist())
        account = TableAccount(
            path=str(raw.path), source=raw.source, table=raw.table, sheet=raw.sheet,
            rows_read=int(mine.sum()),
            used=counts.pop(USED, 0), blank=counts.pop(BLANK, 0), duplicate=counts.pop(DUPLICATE, 0),
            rejected=Counter(counts), events=int(event_counts[index]),
        )
        for flag in flags:
            values = flag.to_numpy(dtype=object)[mine & (status == USED)]
            account.flags.update(v for v in values.tolist() if v != OK)
        account.check()
        accounts.append(account)
    return accounts


def _case_attributes(
    table: TableMap, ids: pd.Series, normal: dict[str, pd.Series], text: dict[str, pd.Series],
    dates: dict[str, ParsedDates], used: np.ndarray,
) -> pd.DataFrame:
    if not table.case_attributes:
        return pd.DataFrame(columns=[CASE])
    out = pd.DataFrame({CASE: ids[used].to_numpy()})
    for name, column in table.case_attributes.items():
        values = dates[column].values if name == BIRTH_DATE else normal[column]
        out[name] = values[used].to_numpy()
    return out
