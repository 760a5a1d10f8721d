"""Maps and pressure points as a shareable output shows them: the disclosure engine, applied once.

`cscmining.disclosure` turns raw numbers into the values to show. This module applies it to
the process map and its pressure points, so that every renderer of a map (the DOT writer, the
report's tables, ``map --json``, ``bottlenecks``) draws the *same* protected values and none
protects on its own. It also runs the independent checker on what a command writes (`Guard`).

Decisions
---------
* **Protect the whole map, draw any part of it.** `ProtectedMap.of` takes the unsimplified
  map, whose flows are complete, so the sums that secondary suppression guards are the true
  ones. A simplified map is drawn by looking its items up here: showing fewer protected values
  never shows more.
* **Still-open journeys are a flow.** A child waiting at a stage is a journey that ends there
  so far. The map's sums treat those ends as moves into one "still open" sink whose total is
  the number of children still in the system, so that total (a headline figure) is protected
  with the rest: no waiting count hidden as ``c`` can be worked out from it.
* **Two measures, one pattern.** Events and moves, and children, are protected together: an
  edge of 8 moves by 4 children is ``c`` (`disclosure.protect_graphs`).
* **Durations** (median, 90th percentile, child-days) follow their edge's children as shown;
  a timescale's share over the limit is ``c`` when its late or decided count is.
* **Pressure points** keep cscmining's ranking, but one is shown only when its own counts are
  shown and at least one reason can be said in shown figures; shown points are numbered 1, 2,
  … afresh, so a gap never hints that one was held back. A reason is a `Phrase`: text with its
  counts as `Figure`s, which renderers put in elements of their own (the checker's
  count-position convention). At shareable levels a reason gives shares, not the late and
  decided counts behind them, and no total of child-days is shown: durations are not part of
  the sums secondary suppression guards.
* **Dates** of the data period are shown to the month; the as-at date and the ``--from`` /
  ``--to`` dates to the day (to the month at strict). They are the only dates `Guard` allows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from .columns import CASE
from .compare import (
    Comparison,
    Delta,
    Measure,
    Side,
    comparison_notes,
    duration_step,
    rank_shifts,
    volume_step,
)
from .disclosure import (
    LOW,
    NOT_APPLICABLE,
    RULES_VERSION,
    SUPPRESSED,
    Count,
    DisclosureError,
    FlowGraph,
    Kind,
    Policy,
    Shown,
    Term,
    check_file,
    check_text,
    coarsen_date,
    complete_suppression,
    protect_count,
    protect_duration,
    protect_graphs,
    protect_share,
)
from .discover import MIN_SCORE, Edge, Hidden, MapResult, Node, PressurePoint
from .errors import UsageError
from .eventlog import EventLog
from .focus import Level
from .render import days
from .timescales import RuleSummary

#: the sink of journeys still open at the as-at date, in the map's sums (never an activity)
OPEN = "\x00still open"
#: English month names, whatever the machine's locale
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Figure:
    """A count inside a sentence: renderers give it an element of its own."""

    value: Count


Phrase = tuple["str | Figure", ...]
"""A sentence as text and counts, e.g. ``(Figure(42), " children waiting")``."""


def phrase_text(phrase: Phrase) -> str:
    """The phrase as plain text (terminal tables, where the file checker does not look)."""
    return "".join(format_shown(p.value) if isinstance(p, Figure) else p for p in phrase)


def format_shown(value: Shown) -> str:
    """A shown value as text: counts with thousands separators, symbols as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def shown_percent(value: Shown) -> str:
    """A shown whole percentage: ``35%``; ``<1%`` for k (low, not zero); ``c%``, ``z%``."""
    return "<1%" if value == LOW else f"{value}%"


def shown_days(value: Shown) -> str:
    """A shown duration in days as people read it (``3 d``, ``12 wk``), or its symbol."""
    return value if isinstance(value, str) else days(float(value))


def _pct_value(value: Shown) -> float:
    """A shown percentage as a number to rank by (a symbol ranks last)."""
    return -1.0 if isinstance(value, str) else float(value)


def whole_percent(share: float) -> Shown:
    """A share (0 … 1) as a whole percentage, half up; ``k`` when it is not zero but rounds
    to it (SDC-6)."""
    pct = math.floor(100 * share + 0.5)
    return LOW if share > 0 and pct == 0 else pct


# ---------------------------------------------------------------------------------------
# The shown map


@dataclass(frozen=True)
class ShownRate:
    """A timescale rule on a map item, as shown: the share of decided children over it."""

    rule: str
    label: str
    over: Shown


@dataclass(frozen=True)
class ShownNode:
    """A stage as shown. ``waiting`` is 0 at a terminal stage (a journey that ended)."""

    activity: str
    events: Count
    cases: Count
    waiting: Count
    rates: tuple[ShownRate, ...]

    @property
    def hidden(self) -> bool:
        return self.events == SUPPRESSED

    @property
    def over(self) -> Shown | None:
        return _worst(self.rates)


@dataclass(frozen=True)
class ShownEdge:
    """A move between stages as shown; durations are whole days, or ``c``/``z``."""

    source: str
    target: str
    count: Count
    cases: Count
    median_days: Shown
    p90_days: Shown
    child_days: Shown
    days_share: Shown
    rates: tuple[ShownRate, ...]

    @property
    def key(self) -> tuple[str, str]:
        return self.source, self.target

    @property
    def hidden(self) -> bool:
        return self.count == SUPPRESSED

    @property
    def over(self) -> Shown | None:
        return _worst(self.rates)


@dataclass(frozen=True)
class ShownPoint:
    """A pressure point as shown: renumbered ``rank``, the item, its reasons as phrases."""

    rank: int
    kind: str
    where: str
    item: ShownNode | ShownEdge
    reasons: tuple[Phrase, ...]
    highlighted: bool

    @property
    def key(self) -> tuple[str, ...]:
        item = self.item
        return item.key if isinstance(item, ShownEdge) else (item.activity,)

    def to_dict(self) -> dict[str, Any]:
        """For ``--json``: shown values only; keys name what is not a count."""
        item = self.item
        out: dict[str, Any] = {
            "rank": self.rank, "kind": self.kind, "where": self.where,
            "highlighted": self.highlighted,
            "reasons": [phrase_text(r) for r in self.reasons], "cases": item.cases,
            "over_timescale_pct": item.over,
        }
        if isinstance(item, ShownEdge):
            out.update(source=item.source, target=item.target, count=item.count,
                       median_days=item.median_days, p90_days=item.p90_days,
                       child_days=item.child_days, child_days_pct=item.days_share)
        else:
            out.update(activity=item.activity, events=item.events, waiting=item.waiting)
        return out


def _worst(rates: Iterable[ShownRate]) -> Shown | None:
    """The largest shown share over a limit; ``c`` when every share is hidden."""
    shown = [r.over for r in rates if not isinstance(r.over, str)]
    if shown:
        return max(shown)
    symbols = [r.over for r in rates]
    return SUPPRESSED if SUPPRESSED in symbols else (symbols[0] if symbols else None)


def _rates(rates: Iterable[RuleSummary], policy: Policy) -> tuple[ShownRate, ...]:
    return tuple(ShownRate(r.name, r.label, protect_share(r.late, r.decided, policy))
                 for r in rates)


@dataclass(frozen=True)
class ProtectedMap:
    """Every number of one (unsimplified) map as a shareable output may show it.

    Build it with `ProtectedMap.of`. ``cases`` is the number of children, ``open`` the
    children still in the system at the as-at date.
    """

    policy: Policy
    level: Level
    as_at: date
    period: tuple[date, date] | None
    filters: tuple[str, ...]
    nodes: Mapping[str, ShownNode]
    edges: Mapping[tuple[str, str], ShownEdge]
    start: Mapping[str, Count]
    end: Mapping[str, Count]
    cases: Count
    open: Count

    @classmethod
    def of(cls, result: MapResult, policy: Policy) -> ProtectedMap:
        """Protect every count, duration and share of ``result`` (module docstring)."""
        if result.hidden:
            raise ValueError("protect the whole map, then draw a simplified one from it")
        events, children = protect_graphs(
            [_flow_graph(result, lambda n: n.events, lambda e: e.count),
             _flow_graph(result, lambda n: n.cases, lambda e: e.cases)], policy)
        nodes = {n.activity: _shown_node(n, events, children, policy) for n in result.nodes}
        total_days = result.total_child_days
        edges = {e.key: _shown_edge(e, events, children, total_days, policy)
                 for e in result.edges}
        terminal = {n.activity for n in result.nodes if n.terminal}
        end = {a: (events.end[a] if a in terminal else events.edges[(a, OPEN)])
               for a in result.end}
        return cls(
            policy=policy, level=result.level, as_at=result.as_at, period=result.period,
            filters=tuple(coarsen_text(f, policy) for f in result.filters),
            nodes=nodes, edges=edges, start=dict(events.start), end=end,
            cases=events.cases if events.cases is not None else 0,
            open=events.nodes.get(OPEN, 0),
        )

    def points(self, ranked: Sequence[PressurePoint],
               highlighted: Iterable[PressurePoint] = ()) -> list[ShownPoint]:
        """The ranked pressure points that can be shown, renumbered (module docstring).

        ``highlighted`` are those the map marks (its top few), so a table can say which.
        """
        marked = {_point_key(p) for p in highlighted}
        shown: list[ShownPoint] = []
        for point in ranked:
            item = (self.edges[point.item.key] if isinstance(point.item, Edge)
                    else self.nodes[point.item.activity])
            if item.hidden:
                continue
            reasons = self._reasons(point, item)
            if reasons:
                shown.append(ShownPoint(len(shown) + 1, point.kind, point.where, item, reasons,
                                        _point_key(point) in marked))
        return shown

    def _reasons(self, point: PressurePoint, item: ShownNode | ShownEdge) -> tuple[Phrase, ...]:
        """Why the point presses, in shown figures: its strongest reason (the one that gave
        its score), then any other of at least `MIN_SCORE`, as `discover.rank_pressure` says
        them. A point whose strongest reason is hidden is not shown at all: its other reasons
        would present it for something it was not chosen for."""
        raw = point.item
        strongest = next((i for i, r in enumerate(raw.timescales)
                          if r.breach_rate == point.score), None)
        base = self._base_reason(item)
        rules = [(None if isinstance(r.over, str) else float(r.over),
                  None if isinstance(r.over, str) else
                  (f"{shown_percent(r.over)} miss the timescale: {r.label}",))
                 for r in item.rates]
        first = base if strongest is None else rules[strongest]
        if first[1] is None:
            return ()
        others = [base, *rules]
        others.remove(first)
        kept = sorted((p for p in others if p[1] is not None and p[0] is not None
                       and p[0] >= 100 * MIN_SCORE), key=lambda p: -float(p[0] or 0))
        return (first[1], *(said for _, said in kept if said is not None))

    def _base_reason(self, item: ShownNode | ShownEdge) -> tuple[float | None, Phrase | None]:
        """The share of all child-days (an edge) or of all waiting children (a stage), as
        (shown percentage, phrase); (None, None) when it is hidden or nothing."""
        if isinstance(item, ShownEdge):
            if isinstance(item.days_share, str):
                return None, None
            return float(item.days_share), (
                f"holds {shown_percent(item.days_share)} of all child-days",)
        if item.waiting in (0, SUPPRESSED):
            return None, None
        share = protect_share(item.waiting, self.open, self.policy)
        noun = "child" if item.waiting == 1 else "children"
        return _pct_value(share), (
            Figure(item.waiting), f" {noun} waiting ({shown_percent(share)} of all waiting)")

    def without_hidden(self, result: MapResult) -> MapResult:
        """``result`` (this map, or a simplified one) without what is shown as ``c``: the
        map of the paths at least K children took, for a clearer picture. Stages left with
        no line go too. Nothing left is ``c``, so no sum it draws can work one out."""
        shown = {a for a in (n.activity for n in result.nodes) if not self.nodes[a].hidden}
        edges = tuple(e for e in result.edges
                      if {e.source, e.target} <= shown and not self.edges[e.key].hidden)
        start = {a: n for a, n in result.start.items()
                 if a in shown and self.start[a] != SUPPRESSED}
        end = {a: n for a, n in result.end.items() if a in shown and self.end[a] != SUPPRESSED}
        linked = {*start, *end, *(a for e in edges for a in e.key)}
        kept = [n for n in result.nodes if n.activity in linked]
        drawn = {e.key for e in edges} | {("start", a) for a in start} | {(a, "end") for a in end}
        links = ({e.key for e in result.edges} | {("start", a) for a in result.start}
                 | {(a, "end") for a in result.end})
        gone = [n.activity for n in result.nodes if n.activity not in linked]
        hidden = Hidden(activities=(*result.hidden.activities, *gone),
                        paths=result.hidden.paths + len(links - drawn))
        return replace(result, nodes=tuple(kept), edges=edges, start=start, end=end,
                       hidden=hidden)

    # --- dates

    def day(self, value: date) -> str:
        """An aggregate date as text: ``31 Mar 2025``, or ``Mar 2025`` at strict."""
        return shown_date(value, self.policy)

    def period_text(self) -> str:
        """The data period, to the month: ``Apr 2017 to Mar 2025``."""
        if self.period is None:
            return "no events"
        first, last = (month_text(d) for d in self.period)
        return first if first == last else f"{first} to {last}"

    # --- machines

    def to_dict(self) -> dict[str, Any]:
        """``map --json`` in the SPEC's shape, with shown values (keys name what is not a
        count: ``*_days``, ``*_pct``, ``limit``)."""
        return {
            "nodes": [{"activity": n.activity, "events": n.events, "cases": n.cases,
                       "waiting": n.waiting, "over_timescale_pct": n.over}
                      for n in self.nodes.values()],
            "edges": [{"source": e.source, "target": e.target, "count": e.count,
                       "cases": e.cases, "median_days": e.median_days,
                       "p90_days": e.p90_days, "child_days": e.child_days,
                       "child_days_pct": e.days_share,
                       "over_timescale_pct": e.over}
                      for e in self.edges.values()],
            "start": dict(self.start),
            "end": dict(self.end),
            "as_at": coarsen_date(self.as_at, self.policy),
            "level": self.level,
            "filters": list(self.filters),
            "cases": self.cases,
            "disclosure": self.policy.level,
            "disclosure_rules": RULES_VERSION,
        }


def _flow_graph(result: MapResult, node_value: Any, edge_value: Any) -> FlowGraph[int]:
    """One measure of the map as the sums a reader can form (module docstring: `OPEN`)."""
    terminal = {n.activity for n in result.nodes if n.terminal}
    waiting = {a: n for a, n in result.end.items() if a not in terminal}
    nodes = {n.activity: int(node_value(n)) for n in result.nodes}
    edges = {e.key: int(edge_value(e)) for e in result.edges}
    end = {a: n for a, n in result.end.items() if a in terminal}
    if waiting:
        nodes[OPEN] = sum(waiting.values())
        edges.update({(a, OPEN): n for a, n in waiting.items()})
        end[OPEN] = nodes[OPEN]
    return FlowGraph(nodes, edges, dict(result.start), end, result.cases)


def _shown_node(node: Node, events: FlowGraph[Count], children: FlowGraph[Count],
                policy: Policy) -> ShownNode:
    waiting = 0 if node.terminal else events.edges.get((node.activity, OPEN), 0)
    return ShownNode(node.activity, events.nodes[node.activity],
                     children.nodes[node.activity], waiting, _rates(node.timescales, policy))


def _shown_edge(edge: Edge, events: FlowGraph[Count], children: FlowGraph[Count],
                total_days: float, policy: Policy) -> ShownEdge:
    """An edge as shown; its share of all child-days only where its child-days are shown."""
    cases = children.edges[edge.key]
    child_days = protect_duration(edge.child_days, cases, policy)
    share: Shown = child_days if isinstance(child_days, str) else \
        whole_percent(edge.child_days / total_days if total_days else 0.0)
    return ShownEdge(
        edge.source, edge.target, events.edges[edge.key], cases,
        protect_duration(edge.median_days, cases, policy),
        protect_duration(edge.p90_days, cases, policy),
        child_days, share, _rates(edge.timescales, policy),
    )


def _point_key(point: PressurePoint) -> tuple[str, ...]:
    item = point.item
    return item.key if isinstance(item, Edge) else (item.activity,)


def _measures(result: MapResult, policy: Policy) -> list[tuple[FlowGraph[int], FlowGraph[Count]]]:
    """The map's two measures (events and moves; children), each raw and as shown."""
    raw = [_flow_graph(result, lambda n: n.events, lambda e: e.count),
           _flow_graph(result, lambda n: n.cases, lambda e: e.cases)]
    return list(zip(raw, protect_graphs(raw, policy), strict=True))


def check_complement(filtered: MapResult, whole: MapResult, policy: Policy, *,
                     what: str) -> None:
    """Refuse a filtered strict map whose excluded children are 1 … K-1 (T-SDC-10).

    Two shareable outputs of one log, one for every child and one filtered ("all
    referrals" and "referrals outside team North"), give the excluded children's count by
    subtraction, though neither shows it. Wherever the filtered map shows a count (children,
    a stage, a move, a start or end, either measure) and the same count for every child
    (``whole``: the map without the filters) exceeds it by 1 … K-1, the filter is refused:
    `UsageError`, saying which filter and why, never a value. A filter that leaves out
    nobody or at least K children at every count passes. Only differences against the
    *unfiltered* map are caught, not between two filtered outputs (README).

    Only at strict: a count worked out by subtraction is what secondary suppression guards
    against, and the SPEC gives that to strict (for sharing beyond the LA); at standard,
    inside the LA, a filtered report (one team, one age band) would be refused for almost any
    rare move on the detail map.
    """
    if not policy.secondary:
        return
    whole_terms = [graph.terms() for graph, _ in _measures(whole, policy)]
    for (graph, shown), everyone in zip(_measures(filtered, policy), whole_terms, strict=True):
        shown_terms = shown.terms()
        for term, n in graph.terms().items():
            left_out = everyone.get(term, n) - n
            if shown_terms[term] != SUPPRESSED and 0 < left_out < policy.threshold:
                raise UsageError(
                    f"{what} leaves out fewer than {policy.threshold} children at some count "
                    "of the map: beside an output for every child, subtraction would show "
                    "them (cross-output differencing). Widen the filter, drop it, or use "
                    "--disclosure none for your own use")


# ---------------------------------------------------------------------------------------
# The comparison


_SIDES = ("a", "b")


def protect_comparison(comparison: Comparison, policy: Policy, *,
                       whole: MapResult | None = None) -> Comparison:
    """The comparison as a shareable output may show it: every count, rate, change, median,
    colour step and shift drawn from protected counts.

    Each side's counts (children, events, each stage's events and each move's count, with
    the children behind each as a second measure of one pattern) go through the engine. At
    strict, secondary suppression guards every sum a reader can form: a side's events are
    its stages' sum, and, when ``whole`` (the unsimplified map the same output shows, or that
    would be shared beside it, at the comparison's level) is given, side A plus side B equals the whole map wherever that
    holds in the raw numbers (cohorts covering every child; periods covering every event)
    — checked, not assumed, since with ``--split-date`` a child can be on both sides. The
    whole map's own flows are part of the system and its values are fixed (it is drawn
    already): only the comparison's counts are hidden to protect its ``c``s.

    Then rates come from shown counts (per 100 *shown* children), steps and shifts are
    worked out again from those rates, medians are shown only from K children on a side,
    and dates are shown to the month. A change beside a hidden count is ``c``.
    """
    if not policy.shareable:
        return comparison
    if comparison.hidden:
        raise ValueError("protect the whole comparison, then draw a simplified one from it")
    counts, cases = _comparison_terms(comparison)
    shown = {t: protect_count(v, policy) for t, v in counts.items()}
    hidden = {t for t in counts if SUPPRESSED in (shown[t], protect_count(cases[t], policy))}
    if policy.secondary:
        hidden = _comparison_secondary(comparison, counts, hidden, whole, policy)
    value: dict[Term, Count] = {t: SUPPRESSED if t in hidden else shown[t] for t in counts}
    sides = [_shown_side(side, tag, comparison, value, policy) for side, tag in
             zip((comparison.a, comparison.b), _SIDES, strict=True)]
    stages = tuple(_shown_delta(d, sides, value, cases, policy) for d in comparison.stages)
    edges = tuple(_shown_delta(d, sides, value, cases, policy) for d in comparison.edges)
    out = replace(comparison, a=sides[0], b=sides[1], overlap=value[("overlap",)],
                  stages=stages, edges=edges, months=True, overlap_note=False,
                  shifts=rank_shifts(stages, edges, sides[0], sides[1], comparison.level,
                                     comparison.rate_words))
    return replace(out, notes=comparison_notes(out))


def _item_term(side: str, delta: Delta) -> Term:
    return (side, delta.kind, *delta.key)


def _comparison_terms(comparison: Comparison) -> tuple[dict[Term, int], dict[Term, int]]:
    """Every count the comparison shows, by term, and the children behind each."""
    counts: dict[Term, int] = {("overlap",): int(comparison.overlap)}
    cases: dict[Term, int] = {("overlap",): int(comparison.overlap)}
    for tag, side in zip(_SIDES, (comparison.a, comparison.b), strict=True):
        for name in ("children", "events"):
            counts[(tag, name)] = cases[(tag, name)] = int(getattr(side, name))
        for delta in (*comparison.stages, *comparison.edges):
            measure = delta.a if tag == "a" else delta.b
            counts[_item_term(tag, delta)] = int(measure.count)
            cases[_item_term(tag, delta)] = int(measure.cases)
    return counts, cases


def _holds(equation: Mapping[Term, int], values: Mapping[Term, int | None]) -> bool:
    return all(values.get(t) is not None for t in equation) and \
        sum(c * int(values[t] or 0) for t, c in equation.items()) == 0


def _comparison_secondary(comparison: Comparison, counts: dict[Term, int], hidden: set[Term],
                          whole: MapResult | None, policy: Policy) -> set[Term]:
    """Hide more of the comparison's counts until no ``c`` can be worked out (SDC-4) from
    the sums the output shows (see `protect_comparison`)."""
    values: dict[Term, int | None] = dict(counts)
    equations: list[dict[Term, int]] = [
        {(tag, "events"): 1, **{_item_term(tag, d): -1 for d in comparison.stages}}
        for tag in _SIDES]
    fixed: set[Term] = set()
    if whole is not None:
        graph, shown_graph = _measures(whole, policy)[0]
        for term, n in graph.terms().items():
            values[("whole", *term)] = n
            fixed.add(("whole", *term))
            if shown_graph.terms()[term] == SUPPRESSED:
                hidden.add(("whole", *term))
        equations += [{("whole", *t): c for t, c in eq.items()} for eq in graph.equations()]
        equations += [{("a", *t): 1, ("b", *t): 1, ("whole", "node" if t[0] == "stage"
                                                    else "edge", *t[1:]): -1}
                      for t in {t[1:] for t in counts if t[0] == "a" and len(t) > 2}]
        equations.append({("a", "children"): 1, ("b", "children"): 1, ("overlap",): -1,
                          ("whole", "cases"): -1})
    kept = [eq for i, eq in enumerate(equations) if i < len(_SIDES) or _holds(eq, values)]
    return set(complete_suppression(values, hidden, kept, frozenset(fixed)))


def _shown_side(side: Side, tag: str, comparison: Comparison, value: Mapping[Term, Count],
                policy: Policy) -> Side:
    """A side with shown counts; rates per 100 *shown* children (none when hidden). A
    period's label is its window to the month (its first day can be one child's first
    event); a cohort's, its conditions with their ISO days cut to months at strict."""
    children = value[(tag, "children")]
    unit = side.unit
    if comparison.per == "children":
        unit = 100 / children if isinstance(children, int) and children else 0.0
    days_ = protect_duration(side.child_days, children, policy)
    label = (" to ".join(month_text(d) for d in side.window)
             if comparison.mode == "period" else coarsen_text(side.label, policy))
    return replace(side, label=label, children=children, events=value[(tag, "events")],
                   unit=unit,
                   child_days=float(days_) if isinstance(days_, int | float) else 0.0)


def _shown_measure(measure: Measure, term: Term, side: Side, value: Mapping[Term, Count],
                   cases: Mapping[Term, int], policy: Policy) -> Measure:
    count = value[term]
    children = SUPPRESSED if count == SUPPRESSED else protect_count(cases[term], policy)
    median = protect_duration(measure.median_days, children, policy)
    timed = SUPPRESSED if count == SUPPRESSED else protect_count(measure.timed, policy)
    rate = side.rate(count) if side.unit else None
    return Measure(count=count, cases=children, timed=timed,
                   median_days=None if median == NOT_APPLICABLE else median, rate=rate)


def _shown_delta(delta: Delta, sides: Sequence[Side], value: Mapping[Term, Count],
                 cases: Mapping[Term, int], policy: Policy) -> Delta:
    a, b = (_shown_measure(m, _item_term(tag, delta), side, value, cases, policy)
            for m, tag, side in zip((delta.a, delta.b), _SIDES, sides, strict=True))
    return replace(delta, a=a, b=b, volume_step=volume_step(a, b, sides[0].unit, sides[1].unit),
                   duration_step=duration_step(a, b))


# ---------------------------------------------------------------------------------------
# Dates


def month_text(value: date) -> str:
    """``Mar 2025``, in English whatever the machine's locale."""
    return f"{MONTHS[value.month - 1]} {value.year}"


def shown_date(value: date, policy: Policy) -> str:
    """An aggregate date as people read it: ``31 Mar 2025``, or ``Mar 2025`` at strict."""
    month = month_text(value)
    return month if policy.date_granularity == "month" else f"{value.day} {month}"


_ISO_DAY = re.compile(r"(?<![0-9])([0-9]{4}-[0-9]{2})-[0-9]{2}(?![0-9])")


def coarsen_text(text: str, policy: Policy) -> str:
    """A filter description with its ISO days cut to months at strict (SDC-8)."""
    return _ISO_DAY.sub(r"\1", text) if policy.date_granularity == "month" else text


# ---------------------------------------------------------------------------------------
# The checker, for one run


@dataclass(frozen=True)
class Guard:
    """The independent checker (`disclosure.check_file`) with what one run must not show:
    the input child ids, and every date but the as-at date and the dates the user asked for.
    """

    policy: Policy
    forbidden_ids: frozenset[str]
    allowed_dates: frozenset[date]

    @classmethod
    def for_log(cls, log: EventLog, policy: Policy, *dates: date | None) -> Guard:
        """A guard for outputs of ``log``; ``dates`` are the ``--from``/``--to`` it was given."""
        ids = frozenset(log.frame[CASE].astype(str).unique().tolist())
        return cls(policy, ids, frozenset([log.as_at, *(d for d in dates if d is not None)]))

    def file(self, path: Path, kind: Kind, *, final: Path | None = None) -> None:
        """Check a written file (a temporary one, named as ``final`` in the error)."""
        try:
            check_file(path, self.policy, kind=kind, forbidden_ids=self.forbidden_ids,
                       allowed_dates=self.allowed_dates)
        except DisclosureError as exc:
            raise DisclosureError(final or path, exc.findings) from None

    def text(self, text: str, kind: Kind, *, where: str) -> None:
        """Check text before it is printed or drawn into a format the checker cannot read."""
        findings = check_text(text, self.policy, kind=kind, forbidden_ids=self.forbidden_ids,
                              allowed_dates=self.allowed_dates)
        if findings:
            raise DisclosureError(where, findings)
