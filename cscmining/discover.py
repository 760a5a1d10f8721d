"""The process map's numbers: every count and duration the map, its JSON and ``bottlenecks`` show.

Everything is computed once, vectorised over the log cscmining sorted itself (no Python loop per
child or event), and then checked against pm4py's own directly-follows graph and performance
DFG of the same frame: pm4py is the reference implementation of "directly follows", and a
disagreement (an ordering mistake, a lost event) stops the run instead of drawing a wrong map.
cscmining computes the numbers itself because pm4py has no 90th percentile, no count of
distinct children per edge and no waiting children, and its drawings cannot be used (hash-based
node ids, unescaped labels, "1MO" durations).

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
from .errors import AccountingError, UsageError
from .eventlog import EventLog
from .focus import Condition, Level, activity_codes, at_level, case_runs, describe_focus, focus
from .timescales import RuleSummary, summarise
from .vocabulary import Vocabulary

_NS_PER_DAY = 86_400 * 10**9
#: an item becomes a pressure point on the map only with a score of at least this
MIN_SCORE = 0.10
#: JSON floats are rounded to this many decimals (durations in days; rates and shares)
_DECIMALS = 6


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class RuleRate:
    """How a timescale rule went, as the map shows it (from `timescales.RuleSummary`)."""

    rule: str
    label: str
    source: str
    target: str
    within: int
    unit: str
    met: int
    breached: int
    stuck: int
    open: int
    breach_rate: float | None

    @classmethod
    def from_summary(cls, summary: RuleSummary) -> RuleRate:
        return cls(
            rule=summary.name, label=summary.label, source=summary.from_, target=summary.to,
            within=summary.within, unit=summary.unit, met=summary.met,
            breached=summary.breached, stuck=summary.stuck, open=summary.open,
            breach_rate=summary.breach_rate,
        )

    @property
    def within_text(self) -> str:
        """``45 working-day``, ``3-month``: the limit as an adjective, for fixed-word texts."""
        if self.unit == "working_days":
            return f"{self.within} working-day"
        return f"{self.within}-{self.unit.removesuffix('s')}"

    @property
    def late(self) -> int:
        """`from` events over the limit: the `to` event came late, or has not come yet."""
        return self.breached + self.stuck

    @property
    def decided(self) -> int:
        return self.met + self.breached + self.stuck

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "label": self.label, "from": self.source, "to": self.target,
            "within": self.within, "unit": self.unit, "met": self.met,
            "breached": self.breached, "stuck": self.stuck, "open": self.open,
            "breach_rate": _round(self.breach_rate),
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
    timescales: tuple[RuleRate, ...] = ()

    @property
    def breach_rate(self) -> float | None:
        return _worst(self.timescales)

    def to_dict(self) -> dict[str, Any]:
        return {
            "activity": self.activity, "events": self.events, "cases": self.cases,
            "waiting": self.waiting, "id": self.id, "terminal": self.terminal,
            "breach_rate": _round(self.breach_rate),
            "timescales": [t.to_dict() for t in self.timescales],
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
    timescales: tuple[RuleRate, ...] = ()

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
            "timescales": [t.to_dict() for t in self.timescales],
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
    timescales: tuple[RuleRate, ...] = ()
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
            "timescales": [t.to_dict() for t in self.timescales],
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


def _worst(rates: Iterable[RuleRate]) -> float | None:
    known = [r.breach_rate for r in rates if r.breach_rate is not None]
    return max(known) if known else None


def _period_dict(period: tuple[date, date] | None) -> dict[str, str] | None:
    return None if period is None else {"from": period[0].isoformat(), "to": period[1].isoformat()}


# ---------------------------------------------------------------------------------------
# Public entry points


def process_map(
    log: EventLog,
    *,
    start: date | None = None,
    end: date | None = None,
    where: Sequence[Condition | str] = (),
    level: Level = "detail",
    activities: float = 100.0,
    paths: float = 100.0,
    top: int = 5,
) -> MapResult:
    """Focus the log, discover its map, mark the top pressure points, then simplify.

    Simplification never hides a pressure point (see `simplify`).
    """
    focused, filters = _focused(log, start=start, end=end, where=where)
    result = discover_map(focused, level=level, filters=filters)
    result = replace(result, pressure=pressure_points(result, top=top))
    return simplify(result, activities=activities, paths=paths)


def bottlenecks(
    log: EventLog,
    *,
    start: date | None = None,
    end: date | None = None,
    where: Sequence[Condition | str] = (),
    level: Level = "detail",
    top: int = 10,
) -> BottleneckReport:
    """The ``top`` edges and stages by pressure score, with their reasons."""
    focused, filters = _focused(log, start=start, end=end, where=where)
    result = discover_map(focused, level=level, filters=filters)
    return BottleneckReport(
        level=result.level, as_at=result.as_at, period=result.period, cases=result.cases,
        filters=result.filters, total_child_days=result.total_child_days,
        total_waiting=result.total_waiting, points=tuple(rank_pressure(result)[:top]),
    )


def _focused(
    log: EventLog, *, start: date | None, end: date | None, where: Sequence[Condition | str]
) -> tuple[EventLog, tuple[str, ...]]:
    focused = focus(log, start=start, end=end, where=where)
    filters = describe_focus(start=start, end=end, where=where)
    if focused.events == 0:
        said = "; ".join(filters) or "no filters"
        raise UsageError(f"no child's journey is left to map ({said})")
    return focused, filters


def discover_map(
    log: EventLog, *, level: Level = "detail", filters: Sequence[str] = ()
) -> MapResult:
    """Every number of the map of ``log`` (a detail-level, already focused log) at ``level``."""
    mapped = at_level(log, level)
    frame = mapped.frame
    names = _present_activities(frame, mapped.vocabulary)
    codes = activity_codes(frame, names)
    number, first, last = case_runs(frame)
    nodes = _nodes(mapped.vocabulary, names, codes, number, last)
    edges = _edges(frame, names, codes, number)
    start = _counts(names, codes[first])
    end = _counts(names, codes[last])
    rules = tuple(RuleRate.from_summary(s) for s in summarise(log))
    nodes, edges = _attach_rules(rules, nodes, edges, log.vocabulary, level)
    result = MapResult(
        level=level, nodes=nodes, edges=edges, start=start, end=end, as_at=mapped.as_at,
        period=mapped.period, cases=len(first), events=len(frame), filters=tuple(filters),
        timescales=rules,
    )
    check_with_pm4py(frame, result)
    return result


# ---------------------------------------------------------------------------------------
# Vectorised numbers


def _present_activities(frame: pd.DataFrame, vocabulary: Vocabulary) -> list[str]:
    """Activities in the log, in stage order (ties: the vocabulary's listing order)."""
    rank = stage_rank(vocabulary)
    present = set(frame[ACTIVITY].unique())
    unknown = sorted(present - set(rank))
    if unknown:
        raise UsageError(f"activities not in the stage vocabulary: {', '.join(unknown)}")
    return sorted(present, key=rank.__getitem__)


def stage_rank(vocabulary: Vocabulary) -> dict[str, int]:
    """0, 1, 2… over the vocabulary by (order, listing position): the map's reading order."""
    listed = sorted(enumerate(vocabulary.activities), key=lambda p: (p[1].order, p[0]))
    return {activity.name: i for i, (_, activity) in enumerate(listed)}


def _counts(names: list[str], codes: np.ndarray) -> dict[str, int]:
    counts = np.bincount(codes, minlength=len(names))
    return {name: int(c) for name, c in zip(names, counts) if c}


def _distinct_per_group(group: np.ndarray, case: np.ndarray, groups: int) -> np.ndarray:
    """How many distinct cases each group number has (a sort, not a hash: faster on 1M)."""
    if len(group) == 0:
        return np.zeros(groups, dtype="int64")
    width = int(case.max()) + 1
    pairs = np.sort(group * width + case)
    distinct = np.r_[True, pairs[1:] != pairs[:-1]]
    return np.bincount(pairs[distinct] // width, minlength=groups)


def _nodes(
    vocabulary: Vocabulary, names: list[str], codes: np.ndarray, number: np.ndarray,
    last: np.ndarray,
) -> tuple[Node, ...]:
    rank = stage_rank(vocabulary)
    terminal = vocabulary.terminal
    k = len(names)
    events = np.bincount(codes, minlength=k)
    cases = _distinct_per_group(codes, number, k)
    latest = codes[last]
    waiting = np.bincount(latest, minlength=k)
    return tuple(
        Node(
            id=f"n{rank[name]}", activity=name, terminal=name in terminal,
            events=int(events[i]), cases=int(cases[i]),
            waiting=0 if name in terminal else int(waiting[i]),
        )
        for i, name in enumerate(names)
    )


def _edges(
    frame: pd.DataFrame, names: list[str], codes: np.ndarray, number: np.ndarray
) -> tuple[Edge, ...]:
    """Counts, children and durations of every directly-follows pair, grouped by sorting."""
    same = number[1:] == number[:-1]
    k = len(names)
    key = (codes[:-1] * k + codes[1:])[same]
    if len(key) == 0:
        return ()
    stamps = frame[TIMESTAMP].to_numpy().astype("datetime64[ns]").astype("int64")
    # float days: a sum of nanoseconds overflows int64 past ~290 child-years
    gap = (stamps[1:] - stamps[:-1])[same] / _NS_PER_DAY
    # by edge, then by duration: a quicksort on durations, then a stable (radix) sort on the
    # small edge numbers, is twice as fast as lexsort on a million moves
    order = np.argsort(gap)
    order = order[np.argsort(key[order].astype(np.min_scalar_type(k * k)), kind="stable")]
    key, gap, case = key[order], gap[order], number[1:][same][order]
    first = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(key)])
    keys = key[starts]
    children = _distinct_per_group(np.cumsum(first) - 1, case, len(keys))
    median = _sorted_percentile(gap, starts, counts, 0.5)
    p90 = _sorted_percentile(gap, starts, counts, 0.9)
    total = np.add.reduceat(gap, starts)
    return tuple(
        Edge(
            source=names[int(kk) // k], target=names[int(kk) % k], count=int(counts[i]),
            cases=int(children[i]), median_days=float(median[i]), p90_days=float(p90[i]),
            child_days=float(total[i]),
        )
        for i, kk in enumerate(keys)
    )


def _sorted_percentile(
    values: np.ndarray, starts: np.ndarray, counts: np.ndarray, q: float
) -> np.ndarray:
    """numpy's linear percentile of each run ``values[starts[i]:starts[i]+counts[i]]`` (sorted).

    Same virtual index and the same two-sided interpolation as `numpy.percentile`, so the
    results match it to the last bit, without a Python loop per edge.
    """
    index = (counts - 1) * q
    below = np.floor(index).astype("int64")
    above = np.minimum(below + 1, counts - 1)
    t = index - below
    a = values[starts + below]
    b = values[starts + above]
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


# ---------------------------------------------------------------------------------------
# Timescales on the map


def _attach_rules(
    rules: tuple[RuleRate, ...], nodes: tuple[Node, ...], edges: tuple[Edge, ...],
    detail: Vocabulary, level: Level,
) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
    """Put each rule on its edge, else on its `from` stage (module docstring)."""
    on_edge: dict[tuple[str, str], list[RuleRate]] = {}
    on_node: dict[str, list[RuleRate]] = {}
    edge_keys = {e.key for e in edges}
    node_names = {n.activity for n in nodes}
    for rule in rules:
        source, target = rule.source, rule.target
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


def _rule_parts(rates: Iterable[RuleRate]) -> list[tuple[float, str]]:
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
