"""Journey variants: children grouped by the exact sequence of steps they went through.

Computed on the sorted log (pm4py's variant functions give wrong answers on an unsorted
frame, and sorting again would cost time for nothing), chunk by chunk of whole cases
(`cscmining.engines`). Each chunk's paths are built as a trie, one depth per step position with
numpy; the chunks' distinct paths then go through the same trie once more, which numbers the
variants of the whole log exactly (no hashing). The Python loops run over positions (the
longest journey's length) and over the variants reported, never over children or events.

Variants rank by children (most first); ties rank in path order: step by step, by stage
order, a path before its own continuations. That order depends on the data only, never on
child identifiers, so a pseudonymised log ranks its variants the same way.

``--collapse`` merges repeated consecutive steps (A, B, B, B, C is A, B, C), so loops such as
CLA reviews or placement moves do not split children into thousands of one-child variants;
each step keeps the least and most times it repeated (shown ``×2–5``). ``median_days`` and
``p90_days`` are over the variant's children of their last event minus their first, on the
detailed log (a summary-level visit keeps only its first event, which would cut journeys
short); percentiles interpolate linearly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .columns import ACTIVITY, CASE, TIMESTAMP
from .engines import LogSource, as_source, focused_chunks
from .engines.chunk import NS_PER_DAY as _NS_PER_DAY
from .engines.chunk import Chunk, summary_level
from .engines.stats import sorted_percentile as _sorted_percentile
from .errors import AccountingError, UsageError
from .focus import Level

if TYPE_CHECKING:
    from .eventlog import EventLog


@dataclass(frozen=True)
class Variant:
    """One journey variant. ``repeats[i]`` is the (least, most) run length of step i."""

    rank: int
    activities: tuple[str, ...]
    repeats: tuple[tuple[int, int], ...]
    count: int
    share: float
    cumulative_share: float
    median_days: float
    p90_days: float

    def steps(self) -> list[tuple[str, int, int]]:
        """The path with consecutive equal steps merged: (step, least, most) repeats."""
        merged: list[tuple[str, int, int]] = []
        for name, (low, high) in zip(self.activities, self.repeats):
            if merged and merged[-1][0] == name:
                _, lo, hi = merged[-1]
                merged[-1] = (name, lo + low, hi + high)
            else:
                merged.append((name, low, high))
        return merged

    def to_dict(self, *, with_repeats: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rank": self.rank, "activities": list(self.activities), "count": self.count,
            "share": self.share, "cumulative_share": self.cumulative_share,
            "median_days": self.median_days, "p90_days": self.p90_days,
        }
        if with_repeats:
            out["repeats"] = [list(r) for r in self.repeats]
        return out


@dataclass(frozen=True)
class _Shown:
    """The variants shown, as columns (rank order): paths one after another, and numbers."""

    names: list[str]          # step code -> activity (or stage) name
    codes: np.ndarray         # the paths, one after another
    lengths: np.ndarray       # per variant, its path's length
    counts: np.ndarray
    median: np.ndarray
    p90: np.ndarray
    low: np.ndarray | None    # per path step, least repeats (collapse)
    high: np.ndarray | None   # per path step, most repeats (collapse)


class VariantsResult:
    """The variants shown (all, or the top N) and how many children and variants there are.

    Kept as columns; ``variants`` makes the `Variant` objects when first asked for, and
    `to_json` writes ``to_dict``'s JSON straight from the columns (a big log has a few hundred
    thousand variants: building and dumping their dicts would take seconds).
    """

    def __init__(self, cases: int, total: int, level: str, collapse: bool,
                 shown: _Shown | None = None) -> None:
        self.cases = cases
        self.total = total
        self.level = level
        self.collapse = collapse
        self._shown = shown

    @cached_property
    def variants(self) -> list[Variant]:
        t = self._shown
        if t is None:
            return []
        n = len(t.counts)
        bounds = np.r_[0, np.cumsum(t.lengths)].tolist()
        names = [t.names[c] for c in t.codes.tolist()]
        counts = t.counts.tolist()
        share = (t.counts / self.cases).tolist()
        cumulative = (np.cumsum(t.counts) / self.cases).tolist()
        median, p90 = t.median.tolist(), t.p90.tolist()
        pairs = list(zip(t.low.tolist(), t.high.tolist())) if t.low is not None else None
        out = []
        for i in range(n):
            a, b = bounds[i], bounds[i + 1]
            out.append(Variant(
                rank=i + 1, activities=tuple(names[a:b]),
                repeats=tuple(pairs[a:b]) if pairs is not None else ((1, 1),) * (b - a),
                count=counts[i], share=share[i], cumulative_share=cumulative[i],
                median_days=median[i], p90_days=p90[i],
            ))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "variants_total": self.total, "level": self.level,
            "collapse": self.collapse,
            "variants": [v.to_dict(with_repeats=self.collapse) for v in self.variants],
        }

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``, character for character, made column-wise."""
        return b"".join(bytes(p) if not isinstance(p, str) else p.encode("ascii")
                        for p in self.json_parts()).decode("ascii")

    def json_parts(self) -> list[Any]:
        """`to_json` in pieces (text, and the variants as one view of an Arrow buffer), to
        write out without joining them first."""
        head = json.dumps({"cases": self.cases, "variants_total": self.total,
                           "level": self.level, "collapse": self.collapse})
        t = self._shown
        if t is None or len(t.counts) == 0:
            return [head[:-1] + ', "variants": []}']
        return [head[:-1] + ', "variants": [', _variants_json(t, self.cases, self.collapse), "]}"]


def _variants_json(t: _Shown, cases: int, collapse: bool) -> Any:
    """The JSON objects of the shown variants, joined by ", " (Arrow string kernels), as
    bytes."""
    from .engines import jsontext as jt
    from .engines.arrow import numbers

    n = len(t.counts)
    steps = jt.lists(jt.strings(t.names).take(numbers(t.codes.astype(np.int64))), t.lengths)
    fields = [
        ("rank", jt.integers(np.arange(1, n + 1))),
        ("activities", _bracketed(steps)),
        ("count", jt.integers(t.counts)),
        ("share", jt.floats(t.counts / cases)),
        ("cumulative_share", jt.floats(np.cumsum(t.counts) / cases)),
        ("median_days", jt.floats(t.median)),
        ("p90_days", jt.floats(t.p90)),
    ]
    if collapse and t.low is not None and t.high is not None:
        pairs = _bracketed(jt.lists(jt.integers(np.c_[t.low, t.high].ravel()),
                                    np.full(len(t.low), 2)))
        fields.append(("repeats", _bracketed(jt.lists(pairs, t.lengths))))
    return jt.joined_bytes(fields)


def _bracketed(texts: Any) -> Any:
    import pyarrow.compute as pc

    from .engines.jsontext import literal

    return pc.binary_join_element_wise(literal("["), texts, literal("]"), literal(""))


def _trie(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int,
          levels: list[tuple[np.ndarray, np.ndarray]] | None = None) -> tuple[np.ndarray, int]:
    """Insert every path (``codes[starts[i]:starts[i]+lengths[i]]``) into a trie, one depth
    at a time; return each path's end node and the number of nodes (node 0 is the root).

    Nodes of one depth are numbered in (parent, code) order. The paths still going at a depth
    are kept in a shrinking list, so the work is one step per event; (parent, code) pairs are
    numbered with a table of those present (parents renumbered densely first), or sorted
    where the paths have spread out so far that the table would be mostly empty.
    ``levels``, when given, receives per depth (node ids, their parents).
    """
    leaf = np.zeros(len(starts), dtype=np.int64)
    alive = np.flatnonzero(lengths > 0)
    parent = np.zeros(len(alive), dtype=np.int64)  # each path's node at the depth above
    parents, base, size, depth = 1, 0, 1, 0         # nodes at the depth above; first id
    while len(alive):
        seen = np.zeros(parents, dtype=bool)
        seen[parent] = True
        present = np.flatnonzero(seen)
        key = (np.cumsum(seen) - 1)[parent] * width + codes[starts[alive] + depth]
        if len(present) * width <= 4 * len(key) + 4096:
            table = np.zeros(len(present) * width, dtype=bool)
            table[key] = True
            used = np.flatnonzero(table)
            node = (np.cumsum(table) - 1)[key]
        else:  # deep down, few paths per parent: sorting them is cheaper than a table
            used, node = np.unique(key, return_inverse=True)
        if levels is not None:
            levels.append((size + np.arange(len(used)), base + present[used // width]))
        leaf[alive] = size + node
        depth += 1
        going = lengths[alive] > depth
        alive, parent = alive[going], node[going]
        parents, base, size = len(used), size, size + len(used)
    return leaf, size


def _preorder(levels: list[tuple[np.ndarray, np.ndarray]], size: int) -> np.ndarray:
    """Depth-first rank of every node: the lexicographic order of the paths (a path before
    its own continuations)."""
    subtree = np.ones(size, dtype="int64")
    for ids, parents in reversed(levels):
        subtree += np.bincount(parents, weights=subtree[ids], minlength=size).astype("int64")
    rank = np.zeros(size, dtype="int64")
    for ids, parents in levels:
        before = np.cumsum(subtree[ids]) - subtree[ids]
        first = np.r_[True, parents[1:] != parents[:-1]]
        sibling_start = np.maximum.accumulate(np.where(first, np.arange(len(ids)), 0))
        rank[ids] = rank[parents] + 1 + before - before[sibling_start]
    return rank


def _dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (sorted) and each value's index among them."""
    if len(values) == 0:
        return values, np.zeros(0, dtype=np.int64)
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span <= 4 * len(values) + 4096:
        seen = np.zeros(span, dtype=bool)
        seen[values - low] = True
        return np.flatnonzero(seen) + low, (np.cumsum(seen) - 1)[values - low]
    return np.unique(values, return_inverse=True)


@dataclass
class _Part:
    """One chunk's journeys as local variants: per case its variant and journey length, per
    variant its path (and with --collapse the least and most repeats of each step)."""

    variant: np.ndarray        # per case, local variant number
    days: np.ndarray           # per case, last event minus first (ns, detailed log)
    codes: np.ndarray          # the variants' paths, one after another
    starts: np.ndarray         # per variant, where its path starts in ``codes``
    lengths: np.ndarray        # per variant, its path's length
    low: np.ndarray | None     # per path step, least repeats (collapse)
    high: np.ndarray | None    # per path step, most repeats (collapse)


def _part(detail: Chunk, mapped: Chunk, rank: np.ndarray, collapse: bool) -> _Part:
    """The variants of one chunk (``mapped`` is ``detail`` at the analysis' level)."""
    days = detail.stamps[detail.lasts] - detail.stamps[detail.starts]
    codes = rank[mapped.codes].astype(np.int64)
    starts = mapped.starts
    runs = None
    if collapse:
        keep = mapped.new.copy()
        keep[1:] |= codes[1:] != codes[:-1]
        kept = np.flatnonzero(keep)
        runs = np.diff(np.r_[kept, len(codes)])
        codes = codes[kept]
        starts = np.searchsorted(kept, starts)
    lengths = np.diff(np.r_[starts, len(codes)])
    leaf, _ = _trie(codes, starts, lengths, int(rank.max(initial=0)) + 1)
    _, variant = _dense(leaf)
    n_variants = int(variant.max(initial=-1)) + 1
    example = np.empty(n_variants, dtype=np.int64)
    example[variant] = np.arange(len(variant))  # any case of the variant: same path
    v_lengths = lengths[example]
    v_starts = (np.cumsum(v_lengths) - v_lengths).astype(np.int64)
    steps = np.repeat(starts[example] - v_starts, v_lengths) + np.arange(int(v_lengths.sum()))
    low = high = None
    if runs is not None:
        # every case's step i, as step i of its variant's path
        at = np.repeat(v_starts[variant] - starts, lengths) + np.arange(len(codes))
        order = np.argsort(at, kind="stable")
        bounds = np.r_[0, np.flatnonzero(np.diff(at[order])) + 1]
        low = np.minimum.reduceat(runs[order], bounds)
        high = np.maximum.reduceat(runs[order], bounds)
    return _Part(variant=variant, days=days, codes=codes[steps], starts=v_starts,
                 lengths=v_lengths, low=low, high=high)


def variants(
    log: EventLog | LogSource, level: Level = "detail", collapse: bool = False,
    top: int | None = None, *, start: date | None = None, end: date | None = None,
    where: Sequence[Any] = (), check: bool = False,
) -> VariantsResult:
    """The journey variants of ``log`` at ``level``, most common first (module docstring).

    ``start``, ``end``, ``where`` focus the log first (`cscmining.focus`). ``check``: also
    count pm4py's variants of the (in-memory) log and stop on a disagreement.
    """
    if top is not None and top < 1:
        raise UsageError(f"--top must be at least 1, not {top}")
    source = as_source(log)
    activities = source.activities
    at, group_of = activities.at_level(level)
    rank = at.variant_rank
    names = np.empty(len(at.names), dtype=object)
    names[rank] = at.names
    parts = [
        _part(chunk, chunk if group_of is None else summary_level(chunk, group_of), rank,
              collapse)
        for chunk in focused_chunks(source, "Finding variants", start=start, end=end,
                                    where=where)
    ]
    result = _merge(parts, names.tolist(), level, collapse, top)
    if check:
        _check_with_pm4py(source, result, level, collapse, start, end, where)
    return result


def _merge(parts: list[_Part], names: list[str], level: str, collapse: bool,
           top: int | None) -> VariantsResult:
    """The chunks' variants as one ranking: the same trie over every chunk's variant paths."""
    n_cases = sum(len(p.variant) for p in parts)
    if n_cases == 0:
        return VariantsResult(cases=0, total=0, level=level, collapse=collapse)
    offsets = np.cumsum([0] + [len(p.lengths) for p in parts])
    code_offsets = np.cumsum([0] + [len(p.codes) for p in parts])
    codes = np.concatenate([p.codes for p in parts])
    starts = np.concatenate([p.starts + o for p, o in zip(parts, code_offsets)])
    lengths = np.concatenate([p.lengths for p in parts])
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    leaf, size = _trie(codes, starts, lengths, len(names), levels)
    leaves, local_to_global = _dense(leaf)
    case_variant = np.concatenate([local_to_global[p.variant + o] for p, o in zip(parts, offsets)])
    days = np.concatenate([p.days for p in parts])
    counts = np.bincount(case_variant, minlength=len(leaves))
    ranking = np.lexsort((_preorder(levels, size)[leaves], -counts))[:top]
    median, p90 = _journey_percentiles(case_variant, days, counts, ranking)

    example = np.empty(len(leaves), dtype=np.int64)
    example[local_to_global] = np.arange(len(local_to_global))
    shown = example[ranking]
    shown_lengths = lengths[shown]
    steps = _runs(starts[shown], shown_lengths)
    low = high = None
    if collapse:
        low, high = _repeats(parts, local_to_global, starts, lengths, example, ranking)
    return VariantsResult(
        cases=n_cases, total=len(leaves), level=level, collapse=collapse,
        shown=_Shown(names=names, codes=codes[steps], lengths=shown_lengths,
                     counts=counts[ranking], median=median, p90=p90, low=low, high=high),
    )


def _runs(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] … starts[i] + lengths[i] - 1`` of every run, one after another."""
    total = int(lengths.sum())
    before = (np.cumsum(lengths) - lengths).astype(np.int64)
    return np.repeat(starts - before, lengths) + np.arange(total)


def _journey_percentiles(case_variant: np.ndarray, days: np.ndarray, counts: np.ndarray,
                         ranking: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and 90th percentile (numpy's linear) of journey days over each variant's cases."""
    if len(days) and days.min() >= 0 and not (days % _NS_PER_DAY).any():
        whole = days // _NS_PER_DAY
        width = int(whole.max()) + 1
        packed = np.sort(case_variant * width + whole)  # by variant, then days
        values = (packed % width).astype(np.float64)
    else:
        order = np.lexsort((days, case_variant))
        values = days[order] / _NS_PER_DAY
    starts = (np.cumsum(counts) - counts)[ranking]
    n = counts[ranking]
    return _sorted_percentile(values, starts, n, 0.5), _sorted_percentile(values, starts, n, 0.9)


def _repeats(parts: list[_Part], local_to_global: np.ndarray, starts: np.ndarray,
             lengths: np.ndarray, example: np.ndarray,
             ranking: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step of each variant shown, the least and most repeats over all its children."""
    width = max(int(lengths.max(initial=0)), 1)
    gid = np.repeat(local_to_global, lengths)  # per local path step, its global variant
    position = np.arange(len(gid)) - np.repeat(starts, lengths)
    key = gid * width + position
    low = np.concatenate([p.low for p in parts if p.low is not None])
    high = np.concatenate([p.high for p in parts if p.high is not None])
    order = np.argsort(key, kind="stable")
    key = key[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    lows = np.minimum.reduceat(low[order], bounds)
    highs = np.maximum.reduceat(high[order], bounds)
    # every (variant, step) is present, so variant v's steps start at the v-th path start
    firsts = np.searchsorted(key[bounds], ranking * width)
    at = _runs(firsts, lengths[example[ranking]])
    return lows[at], highs[at]


def _check_with_pm4py(source: LogSource, result: VariantsResult, level: str, collapse: bool,
                      start: date | None, end: date | None, where: Sequence[Any]) -> None:
    """Stop if pm4py's variants of the focused log (at ``level``) differ from ours."""
    from .discover import _in_memory
    from .focus import focus

    if collapse or result.cases == 0:
        return
    frame = focus(_in_memory(source), start=start, end=end, where=where, level=level).frame
    if len(result.variants) < result.total:  # --top: compare the full list
        result = _merge_all(source, level, start, end, where)
    sys._pm4py_welcome_shown = True  # type: ignore[attr-defined]  # no banner on stderr
    import pm4py

    found = pm4py.get_variants(frame[[CASE, ACTIVITY, TIMESTAMP]], activity_key=ACTIVITY,
                               case_id_key=CASE, timestamp_key=TIMESTAMP)
    theirs = {tuple(k): (v if isinstance(v, int) else len(v)) for k, v in found.items()}
    ours = {v.activities: v.count for v in result.variants}
    if ours != theirs or sum(theirs.values()) != result.cases:
        raise AccountingError("pm4py and cscmining disagree on the journey variants: "
                              "a bug, please report it")


def _merge_all(source: LogSource, level: str, start: date | None, end: date | None,
               where: Sequence[Any]) -> VariantsResult:
    return variants(source, level=level, start=start, end=end, where=where)  # type: ignore[arg-type]
