"""Whole journeys of the sorted log as integer arrays: what every analysis kernel works on.

A `Chunk` holds some consecutive cases of the log (never part of a case): per event its
activity as a small integer code, its timestamp as int64 nanoseconds, and per case the index
of its first event. The log is sorted by case, so a case is one contiguous run and nothing is
ever grouped by hashing strings: case boundaries come from comparing the case column with
itself shifted by one (Arrow compares the strings without making Python objects), activities
from the Parquet dictionary (or one factorisation), timestamps from the column's integers.

Child identifiers are kept once per case and only turned into Python strings where a result
names a child (``stuck``); attribute columns are loaded only when a filter or a timescale
exclusion asks for them.

`Activities` fixes the codes: the vocabulary's activities in the map's reading order (stage
order, then listing position), so code ``i`` is also the node id ``n{i}`` of the map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np

from ..columns import ACTIVITY, CASE, CASE_PREFIX, ORDER, TIMESTAMP
from ..errors import UsageError
from ..vocabulary import Vocabulary

NS_PER_DAY = 86_400 * 10**9


def midnight_ns(day: date) -> int:
    """Nanoseconds since 1970-01-01 of the start of ``day`` (naive, no timezone ever)."""
    return int(np.datetime64(day, "D").astype("datetime64[ns]").astype(np.int64))


# ---------------------------------------------------------------------------------------
# Activity codes


def stage_rank(vocabulary: Vocabulary) -> dict[str, int]:
    """0, 1, 2… over the vocabulary by (order, listing position): the map's reading order."""
    listed = sorted(enumerate(vocabulary.activities), key=lambda p: (p[1].order, p[0]))
    return {activity.name: i for i, (_, activity) in enumerate(listed)}


@dataclass(frozen=True, eq=False)
class Activities:
    """The codes of a vocabulary's activities: ``names[code]``, in stage-rank order."""

    vocabulary: Vocabulary
    names: tuple[str, ...]

    @classmethod
    def of(cls, vocabulary: Vocabulary) -> Activities:
        rank = stage_rank(vocabulary)
        return cls(vocabulary=vocabulary, names=tuple(sorted(rank, key=rank.__getitem__)))

    @cached_property
    def code(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    @cached_property
    def terminal(self) -> np.ndarray:
        """Per code: the activity ends a journey."""
        terminal = self.vocabulary.terminal
        return np.array([n in terminal for n in self.names], dtype=bool)

    def lookup(self, values: Sequence[Any]) -> np.ndarray:
        """Codes of ``values`` (activity names); UsageError naming any not in the vocabulary."""
        code = self.code
        unknown = sorted({str(v) for v in values if v not in code})
        if unknown:
            raise UsageError(f"activities not in the stage vocabulary: {', '.join(unknown)}")
        return np.array([code[v] for v in values], dtype=np.int16)

    def mask(self, names: Iterable[str]) -> np.ndarray:
        """Per code: the activity is one of ``names``."""
        wanted = set(names)
        return np.array([n in wanted for n in self.names], dtype=bool)

    @cached_property
    def summary(self) -> tuple[Activities, np.ndarray]:
        """The stage groups as activities, and each detail code's group code."""
        from ..focus import summary_vocabulary

        groups = Activities.of(summary_vocabulary(self.vocabulary))
        group = self.vocabulary.group
        return groups, np.array([groups.code[group[n]] for n in self.names], dtype=np.int16)

    def at_level(self, level: str) -> tuple[Activities, np.ndarray | None]:
        """The activities an analysis counts at ``level``, and (summary) each code's group."""
        if level == "summary":
            return self.summary
        if level == "detail":
            return self, None
        raise UsageError(f"--level must be detail or summary, not {level!r}")

    @cached_property
    def variant_rank(self) -> np.ndarray:
        """Per code, its rank by (stage order, name): the order variants compare steps in."""
        order = self.vocabulary.order
        ranked = sorted(range(len(self.names)),
                        key=lambda i: (order.get(self.names[i], np.iinfo(np.int32).max),
                                       self.names[i]))
        rank = np.empty(len(self.names), dtype=np.int16)
        rank[ranked] = np.arange(len(self.names))
        return rank


# ---------------------------------------------------------------------------------------
# Attribute columns (pandas Series or Arrow arrays, per event)


def _is_arrow(column: Any) -> bool:
    return hasattr(column, "to_pylist") or type(column).__module__.startswith("pyarrow")


def column_take(column: Any, rows: np.ndarray) -> Any:
    if _is_arrow(column):

        from .arrow import numbers

        return column.take(numbers(np.asarray(rows, dtype=np.int64)))
    return column.iloc[rows]


def arrow_bools(array: Any) -> np.ndarray:
    """An Arrow boolean array as numpy (missing values False), from its bitmap: no pandas."""
    import pyarrow.compute as pc

    if array.null_count:
        array = pc.fill_null(array, False)
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=bool)
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little", count=array.offset + n)[array.offset:] \
        .astype(bool)


def arrow_ints(array: Any, missing: int = -1) -> np.ndarray:
    """An Arrow integer array as numpy int64 (missing values as ``missing``): no pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.null_count:
        array = pc.fill_null(array, missing)
    if len(array) == 0:
        return np.zeros(0, dtype=np.int64)
    dtype = np.dtype(f"{'i' if pa.types.is_signed_integer(array.type) else 'u'}"
                     f"{array.type.bit_width // 8}")
    values = np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array),
                           offset=array.offset * dtype.itemsize)
    return values.astype(np.int64)


def column_matches(column: Any, values: Sequence[str]) -> np.ndarray:
    """Per event: the value, as trimmed lower-case text, is one of ``values`` (lower-case).

    A missing value matches nothing. The same test ``--where`` and timescale exclusions use.
    """
    if not _is_arrow(column):
        text = column.astype("string").str.strip().str.lower()
        return text.isin(list(values)).fillna(False).to_numpy(dtype=bool)
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        parts = [column_matches(c, values) for c in column.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
    if pa.types.is_dictionary(column.type):
        hit = column_matches(column.dictionary, values)
        index = arrow_ints(column.indices)
        return np.where(index >= 0, np.r_[hit, False][index], False)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    text = pc.utf8_lower(pc.utf8_trim_whitespace(column))
    from .arrow import texts

    hit = pc.is_in(text, value_set=texts(list(values)).cast(text.type))
    return arrow_bools(hit)


def column_texts(column: Any) -> list[Any]:
    """The values as Python objects (for the few rows a result names)."""
    if _is_arrow(column):
        return column.to_pylist()
    return column.tolist()


# ---------------------------------------------------------------------------------------
# The chunk


@dataclass
class Chunk:
    """Consecutive whole cases of the sorted log (see the module docstring).

    ``codes`` index `Activities.names` (or the groups at summary level); ``stamps`` are int64
    nanoseconds; ``starts[i]`` is the first event of case ``i``; the case's identifier is row
    ``case_rows[i]`` of ``case_column`` (the column as read: selections only renumber rows);
    ``columns`` holds the attribute columns asked for, per event; ``offset`` numbers this
    chunk's first event among all chunks (events of later chunks come after).
    """

    codes: np.ndarray
    stamps: np.ndarray
    starts: np.ndarray
    case_column: Any
    case_rows: np.ndarray
    columns: dict[str, Any] = field(default_factory=dict)
    offset: int = 0

    @property
    def events(self) -> int:
        return len(self.codes)

    @property
    def cases(self) -> int:
        return len(self.starts)

    @cached_property
    def ends(self) -> np.ndarray:
        """Per case, one past its last event."""
        if self.cases == 0:
            return np.zeros(0, dtype=np.int64)
        return np.r_[self.starts[1:], self.events].astype(np.int64)

    @property
    def lasts(self) -> np.ndarray:
        return self.ends - 1

    @cached_property
    def lengths(self) -> np.ndarray:
        return self.ends - self.starts

    @cached_property
    def new(self) -> np.ndarray:
        """Per event: it is its case's first."""
        new = np.zeros(self.events, dtype=bool)
        new[self.starts] = True
        return new

    @cached_property
    def case(self) -> np.ndarray:
        """Per event, its case's number in the chunk."""
        return np.repeat(np.arange(self.cases, dtype=np.int32), self.lengths)

    def case_of(self, rows: np.ndarray) -> np.ndarray:
        """The case numbers of these events."""
        return np.searchsorted(self.starts, rows, side="right") - 1

    def ids(self, cases: np.ndarray) -> list[Any]:
        """The identifiers of these cases (Python strings)."""
        rows = self.case_rows[np.asarray(cases, dtype=np.int64)]
        return column_texts(column_take(self.case_column, rows))

    # -- selections --------------------------------------------------------------------

    def keep_events(self, keep: np.ndarray) -> Chunk:
        """The chunk with only the events where ``keep``; cases left with none disappear."""
        if keep.all():
            return self
        rows = np.flatnonzero(keep)
        case = self.case[rows]
        first = np.ones(len(rows), dtype=bool)
        if len(rows) > 1:
            first[1:] = case[1:] != case[:-1]
        starts = np.flatnonzero(first)
        return Chunk(
            codes=self.codes[rows], stamps=self.stamps[rows], starts=starts,
            case_column=self.case_column, case_rows=self.case_rows[case[starts]],
            columns={k: column_take(v, rows) for k, v in self.columns.items()},
            offset=self.offset,
        )

    def keep_cases(self, keep: np.ndarray) -> Chunk:
        """The chunk with only the cases where ``keep`` (one flag per case)."""
        if keep.all():
            return self
        return self.keep_events(keep[self.case])


def empty_chunk() -> Chunk:
    return Chunk(codes=np.zeros(0, dtype=np.int16), stamps=np.zeros(0, dtype=np.int64),
                 starts=np.zeros(0, dtype=np.int64), case_column=np.zeros(0, dtype=object),
                 case_rows=np.zeros(0, dtype=np.int64))


# ---------------------------------------------------------------------------------------
# Building chunks


def chunk_from_frame(frame: Any, activities: Activities, columns: Iterable[str] = ()) -> Chunk:
    """The whole (sorted) pandas frame of an `EventLog` as one chunk."""
    import pandas as pd

    from ..timescales import new_case

    if len(frame) == 0:
        chunk = empty_chunk()
        chunk.columns = {c: frame[c] for c in columns if c in frame.columns}
        return chunk
    found, uniques = pd.factorize(frame[ACTIVITY], sort=False)
    codes = activities.lookup(list(uniques))[found]
    stamps = frame[TIMESTAMP].to_numpy().astype("datetime64[ns]").view(np.int64)
    starts = np.flatnonzero(new_case(frame))
    return Chunk(codes=codes, stamps=np.ascontiguousarray(stamps), starts=starts,
                 case_column=frame[CASE].reset_index(drop=True), case_rows=starts,
                 columns={c: frame[c].reset_index(drop=True) for c in columns
                          if c in frame.columns})


def arrow_codes(column: Any, activities: Activities) -> np.ndarray:
    """Activity codes of an Arrow column (dictionary-encoded or text), chunk by chunk."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = []
    for part in chunks:
        if not pa.types.is_dictionary(part.type):
            part = pc.dictionary_encode(part)
        if part.null_count:
            raise UsageError("an event without an activity is in the event log")
        lut = activities.lookup(part.dictionary.to_pylist()) if len(part.dictionary) \
            else np.zeros(0, dtype=np.int16)
        parts.append(lut[arrow_ints(part.indices)])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def arrow_stamps(column: Any) -> np.ndarray:
    """int64 nanoseconds of an Arrow timestamp (or date) column (no copy for one chunk of
    timestamp[ns] without missing values)."""
    import pyarrow as pa

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = []
    for part in chunks:
        if pa.types.is_date(part.type):
            part = part.cast(pa.timestamp("ns"))
        elif part.type != pa.timestamp("ns"):
            part = part.cast(pa.timestamp("ns", tz=getattr(part.type, "tz", None)))
        if part.null_count:
            raise UsageError("an event without a date is in the event log")
        parts.append(np.frombuffer(part.buffers()[1], dtype=np.int64, count=len(part),
                                   offset=part.offset * 8))
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def arrow_new_cases(column: Any) -> np.ndarray:
    """Per row: its case differs from the row before (the first row: True).

    Each Arrow chunk is compared with itself shifted by one, and chunk boundaries one pair at
    a time: the strings are never copied or turned into Python objects.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = []
    previous = None
    for array in chunks:
        if len(array) == 0:
            continue
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        new = np.ones(len(array), dtype=bool)
        if len(array) > 1:
            differs = pc.not_equal(array[1:], array[:-1])
            new[1:] = arrow_bools(differs)
        if previous is not None:
            new[0] = bool(pc.not_equal(previous, array[:1].cast(previous.type))[0].as_py())
        previous = array[-1:]
        parts.append(new)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def chunk_from_arrow(table: Any, activities: Activities, columns: Iterable[str],
                     new: np.ndarray, offset: int) -> Chunk:
    """A chunk from an Arrow table of whole cases (CASE, ACTIVITY, TIMESTAMP, ``columns``)."""

    starts = np.flatnonzero(new)
    return Chunk(
        codes=arrow_codes(table.column(ACTIVITY), activities),
        stamps=arrow_stamps(table.column(TIMESTAMP)),
        starts=starts,
        case_column=table.column(CASE),
        case_rows=starts,
        columns={c: table.column(c) for c in columns if c in table.column_names},
        offset=offset,
    )


# ---------------------------------------------------------------------------------------
# Scope, focus and level on chunks (the same rules as `cscmining.focus` on frames)


def scoped(chunk: Chunk, cutoff_ns: int | None) -> Chunk:
    """Events before ``cutoff_ns`` only (the log as it stood at an earlier as-at date)."""
    if cutoff_ns is None or chunk.events == 0:
        return chunk
    return chunk.keep_events(chunk.stamps < cutoff_ns)


def period_cases(chunk: Chunk, activities: Activities, as_at: date,
                 start: date | None, end: date | None) -> np.ndarray:
    """Per case: its journey's span overlaps [start, end] (`cscmining.focus.period_mask`)."""
    active = np.ones(chunk.cases, dtype=bool)
    if start is None and end is None:
        return active
    begins = chunk.stamps[chunk.starts]
    ends = chunk.stamps[chunk.lasts]
    open_case = ~activities.terminal[chunk.codes[chunk.lasts]]
    ends = np.where(open_case, np.maximum(ends, midnight_ns(as_at)), ends)
    if start is not None:
        active &= ends >= midnight_ns(start)
    if end is not None:
        active &= begins < midnight_ns(end) + NS_PER_DAY
    return active


def where_cases(chunk: Chunk, conditions: Sequence[tuple[str, Sequence[str]]]) -> np.ndarray:
    """Per case: for every (column, values) condition, some event holds one of the values."""
    keep = np.ones(chunk.cases, dtype=bool)
    for column, values in conditions:
        hit = column_matches(chunk.columns[column], [v.lower() for v in values])
        keep &= np.bincount(chunk.case, weights=hit, minlength=chunk.cases) > 0
    return keep


def resolve_where(columns: Sequence[str],
                  by_key: Mapping[str, Sequence[str]]) -> list[tuple[str, list[str]]]:
    """``--where`` keys (with their values) as the columns they name: ``case:KEY`` first,
    then the event attribute KEY (`cscmining.focus.resolve_key`)."""
    resolved: list[tuple[str, list[str]]] = []
    present = set(columns)
    for key, values in by_key.items():
        for column in (key if key.startswith(CASE_PREFIX) else CASE_PREFIX + key, key):
            if column in present:
                break
        else:
            attributes = (c for c in columns if c not in (CASE, ACTIVITY, TIMESTAMP, ORDER))
            known = ", ".join(sorted(attributes))
            raise UsageError(
                f"--where {key}: no such case or event attribute (known: {known or 'none'})")
        resolved.append((column, list(values)))
    return resolved


def summary_level(chunk: Chunk, group_of: np.ndarray) -> Chunk:
    """Stage groups, one event per visit (`cscmining.focus.at_level` on frames)."""
    if chunk.events == 0:
        return chunk
    group = group_of[chunk.codes]
    first = chunk.new.copy()
    first[1:] |= group[1:] != group[:-1]
    rows = np.flatnonzero(first)
    # every case keeps its first event, so the cases stay the same
    starts = np.searchsorted(rows, chunk.starts)
    return Chunk(codes=group[rows], stamps=chunk.stamps[rows], starts=starts,
                 case_column=chunk.case_column, case_rows=chunk.case_rows,
                 columns={k: column_take(v, rows) for k, v in chunk.columns.items()},
                 offset=chunk.offset)
