"""The process map's numbers: every count and duration the map, its JSON and ``bottlenecks`` show.

Everything is computed in one pass over the log cscmining sorted itself, chunk by chunk of whole
cases (`cscmining.engines`), vectorised (no Python loop per child or event): per chunk additive
totals (`MapTally`: counts, distinct children, and an exact histogram of move durations), then
the map from the totals, so every engine and every chunking gives the same numbers. pm4py is
the reference implementation of "directly follows": the tests hold these numbers equal to
pm4py's directly-follows graph and performance DFG, and ``--engine pm4py`` (``check=True``)
computes pm4py's alongside and stops on a disagreement (an ordering mistake, a lost event)
instead of drawing a wrong map. cscmining computes the numbers itself because pm4py has no
90th percentile, no count of distinct children per edge and no waiting children, its
drawings cannot be used (hash-based node ids, unescaped labels, "1MO" durations), and it needs
the whole log in pandas.

Definitions (SPEC §2.2, §4):

- An **edge** A→B is one child's event A directly followed by their event B. ``count`` is the
  number of such moves, ``cases`` the children who made at least one. Its duration is the next
  event's date minus this event's date, in days; ``median_days`` and ``p90_days`` interpolate
  linearly (numpy's default), ``child_days`` is the sum: the time children spent on that step.
- A **node**: ``events`` (at summary level, visits), ``cases`` (children with at least one),
  ``waiting`` (children whose latest event is this activity and it is not terminal: still in
  the system, counted where they last moved).
- ``start``/``end``: children whose journey starts/ends (so far) at each activity.
- **Timescales** (`cscmining.timescales.summarise` on the detail log) are shown where the
  child's clock runs: on the edge from the rule's `from` activity to its `to` activity when the
  map has that edge, otherwise on the `from` stage. At summary level both ends usually fall in
  one group, so the rule sits on that group.
- **Pressure points** (`pressure_points`): see `rank_pressure` for the score.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from .columns import ACTIVITY, CASE, TIMESTAMP
from .engines import LogSource, as_source, focused_chunks
from .engines.chunk import Activities, Chunk, summary_level
from .engines.chunk import stage_rank as _stage_rank
from .engines.stats import percentile, sorted_percentile
from .errors import AccountingError, UsageError
from .eventlog import EventLog
from .focus import Condition, Level, at_level, case_runs, describe_focus, focus
from .timescales import (
    STATUSES,
    RuleSummary,
    evaluate_chunk,
    exclusion_columns,
    rule_summary,
    rules_calendar,
)
from .vocabulary import Vocabulary

_NS_PER_DAY = 86_400 * 10**9
#: an item becomes a pressure point on the map only with a score of at least this
MIN_SCORE = 0.10
#: JSON floats are rounded to this many decimals (durations in days; rates and shares)
_DECIMALS = 6


# ---------------------------------------------------------------------------------------
# Results


def _rule_dict(rule: RuleSummary) -> dict[str, Any]:
    """A rule on a map item in the map JSON's shape: ``rule``, ``from`` and ``to`` are the
    names ``map --json`` has always used (`RuleSummary.to_dict` is the ``timescales``
    command's shape)."""
    return {
        "rule": rule.name, "label": rule.label, "from": rule.from_, "to": rule.to,
        "within": rule.within, "unit": rule.unit, "met": rule.met,
        "breached": rule.breached, "stuck": rule.stuck, "open": rule.open,
        "breach_rate": _round(rule.breach_rate),
    }


@dataclass(frozen=True)
class Node:
    """One activity (detail level) or stage group (summary level) of the map."""

    id: str
    activity: str
    terminal: bool
    events: int
    cases: int
    waiting: int
    timescales: tuple[RuleSummary, ...] = ()

    @property
    def breach_rate(self) -> float | None:
        return _worst(self.timescales)

    def to_dict(self) -> dict[str, Any]:
        return {
            "activity": self.activity, "events": self.events, "cases": self.cases,
            "waiting": self.waiting, "id": self.id, "terminal": self.terminal,
            "breach_rate": _round(self.breach_rate),
            "timescales": [_rule_dict(t) for t in self.timescales],
        }


@dataclass(frozen=True)
class Edge:
    """Children's moves from one activity directly to the next."""

    source: str
    target: str
    count: int
    cases: int
    median_days: float
    p90_days: float
    child_days: float
    timescales: tuple[RuleSummary, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return self.source, self.target

    @property
    def breach_rate(self) -> float | None:
        return _worst(self.timescales)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target, "count": self.count,
            "cases": self.cases, "median_days": _round(self.median_days),
            "p90_days": _round(self.p90_days), "child_days": _round(self.child_days),
            "breach_rate": _round(self.breach_rate),
            "timescales": [_rule_dict(t) for t in self.timescales],
        }


@dataclass(frozen=True)
class Hidden:
    """What `simplify` left off the map, so the picture can say so."""

    activities: tuple[str, ...] = ()
    events: int = 0
    paths: int = 0
    moves: int = 0

    def __bool__(self) -> bool:
        return bool(self.activities or self.paths)

    def to_dict(self) -> dict[str, Any]:
        return {"activities": list(self.activities), "events": self.events,
                "paths": self.paths, "moves": self.moves}


@dataclass(frozen=True)
class PressurePoint:
    """An edge or stage that holds many child-days, many waiting children or many breaches.

    ``item`` is the `Edge` or `Node`; ``reasons`` say why in words, strongest first.
    """

    rank: int
    item: Edge | Node
    score: float
    reasons: tuple[str, ...]

    @property
    def kind(self) -> Literal["edge", "stage"]:
        return "edge" if isinstance(self.item, Edge) else "stage"

    @property
    def where(self) -> str:
        item = self.item
        return f"{item.source} → {item.target}" if isinstance(item, Edge) else item.activity

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "kind": self.kind, "score": _round(self.score),
                "reasons": list(self.reasons), **self.item.to_dict()}


@dataclass(frozen=True)
class MapResult:
    """A directly-follows map with its numbers (``to_dict`` is ``map --json``, SPEC §5).

    ``nodes`` are in stage order (their ``id`` is n0, n1… by the vocabulary's order, so an
    activity keeps its id in every map); ``edges`` are in (source, target) stage order.
    """

    level: Level
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    start: dict[str, int]
    end: dict[str, int]
    as_at: date
    period: tuple[date, date] | None
    cases: int
    events: int
    filters: tuple[str, ...] = ()
    timescales: tuple[RuleSummary, ...] = ()
    pressure: tuple[PressurePoint, ...] = ()
    hidden: Hidden = field(default_factory=Hidden)

    @property
    def total_child_days(self) -> float:
        return float(sum(e.child_days for e in self.edges))

    @property
    def total_waiting(self) -> int:
        return sum(n.waiting for n in self.nodes)

    def node(self, activity: str) -> Node:
        for node in self.nodes:
            if node.activity == activity:
                return node
        raise KeyError(activity)

    def edge(self, source: str, target: str) -> Edge:
        for edge in self.edges:
            if edge.key == (source, target):
                return edge
        raise KeyError((source, target))

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "start": dict(self.start),
            "end": dict(self.end),
            "as_at": self.as_at.isoformat(),
            "level": self.level,
            "period": _period_dict(self.period),
            "filters": list(self.filters),
            "cases": self.cases,
            "events": self.events,
            "timescales": [_rule_dict(t) for t in self.timescales],
            "pressure_points": [p.to_dict() for p in self.pressure],
            "hidden": self.hidden.to_dict(),
        }


@dataclass(frozen=True)
class BottleneckReport:
    """Edges and stages ranked by pressure score (``bottlenecks --json``)."""

    level: Level
    as_at: date
    period: tuple[date, date] | None
    cases: int
    filters: tuple[str, ...]
    total_child_days: float
    total_waiting: int
    points: tuple[PressurePoint, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_at": self.as_at.isoformat(),
            "level": self.level,
            "period": _period_dict(self.period),
            "filters": list(self.filters),
            "cases": self.cases,
            "total_child_days": _round(self.total_child_days),
            "total_waiting": self.total_waiting,
            "min_score": MIN_SCORE,
            "bottlenecks": [p.to_dict() for p in self.points],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), _DECIMALS)


def _worst(rates: Iterable[RuleSummary]) -> float | None:
    known = [r.breach_rate for r in rates if r.breach_rate is not None]
    return max(known) if known else None


def _period_dict(period: tuple[date, date] | None) -> dict[str, str] | None:
    return None if period is None else {"from": period[0].isoformat(), "to": period[1].isoformat()}


# ---------------------------------------------------------------------------------------
# Public entry points


def process_map(
    log: EventLog | LogSource,
    *,
    start: date | None = None,
    end: date | None = None,
    where: Sequence[Condition | str] = (),
    level: Level = "detail",
    activities: float = 100.0,
    paths: float = 100.0,
    top: int = 5,
    check: bool = False,
) -> MapResult:
    """Focus the log, discover its map, mark the top pressure points, then simplify.

    ``log`` is an `EventLog` or an engine's `LogSource`. Simplification never hides a
    pressure point (see `simplify`). ``check``: also compute pm4py's DFG of the focused log
    and stop on any disagreement (`check_with_pm4py`; an in-memory log only).
    """
    result = _focused_map(log, start=start, end=end, where=where, level=level, check=check)
    result = replace(result, pressure=pressure_points(result, top=top))
    return simplify(result, activities=activities, paths=paths)


def bottlenecks(
    log: EventLog | LogSource,
    *,
    start: date | None = None,
    end: date | None = None,
    where: Sequence[Condition | str] = (),
    level: Level = "detail",
    top: int = 10,
    check: bool = False,
) -> BottleneckReport:
    """The ``top`` edges and stages by pressure score, with their reasons."""
    result = _focused_map(log, start=start, end=end, where=where, level=level, check=check)
    return BottleneckReport(
        level=result.level, as_at=result.as_at, period=result.period, cases=result.cases,
        filters=result.filters, total_child_days=result.total_child_days,
        total_waiting=result.total_waiting, points=tuple(rank_pressure(result)[:top]),
    )


def _focused_map(
    log: EventLog | LogSource, *, start: date | None, end: date | None,
    where: Sequence[Condition | str], level: Level, check: bool,
) -> MapResult:
    filters = describe_focus(start=start, end=end, where=where)
    source = as_source(log)
    chunks = focused_chunks(source, "Mapping", start=start, end=end, where=where,
                            columns=exclusion_columns(source.vocabulary.timescales))
    result = _discover(source, chunks, level=level, filters=filters)
    if result.events == 0:
        said = "; ".join(filters) or "no filters"
        raise UsageError(f"no child's journey is left to map ({said})")
    if check:
        focused = focus(_in_memory(source), start=start, end=end, where=where)
        check_with_pm4py(at_level(focused, level).frame, result)
    return result


def discover_map(
    log: EventLog | LogSource, *, level: Level = "detail", filters: Sequence[str] = (),
    check: bool = False,
) -> MapResult:
    """Every number of the map of ``log`` (a detail-level, already focused log) at ``level``.

    ``check``: also compare with pm4py's directly-follows graph (`check_with_pm4py`).
    """
    source = as_source(log)
    chunks = focused_chunks(source, "Mapping",
                            columns=exclusion_columns(source.vocabulary.timescales))
    result = _discover(source, chunks, level=level, filters=filters)
    if check:
        check_with_pm4py(at_level(_in_memory(source), level).frame, result)
    return result


def _in_memory(source: LogSource) -> EventLog:
    log = getattr(source, "log", None)
    if log is None:
        raise UsageError("the pm4py cross-check needs the log in memory (--engine pm4py)")
    return log.as_of(source.as_at)


def _discover(
    source: LogSource, chunks: Iterable[Chunk], *, level: Level, filters: Sequence[str]
) -> MapResult:
    """Tally the chunks (map numbers at ``level``, timescales on the detail events), then
    turn the totals into the map."""
    activities = source.activities
    at, group_of = activities.at_level(level)
    rules = list(source.vocabulary.timescales)
    tally = MapTally.empty(len(at.names))
    statuses = np.zeros((len(rules), len(STATUSES)), dtype=np.int64)
    calendar = rules_calendar(source, rules)
    for chunk in chunks:
        for i, rows in enumerate(evaluate_chunk(chunk, activities, rules, source.as_at,
                                                calendar)):
            statuses[i] += np.bincount(rows.status, minlength=len(STATUSES))
        tally.add(tally_chunk(chunk if group_of is None else summary_level(chunk, group_of),
                              len(at.names)))
    timescales = tuple(rule_summary(rule, statuses[i])
                       for i, rule in enumerate(rules))
    nodes = _nodes(at, tally)
    edges = _edges(at, tally)
    nodes, edges = _attach_rules(timescales, nodes, edges, source.vocabulary, level)
    return MapResult(
        level=level, nodes=nodes, edges=edges,
        start=_counts(at.names, tally.first), end=_counts(at.names, tally.last),
        as_at=source.as_at, period=tally.period, cases=tally.cases, events=tally.events,
        filters=tuple(filters), timescales=timescales,
    )


# ---------------------------------------------------------------------------------------
# Vectorised numbers


def stage_rank(vocabulary: Vocabulary) -> dict[str, int]:
    """0, 1, 2… over the vocabulary by (order, listing position): the map's reading order."""
    return _stage_rank(vocabulary)


def _counts(names: Sequence[str], counts: np.ndarray) -> dict[str, int]:
    return {name: int(c) for name, c in zip(names, counts) if c}


def _distinct_per_group(group: np.ndarray, case: np.ndarray, groups: int) -> np.ndarray:
    """How many distinct cases each group number has, ``case`` non-decreasing along the items.

    (case, group) packed in one integer is already sorted by case, only unsorted within each
    (short) case: a stable sort (timsort, which runs over sorted stretches) orders it in
    about linear time, and the distinct pairs are the changes.
    """
    if len(group) == 0:
        return np.zeros(groups, dtype=np.int64)
    small = (int(case[-1]) + 1) * groups < 2**31
    dtype = np.int32 if small else np.int64
    packed = np.sort(case.astype(dtype) * dtype(groups) + group.astype(dtype), kind="stable")
    first = np.ones(len(packed), dtype=bool)
    first[1:] = packed[1:] != packed[:-1]
    return np.bincount(packed[first] % groups, minlength=groups)


def _cases_by_code(codes: np.ndarray, starts: np.ndarray, case: np.ndarray,
                   k: int) -> np.ndarray:
    """Per code, the cases with at least one such event: with up to 64 codes, one bit per
    code OR-ed over each case's events, then counted bit by bit."""
    if k > 64 or len(codes) == 0:
        return _distinct_per_group(codes, case, k)
    word = np.uint32 if k <= 32 else np.uint64
    bits = np.left_shift(word(1), codes.astype(word))
    masks = np.bitwise_or.reduceat(bits, starts)
    out = np.zeros(k, dtype=np.int64)
    for c in np.flatnonzero(np.bitwise_or.reduce(masks) >> np.arange(k, dtype=word) & 1):
        out[c] = np.count_nonzero(masks & word(1 << int(c)))
    return out


@dataclass
class MapTally:
    """Additive totals of a map over chunks of whole cases (codes ``0..k-1``).

    Edge ``a → b`` is key ``a * k + b``. Durations are kept as a histogram: the distinct
    (edge, duration in ns) pairs and how many moves had each, sorted by edge then duration,
    which is exact and small (dates give whole days), and gives medians and percentiles
    without keeping every move.
    """

    k: int
    events_by: np.ndarray
    cases_by: np.ndarray
    first: np.ndarray
    last: np.ndarray
    moves: np.ndarray
    movers: np.ndarray
    hist_key: np.ndarray
    hist_gap: np.ndarray
    hist_count: np.ndarray
    events: int = 0
    cases: int = 0
    t_min: int | None = None
    t_max: int | None = None

    @classmethod
    def empty(cls, k: int) -> MapTally:
        z = lambda n: np.zeros(n, dtype=np.int64)  # noqa: E731
        return cls(k, z(k), z(k), z(k), z(k), z(k * k), z(k * k), z(0), z(0), z(0))

    def add(self, other: MapTally) -> None:
        for name in ("events_by", "cases_by", "first", "last", "moves", "movers"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if len(other.hist_key):
            if len(self.hist_key):
                self.hist_key, self.hist_gap, self.hist_count = _histogram(
                    np.r_[self.hist_key, other.hist_key], np.r_[self.hist_gap, other.hist_gap],
                    np.r_[self.hist_count, other.hist_count])
            else:
                self.hist_key, self.hist_gap, self.hist_count = \
                    other.hist_key, other.hist_gap, other.hist_count
        self.events += other.events
        self.cases += other.cases
        if other.t_min is not None:
            self.t_min = other.t_min if self.t_min is None else min(self.t_min, other.t_min)
            self.t_max = other.t_max if self.t_max is None else max(self.t_max, other.t_max)

    @property
    def period(self) -> tuple[date, date] | None:
        if self.t_min is None or self.t_max is None:
            return None
        days = np.array([self.t_min, self.t_max], dtype="datetime64[ns]").astype("datetime64[D]")
        return days[0].item(), days[1].item()


def _histogram(key: np.ndarray, gap: np.ndarray,
               weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (key, gap) pairs sorted, with their total weight (count when None)."""
    order = np.lexsort((gap, key))
    key, gap = key[order], gap[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = (key[1:] != key[:-1]) | (gap[1:] != gap[:-1])
    starts = np.flatnonzero(first)
    if weight is None:
        count = np.diff(np.r_[starts, len(key)])
    else:
        count = np.add.reduceat(weight[order], starts)
    return key[starts], gap[starts], count.astype(np.int64)


#: largest table of (edge, whole days) counts made at once; longer spans are sorted instead
_MAX_BINS = 1 << 25


def _gap_histogram(key: np.ndarray, gap: np.ndarray,
                   k2: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_histogram` of moves; for whole-day durations by counting, without sorting."""
    if len(key) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    if gap.min() >= 0 and not (gap % _NS_PER_DAY).any():
        days = gap // _NS_PER_DAY
        width = int(days.max()) + 1
        used = np.flatnonzero(np.bincount(key, minlength=k2))
        if len(used) * width <= _MAX_BINS:
            dense = np.zeros(k2, dtype=np.int64)
            dense[used] = np.arange(len(used))
            counts = np.bincount(dense[key] * width + days, minlength=len(used) * width)
            cells = np.flatnonzero(counts)
            return used[cells // width], (cells % width) * _NS_PER_DAY, counts[cells]
    return _histogram(key, gap)


def tally_chunk(chunk: Chunk, k: int) -> MapTally:
    """The map's totals of one chunk (codes ``0..k-1``, at the map's level)."""
    tally = MapTally.empty(k)
    n = chunk.events
    if n == 0:
        return tally
    codes = chunk.codes.astype(np.int32)
    case = chunk.case
    tally.events, tally.cases = n, chunk.cases
    tally.events_by = np.bincount(codes, minlength=k)
    tally.cases_by = _cases_by_code(codes, chunk.starts, case, k)
    tally.first = np.bincount(codes[chunk.starts], minlength=k)
    tally.last = np.bincount(codes[chunk.lasts], minlength=k)
    tally.t_min, tally.t_max = int(chunk.stamps.min()), int(chunk.stamps.max())
    moves = np.flatnonzero(~chunk.new[1:])
    key = codes[moves] * np.int32(k) + codes[moves + 1]
    gap = chunk.stamps[moves + 1] - chunk.stamps[moves]
    tally.moves = np.bincount(key, minlength=k * k)
    tally.movers = _distinct_per_group(key, case[moves], k * k)
    tally.hist_key, tally.hist_gap, tally.hist_count = _gap_histogram(key, gap, k * k)
    return tally


def _nodes(at: Activities, tally: MapTally) -> tuple[Node, ...]:
    terminal = at.terminal
    return tuple(
        Node(id=f"n{code}", activity=at.names[code], terminal=bool(terminal[code]),
             events=int(tally.events_by[code]), cases=int(tally.cases_by[code]),
             waiting=0 if terminal[code] else int(tally.last[code]))
        for code in np.flatnonzero(tally.events_by)
    )


def _edges(at: Activities, tally: MapTally) -> tuple[Edge, ...]:
    """Counts, children and durations of every directly-follows pair, from the histogram."""
    keys = np.flatnonzero(tally.moves)
    if len(keys) == 0:
        return ()
    k = tally.k
    hist_key, gap, weight = tally.hist_key, tally.hist_gap, tally.hist_count
    rows = np.searchsorted(hist_key, keys)  # each edge's first histogram row
    cumulative = np.cumsum(weight)
    before = np.r_[0, cumulative][rows]
    counts = tally.moves[keys]

    def value(rank: np.ndarray) -> np.ndarray:
        """The ``rank``-th smallest duration of each edge (0-based), in days."""
        return gap[np.searchsorted(cumulative, before + rank, side="right")] / _NS_PER_DAY

    median = _percentile(value, counts, 0.5)
    p90 = _percentile(value, counts, 0.9)
    # whole days and the rest apart: exact in int64 for any realistic log
    whole = np.add.reduceat(weight * (gap // _NS_PER_DAY), rows)
    rest = np.add.reduceat(weight * (gap % _NS_PER_DAY), rows) / _NS_PER_DAY
    total = whole + rest
    return tuple(
        Edge(source=at.names[int(kk) // k], target=at.names[int(kk) % k],
             count=int(counts[i]), cases=int(tally.movers[kk]),
             median_days=float(median[i]), p90_days=float(p90[i]), child_days=float(total[i]))
        for i, kk in enumerate(keys)
    )


_percentile = percentile
_sorted_percentile = sorted_percentile


# ---------------------------------------------------------------------------------------
# Timescales on the map


def _attach_rules(
    rules: tuple[RuleSummary, ...], nodes: tuple[Node, ...], edges: tuple[Edge, ...],
    detail: Vocabulary, level: Level,
) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
    """Put each rule on its edge, else on its `from` stage (module docstring)."""
    on_edge: dict[tuple[str, str], list[RuleSummary]] = {}
    on_node: dict[str, list[RuleSummary]] = {}
    edge_keys = {e.key for e in edges}
    node_names = {n.activity for n in nodes}
    for rule in rules:
        source, target = rule.from_, rule.to
        if level == "summary":
            source, target = detail.group[source], detail.group[target]
        if (source, target) in edge_keys:
            on_edge.setdefault((source, target), []).append(rule)
        elif source in node_names:
            on_node.setdefault(source, []).append(rule)
    nodes = tuple(replace(n, timescales=tuple(on_node.get(n.activity, ()))) for n in nodes)
    edges = tuple(replace(e, timescales=tuple(on_edge.get(e.key, ()))) for e in edges)
    return nodes, edges


# ---------------------------------------------------------------------------------------
# pm4py as the reference


def pm4py_dfg(frame: pd.DataFrame) -> tuple[dict, dict, dict, dict]:
    """pm4py's (dfg, performance dfg, start, end) of the sorted frame, never re-prepared.

    pm4py's own pandas DFG, in one pass for frequency and performance (half the time of
    ``discover_dfg`` plus ``discover_performance_dfg``), and its start/end counts. It gets a
    new three-column frame (pm4py adds a column to the frame it is given) whose case ids are
    the cases' run numbers: one-to-one with the ids and rising along the sorted log, so
    pm4py's sort (stable, by case then timestamp) keeps our order, same-day ties included,
    at half the cost of sorting strings. pm4py never formats the frame (SPEC §3).
    """
    sys._pm4py_welcome_shown = True  # type: ignore[attr-defined]  # no licence banner on stderr
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph
    from pm4py.statistics.end_activities.pandas import get as end_activities
    from pm4py.statistics.start_activities.pandas import get as start_activities

    number, _, _ = case_runs(frame)
    view = pd.DataFrame({CASE: number, ACTIVITY: frame[ACTIVITY].array,
                         TIMESTAMP: frame[TIMESTAMP].array})
    dfg, performance = get_dfg_graph(
        view, measure="both", perf_aggregation_key="all", activity_key=ACTIVITY,
        case_id_glue=CASE, timestamp_key=TIMESTAMP,
    )
    start = start_activities.get_start_activities(view, parameters={
        start_activities.Parameters.CASE_ID_KEY: CASE,
        start_activities.Parameters.ACTIVITY_KEY: ACTIVITY})
    end = end_activities.get_end_activities(view, parameters={
        end_activities.Parameters.CASE_ID_KEY: CASE,
        end_activities.Parameters.ACTIVITY_KEY: ACTIVITY})
    return dfg, performance, start, end


def check_with_pm4py(frame: pd.DataFrame, result: MapResult) -> None:
    """Stop if pm4py's DFG of the frame differs from ours or does not add up to its size.

    Moves between events add up to events − children, starts and ends each to children.
    """
    if frame.empty:
        return
    dfg, performance, start, end = pm4py_dfg(frame)
    problems = []
    if sum(dfg.values()) != result.events - result.cases:
        problems.append("edge counts do not add up to events minus children")
    if sum(start.values()) != result.cases or sum(end.values()) != result.cases:
        problems.append("start or end counts do not add up to the children")
    ours = {e.key: e.count for e in result.edges}
    if {k: int(v) for k, v in dfg.items()} != ours:
        problems.append("edge counts differ")
    if {k: int(v) for k, v in start.items()} != result.start or \
            {k: int(v) for k, v in end.items()} != result.end:
        problems.append("start or end activities differ")
    if not all(_same_durations(performance.get(e.key, {}), e) for e in result.edges):
        problems.append("edge durations differ")
    if problems:
        raise AccountingError(
            "pm4py and cscmining disagree on the directly-follows graph "
            f"({'; '.join(problems)}): a bug, please report it"
        )


def _same_durations(theirs: dict[str, float], edge: Edge) -> bool:
    """pm4py's median and sum (seconds) equal ours (days), to a millionth of a day."""
    median = theirs.get("median", math.nan) / 86_400
    total = theirs.get("sum", math.nan) / 86_400
    return math.isclose(median, edge.median_days, abs_tol=1e-6) and \
        math.isclose(total, edge.child_days, abs_tol=1e-6)


# ---------------------------------------------------------------------------------------
# Pressure points


def rank_pressure(result: MapResult) -> list[PressurePoint]:
    """Every edge and stage with a positive score, highest first.

    **Score** = the largest of three shares, each between 0 and 1:

    - *child-days* (edges): the edge's share of all child-days on the map;
    - *waiting* (stages): the stage's share of all children waiting at the as-at date;
    - *breach rate*: the worst breach rate of a timescale rule shown on the edge or stage.

    Taking the largest, not a sum, means each reason stands on its own ("holds 18% of all
    child-days" ranks with "18% miss the timescale"). Ties go to the item touching more
    children, then to stage order.
    """
    total_days = result.total_child_days
    total_waiting = result.total_waiting
    scored: list[tuple[float, int, int, Edge | Node, tuple[str, ...]]] = []
    for position, edge in enumerate(result.edges):
        parts = [(edge.child_days / total_days if total_days else 0.0,
                  f"holds {percent(edge.child_days / total_days)} of all child-days"
                  if total_days else "")]
        parts += _rule_parts(edge.timescales)
        scored.append(_scored(parts, edge.cases, position, edge))
    for position, node in enumerate(result.nodes, start=len(result.edges)):
        parts = [(node.waiting / total_waiting if total_waiting else 0.0,
                  f"{node.waiting:,} {_children(node.waiting)} waiting "
                  f"({percent(node.waiting / total_waiting)} of all waiting)"
                  if total_waiting else "")]
        parts += _rule_parts(node.timescales)
        scored.append(_scored(parts, node.cases, position, node))
    scored = [s for s in scored if s[0] > 0]
    scored.sort(key=lambda s: (-s[0], -s[1], s[2]))
    return [
        PressurePoint(rank=i, item=item, score=score, reasons=reasons)
        for i, (score, _, _, item, reasons) in enumerate(scored, start=1)
    ]


def pressure_points(result: MapResult, top: int = 5) -> tuple[PressurePoint, ...]:
    """The map's pressure points: the ``top`` ranked items scoring at least `MIN_SCORE`."""
    return tuple(p for p in rank_pressure(result)[:top] if p.score >= MIN_SCORE)


def _rule_parts(rates: Iterable[RuleSummary]) -> list[tuple[float, str]]:
    return [
        (r.breach_rate, f"{percent(r.breach_rate)} miss the timescale: {r.label} "
                        f"({r.late:,} of {r.decided:,})")
        for r in rates if r.breach_rate
    ]


def _scored(
    parts: list[tuple[float, str]], children: int, position: int, item: Edge | Node
) -> tuple[float, int, int, Edge | Node, tuple[str, ...]]:
    """The score and the reasons worth saying: the strongest, and any others ≥ `MIN_SCORE`."""
    parts = sorted((p for p in parts if p[0] > 0), key=lambda p: -p[0])
    score = parts[0][0] if parts else 0.0
    reasons = tuple(text for i, (share, text) in enumerate(parts) if i == 0 or share >= MIN_SCORE)
    return score, children, position, item, reasons


def _children(n: int) -> str:
    return "child" if n == 1 else "children"


def percent(share: float) -> str:
    """A share as a whole percentage; "<1%" rather than a misleading "0%" for small shares."""
    if 0 < share < 0.005:
        return "<1%"
    return f"{round(share * 100):d}%"


# ---------------------------------------------------------------------------------------
# Simplification



_START, _END = -1, -2  # the start and end nodes in the reachability graph
#: an arrow of the map: (source, target), where start and end are _START and _END
Link = tuple[str | int, str | int]


def simplify(result: MapResult, *, activities: float = 100.0, paths: float = 100.0) -> MapResult:
    """Keep the busiest ``activities`` % of activities and ``paths`` % of paths, connected.

    Like Disco's sliders and pm4py's DFG percentage filters, done on our map: the busiest
    activities (by events; ties to the earlier stage) are kept; the others go, least busy
    first, unless the kept ones would lose their way from start or to end through them. Then
    paths (edges, start arrows and end arrows, by count) go, least used first, if every
    remaining activity stays reachable from start and can still reach end. A journey still
    open at the as-at date "ends" where the child waits: that link is never drawn (the stage
    says how many wait there) and never hidden. Pressure points, and the stages they touch,
    are always kept. What went is recorded in ``hidden``.
    """
    for name, value in (("--activities", activities), ("--paths", paths)):
        if not 0 <= value <= 100:
            raise UsageError(f"{name} must be a percentage from 0 to 100, not {value}")
    if activities >= 100 and paths >= 100:
        return result
    protected_nodes, protected_links = _protected(result)
    drawn, still_open = _links(result)
    kept_names = _keep_activities(result, activities, protected_nodes, [*drawn, *still_open])
    drawn = {k: v for k, v in drawn.items() if _touches_only(k, kept_names)}
    still_open = [k for k in still_open if _touches_only(k, kept_names)]
    order = [n.activity for n in result.nodes]
    kept = _keep_paths(drawn, still_open, kept_names, paths, protected_links, order)
    return _restricted(result, kept_names, set(kept) | set(still_open))


def _protected(result: MapResult) -> tuple[set[str], set[Link]]:
    nodes: set[str] = set()
    links: set[Link] = set()
    for point in result.pressure:
        if isinstance(point.item, Edge):
            links.add(point.item.key)
            nodes.update(point.item.key)
        else:
            nodes.add(point.item.activity)
    return nodes, links


def _links(result: MapResult) -> tuple[dict[Link, int], list[Link]]:
    """The drawn arrows with their counts (edges, start → activity, terminal activity → end),
    and the links of journeys still open (a non-terminal activity → end)."""
    terminal = {n.activity for n in result.nodes if n.terminal}
    drawn: dict[Link, int] = {e.key: e.count for e in result.edges}
    drawn.update({(_START, a): n for a, n in result.start.items()})
    drawn.update({(a, _END): n for a, n in result.end.items() if a in terminal})
    still_open: list[Link] = [(a, _END) for a in result.end if a not in terminal]
    return drawn, still_open


def _touches_only(link: Link, names: set[str]) -> bool:
    return all(end in (_START, _END) or end in names for end in link)


def _reach(links: Iterable[Link], origin: int, forward: bool) -> set[str | int]:
    """Nodes reachable from ``origin`` along the links (backwards when not ``forward``)."""
    adjacency: dict[str | int, list[str | int]] = {}
    for a, b in links:
        if not forward:
            a, b = b, a
        adjacency.setdefault(a, []).append(b)
    seen: set[str | int] = {origin}
    queue = deque([origin])
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _connected(links: Iterable[Link], required: set[str]) -> bool:
    """Every required activity is reachable from start and can reach end."""
    links = list(links)
    return required <= _reach(links, _START, True) and required <= _reach(links, _END, False)


def _how_many(total: int, pct: float) -> int:
    return max(1, math.ceil(total * pct / 100))


def _keep_activities(
    result: MapResult, pct: float, protected: set[str], links: list[Link]
) -> set[str]:
    busiest = sorted(range(len(result.nodes)), key=lambda i: (-result.nodes[i].events, i))
    ranked = [result.nodes[i].activity for i in busiest]
    cut = _how_many(len(ranked), pct)
    required = set(ranked[:cut]) | protected
    kept = set(ranked)
    for name in reversed(ranked[cut:]):
        if name in required:
            continue
        trial = kept - {name}
        if _connected((k for k in links if _touches_only(k, trial)), required):
            kept = trial
    remaining = [k for k in links if _touches_only(k, kept)]
    on_a_path = _reach(remaining, _START, True) & _reach(remaining, _END, False)
    return {name for name in kept if name in on_a_path}


def _keep_paths(
    drawn: dict[Link, int], still_open: list[Link], names: set[str], pct: float,
    protected: set[Link], order: list[str],
) -> list[Link]:
    position: dict[str | int, int] = {name: i for i, name in enumerate(order)}
    position.update({_START: -1, _END: len(order)})
    ranked = sorted(drawn, key=lambda k: (-drawn[k], position[k[0]], position[k[1]]))
    cut = _how_many(len(ranked), pct)
    kept = list(ranked)
    for link in reversed(ranked[cut:]):
        if link in protected:
            continue
        trial = [k for k in kept if k != link]
        if _connected([*trial, *still_open], names):
            kept = trial
    return kept


def _restricted(result: MapResult, names: set[str], links: set[Link]) -> MapResult:
    """The map with only ``names`` and ``links``; what went is counted in ``hidden``."""
    gone_nodes = [n for n in result.nodes if n.activity not in names]
    gone_edges = [e for e in result.edges if e.key not in links]
    drawn, _ = _links(result)
    hidden = Hidden(
        activities=tuple(n.activity for n in gone_nodes),
        events=sum(n.events for n in gone_nodes),
        paths=sum(1 for k in drawn if k not in links),
        moves=sum(e.count for e in gone_edges),
    )
    return replace(
        result,
        nodes=tuple(n for n in result.nodes if n.activity in names),
        edges=tuple(e for e in result.edges if e.key in links),
        start={a: n for a, n in result.start.items() if (_START, a) in links},
        end={a: n for a, n in result.end.items() if (a, _END) in links},
        hidden=hidden,
    )
