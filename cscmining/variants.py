"""Journey variants: children grouped by the exact sequence of steps they went through.

Computed on the sorted log (pm4py's variant functions give wrong answers on an unsorted
frame, and sorting again would cost time for nothing). The paths are built as a trie, one
depth per step position with numpy: the Python loops run over positions (the longest journey's
length) and over the variants reported, never over children or events.

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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .columns import ACTIVITY, TIMESTAMP
from .errors import UsageError
from .eventlog import EventLog
from .focus import Level, at_level
from .timescales import new_case


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
class VariantsResult:
    """The variants shown (all, or the top N) and how many children and variants there are."""

    cases: int
    total: int
    level: str
    collapse: bool
    variants: list[Variant]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases, "variants_total": self.total, "level": self.level,
            "collapse": self.collapse,
            "variants": [v.to_dict(with_repeats=self.collapse) for v in self.variants],
        }


def _step_codes(log: EventLog) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the steps, numbered in stage order, and the names they stand for."""
    codes, names = pd.factorize(log.frame[ACTIVITY])
    order = log.vocabulary.order
    ranking = sorted(range(len(names)),
                     key=lambda i: (order.get(names[i], np.iinfo(np.int32).max), names[i]))
    recode = np.empty(len(names), dtype="int64")
    recode[ranking] = np.arange(len(names))
    return recode[codes], np.array([str(names[i]) for i in ranking], dtype=object)


@dataclass
class _Paths:
    """Every case's path as flat arrays (one item per step, cases in log order)."""

    codes: np.ndarray     # the step
    case: np.ndarray      # the case's number
    position: np.ndarray  # the step's position in its case's path
    runs: np.ndarray      # how many consecutive equal events the step stands for
    first: np.ndarray     # per case, the index of its first step
    names: np.ndarray     # step code -> name


def _paths(log: EventLog, collapse: bool) -> _Paths:
    """The steps of every case; with ``collapse`` consecutive equal steps become one."""
    codes, names = _step_codes(log)
    new = new_case(log.frame)
    keep = new.copy() if collapse else np.ones(len(codes), dtype=bool)
    if collapse:
        keep[1:] |= codes[1:] != codes[:-1]
    kept = np.flatnonzero(keep)
    new = new[kept]
    case = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    return _Paths(
        codes=codes[kept], case=case, position=np.arange(len(kept)) - first[case],
        runs=np.diff(np.r_[kept, len(codes)]), first=first, names=names,
    )


@dataclass
class _Trie:
    """Paths as a trie: node 0 is the root; nodes of each depth sorted by (parent, code)."""

    leaf: np.ndarray  # per case, the node its path ends at
    levels: list[tuple[np.ndarray, np.ndarray]]  # per depth: (node ids, parent ids)
    size: int

    def preorder(self) -> np.ndarray:
        """Depth-first rank of every node: the lexicographic order of the paths."""
        subtree = np.ones(self.size, dtype="int64")
        for ids, parents in reversed(self.levels):
            np.add.at(subtree, parents, subtree[ids])
        rank = np.zeros(self.size, dtype="int64")
        for ids, parents in self.levels:
            before = np.cumsum(subtree[ids]) - subtree[ids]
            first = np.r_[True, parents[1:] != parents[:-1]]
            sibling_start = np.maximum.accumulate(np.where(first, np.arange(len(ids)), 0))
            rank[ids] = rank[parents] + 1 + before - before[sibling_start]
        return rank


def _build_trie(paths: _Paths) -> _Trie:
    """Insert every case's path into a trie, one depth at a time."""
    width = int(paths.codes.max(initial=0)) + 1
    leaf = np.zeros(len(paths.first), dtype="int64")
    by_depth = np.argsort(paths.position, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(paths.position))]
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    size = 1
    for start, stop in zip(bounds[:-1], bounds[1:]):
        steps = by_depth[start:stop]
        cases = paths.case[steps]
        keys, inverse = np.unique(leaf[cases] * width + paths.codes[steps], return_inverse=True)
        levels.append((size + np.arange(len(keys)), keys // width))
        leaf[cases] = size + inverse
        size += len(keys)
    return _Trie(leaf=leaf, levels=levels, size=size)


def _journey_days(log: EventLog) -> np.ndarray:
    """Per case, last event minus first event, in days."""
    stamps = log.frame[TIMESTAMP].to_numpy()
    first = np.flatnonzero(new_case(log.frame))
    last = np.r_[first[1:], len(stamps)][: len(first)] - 1
    return (stamps[last] - stamps[first]) / np.timedelta64(1, "D")


def variants(
    log: EventLog, level: Level = "detail", collapse: bool = False, top: int | None = None
) -> VariantsResult:
    """The journey variants of ``log`` at ``level``, most common first (module docstring)."""
    if top is not None and top < 1:
        raise UsageError(f"--top must be at least 1, not {top}")
    paths = _paths(at_level(log, level), collapse)
    n_cases = len(paths.first)
    if n_cases == 0:
        return VariantsResult(cases=0, total=0, level=level, collapse=collapse, variants=[])
    trie = _build_trie(paths)
    leaves, case_variant, counts = np.unique(trie.leaf, return_inverse=True, return_counts=True)
    ranking = np.lexsort((trie.preorder()[leaves], -counts))[:top]

    days = pd.Series(_journey_days(log)).groupby(case_variant).quantile([0.5, 0.9]).unstack()
    median = days[0.5].to_numpy()[ranking].tolist()
    p90 = days[0.9].to_numpy()[ranking].tolist()
    representative = np.unique(case_variant, return_index=True)[1][ranking]
    lengths = np.bincount(paths.case)[representative].tolist()
    starts = paths.first[representative].tolist()
    run_range = _run_ranges(case_variant[paths.case], paths.position, paths.runs) if collapse \
        else None
    count = counts[ranking].tolist()
    cumulative = (np.cumsum(counts[ranking]) / n_cases).tolist()
    names = paths.names.tolist()
    codes = paths.codes.tolist()

    shown = []
    for i, v in enumerate(ranking.tolist()):
        shown.append(Variant(
            rank=i + 1,
            activities=tuple(names[c] for c in codes[starts[i]: starts[i] + lengths[i]]),
            repeats=run_range[v] if run_range is not None else ((1, 1),) * lengths[i],
            count=count[i],
            share=count[i] / n_cases,
            cumulative_share=cumulative[i],
            median_days=median[i],
            p90_days=p90[i],
        ))
    return VariantsResult(cases=n_cases, total=len(leaves), level=level, collapse=collapse,
                          variants=shown)


def _run_ranges(variant: np.ndarray, position: np.ndarray,
                runs: np.ndarray) -> dict[int, tuple[tuple[int, int], ...]]:
    """Per variant, the least and most repeats of each collapsed step over its children."""
    table = (pd.DataFrame({"v": variant, "p": position, "r": runs})
             .groupby(["v", "p"], sort=True)["r"].agg(["min", "max"]))
    v = table.index.get_level_values("v").to_numpy()
    pairs = list(zip(table["min"].tolist(), table["max"].tolist()))
    bounds = np.r_[0, np.flatnonzero(v[1:] != v[:-1]) + 1, len(v)]
    return {int(v[a]): tuple(pairs[a:b]) for a, b in zip(bounds[:-1], bounds[1:])}
