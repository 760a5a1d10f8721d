"""The event log: one case per child, pm4py's column names, a deterministic order.

Readers hand over *candidate events* (one row per event a source row produced). This module
merges the same fact reported by several source tables, orders same-day events by the stage
vocabulary, attaches case attributes, and reads and writes the log (Parquet, CSV, XES).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from ._threads import map_in_threads
from .accounting import TableAccount
from .columns import (
    ACTIVITY,
    CASE,
    CASE_PREFIX,
    CORE,
    FILE,
    ORDER,
    ROW,
    SORT_KEY,
    SOURCE,
    TIMESTAMP,
)
from .errors import AccountingError, EventLogError, UsageError
from .vocabulary import Vocabulary, load_vocabulary

METADATA_KEY = b"cscmining"


@dataclass
class EventLog:
    """A sorted event log and what is known about how it was made.

    ``frame`` is sorted by `columns.SORT_KEY` with a fresh RangeIndex, so a case's events are
    contiguous and in journey order: every analysis relies on that and never re-sorts.
    """

    frame: pd.DataFrame
    as_at: date
    vocabulary: Vocabulary = field(repr=False)
    accounts: list[TableAccount] = field(default_factory=list)
    inputs: list[dict[str, str]] = field(default_factory=list)
    same_day_ties: int = 0
    merged: int = 0
    pseudonymised: bool = False
    #: `pseudonym.fingerprint` of the key the ids were pseudonymised with (None: raw ids)
    key_fingerprint: str | None = None

    @property
    def events(self) -> int:
        return len(self.frame)

    @property
    def cases(self) -> int:
        """The number of children: the log is sorted by child, so each child's events are
        one run and counting the runs is enough (no hashing of a million ids)."""
        case = self.frame[CASE]
        if case.empty:
            return 0
        return int(np.count_nonzero(~same_as_previous(case))) + 1

    @property
    def period(self) -> tuple[date, date] | None:
        """First and last event dates, or None for an empty log."""
        if self.frame.empty:
            return None
        ts = self.frame[TIMESTAMP]
        return ts.min().date(), ts.max().date()

    def with_frame(self, frame: pd.DataFrame) -> EventLog:
        """The same log restricted to (a sorted subset of) its events."""
        return EventLog(
            frame=frame.reset_index(drop=True),
            as_at=self.as_at,
            vocabulary=self.vocabulary,
            accounts=self.accounts,
            inputs=self.inputs,
            same_day_ties=count_same_day_ties(frame),
            merged=self.merged,
            pseudonymised=self.pseudonymised,
            key_fingerprint=self.key_fingerprint,
        )

    def as_of(self, as_at: date) -> EventLog:
        """The log as it stood at ``as_at``: later events are ignored (SPEC §2.2)."""
        if as_at >= self.as_at:
            return replace(self, as_at=as_at)
        cutoff = pd.Timestamp(as_at) + pd.Timedelta(days=1)
        kept = self.with_frame(self.frame.loc[self.frame[TIMESTAMP] < cutoff])
        return replace(kept, as_at=as_at)

    def metadata(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "as_at": self.as_at.isoformat(),
            "events": self.events,
            "cases": self.cases,
            "same_day_ties": self.same_day_ties,
            "merged": self.merged,
            "pseudonymised": self.pseudonymised,
            "key_fingerprint": self.key_fingerprint,
            "inputs": self.inputs,
            "accounts": [a.to_dict() for a in self.accounts],
            "activities": [a.model_dump() for a in self.vocabulary.activities],
        }


def count_same_day_ties(frame: pd.DataFrame) -> int:
    """Events that share their child and date with the event before them in the log.

    Each such pair was ordered by ``stage:order`` (or source), not by time.
    """
    if len(frame) < 2:
        return 0
    same_case = same_as_previous(frame[CASE])
    ts = frame[TIMESTAMP].to_numpy()
    return int(np.count_nonzero(same_case & (ts[1:] == ts[:-1])))


def same_as_previous(values: pd.Series) -> np.ndarray:
    """Per position from the second on: equal to the value before it (missing never equal).

    Compares categorical codes or Arrow strings directly: turning a million Arrow strings
    into Python objects only to compare neighbours would cost more than the comparison.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        return (codes[1:] == codes[:-1]) & (codes[1:] >= 0)
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow.compute as pc

        array = values.array.__arrow_array__()
        equal = pc.equal(array[1:], array[:-1])
        return pc.fill_null(equal, False).to_numpy(zero_copy_only=False)
    array = values.to_numpy()
    return np.asarray(array[1:] == array[:-1], dtype=bool) & pd.notna(array[1:])


def sort_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort by (case, timestamp, stage order, source, source row) with a stable sort.

    Events that tie on everything before the source row (several rows of one table for one
    child on one day) are ordered by their activity and attributes first: the row number
    changes when the same rows come in another order, the log must not (SPEC §2).
    """
    order = _sort_order(frame, [c for c in SORT_KEY if c != ROW], [ACTIVITY])
    return frame.take(order).reset_index(drop=True)


def _sort_order(frame: pd.DataFrame, key: list[str], first: list[str]) -> np.ndarray:
    """The positions that sort ``frame`` by ``key``, then file and row, stably; rows that
    tie on ``key`` are ordered by ``first``, then their attribute values as text, then file
    and row. Only tied rows are looked at twice, so this costs little on a large log where
    ties within one table are rare; the caller takes the rows once.

    Each column is reduced to integer ranks that order as ``sort_values`` orders it (text
    by code point, missing last; a categorical by its values, not its codes) and the ranks
    are packed into one integer per row when they fit in 63 bits, so a million events sort
    in one pass over integers, never over strings.
    """
    tail = [c for c in (FILE, ROW) if c in frame.columns]
    ranks = {c: _rank(frame[c]) for c in dict.fromkeys([*key, *first, *tail])}
    order, packed = _lexsort([ranks[c] for c in [*key, *tail]], len(frame))
    if len(order) < 2:
        return order
    if packed is not None:  # the key's part of the packed integers, in sorted order
        key_part = packed[order] >> sum(_width(ranks[c][1]) for c in tail)
        same = key_part[1:] == key_part[:-1]
    else:
        same = np.ones(len(order) - 1, dtype=bool)
        for c in key:
            in_order = ranks[c][0][order]
            same &= in_order[1:] == in_order[:-1]
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    if not tied.any():
        return order
    at = order[np.flatnonzero(tied)]
    attrs = [c for c in frame.columns if c not in (*CORE, ROW, FILE) and not c.startswith(CASE_PREFIX)]
    by_content = _lexsort([
        *[(ranks[c][0][at], ranks[c][1]) for c in [*key, *first]],
        *_content_ranks(frame[attrs].iloc[at], attrs),
        *[(ranks[c][0][at], ranks[c][1]) for c in tail],
    ], len(at))[0]
    # tied rows of one group are contiguous and groups keep their order: put them back in place
    order[np.flatnonzero(tied)] = at[by_content]
    return order


def _content_ranks(rows: pd.DataFrame, attrs: list[str]) -> list[tuple[np.ndarray, int]]:
    """Ranks that order ``rows`` as their attribute values joined into one text would order
    them (each value as text, blank as "", separated by "\\x1f").

    When every value is text of printable characters, that is the order of the values
    column by column (the separator sorts before any of them), so each column is ranked
    by its categories; otherwise the joined texts are built and ranked.
    """
    if not attrs:
        return []
    columns = [rows[c] for c in attrs]
    if all(isinstance(c.dtype, pd.CategoricalDtype) and _is_text(c.cat.categories)
           and not c.cat.categories.str.contains(_CONTROL, regex=True).any() for c in columns):
        return [_ranked_codes_blank_first(c.cat.codes.to_numpy(), c.cat.categories) for c in columns]
    text = [c.astype(object).where(c.notna(), "").astype(str) for c in columns]
    content = text[0].str.cat(text[1:], sep="\x1f").reset_index(drop=True)
    return [_rank(content)]


_CONTROL = "[\x00-\x1f]"


def _ranked_codes_blank_first(codes: np.ndarray, categories: pd.Index) -> tuple[np.ndarray, int]:
    """Codes into text ``categories`` ranked by their text, a missing value as "" (first)."""
    values = pd.Index([""], dtype=object).append(pd.Index(np.asarray(categories, dtype=object)))
    found, uniques = pd.factorize(values)  # "" as a category ties with a missing value
    by_value = np.empty(len(uniques), dtype=np.int64)
    by_value[uniques.argsort()] = np.arange(len(uniques))
    rank_of = by_value[found]  # rank of "" first, then of each category
    return rank_of[codes + 1], max(1, len(uniques))


_DAY_NS = 86_400 * 10**9


def _rank(values: pd.Series) -> tuple[np.ndarray, int]:
    """Non-negative integer ranks (and their bound) that order as ``sort_values`` orders
    ``values``, missing values last; equal values get equal ranks."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _ranked_codes(values.cat.codes.to_numpy(), values.cat.categories)
    if dtype.kind == "M":
        stamps = values.to_numpy()
        missing = np.isnat(stamps)
        ints = stamps.view(np.int64)
        present = ints[~missing]
        if len(present) and not (present % _DAY_NS).any():
            ints = ints // _DAY_NS  # dates: days are a far smaller range than nanoseconds
        return _dense(ints, missing)
    if dtype.kind in "iub":
        return _dense(values.to_numpy().astype(np.int64), None)
    codes, uniques = pd.factorize(values)
    return _ranked_codes(codes, pd.Index(uniques))


def _ranked_codes(codes: np.ndarray, categories: pd.Index) -> tuple[np.ndarray, int]:
    """Codes into ``categories`` (-1 missing) as the ranks of their values, missing last."""
    by_value = np.empty(len(categories), dtype=np.int64)
    by_value[categories.argsort()] = np.arange(len(categories))
    missing = codes < 0
    ranks = by_value[np.maximum(codes, 0)] if len(categories) else np.zeros(len(codes), dtype=np.int64)
    if missing.any():
        return np.where(missing, len(categories), ranks), len(categories) + 1
    return ranks, max(1, len(categories))


def _dense(ints: np.ndarray, missing: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Integers as dense ranks from 0 (by a table of the values present when their range is
    small, else by sorting the distinct values), so that packed keys stay narrow."""
    present = ints if missing is None else ints[~missing]
    if not len(present):
        return np.zeros(len(ints), dtype=np.int64), 1
    low, high = int(present.min()), int(present.max())
    if high - low < max(1 << 20, 4 * len(ints)):
        seen = np.zeros(high - low + 1, dtype=bool)
        seen[present - low] = True
        rank_of = np.cumsum(seen) - 1
        ranks = rank_of[np.clip(ints - low, 0, high - low)]
        bound = int(rank_of[-1]) + 1
    else:
        uniques, inverse = np.unique(present, return_inverse=True)
        ranks = np.zeros(len(ints), dtype=np.int64)
        if missing is None:
            ranks = inverse.astype(np.int64)
        else:
            ranks[~missing] = inverse
        bound = len(uniques)
    if missing is not None and missing.any():
        ranks = np.where(missing, bound, ranks)
        bound += 1
    return ranks.astype(np.int64, copy=False), bound


def _width(bound: int) -> int:
    """Bits needed for ranks below ``bound``."""
    return max(1, int(bound - 1).bit_length())


def _lexsort(keys: list[tuple[np.ndarray, int]], n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Stable sort positions by several rank columns, the first most significant; and the
    packed keys (None when they do not fit one 63-bit integer and numpy's lexsort did it)."""
    if not keys:
        return np.arange(n), None
    if sum(_width(bound) for _ranks, bound in keys) <= 63:
        packed = _lexsort_key(keys, n)
        return np.argsort(packed, kind="stable"), packed
    return np.lexsort([ranks for ranks, _bound in reversed(keys)]), None


def _lexsort_key(keys: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """Rank columns packed into one integer per row, the first most significant (the
    caller checks that their widths fit in 63 bits)."""
    packed = np.zeros(n, dtype=np.int64)
    for ranks, bound in keys:
        packed = (packed << _width(bound)) | ranks
    return packed


def merge_sources(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Collapse the same (child, activity, date) reported by several source tables.

    A group becomes as many events as the largest number any single table contributed
    (SPEC §2.2). The kept copy comes from the first source in sort order; its attributes
    are completed from the copies merged into it.

    Only groups that more than one source reports can merge: those rows alone go through
    the merge (usually none or a few; a lone 903 file has one source), the others are
    returned as they are. The row order of the result is not meaningful: `sort_events`
    orders the log.
    """
    if frame.empty:
        return frame, 0
    key = [CASE, ACTIVITY, TIMESTAMP]
    several = _reported_by_several_sources(frame, key)
    if not several.any():
        return frame, 0
    part = frame.loc[several]
    # which copies pair up must not depend on row numbers either (see `sort_events`)
    part = part.take(_sort_order(part, [*key, SOURCE], [])).reset_index(drop=True)
    attrs = [c for c in part.columns if c not in (*CORE, ROW, FILE)]
    if all(isinstance(part[c].dtype, pd.CategoricalDtype) for c in attrs):
        kept, merged = _merge_sorted(part, key, attrs)
    else:
        kept, merged = _merge_sorted_plain(_plain(part), key, attrs)
        kept = _recode_like(kept, part)
    if merged == 0:
        return frame, 0
    return pd.concat([frame.loc[~several], kept], ignore_index=True), merged


def _reported_by_several_sources(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Per row: its (child, activity, date) comes from more than one source table."""
    source, bound = _rank(frame[SOURCE])
    if bound < 2 or (source == source[0]).all():
        return np.zeros(len(frame), dtype=bool)
    # the rows of a group share their activity: only activities that several sources
    # report can hold such a group (few rows, when each table records its own activities)
    out = _mixed_sources(_rank(frame[ACTIVITY])[0], source)
    rows = np.flatnonzero(out)
    if len(rows):
        groups = _group_ids([_rank(frame[c].take(rows)) for c in key], len(rows))
        out[rows] = _mixed_sources(groups, source[rows])
    return out


def _mixed_sources(groups: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Per row: its group (non-negative integer ids) holds more than one source.

    One source of each group is kept (whichever row was written last) and a group holding
    any other is mixed: no sort and no `np.unique`, whose hashing of a few million integers
    (numpy ≥ 2.3) costs ten times a sort.
    """
    if not len(groups):
        return np.zeros(0, dtype=bool)
    some = np.empty(int(groups.max()) + 1, dtype=source.dtype)
    some[groups] = source
    mixed = np.zeros(len(some), dtype=bool)
    mixed[groups[source != some[groups]]] = True
    return mixed[groups]


def _group_ids(keys: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """One integer per distinct combination of the rank columns: one hash pass over the
    ranks packed into one integer when they fit in 63 bits, else one per column."""
    if sum(_width(bound) for _ranks, bound in keys) <= 63:
        return pd.factorize(_lexsort_key(keys, n))[0].astype(np.int64, copy=False)
    group = np.zeros(n, dtype=np.int64)
    for ranks, bound in keys:
        group = pd.factorize(group * bound + ranks)[0].astype(np.int64)
    return group


def _merge_sorted(frame: pd.DataFrame, key: list[str], attrs: list[str]) -> tuple[pd.DataFrame, int]:
    """The merge on rows sorted by key and source, with categorical attributes.

    Within a key, each source's rows are numbered 0, 1, …; the n-th event of the group is
    kept from the first source that has an n-th row, and each attribute takes the first
    value any copy of that n-th event has (in sort order) — as a pandas ``cumcount``,
    ``duplicated`` and ``groupby(...).transform("first")`` would, on integer codes.
    """
    n = len(frame)
    positions = np.arange(n)
    new_key = np.zeros(n, dtype=bool)
    new_key[0] = True
    for column in key:
        ranks = _rank(frame[column])[0]
        new_key[1:] |= ranks[1:] != ranks[:-1]
    source = _rank(frame[SOURCE])[0]
    new_run = new_key.copy()
    new_run[1:] |= source[1:] != source[:-1]
    nth = positions - np.maximum.accumulate(np.where(new_run, positions, 0))
    key_id = np.cumsum(new_key) - 1
    run_id = np.cumsum(new_run) - 1
    sizes = np.bincount(run_id)
    run_key = key_id[new_run]
    # the most rows any earlier source of the same key gave (0 for a key's first source)
    offset = run_key * (int(sizes.max()) + 1)
    most = np.maximum.accumulate(sizes + offset) - offset
    earlier = np.zeros(len(sizes), dtype=np.int64)
    same_key = run_key[1:] == run_key[:-1]
    earlier[1:] = np.where(same_key, most[:-1], 0)
    keep = nth >= earlier[run_id]
    merged = int(n - keep.sum())
    if merged == 0:
        return frame, 0
    slot = pd.factorize(key_id * (int(nth.max()) + 1) + nth)[0]
    kept_at = positions[keep]
    columns = {}
    for name in attrs:
        codes = frame[name].cat.codes.to_numpy()
        valid = codes >= 0
        first = np.full(int(slot.max()) + 1, n, dtype=np.int64)
        np.minimum.at(first, slot[valid], positions[valid])
        source_row = first[slot[kept_at]]
        filled = np.where(source_row < n, codes[np.minimum(source_row, n - 1)], -1)
        columns[name] = pd.Categorical.from_codes(filled, categories=frame[name].cat.categories, validate=False)
    kept = frame.loc[keep].reset_index(drop=True)
    return kept.assign(**columns), merged


def _merge_sorted_plain(frame: pd.DataFrame, key: list[str], attrs: list[str]) -> tuple[pd.DataFrame, int]:
    """The merge on rows sorted by key and source, with pandas' group-wise operations."""
    nth = frame.groupby([*key, SOURCE], sort=False, dropna=False).cumcount()
    slot = [*key, nth.rename("__slot")]
    keep = ~pd.concat([frame[key], nth.rename("__slot")], axis=1).duplicated()
    merged = int((~keep).sum())
    if merged == 0:
        return frame, 0
    if attrs:
        filled = frame.groupby(slot, sort=False, dropna=False)[attrs].transform("first")
        frame = frame.assign(**{c: filled[c] for c in attrs})
    return frame.loc[keep.to_numpy()].reset_index(drop=True), merged


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as their values (object), for pandas' group-wise operations."""
    return frame.assign(**{
        c: np.asarray(frame[c].array, dtype=object) for c in frame.columns
        if isinstance(frame[c].dtype, pd.CategoricalDtype)
    })


def _recode_like(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Columns that are categorical in ``like`` made categorical again, with its categories."""
    return frame.assign(**{
        c: pd.Categorical(frame[c], categories=like[c].cat.categories) for c in like.columns
        if isinstance(like[c].dtype, pd.CategoricalDtype)
    })


def case_attribute_values(case_attrs: pd.DataFrame) -> pd.DataFrame:
    """One value per child and attribute, chosen by content alone (never by row position).

    ``case_attrs`` has one row per source row that describes a child (CASE plus attribute
    columns). A later submission of the same record has already replaced the earlier one
    (the table's `supersede_key`: a header row from last year's return is SUPERSEDED), so
    the rows left are this submission's: of a child's non-blank values the most frequent
    wins, a tie going to the value that sorts first. Shuffling the input rows, or listing
    the input files in another order, cannot change the result (T-EP-09).

    Returns a frame indexed by child (sorted), one ``case:``-prefixed column per attribute;
    a child with no value for an attribute gets NaN.
    """
    names = [c for c in case_attrs.columns if c != CASE]
    case_codes, cases = sorted_codes(case_attrs[CASE])
    columns = {CASE_PREFIX + name: most_frequent(case_codes, case_attrs[name], len(cases))
               for name in names}
    return pd.DataFrame(columns, index=pd.Index(cases, name=CASE))


def sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values, sort=True)``: codes (-1 for missing) into the sorted distinct
    values. A categorical is worked on its categories (the present ones, sorted once), not
    by hashing its rows: the readers hand over a million rows of a few thousand ids so."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values, sort=True)
        return codes, pd.Index(uniques)
    codes = values.cat.codes.to_numpy()
    categories = values.cat.categories
    present = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(categories)))
    if not len(present):
        return np.full(len(codes), -1, dtype=np.int64), categories[:0]
    order = present[categories.take(present).argsort()]
    rank = np.full(len(categories), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), categories.take(order)


def most_frequent(case_codes: np.ndarray, values: pd.Series, cases: int) -> np.ndarray:
    """Per child (``case_codes`` 0..cases-1), its most frequent non-blank value, ties to the
    smallest value; NaN for a child with none.

    Vectorised: nearly every child's rows agree, and a per-child minimum and maximum of the
    sorted value codes find those in two passes; only the children whose rows disagree go
    through the counts of (child, value) pairs and one lexsort.
    """
    out = np.full(cases, np.nan, dtype=object)
    valid = values.notna().to_numpy() & (case_codes >= 0)
    value_codes, uniques = sorted_codes(values[valid])
    if not len(uniques):
        return out
    children = case_codes[valid].astype(np.int64)
    low = np.full(cases, len(uniques), dtype=np.int64)
    high = np.full(cases, -1, dtype=np.int64)
    np.minimum.at(low, children, value_codes)
    np.maximum.at(high, children, value_codes)
    chosen = np.where(low <= high, low, -1)
    disagree = (low < high)[children]
    if disagree.any():
        pairs, counts = np.unique(children[disagree] * len(uniques) + value_codes[disagree],
                                  return_counts=True)
        case_of, value_of = np.divmod(pairs, len(uniques))
        order = np.lexsort((value_of, -counts, case_of))  # by child, most frequent, smallest
        first = np.r_[True, case_of[order][1:] != case_of[order][:-1]]
        chosen[case_of[order[first]]] = value_of[order[first]]
    known = chosen >= 0
    out[known] = np.asarray(uniques, dtype=object)[chosen[known]]
    return out


def attach_case_attributes(frame: pd.DataFrame, case_attrs: pd.DataFrame) -> pd.DataFrame:
    """Add ``case:*`` columns (one value per child, see `case_attribute_values`) to every event.

    With a categorical child column each attribute is looked up once per child and spread
    to the events as categorical codes (not joined row by row); when the attribute rows'
    child column is categorical too, the children of both are matched once, on their
    distinct ids (`_shared_child_codes`), and the choosing works on integer codes throughout.
    """
    if case_attrs.empty or frame.empty:
        return frame
    case = frame[CASE]
    if not isinstance(case.dtype, pd.CategoricalDtype):
        return frame.join(case_attribute_values(case_attrs), on=CASE)
    if isinstance(case_attrs[CASE].dtype, pd.CategoricalDtype):
        rows, attr_rows, children = _shared_child_codes(case, case_attrs[CASE])
        per_case = {CASE_PREFIX + name: most_frequent(attr_rows, case_attrs[name], children)
                    for name in case_attrs.columns if name != CASE}
    else:
        chosen = case_attribute_values(case_attrs)
        where = chosen.index.get_indexer(case.cat.categories)
        codes = case.cat.codes.to_numpy()
        rows = np.where(codes >= 0, where[np.maximum(codes, 0)] if len(where) else -1, -1)
        per_case = {name: chosen[name].to_numpy() for name in chosen.columns}
    columns = {}
    for name, values in per_case.items():
        found, uniques = pd.factorize(values)
        columns[name] = pd.Categorical.from_codes(
            np.where(rows >= 0, found[np.maximum(rows, 0)] if len(found) else -1, -1),
            categories=uniques, validate=False,
        )
    return frame.assign(**columns)


def _shared_child_codes(events: pd.Series, attrs: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Two categorical child columns as codes into one numbering of the children of both
    (-1: none), and how many children that numbering has: one factorize of the two sets of
    categories, never of the rows."""
    found, union = pd.factorize(events.cat.categories.append(attrs.cat.categories))
    split = len(events.cat.categories)

    def recoded(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
        return np.where(codes >= 0, table[np.maximum(codes, 0)], -1) if len(table) else codes.astype(np.int64)

    return (recoded(events.cat.codes.to_numpy(), found[:split]),
            recoded(attrs.cat.codes.to_numpy(), found[split:]), len(union))


def assemble(
    events: pd.DataFrame,
    *,
    vocabulary: Vocabulary,
    as_at: date,
    case_attrs: pd.DataFrame | None = None,
    accounts: list[TableAccount] | None = None,
    inputs: list[dict[str, str]] | None = None,
    pseudonymised: bool = False,
) -> EventLog:
    """Turn candidate events into a sorted, merged `EventLog`.

    ``events`` needs CASE, ACTIVITY, TIMESTAMP (datetime64, naive), SOURCE and ROW; any other
    column is an event attribute. Activities must be in the vocabulary. Text columns may be
    categorical (the readers hand them over so): the log is merged and sorted on their
    codes and comes out with plain text columns either way.
    """
    activity = events[ACTIVITY]
    if isinstance(activity.dtype, pd.CategoricalDtype):
        codes = activity.cat.codes.to_numpy()
        names = set(activity.cat.categories.take(np.unique(codes[codes >= 0])).tolist())
    else:
        names = set(activity.unique())
    unknown = sorted(names - set(vocabulary.order))
    if unknown:
        raise UsageError(f"activities not in the stage vocabulary: {', '.join(map(str, unknown))}")
    if events[[CASE, ACTIVITY, TIMESTAMP]].isna().any().any():
        raise AccountingError("an event without a child, activity or date reached the event log")
    activity = _as_text_categorical(activity)
    order_of = activity.cat.categories.map(lambda a: vocabulary.order[a]).to_numpy(dtype=np.int32)
    events = events.assign(
        **{
            CASE: _as_text_categorical(events[CASE]),
            ACTIVITY: activity,
            TIMESTAMP: pd.to_datetime(events[TIMESTAMP]).astype("datetime64[ns]"),
            ORDER: order_of[activity.cat.codes.to_numpy()],
        }
    )
    before = len(events)
    events, merged = merge_sources(events)
    if len(events) + merged != before:
        raise AccountingError("merging lost events")
    if case_attrs is not None:
        events = attach_case_attributes(events, case_attrs)
    order = _sort_order(events, [c for c in SORT_KEY if c != ROW], [ACTIVITY])
    ordered = [*CORE, *[c for c in events.columns if c not in CORE]]
    # one column per thread: Arrow's take runs outside Python's lock
    columns = map_in_threads(lambda c: _taken(events[c], order), ordered)
    events = pd.DataFrame(dict(zip(ordered, columns)))
    accounts = accounts or []
    return EventLog(
        frame=events,
        as_at=as_at,
        vocabulary=vocabulary,
        accounts=accounts,
        inputs=inputs or [],
        same_day_ties=count_same_day_ties(events),
        merged=merged,
        pseudonymised=pseudonymised,
    )


def _as_text_categorical(values: pd.Series) -> pd.Series:
    """A column as a categorical of text (``astype(str)`` of each value), codes kept."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if _is_text(categories):
            return values
        text = categories.astype(str)
        if text.is_unique:
            return values.cat.rename_categories(text)
        values = values.astype(object)
    codes, uniques = pd.factorize(values.astype(str))
    return pd.Series(pd.Categorical.from_codes(codes, categories=uniques, validate=False), index=values.index)


def _taken(values: pd.Series, order: np.ndarray) -> pd.Series:
    """``values`` in ``order`` with a fresh index; a categorical of text comes back as a
    plain text column (Arrow strings, built from the categories without a Python string
    per row)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.take(order).reset_index(drop=True)
    import pyarrow as pa

    categories = values.cat.categories
    codes = values.cat.codes.to_numpy()[order]
    if not _is_text(categories):
        return pd.Series(np.asarray(pd.Categorical.from_codes(codes, categories=categories)))
    if isinstance(categories.dtype, pd.StringDtype) and categories.dtype.storage == "pyarrow":
        dictionary = categories.array.__arrow_array__().combine_chunks().cast(pa.large_string())
    else:
        dictionary = pa.array(np.asarray(categories, dtype=object), type=pa.large_string())
    # a take from the distinct strings: Arrow's dictionary-to-string cast is far slower
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pd.Series(dictionary.take(indices), dtype="str")


def _is_text(categories: pd.Index) -> bool:
    """All categories are strings (a text column's categories)."""
    if isinstance(categories.dtype, pd.StringDtype):
        return True
    return categories.dtype == object and all(isinstance(c, str) for c in categories)


def from_records(
    records: Iterable[tuple[str, str, str | date]],
    *,
    as_at: date | str | None = None,
    vocabulary: Vocabulary | None = None,
    attributes: Iterable[dict[str, Any]] | None = None,
) -> EventLog:
    """Build a log from ``(child, activity, date)`` triples: small logs for tests and notebooks.

    Example:
        >>> log = from_records([("c1", "Referral", "2024-04-01"), ("c1", "Case closed", "2024-05-01")])
        >>> log.events, log.cases
        (2, 1)
    """
    vocabulary = vocabulary or load_vocabulary()
    rows = list(records)
    frame = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP], format="ISO8601")
    frame[SOURCE] = "records"
    frame[ROW] = np.arange(1, len(frame) + 1, dtype="int64")
    if attributes is not None:
        extra = pd.DataFrame(list(attributes))
        frame = pd.concat([frame, extra], axis=1)
    if as_at is None:
        as_at_date = frame[TIMESTAMP].max().date() if len(frame) else date.today()
    else:
        as_at_date = date.fromisoformat(as_at) if isinstance(as_at, str) else as_at
    return assemble(frame, vocabulary=vocabulary, as_at=as_at_date)


# ---------------------------------------------------------------------------------------
# Writing and reading


def write_event_log(log: EventLog, path: Path) -> Path:
    """Write the log as Parquet (default), CSV or XES, chosen by the file extension."""
    from ._memory import ordinary_pages
    from .outputs import atomic_path, csv_safe

    suffix = path.suffix.lower()
    with atomic_path(path) as tmp, ordinary_pages():
        if suffix in (".parquet", ".pq", ""):
            _write_parquet(log, tmp)
        elif suffix == ".csv":
            # CRLF rows (RFC 4180): a bare CR inside a cell is then quoted, never a row break
            csv_safe(_public_frame(log)).to_csv(tmp, index=False, date_format="%Y-%m-%d",
                                                lineterminator="\r\n")
        elif suffix == ".xes":
            from .xes import write_xes

            write_xes(_public_frame(log), tmp)
        else:
            raise UsageError(f"{path}: unknown event log format (use .parquet, .csv or .xes)")
    return path


def _public_frame(log: EventLog) -> pd.DataFrame:
    return log.frame.drop(columns=[c for c in (FILE,) if c in log.frame.columns])


#: columns written without Parquet dictionary pages: nearly one value per child or per row,
#: so a dictionary only costs time (the writer gives it up past its size limit) and, the
#: log being sorted by child, plain pages compress to a quarter of the size
_PLAIN_COLUMNS = (CASE, ROW)


def _write_parquet(log: EventLog, path: Path) -> None:
    """The log as Parquet: zstd, dictionary pages for every column but `_PLAIN_COLUMNS`
    (an encoding choice: the schema and metadata do not depend on it), min/max statistics
    for the columns that are not text. Those of the dates are what a reader skips row groups
    by (`engines.sources`); those of text columns (ids, codes) would cost a quarter of the
    writing, for a million ids, and nothing reads them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(log.frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(log.metadata()).encode()
    dictionary = [c for c in table.column_names if c not in _PLAIN_COLUMNS]
    statistics = [f.name for f in table.schema if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))]
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd",
                   use_dictionary=dictionary, write_statistics=statistics)


def is_event_log(path: Path) -> bool:
    """True for a Parquet file written by cscmining (the magic bytes and our metadata key),
    or a folder holding only such files (e.g. partitioned ``la=…/year=…``)."""
    if path.is_dir():
        from .engines.sources import LogFiles

        return LogFiles.find(path) is not None
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        if fh.read(4) != b"PAR1":
            return False
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:
        return False
    return METADATA_KEY in meta


def read_event_log(path: Path, *, vocabulary: Vocabulary | None = None) -> EventLog:
    """Read a log written by `write_event_log` (Parquet), keeping its as-at date and accounts.

    A folder of such logs is read as one (`cscmining.engines.sources.read_log_folder`).
    """
    import pyarrow.parquet as pq

    if Path(path).is_dir():
        from .engines.sources import read_log_folder

        return read_log_folder(Path(path), vocabulary=vocabulary)

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise EventLogError(f"{path}: not a readable Parquet event log ({exc.__class__.__name__})") from None
    meta_raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if meta_raw is None:
        raise EventLogError(f"{path}: a Parquet file, but not an event log written by cscmining")
    meta = json.loads(meta_raw)
    frame = table.to_pandas()
    vocab = vocabulary or load_vocabulary()
    known = vocab.by_name
    from .vocabulary import Activity

    extra = [Activity(**a) for a in meta.get("activities", []) if a["name"] not in known]
    if extra:
        vocab = vocab.with_activities(extra)
    return EventLog(
        frame=frame,
        as_at=date.fromisoformat(meta["as_at"]),
        vocabulary=vocab,
        accounts=[TableAccount.from_dict(a) for a in meta.get("accounts", [])],
        inputs=meta.get("inputs", []),
        same_day_ties=meta.get("same_day_ties", count_same_day_ties(frame)),
        merged=meta.get("merged", 0),
        pseudonymised=meta.get("pseudonymised", False),
        key_fingerprint=meta.get("key_fingerprint"),
    )
