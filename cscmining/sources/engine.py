"""Turning the rows of a table into events, with an exact account of every row.

One function, `process_table`, serves every source: the statutory returns and the tables of
a user's logmap differ only in their `TableMap`. It works on all files of one table at once
(so exact duplicate rows are found across yearly files too), fully vectorised.

Where a row ends (SPEC §3), in this order of precedence:
  * rejected by the reader (``ROW_SHAPE``);
  * ``blank`` (blank rows after the last data row are not rows at all);
  * ``duplicate``: every field equal to an earlier row of the same table;
  * rejected: no usable child id, or a bad or missing date in a required date column (a
    date before the child's date of birth, the row's own or else the one the child's other
    tables give, is bad, ``DATE_BEFORE_DOB``, as a future date is);
  * otherwise used; a row that produced no event *because of* a problem with one of its
    dates is rejected with that problem's code; problems on rows that did produce events
    are counted as ``flags``; so are the table's `RowCheck` findings on used rows (overlapping
    records, more than one open record, zero-duration steps, a pair filled by halves).

How it stays fast on millions of rows: a column is *dictionary-encoded* (`Column`) — each
distinct raw cell is kept once and every row carries an integer code. Everything that is a
function of one cell (cleaning, child ids, coded values, dates, the left-care outcome) runs
on the distinct cells only (`Distinct`), and rows only ever see integer codes, booleans and
datetimes. A table of a million rows has a few thousand distinct dates and a handful of
codes, so parsing and normalising cost next to nothing. Columns that no rule reads (post
codes, URNs) are never encoded at all: blank-row, trailing-blank and duplicate detection
look at them only on the few rows where the encoded columns leave the question open.
Events leave with categorical columns (codes into the distinct values), which
`eventlog.assemble` sorts and merges by their codes.

Per-cell semantics are exactly those of the functions in `codes` and `dates`: they are
called on a Series of distinct cells instead of on the whole column, and all of them are
cell-by-cell functions, so the result per cell cannot differ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..accounting import TableAccount
from ..codes import (
    CODE_WRONG_YEAR,
    ID_CORRUPT,
    ID_FROM_NUMBER,
    ID_LEADING_ZERO_COLLISION_RISK,
    ID_MISSING,
    ID_NORMALISED,
    NORMALISERS,
    clean_text,
    collection_years,
    leading_zero_collisions,
    left_care_activities,
    normalise_ids,
)
from ..columns import ACTIVITY, CASE, FILE, SOURCE, TIMESTAMP
from ..columns import ROW as EVENT_ROW
from ..dates import (
    DATE_FROM_SERIAL,
    DATE_FUTURE,
    DATE_MISSING,
    EXCEL_1904_OFFSET,
    ParsedDates,
    parse_dates,
)
from ..errors import AccountingError
from ..logmap import CodeYears, EventRule, LogMap, RowCheck, TableMap
from ..vocabulary import Vocabulary
from .base import ROW, RawTable

USED, BLANK, DUPLICATE = "used", "blank", "duplicate"
END_BEFORE_START = "END_BEFORE_START"
#: a record a later file of the same table reports again (e.g. an episode open at one year
#: end and closed in the next year's return): the later submission wins
SUPERSEDED = "SUPERSEDED"
ACTIVITY_UNMAPPED = "ACTIVITY_UNMAPPED"
#: an event dated before the child's date of birth (less the table's pre-birth allowance)
DATE_BEFORE_DOB = "DATE_BEFORE_DOB"
#: the stand-in for "no problem" in problem arrays
OK = ""
#: attributes keep the raw cell for these normalisers (they collapse codes for conditions)
_RAW_ATTRIBUTE = {"placement", "text"}
BIRTH_DATE = "birth_date"
#: stands in for a blank cell when cells are compared (the pandas ``duplicated`` convention)
_BLANK_KEY = "\x00"


@dataclass
class TableResult:
    events: pd.DataFrame
    case_attributes: pd.DataFrame
    accounts: list[TableAccount]


# --- small integer codes for row outcomes and problems -----------------------------------


class _Codes:
    """Names (statuses, problem and flag codes) as small integers, ``OK`` being 0.

    Per-row outcome arrays hold these integers instead of strings: a million Python string
    references per array would cost more to build, compare and count than the rest of the
    work on that table.
    """

    def __init__(self) -> None:
        self.names: list[str] = [OK, USED, BLANK, DUPLICATE]
        self._index = {name: i for i, name in enumerate(self.names)}

    def __call__(self, name: str) -> int:
        if name not in self._index:
            self._index[name] = len(self.names)
            self.names.append(name)
        return self._index[name]

    def encode(self, values: pd.Series) -> np.ndarray:
        """A Series of names or missing (no problem) as codes (missing is ``OK``)."""
        out = np.zeros(len(values), dtype=np.int16)
        present = values.notna().to_numpy()
        if present.any():
            found, names = pd.factorize(values[present])
            out[present] = np.array([self(str(n)) for n in names], dtype=np.int16)[found]
        return out


# --- dictionary-encoded columns ------------------------------------------------------------


class Distinct:
    """The distinct raw cells of a column, with one missing cell last, and what each rule of
    the table makes of them; each derived array is computed once, on these cells only."""

    def __init__(self, cells: pd.Series, serial_offset: pd.Series | None) -> None:
        self.cells = cells.reset_index(drop=True)
        self.serial_offset = serial_offset
        self._normal: dict[str, pd.Series] = {}
        self._factorized: dict[str, tuple[np.ndarray, pd.CategoricalDtype]] = {}

    def __len__(self) -> int:
        return len(self.cells)

    @cached_property
    def text(self) -> pd.Series:
        """Cells as cleaned text, NaN for blank (`codes.clean_text`)."""
        return clean_text(self.cells)

    @cached_property
    def blank(self) -> np.ndarray:
        return self.text.isna().to_numpy()

    @cached_property
    def same(self) -> np.ndarray:
        """Equal codes for cells whose cleaned text is equal (blank included)."""
        return pd.factorize(self.text.fillna(_BLANK_KEY))[0]

    def normal(self, kind: str) -> pd.Series:
        """The cells through the table's normaliser for the column (`codes.NORMALISERS`)."""
        if kind not in self._normal:
            self._normal[kind] = NORMALISERS[kind](self.text)
        return self._normal[kind]

    @cached_property
    def ids(self) -> tuple[pd.Series, pd.Series]:
        """Child identifiers and their per-cell code (`codes.normalise_ids`)."""
        return normalise_ids(self.cells)

    def dates(self, formats: tuple[str, ...]) -> ParsedDates:
        return parse_dates(self.cells, list(formats), self.serial_offset)

    def factorized(self, key: str, values: pd.Series) -> tuple[np.ndarray, pd.CategoricalDtype]:
        """``values`` (aligned with the cells) as codes and the categorical type of their
        distinct values, cached by ``key``: an event column. One type object per column
        also spares pandas re-checking that a hundred thousand child ids are unique for
        every rule's events."""
        if key not in self._factorized:
            found, uniques = pd.factorize(values)
            # narrow codes: every row of every event carries one per text column
            narrow = np.int8 if len(uniques) < 2**7 else np.int16 if len(uniques) < 2**15 else np.int32
            self._factorized[key] = (found.astype(narrow), pd.CategoricalDtype(uniques))
        return self._factorized[key]


class Column:
    """One column of a table over all its files: raw cells, dictionary-encoded on demand.

    ``raw`` is an Arrow string array (CSV and XML text) or an object array (spreadsheet
    cells of mixed types: cells share a distinct value only when equal in type and value,
    see `_encode_cells`). ``serial_offset`` (object cells only) is the
    per-row day offset of 1904 workbooks (`dates.parse_dates`).
    """

    def __init__(
        self, raw: pa.ChunkedArray | np.ndarray | None, serial_offset: np.ndarray | None = None, *,
        encoded: tuple[np.ndarray, Distinct] | None = None,
    ) -> None:
        self.raw = raw
        self.serial_offset = serial_offset
        self._encoded = encoded

    def __len__(self) -> int:
        if self._encoded is not None:
            return len(self._encoded[0])
        assert self.raw is not None
        return len(self.raw)

    @property
    def is_encoded(self) -> bool:
        return self._encoded is not None

    def encode(self) -> tuple[np.ndarray, Distinct]:
        """Per-row codes into the distinct cells (the missing cell is the last one)."""
        if self._encoded is None:
            assert self.raw is not None
            self._encoded = _encode(self.raw, self.serial_offset)
        return self._encoded

    @property
    def codes(self) -> np.ndarray:
        return self.encode()[0]

    @property
    def distinct(self) -> Distinct:
        return self.encode()[1]

    def at(self, rows: np.ndarray) -> Column:
        """The column on some rows only; an encoded column shares its distinct cells."""
        if self._encoded is not None:
            codes, distinct = self._encoded
            return Column(None, encoded=(codes[rows], distinct))
        offsets = self.serial_offset[rows] if self.serial_offset is not None else None
        if isinstance(self.raw, np.ndarray):
            return Column(self.raw[rows], offsets)
        assert self.raw is not None
        return Column(self.raw.take(pa.array(rows, pa.int64())), offsets)

    def span(self, start: int, stop: int) -> Column:
        """Rows ``start`` to ``stop`` (exclusive), without copying cells."""
        if self._encoded is not None:
            codes, distinct = self._encoded
            return Column(None, encoded=(codes[start:stop], distinct))
        assert self.raw is not None
        offsets = self.serial_offset[start:stop] if self.serial_offset is not None else None
        if isinstance(self.raw, np.ndarray):
            return Column(self.raw[start:stop], offsets)
        return Column(self.raw.slice(start, stop - start), offsets)

    def blank_rows(self) -> np.ndarray:
        """Per row: blank once cleaned. Encodes a throwaway copy when not encoded yet (call it
        on a few rows through `at` for columns no rule reads)."""
        codes, distinct = self.encode()
        return distinct.blank[codes]

    def same_rows(self) -> np.ndarray:
        """Per row: equal integers where the cleaned cells are equal."""
        codes, distinct = self.encode()
        return distinct.same[codes]

    def values(self, series: pd.Series) -> np.ndarray:
        """A per-distinct Series spread to the rows, as a numpy array."""
        return series.to_numpy()[self.codes]


def _encode(raw: pa.ChunkedArray | np.ndarray, serial_offset: np.ndarray | None) -> tuple[np.ndarray, Distinct]:
    if isinstance(raw, np.ndarray):
        codes, first = _encode_cells(raw, serial_offset)
        cells = pd.Series([*raw[first].tolist(), None], dtype=object)
        if set(map(type, cells)) <= {str, type(None)}:
            # text only (a spreadsheet's id or code column): the per-cell functions take
            # their vectorised text path, and give what they give the same cells as objects
            cells = cells.astype("str")
        offsets = pd.Series([*serial_offset[first].tolist(), 0]) if serial_offset is not None else None
        return codes, Distinct(cells, offsets)
    array = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    encoded = pc.dictionary_encode(array)
    dictionary = encoded.dictionary
    missing = len(dictionary)
    codes = pc.fill_null(encoded.indices, missing).to_numpy(zero_copy_only=False)
    cells = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
    return codes, Distinct(pd.Series(cells, dtype="str"), None)


_TYPE_OF = np.frompyfunc(type, 1, 1)


def _encode_cells(raw: np.ndarray, serial_offset: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Spreadsheet cells as codes (in order of first appearance) and the row of each code's
    first cell: cells share a code only when they are of the same type, equal, and carry the
    same day offset, so ``1``, ``1.0`` and ``True`` never pass for each other, nor a serial of
    a 1904 workbook for the same number of another. Floats are compared by their bits (``0.0``
    and ``-0.0`` stay apart). A sheet's million cells thus become a few thousand distinct
    dates and codes, and every per-cell function runs on those only.
    """
    n = len(raw)
    kinds, types = pd.factorize(_TYPE_OF(raw))
    key = np.zeros(n, dtype=np.int64)
    base = 0
    for kind, cell_type in enumerate(types):
        rows = np.flatnonzero(kinds == kind)
        values = raw[rows]
        if cell_type is float:
            values = values.astype(np.float64).view(np.int64)
        found, uniques = pd.factorize(values, use_na_sentinel=False)
        key[rows] = base + found
        base += len(uniques)
    if serial_offset is not None:
        offset_codes, offsets = pd.factorize(serial_offset)
        key = key * len(offsets) + offset_codes
    codes = pd.factorize(key)[0]
    first = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())
    return codes.astype(np.int32), first


def _text_chunks(series: pd.Series) -> list[pa.Array] | None:
    """The Arrow chunks behind a text column (large_string), or None for an object column."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        chunked = series.array.__arrow_array__()
        return [c.cast(pa.large_string()) if c.type != pa.large_string() else c for c in chunked.chunks]
    if series.dtype == object and len(series) and series.isna().all():
        return [pa.nulls(len(series), pa.large_string())]
    return None


# --- one table ----------------------------------------------------------------------------


@dataclass
class _Stacked:
    """All files of one table, trailing blank rows of each file removed."""

    columns: dict[str, Column]
    rows: np.ndarray  # the row number of each row in its file
    file_index: np.ndarray  # which of the table's files each row comes from
    reader_reject: np.ndarray  # `_Codes` of the reader's own rejections, 0 for none
    trailing: list[int]  # per file: blank rows after its last data row (not rows, SPEC §2.2)

    def __len__(self) -> int:
        return len(self.rows)


def process_table(
    raws: list[RawTable],
    table: TableMap,
    logmap: LogMap,
    vocabulary: Vocabulary,
    *,
    future_after: date | None,
    births: pd.Series | None = None,
) -> TableResult:
    """All files of one table: their events, their children's attributes, their accounts.

    ``future_after`` is the date after which an event has not happened yet: the run's as-at
    date, else each file's own reference date, else today.

    ``births`` (datetime64, indexed by normalised child id) are the children's dates of birth
    as the log chooses them from *other* tables, for a table that has no date of birth of its
    own (an SSDA903 episodes file, the CIN census records under the child): its event dates
    are checked against them as against a row's own date of birth (``DATE_BEFORE_DOB``,
    allowing the table's ``before_birth_days``). A child missing from ``births`` is not
    checked. Ignored by a table with its own ``birth_date`` column: its rows say it.
    """
    codes = _Codes()
    stacked = _stack(raws, table, codes)
    n = len(stacked)
    data_cols = list(table.columns)
    columns = stacked.columns
    # columns some rule reads are encoded in full; the others only where a question is open
    read = _read_columns(table, len(raws))
    for name in data_cols:
        if name in read:
            columns[name].encode()
    ordered = sorted(data_cols, key=lambda c: not columns[c].is_encoded)

    status = np.full(n, codes(USED), dtype=np.int16)
    status[_blank_rows(columns, ordered, n)] = codes(BLANK)
    has_reject = stacked.reader_reject != 0
    status[has_reject] = stacked.reader_reject[has_reject]
    status[_duplicates(columns, ordered, n) & (status == codes(USED))] = codes(DUPLICATE)

    id_column = columns[table.id]
    _, id_code_d = id_column.distinct.ids
    id_code = id_column.values(pd.Series(codes.encode(id_code_d)))
    id_bad = np.isin(id_code, [codes(ID_MISSING), codes(ID_CORRUPT)]) & (status == codes(USED))
    status[id_bad] = id_code[id_bad]
    flags = [np.where(np.isin(id_code, [codes(ID_FROM_NUMBER), codes(ID_NORMALISED)]), id_code, 0).astype(np.int16),
             _leading_zero_flags(id_column, codes)]

    superseded = _superseded(table, columns, stacked.file_index, status == codes(USED))
    status[superseded] = codes(SUPERSEDED)

    limits = _future_limits(raws, stacked.file_index, future_after)
    dates = _parse_date_columns(columns, table, logmap, limits, codes, births)
    for parsed in dates.values():
        flags.append(np.where(parsed.from_serial, codes(DATE_FROM_SERIAL), 0).astype(np.int16))

    for column in table.required_dates:
        problem = dates[column].problem
        bad = (problem != 0) & (status == codes(USED))
        status[bad] = problem[bad]
    birth = table.case_attributes.get(BIRTH_DATE)
    if birth is not None and table.before_birth_days == 0:  # see `_birth_after_limit`
        unborn = (dates[birth].problem == codes(DATE_FUTURE)) & (status == codes(USED))
        status[unborn] = codes(DATE_FUTURE)

    usable = status == codes(USED)
    ctx = _Context(table, logmap, vocabulary, columns, dates, codes, stacked)
    emitted_by: list[tuple[EventRule, np.ndarray]] = []
    problems: list[np.ndarray] = []
    produced = np.zeros(n, dtype=np.int64)
    for rule in table.events:
        emitted, problem = _apply_rule(rule, ctx, usable)
        produced += emitted
        problems.append(problem)
        if emitted.any():
            emitted_by.append((rule, np.flatnonzero(emitted)))

    first_problem = _first_nonempty(problems, n)
    failed = usable & (produced == 0) & (first_problem != 0)
    status[failed] = first_problem[failed]
    flags.append(np.where(usable & (produced > 0), first_problem, 0).astype(np.int16))

    used = status == codes(USED)
    flags += [_check_flags(check, ctx, used) for check in table.checks]
    flags += [_code_year_flags(column, years, ctx, used) for column, years in table.code_years.items()]
    events = _table_events(emitted_by, ctx, used) if emitted_by else empty_events()
    accounts = _accounts(raws, stacked, status, flags, events, codes)
    case_attrs = _case_attributes(table, columns, dates, status == codes(USED))
    return TableResult(events, case_attrs, accounts)


def _read_columns(table: TableMap, files: int) -> set[str]:
    """The columns a rule of the table reads (the others are only checked for blanks and
    duplicates)."""
    read = {table.id, *table.required_dates, *table.case_attributes.values(), *table.attributes.values()}
    for rule in table.events:
        read |= rule.columns()
    read |= {c for check in table.checks for c in check.columns}
    read |= {c for column, years in table.code_years.items() for c in (column, years.date)}
    if files > 1:
        read |= set(table.supersede_key)
    return read


@dataclass
class _Context:
    """What the rules of one table read: its columns, parsed dates and names."""

    table: TableMap
    logmap: LogMap
    vocabulary: Vocabulary
    columns: dict[str, Column]
    dates: dict[str, _RowDates]
    codes: _Codes
    stacked: _Stacked
    #: `_previous_rows` by (date, ends, columns): shared by the rules that ask the same
    previous_rows: dict[tuple[str, str, tuple[str, ...]], np.ndarray] = field(default_factory=dict)
    _by_start: dict[str, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)

    @cached_property
    def child_keys(self) -> np.ndarray:
        """Per row: equal integers for equal child ids once normalised (`_child_keys`)."""
        return _child_keys(self.columns[self.table.id])

    def by_child_and_start(self, column: str, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`_by_child_and_start` of the ``used`` rows with a date in ``column``: sorted once
        for the overlap check and the values taken from previous records."""
        cached = self._by_start.get(column)
        if cached is None or cached[0] is not used:
            start = self.dates[column].values
            cached = used, _by_child_and_start(self.child_keys, start, used & ~np.isnat(start))
            self._by_start[column] = cached
        return cached[1]

    def normal(self, column: str) -> tuple[Column, pd.Series]:
        """The column and its distinct cells through the column's normaliser."""
        col = self.columns[column]
        return col, col.distinct.normal(self.table.normalise.get(column, "text"))

    def isin(self, column: str, values: list[str]) -> np.ndarray:
        """Per row: the normalised cell is one of ``values``."""
        col, normal = self.normal(column)
        return normal.isin(values).to_numpy()[col.codes]


# --- stacking files and finding blanks and duplicates -------------------------------------


def _stack(raws: list[RawTable], table: TableMap, codes: _Codes) -> _Stacked:
    """One set of columns for all files of the table; trailing blank rows of each file
    removed (a template's formatted but empty rows are not rows)."""
    per_file: list[tuple[dict[str, Column], np.ndarray, np.ndarray]] = []
    trailing: list[int] = []
    for raw in raws:
        frame = raw.frame
        n = len(frame)
        rows = frame[ROW].to_numpy(dtype=np.int64) if n else np.zeros(0, dtype=np.int64)
        reject = np.zeros(n, dtype=np.int16)
        if raw.rejected_rows:
            lookup = {number: codes(code) for number, code in raw.rejected_rows.items()}
            reject = np.array([lookup.get(int(r), 0) for r in rows.tolist()], dtype=np.int16)
        cols = {name: _file_column(frame, name, n) for name in table.columns}
        keep = _filled_length(cols, list(table.columns), reject)
        trailing.append(n - keep)
        per_file.append(({k: v.span(0, keep) if keep < n else v for k, v in cols.items()},
                         rows[:keep], reject[:keep]))
    file_index = np.concatenate([np.full(len(r), i, dtype=np.int64) for i, (_, r, _) in enumerate(per_file)]) \
        if per_file else np.zeros(0, dtype=np.int64)
    offsets = np.array([EXCEL_1904_OFFSET if raw.date1904 else 0 for raw in raws], dtype=np.int64)[file_index] \
        if raws else np.zeros(0, dtype=np.int64)
    columns = {name: _concat_columns([cols[name] for cols, _, _ in per_file], offsets) for name in table.columns}
    rows = np.concatenate([r for _, r, _ in per_file]) if per_file else np.zeros(0, dtype=np.int64)
    reject = np.concatenate([j for _, _, j in per_file]) if per_file else np.zeros(0, dtype=np.int16)
    return _Stacked(columns, rows, file_index, reject, trailing)


def _file_column(frame: pd.DataFrame, name: str, n: int) -> Column:
    """One file's column as read; a column the file lacks is all blank."""
    if name not in frame.columns:
        return Column(pa.chunked_array([pa.nulls(n, pa.large_string())], pa.large_string()))
    chunks = _text_chunks(frame[name])
    if chunks is not None:
        return Column(pa.chunked_array(chunks, pa.large_string()))
    return Column(frame[name].to_numpy(dtype=object))


def _concat_columns(parts: list[Column], offsets: np.ndarray) -> Column:
    """The files' columns one after the other: Arrow text stays Arrow (no copy), any file
    with spreadsheet cells makes the whole column object cells."""
    if not parts:
        return Column(pa.chunked_array([], pa.large_string()))
    if all(isinstance(p.raw, pa.ChunkedArray) for p in parts):
        chunks = [c for p in parts if isinstance(p.raw, pa.ChunkedArray) for c in p.raw.chunks]
        return Column(pa.chunked_array(chunks, pa.large_string()))
    cells = [p.raw if isinstance(p.raw, np.ndarray) else _object_cells(p.raw) for p in parts]
    return Column(np.concatenate(cells), offsets)


def _object_cells(raw: pa.ChunkedArray | None) -> np.ndarray:
    """Arrow text as object cells (None for null), to sit beside a spreadsheet's cells."""
    assert raw is not None
    out = np.empty(len(raw), dtype=object)
    out[:] = raw.to_pylist()
    return out


def _filled_length(columns: dict[str, Column], names: list[str], reject: np.ndarray) -> int:
    """Rows up to and including the last one with any non-blank cell or a reader rejection.

    Looks backwards from the end in growing windows: a file usually ends with a data row,
    so a few rows decide it and the columns are never cleaned in full here.
    """
    n = len(reject)
    end, window = n, 64
    while end > 0:
        start = max(0, end - window)
        filled = reject[start:end] != 0
        for name in names:
            filled |= ~columns[name].span(start, end).blank_rows()
        if filled.any():
            return start + int(np.flatnonzero(filled)[-1]) + 1
        end, window = start, window * 4
    return 0


def _blank_rows(columns: dict[str, Column], names: list[str], n: int) -> np.ndarray:
    """Rows whose every cell is blank; each further column is looked at only on the rows
    still blank in all columns before it."""
    if not names:
        return np.ones(n, dtype=bool)
    candidates = np.arange(n)
    for name in names:
        if not len(candidates):
            break
        candidates = candidates[columns[name].at(candidates).blank_rows()]
    out = np.zeros(n, dtype=bool)
    out[candidates] = True
    return out


def _duplicates(columns: dict[str, Column], names: list[str], n: int) -> np.ndarray:
    """Rows whose every cleaned cell equals those of an earlier row (pandas ``duplicated``
    with ``keep="first"``), found by refining groups of equal rows column by column and
    dropping rows that are alone in their group: after the id and a date column almost no
    candidates remain, so the other columns are looked at on a few rows only.

    Groups are found by a stable sort of integer keys, not by hashing: rows usually come
    grouped by child, and sorting nearly sorted keys is several times faster.
    """
    out = np.zeros(n, dtype=bool)
    if not names or n < 2:
        return out
    rows = np.arange(n)
    group = np.zeros(n, dtype=np.int64)
    first = np.ones(0, dtype=bool)
    for name in names:
        same = columns[name].at(rows).same_rows().astype(np.int64)
        key = group * (int(same.max()) + 1) + same
        order = np.argsort(key, kind="stable")
        key = key[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = key[1:] != key[:-1]  # the first row of each run of equal keys
        starts = np.flatnonzero(first)
        sizes = np.diff(np.append(starts, len(rows)))
        shared = np.repeat(sizes > 1, sizes)
        # rows of groups of two or more, grouped; within a group rows stay in file order
        # (the sort is stable, and they were in file order within the coarser group)
        rows, first = rows[order][shared], first[shared]
        group = np.cumsum(first) - 1
        if not len(rows):
            return out
    out[rows[~first]] = True
    return out


def _superseded(table: TableMap, columns: dict[str, Column], file_index: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Rows whose `supersede_key` appears again in a later file of the same table."""
    n = len(file_index)
    if not table.supersede_key or not usable.any() or (n and file_index.max() == 0):
        return np.zeros(n, dtype=bool)
    rows = np.flatnonzero(usable)
    group = np.zeros(len(rows), dtype=np.int64)
    for name in table.supersede_key:
        col = columns[name].at(rows)
        if name == table.id:
            same = _child_keys(col)
        else:
            same = col.same_rows()
        same = same.astype(np.int64)
        group = pd.factorize(group * (int(same.max()) + 1) + same)[0].astype(np.int64)
    files = file_index[rows]
    latest = np.zeros(group.max() + 1 if len(group) else 0, dtype=np.int64)
    np.maximum.at(latest, group, files)
    out = np.zeros(n, dtype=bool)
    out[rows] = files < latest[group]
    return out


def _child_keys(id_column: Column) -> np.ndarray:
    """Per row: equal integers for equal child ids once normalised (``12345.0`` is ``12345``)."""
    ids = id_column.distinct.ids[0]
    return pd.factorize(ids.fillna(_BLANK_KEY))[0][id_column.codes]


def _leading_zero_flags(id_column: Column, codes: _Codes) -> np.ndarray:
    """Per row: `ID_LEADING_ZERO_COLLISION_RISK` where the row's id equals another id of the
    table (all its files) once leading zeros are dropped; found on the distinct ids only."""
    risky = leading_zero_collisions(id_column.distinct.ids[0])
    return np.where(risky[id_column.codes], codes(ID_LEADING_ZERO_COLLISION_RISK), 0).astype(np.int16)


# --- row checks: flags over pairs of columns ----------------------------------------------

_LAST, _FIRST = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _check_flags(check: RowCheck, ctx: _Context, used: np.ndarray) -> np.ndarray:
    """Per row: the check's flag code where a used row fails the check, else 0."""
    first, second = check.columns
    if check.kind == "together":
        failed = ctx.columns[first].blank_rows() != ctx.columns[second].blank_rows()
    else:
        start, end = ctx.dates[first], ctx.dates[second]
        if check.kind == "zero_duration":  # NaT never equals anything
            failed = start.values.astype("datetime64[D]") == end.values.astype("datetime64[D]")
        elif check.kind == "overlap":
            failed = _overlapping(*ctx.by_child_and_start(first, used), start.values, _end_keys(end, ctx.codes))
        else:
            dated = used & ~np.isnat(start.values)
            failed = _open_again(ctx.child_keys, start.values, _end_keys(end, ctx.codes), dated)
    return np.where(failed & used, ctx.codes(check.code), 0).astype(np.int16)


def _code_year_flags(column: str, years: CodeYears, ctx: _Context, used: np.ndarray) -> np.ndarray:
    """Per row: `CODE_WRONG_YEAR` where a used row's code (normalised) is outside the
    collection years the logmap gives it, in the collection year of the row's own date. A row
    without a usable date there proves nothing and is not flagged."""
    col, normal = ctx.normal(column)
    first = np.array([v.valid_from if v.valid_from is not None else np.iinfo(np.int64).min
                      for v in years.codes.values()], dtype=np.int64)
    last = np.array([v.valid_until if v.valid_until is not None else np.iinfo(np.int64).max
                     for v in years.codes.values()], dtype=np.int64)
    # per distinct cell: which listed code it is (-1: none), spread to the rows
    which = pd.Index(list(years.codes)).get_indexer(normal.astype(object))[col.codes]
    listed = which >= 0
    dated = ~np.isnat(ctx.dates[years.date].values)
    year = collection_years(ctx.dates[years.date].values)
    pick = np.maximum(which, 0)
    wrong = used & listed & dated & ((year < first[pick]) | (year > last[pick]))
    return np.where(wrong, ctx.codes(CODE_WRONG_YEAR), 0).astype(np.int16)


def _end_keys(end: _RowDates, codes: _Codes) -> np.ndarray:
    """End dates as integers to compare: a blank end, or one after the as-at date, has not
    come yet (`_LAST`); an unreadable one proves nothing either way (`_FIRST`, what NaT is)."""
    still_open = np.isnat(end.values) & np.isin(end.problem, [codes(DATE_MISSING), codes(DATE_FUTURE)])
    return np.where(still_open, _LAST, end.values.view(np.int64))


def _by_child_and_start(child: np.ndarray, start: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``rows`` (a mask) ordered by child then start day, and where each child begins.

    One stable argsort of one integer key (child, then day): rows mostly come grouped by
    child in date order already, and sorting a nearly sorted key is several times faster
    than a two-key lexsort."""
    picked = np.flatnonzero(rows)
    if len(picked):
        day = start[picked].astype("datetime64[D]").view(np.int64)
        day = day - day.min()
        picked = picked[np.argsort(child[picked].astype(np.int64) * (int(day.max()) + 1) + day, kind="stable")]
    keys = child[picked]
    new_child = np.ones(len(picked), dtype=bool)
    new_child[1:] = keys[1:] != keys[:-1]
    return picked, new_child


def _overlapping(picked: np.ndarray, new_child: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Rows that start before an earlier-starting record of the same child has ended (903
    rule 501, CIN 4014): compared with the latest end among the child's earlier records, so
    a long episode that spans two shorter ones is caught too. Starting the day the previous
    record ends is a hand-over, not an overlap. ``picked`` and ``new_child`` are the rows
    looked at, by child and start (`_by_child_and_start`)."""
    latest = pd.Series(end[picked]).groupby(np.cumsum(new_child)).cummax().to_numpy()
    before = np.empty_like(latest)
    before[1:] = latest[:-1]
    before[new_child] = _FIRST
    out = np.zeros(len(start), dtype=bool)
    out[picked[start[picked].view(np.int64) < before]] = True
    return out


def _open_again(child: np.ndarray, start: np.ndarray, end: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Open records (no end yet) of a child who already has an earlier-starting open record
    (CIN 8935: at most one open CP plan): the second, third … are flagged, the first not."""
    picked, new_child = _by_child_and_start(child, start, rows & (end == _LAST))
    out = np.zeros(len(rows), dtype=bool)
    out[picked[~new_child]] = True
    return out


# --- dates ------------------------------------------------------------------------------


@dataclass
class _RowDates:
    """A date column per row: values (NaT where none), problem code, read from a serial."""

    values: np.ndarray
    problem: np.ndarray
    from_serial: np.ndarray


def _future_limits(raws: list[RawTable], file_index: np.ndarray, future_after: date | None) -> np.ndarray:
    per_file = [
        np.datetime64(future_after or raw.reference_date or date.today(), "ns") for raw in raws
    ]
    if not per_file:
        return np.array([], dtype="datetime64[ns]")
    return np.array(per_file, dtype="datetime64[ns]")[file_index]


def _parse_date_columns(
    columns: dict[str, Column], table: TableMap, logmap: LogMap, limits: np.ndarray, codes: _Codes,
    births: pd.Series | None = None,
) -> dict[str, _RowDates]:
    """Each date column any rule reads, parsed once per distinct cell; a date after the
    file's limit is ``DATE_FUTURE``, and one before the child's date of birth (less the
    table's ``before_birth_days``) ``DATE_BEFORE_DOB``, in columns that become events.

    The date of birth is the row's own (the table's ``birth_date`` column, parsed first), or
    else the child's in ``births`` (see `process_table`), found per distinct id."""
    event_dates = {r.date for r in table.events} | set(table.required_dates)
    context_dates = {c for r in table.events for c in (r.later_than, r.starts) if c}
    context_dates |= {r.previous.ends for r in table.events if r.previous}
    context_dates |= {c for check in table.checks if check.kind != "together" for c in check.columns}
    context_dates |= {years.date for years in table.code_years.values()}
    birth = table.case_attributes.get(BIRTH_DATE)
    earliest = None  # per row, the earliest date an event may have
    if birth is None and births is not None and len(births) and event_dates:
        earliest = _earliest(_looked_up_births(columns[table.id], births), table)
    parsed: dict[str, _RowDates] = {}
    # the date of birth first: event dates are checked against it
    names = ([birth] if birth else []) + sorted((event_dates | context_dates) - {birth})
    for column in names:
        col = columns[column]
        result = col.distinct.dates(tuple(logmap.date_formats))
        values = col.values(result.values)
        problem = col.values(pd.Series(codes.encode(result.problem)))
        from_serial = col.values(result.from_serial)
        if column == birth and table.before_birth_days == 0:
            values, problem = _birth_after_limit(values, problem, limits, codes)
        if column in event_dates:
            late = values > limits
            early = np.zeros(len(values), dtype=bool)
            if earliest is not None and column != birth:
                early = values < earliest  # NaT on either side compares False: no check
            if late.any() or early.any():
                problem = np.select([late, early], [codes(DATE_FUTURE), codes(DATE_BEFORE_DOB)], problem)
                problem = problem.astype(np.int16)
                values = np.where(late | early, np.datetime64("NaT", "ns"), values)
        parsed[column] = _RowDates(values, problem, from_serial)
        if column == birth:
            earliest = _earliest(values, table)
    return parsed


def _earliest(birth: np.ndarray, table: TableMap) -> np.ndarray:
    """Per row, the earliest date an event of the table may have: the date of birth less the
    table's ``before_birth_days`` (NaT where the date of birth is unknown)."""
    return birth - np.timedelta64(table.before_birth_days, "D")


def _looked_up_births(id_column: Column, births: pd.Series) -> np.ndarray:
    """Per row, the date of birth ``births`` gives the row's child (NaT: none, or no usable
    id). Looked up once per distinct id cell (an Arrow hash lookup: a few hundred thousand
    ids in a few hundredths of a second), then spread to the rows by their codes."""
    ids = pa.array(id_column.distinct.ids[0], pa.large_string())
    known = pa.array(births.index, pa.large_string())
    where = pc.fill_null(pc.index_in(ids, value_set=known), -1).to_numpy(zero_copy_only=False)
    stamps = births.to_numpy(dtype="datetime64[ns]")
    per_cell = np.where(where >= 0, stamps[np.maximum(where, 0)], np.datetime64("NaT", "ns"))
    return per_cell[id_column.codes]


def _birth_after_limit(
    values: np.ndarray, problem: np.ndarray, limits: np.ndarray, codes: _Codes,
) -> tuple[np.ndarray, np.ndarray]:
    """A date of birth after the file's collection year end (or the as-at date) is
    ``DATE_FUTURE`` (903 rule 301, CIN 8520) and is not used: the row is rejected (see
    `process_table`). Only in tables that allow no work before birth: where a table describes
    unborn children (Annex A referrals, ``before_birth_days`` > 0) the date may be the expected
    one, still to come."""
    late = values > limits
    if not late.any():
        return values, problem
    return (np.where(late, np.datetime64("NaT", "ns"), values),
            np.where(late, codes(DATE_FUTURE), problem).astype(np.int16))


# --- rules ------------------------------------------------------------------------------


def _condition(rule: EventRule, ctx: _Context, usable: np.ndarray) -> np.ndarray:
    mask = usable.copy()
    for column, values in rule.when.items():
        mask &= ctx.isin(column, values)
    for column, values in rule.unless.items():
        mask &= ~ctx.isin(column, values)
    return mask


def _apply_rule(rule: EventRule, ctx: _Context, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which rows this rule turns into an event; and per row the problem that stopped one."""
    codes = ctx.codes
    applies = _condition(rule, ctx, usable)
    parsed = ctx.dates[rule.date]
    values = parsed.values
    problem = parsed.problem.copy()
    problem[problem == codes(DATE_MISSING)] = 0  # an empty optional date is not a problem
    ok = ~np.isnat(values) & applies
    if rule.later_than:
        other = ctx.dates[rule.later_than].values
        ok &= ~(~np.isnat(other) & (values <= other))
    if rule.starts:
        start = ctx.dates[rule.starts].values
        before = ~np.isnat(start) & (values < start) & ok
        problem[before] = codes(END_BEFORE_START)
        ok &= ~before
    if rule.activity_from:
        mapped = ctx.isin(rule.activity_from, list(rule.activities))
        ignored = ctx.isin(rule.activity_from, rule.ignore)
        unmapped = ok & ~mapped & ~ignored
        problem[unmapped] = codes(ACTIVITY_UNMAPPED)
        ok &= mapped
    problem[~applies] = 0
    return ok, problem


def _categorical(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _constant(value: str, n: int) -> pd.Categorical:
    return _categorical(np.zeros(n, dtype=np.int8), pd.CategoricalDtype(pd.Index([value], dtype="str")))


def _per_row(col: Column, key: str, values: pd.Series, rows: np.ndarray) -> pd.Categorical:
    """Per-distinct ``values`` on ``rows``, as a categorical of the distinct results."""
    found, dtype = col.distinct.factorized(key, values)
    return _categorical(found[col.codes[rows]], dtype)


def _activity(rule: EventRule, ctx: _Context, rows: np.ndarray) -> pd.Categorical:
    if rule.activity:
        return _constant(rule.activity, len(rows))
    if rule.activity_from:
        col, normal = ctx.normal(rule.activity_from)
        return _per_row(col, f"activity:{id(rule)}", normal.map(rule.activities), rows)
    assert rule.left_care_from is not None
    col = ctx.columns[rule.left_care_from]
    outcome = left_care_activities(col.distinct.text, ctx.vocabulary)
    return _per_row(col, f"left_care:{id(ctx.vocabulary)}", outcome, rows)


def _attribute_values(ctx: _Context, column: str) -> tuple[str, pd.Series]:
    """An attribute's value per distinct cell, and its cache key: the raw cell for code
    columns with a collapsing normaliser, else the normalised one."""
    kind = ctx.table.normalise.get(column, "text")
    col = ctx.columns[column]
    if kind in _RAW_ATTRIBUTE:
        return "text", col.distinct.text
    return f"normal:{kind}", col.distinct.normal(kind)


def _attribute(ctx: _Context, column: str, rows: np.ndarray) -> pd.Categorical:
    """An event attribute on ``rows`` (`_attribute_values`)."""
    return _per_row(ctx.columns[column], *_attribute_values(ctx, column), rows)


def _previous_attribute(ctx: _Context, column: str, source: np.ndarray) -> pd.Categorical:
    """An event attribute taken from other rows, ``source`` (-1: none, blank)."""
    values = _attribute(ctx, column, np.maximum(source, 0))
    return _categorical(np.where(source >= 0, values.codes, -1).astype(values.codes.dtype), values.dtype)


def _table_events(emitted_by: list[tuple[EventRule, np.ndarray]], ctx: _Context, used: np.ndarray) -> pd.DataFrame:
    """The events of all rules of the table, the rules' rows one after the other, as one
    frame of categorical text columns: the same frame as concatenating one frame per rule,
    with each column built once. An attribute only some rules carry is blank elsewhere; one
    a rule takes from the child's previous record (`PreviousRecord`) is blank where there is
    no such record among the ``used`` rows."""
    table, stacked = ctx.table, ctx.stacked
    rows = np.concatenate([r for _, r in emitted_by])
    lengths = [len(r) for _, r in emitted_by]
    id_col = ctx.columns[table.id]
    events = pd.DataFrame({
        CASE: _per_row(id_col, "id", id_col.distinct.ids[0], rows),
        ACTIVITY: union_categoricals([_activity(rule, ctx, r) for rule, r in emitted_by], lengths),
        TIMESTAMP: np.concatenate([ctx.dates[rule.date].values[r] for rule, r in emitted_by]),
        SOURCE: _constant(f"{ctx.logmap.source}/{table.name}", len(rows)),
        EVENT_ROW: stacked.rows[rows].astype("int64"),
        FILE: stacked.file_index[rows],
    })
    # per rule: attribute -> (column, whether the value is the child's previous record's)
    carried: list[dict[str, tuple[str, bool]]] = []
    for rule, _ in emitted_by:
        own = {name: (column, False) for name, column in {**table.attributes, **rule.attributes}.items()}
        taken = {name: (column, True) for name, column in rule.previous.attributes.items()} if rule.previous else {}
        carried.append({**own, **taken})
    names: list[str] = []
    for attributes in carried:
        names += [name for name in attributes if name not in names]
    for name in names:
        specs = [attributes.get(name) for attributes in carried]
        first = specs[0]
        if first is not None and not first[1] and len(set(specs)) == 1:
            # the table's own attribute: one column on every row
            events[name] = _attribute(ctx, first[0], rows)
            continue
        parts: list[pd.Categorical | None] = []
        for spec, (rule, r) in zip(specs, emitted_by):
            if spec is None:
                parts.append(None)
            elif spec[1]:
                parts.append(_previous_attribute(ctx, spec[0], _previous_rows(ctx, rule, used)[r]))
            else:
                parts.append(_attribute(ctx, spec[0], r))
        events[name] = union_categoricals(parts, lengths)
    return events


# --- values taken from the previous record ------------------------------------------------


def _previous_rows(ctx: _Context, rule: EventRule, used: np.ndarray) -> np.ndarray:
    """`_previous_records` for the rule's ``previous``, computed once per (date, ends,
    columns) and shared by the rules that ask the same (a 903 placement move is a
    Placement change or Placed for adoption)."""
    assert rule.previous is not None
    key = (rule.date, rule.previous.ends, tuple(sorted(set(rule.previous.attributes.values()))))
    if key not in ctx.previous_rows:
        ctx.previous_rows[key] = _previous_records(ctx, *key, used)
    return ctx.previous_rows[key]


def _previous_records(
    ctx: _Context, date_column: str, ends_column: str, columns: tuple[str, ...], used: np.ndarray,
) -> np.ndarray:
    """Per row: the row of the child's previous record that ended on this row's date, or -1.

    The previous record of a row is the ``used`` row of the same child (ids compared
    normalised) whose ``date_column`` day is the latest before the row's own; it counts only
    if its ``ends_column`` day is the row's ``date_column`` day (it ended the day this one
    began: a move, not a gap). Where several records of the child began on that day (bad
    data, an overlap), the one that ended on the row's day counts; if several did, the one
    whose ``columns`` values (as the event carries them, blank last) come first as text: so
    the choice never depends on the order of the rows or files.

    Vectorised: the rows sorted by (child, start day) (`_by_child_and_start`, shared with the
    overlap check); when no child has two records starting on one day (real returns), a
    row's previous record is the row before it in that order, one shifted comparison.
    Otherwise each start day of a child is a group, a row's previous record is in the group
    before its own: groups of one row are looked up directly, the rows of larger groups are
    ordered by (group, end day, content) and searched. Dates are whole days at midnight
    (`dates.parse_dates`), so they are compared as integers; NaT equals no day.
    """
    start = ctx.dates[date_column].values
    out = np.full(len(start), -1, dtype=np.int64)
    picked, new_child = ctx.by_child_and_start(date_column, used)
    if len(picked) < 2:
        return out
    day = start[picked].view(np.int64)
    end = ctx.dates[ends_column].values[picked].view(np.int64)
    new_day = new_child.copy()
    new_day[1:] |= day[1:] != day[:-1]
    if new_day.all():  # every start day of a child holds one record
        moved = np.flatnonzero(~new_child[1:] & (end[:-1] == day[1:]))
        out[picked[moved + 1]] = picked[moved]
        return out
    first = np.flatnonzero(new_day)  # each group's first position
    size = np.diff(np.append(first, len(picked)))
    group = np.cumsum(new_day) - 1
    # positions whose group has a group of the same child before it
    asks = np.flatnonzero(~new_child[first][group])
    before = group[asks] - 1
    found = np.full(len(asks), -1, dtype=np.int64)  # the previous record's position
    single = size[before] == 1
    candidate = np.where(single, first[before], 0)
    ended_here = single & (end[candidate] == day[asks])
    found[ended_here] = candidate[ended_here]
    if not single.all():
        tied = np.flatnonzero(np.repeat(size > 1, size))
        content = [_content_rank(ctx, column, picked[tied]) for column in reversed(columns)]
        tied = tied[np.lexsort([*content, end[tied], group[tied]])]
        # (group, end day) of the tied positions, in sorted order, as one searchable key
        ends_seen, end_rank = np.unique(end[tied], return_inverse=True)
        width = len(ends_seen) + 1
        key = group[tied] * width + end_rank
        multi = np.flatnonzero(~single)
        wanted = np.minimum(np.searchsorted(ends_seen, day[asks[multi]]), len(ends_seen) - 1)
        known = ends_seen[wanted] == day[asks[multi]]
        multi, query = multi[known], before[multi[known]] * width + wanted[known]
        at = np.minimum(np.searchsorted(key, query), len(key) - 1)  # the first of equal keys
        hit = key[at] == query
        found[multi[hit]] = tied[at[hit]]
    matched = found >= 0
    out[picked[asks[matched]]] = picked[found[matched]]
    return out


def _content_rank(ctx: _Context, column: str, rows: np.ndarray) -> np.ndarray:
    """Per row of ``rows``: the rank of the attribute value ``column`` gives the row's event
    (`_attribute_values`) in text order, blank last."""
    values = _attribute_values(ctx, column)[1]
    ranks, uniques = pd.factorize(values.astype(object), sort=True)
    ranks = np.where(ranks < 0, len(uniques), ranks)
    return ranks[ctx.columns[column].codes[rows]]


def empty_events() -> pd.DataFrame:
    """No events, with the columns and types of real ones (concatenation keeps them)."""
    return pd.DataFrame({
        CASE: pd.Series(dtype=object), ACTIVITY: pd.Series(dtype=object),
        TIMESTAMP: pd.Series(dtype="datetime64[ns]"), SOURCE: pd.Series(dtype=object),
        EVENT_ROW: pd.Series(dtype="int64"), FILE: pd.Series(dtype="int64"),
    })


def concat_events(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Event frames one after the other, columns in order of first appearance (as
    ``pd.concat``), a column missing from a frame blank there; categorical columns stay
    categorical over the union of their categories (``pd.concat`` would turn categoricals
    with different categories into object columns, a Python string per event)."""
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return empty_events()
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    names: list[str] = []
    for frame in frames:
        names += [c for c in frame.columns if c not in names]
    lengths = [len(f) for f in frames]
    out: dict[str, object] = {}
    for name in names:
        parts = [f[name] if name in f.columns else None for f in frames]
        present = [p for p in parts if p is not None]
        categorical = [isinstance(p.dtype, pd.CategoricalDtype) for p in present]
        blank = [p.dtype == object and bool(p.isna().all()) for p in present]
        if any(categorical) and all(c or b for c, b in zip(categorical, blank)):
            out[name] = union_categoricals(
                [p.array if p is not None and isinstance(p.dtype, pd.CategoricalDtype) else None for p in parts],
                lengths,
            )
        else:
            filled = [p if p is not None else pd.Series(np.full(k, None, dtype=object)) for p, k in zip(parts, lengths)]
            out[name] = pd.concat([p.reset_index(drop=True) for p in filled], ignore_index=True)
    return pd.DataFrame(out)


def union_categoricals(parts: list[pd.Categorical | None], lengths: list[int]) -> pd.Categorical:
    """Categoricals (None: all blank, of the given length) one after the other, over the
    union of their categories in order of first appearance. Parts that share their type
    (the rules of one table) keep their codes; otherwise the union is one factorize."""
    dtypes: list[pd.CategoricalDtype] = []
    for part in parts:
        if part is not None and not any(part.dtype is d for d in dtypes):
            dtypes.append(part.dtype)
    if not dtypes:
        return _categorical(np.full(sum(lengths), -1, dtype=np.int8), pd.CategoricalDtype(pd.Index([], dtype="str")))
    if len(dtypes) == 1:
        codes = [p.codes if p is not None else np.full(k, -1, dtype=np.int8) for p, k in zip(parts, lengths)]
        return _categorical(np.concatenate(codes), dtypes[0])
    found, union = pd.factorize(dtypes[0].categories.append([d.categories for d in dtypes[1:]]))
    bounds = np.cumsum([0, *[len(d.categories) for d in dtypes]])
    remaps = {id(d): found[a:b] for d, a, b in zip(dtypes, bounds[:-1], bounds[1:])}
    codes = []
    for part, k in zip(parts, lengths):
        if part is None or not len(part.categories):
            codes.append(np.full(k, -1, dtype=np.int64))
            continue
        own = part.codes
        codes.append(np.where(own >= 0, remaps[id(part.dtype)][np.maximum(own, 0)], -1))
    return _categorical(np.concatenate(codes), pd.CategoricalDtype(pd.Index(union)))


def _first_nonempty(arrays: list[np.ndarray], n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int16)
    for arr in arrays:
        take = (out == 0) & (arr != 0)
        out[take] = arr[take]
    return out


# --- accounts and case attributes ---------------------------------------------------------


def _in_order_of_appearance(values: np.ndarray, names: list[str], skip: set[int]) -> list[tuple[str, int]]:
    """(name, count) of the codes in ``values``, in the order they first appear (as a
    Counter built row by row would list them)."""
    if not len(values):
        return []
    counts = np.bincount(values.astype(np.int64), minlength=len(names))
    present = [c for c in np.flatnonzero(counts) if c not in skip]
    first = {c: int(np.argmax(values == c)) for c in present}
    return [(names[c], int(counts[c])) for c in sorted(present, key=first.__getitem__)]


def _accounts(
    raws: list[RawTable], stacked: _Stacked, status: np.ndarray, flags: list[np.ndarray],
    events: pd.DataFrame, codes: _Codes,
) -> list[TableAccount]:
    file_index = stacked.file_index
    event_counts = np.bincount(events[FILE].to_numpy(dtype=np.int64), minlength=len(raws)) if len(events) \
        else np.zeros(len(raws), dtype=np.int64)
    accounts = []
    for index, raw in enumerate(raws):
        mine = file_index == index
        counts = Counter(dict(_in_order_of_appearance(status[mine], codes.names, set())))
        account = TableAccount(
            path=str(raw.path), source=raw.source, table=raw.table, sheet=raw.sheet,
            rows_read=int(mine.sum()),
            used=counts.pop(USED, 0), blank=counts.pop(BLANK, 0), duplicate=counts.pop(DUPLICATE, 0),
            rejected=Counter(counts), events=int(event_counts[index]), encoding=raw.encoding,
        )
        used = mine & (status == codes(USED))
        for flag in flags:
            for name, count in _in_order_of_appearance(flag[used], codes.names, {0}):
                account.flags[name] += count
        account.check()
        _check_against_reader(raw, account, stacked.trailing[index])
        accounts.append(account)
    return accounts


def _check_against_reader(raw: RawTable, account: TableAccount, trailing: int) -> None:
    """The account must start from what the reader read, not from the frame the engine was
    handed: a row lost on the way (or while stacking) would otherwise leave every account
    balanced and the log one row short, silently (ACC-2)."""
    if account.rows_read + trailing != raw.rows_read:
        raise AccountingError(
            f"{account.where}: table {account.table}: the reader read {raw.rows_read} "
            f"{raw.unit}s but {account.rows_read + trailing} reached the accounts"
        )


def _case_attributes(
    table: TableMap, columns: dict[str, Column], dates: dict[str, _RowDates], used: np.ndarray,
) -> pd.DataFrame:
    """One row per used row that describes a child: the child (categorical, of the same type
    as the events' child column) and each case attribute, text as categoricals of the
    normalised distinct cells (a Python string per row would cost more than the choosing)."""
    if not table.case_attributes:
        return pd.DataFrame(columns=[CASE])
    id_col = columns[table.id]
    rows = np.flatnonzero(used)
    out = pd.DataFrame({CASE: _per_row(id_col, "id", id_col.distinct.ids[0], rows)})
    for name, column in table.case_attributes.items():
        if name == BIRTH_DATE:
            out[name] = dates[column].values[rows]
        else:
            col = columns[column]
            kind = table.normalise.get(column, "text")
            out[name] = _per_row(col, f"normal:{kind}", col.distinct.normal(kind), rows)
    return out
