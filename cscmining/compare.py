"""Compare two views of children's journeys: before and after a date, or two cohorts.

Analysts ask two questions of a service change: "what changed after the new front door opened
on 1 October?" and "how do journeys in the North team differ from the South?" Both compare two
maps, side A and side B, stage by stage and move by move; a change is always B − A.

Sides
-----
**Periods** (``split_date``): A is *before* the split date, B *from* it on. A move (edge) is
counted in the period of its first event, the day the child's clock on that step started, with
its full duration even when its second event falls after the split: a referral on 28 September
assessed on 3 October is a *before* move of 5 days. That is the fair reading of a change at the
front door: a step that started the old way counts for the old way, and the first weeks after
the split are not flattered by steps that started before it. A stage's events count in their
own period. A child whose journey spans the date is on both sides (``overlap`` says how many).
``where`` picks the children of both periods (``team=North``: North before and after).

**Cohorts** (``where`` vs ``vs``, ``KEY=VALUE`` as in `cscmining.focus`): A is the children
matching ``where``, B those matching ``vs``. A child matching both is on both sides (an event
attribute such as ``team`` can hold both values over a journey); a note says how many.

**Windows** (``start``, ``end``, inclusive): only events on those days are counted, moves by
their first event as above. For periods they bound the two periods: after runs from the split
date to ``end`` (default: the as-at date), before from ``start`` to the day before the split.
Equal windows compare best, so without ``start`` the before period is as long as the after
one (from the first event if the data start later; a note says when the lengths differ). For
cohorts they give both sides the same window; without them each cohort's numbers are exactly
``cscmining map --where …``.

**Children** on a side are those *active* in its window (their journey's span overlaps it,
`cscmining.focus`) who match its conditions: what ``map --from --to --where`` counts.

Measures
--------
Both sides are mapped by `discover.discover_map`, on the side's events at the chosen level
(the journey is summarised into visits first, then windowed, so a visit that began before the
split stays a *before* visit). The side's moves are discovered with each child's first event
after the window appended (the *bridge*), so moves leaving the window keep their true duration;
its stages from the events in the window only.

- **Volume**: a stage's events (visits at summary level) or an edge's moves as a **rate**
  (`Per`): per 100 children of the side, so a cohort twice the size does not look twice as busy
  (the default for cohorts); or per month of the side's window (the default for periods). The
  same children over time are one population: per 100 *active* children would read a rise in
  contacts (more children) as a fall in every other stage, and a return that starts recording
  a list in one period (Annex A's six months) does the same. Either base can be asked for.
- **Duration**: an edge's median days; a stage's median days from its event to the child's next
  step (all of the stage's outgoing moves pooled).

Each change falls in a *step* from −3 to +3 (`STEPS`: under 10% is 0, "little change"). A
volume change also counts as little while it is within chance for the numbers behind it
(`NOISE_Z` standard errors, counts taken as Poisson: a rough guard against reading 1 → 3 as
+200%, not a formal test). A duration change needs `MIN_MOVES` timed moves on each side and at
least `MIN_DAYS`; otherwise it is not compared (``None``).

Largest shifts
--------------
Each edge and stage is scored like `discover.rank_pressure`, by the larger of two shares:

- *volume*: its change in rate as a share of all moves (edges) or all events (stages), both
  as rates averaged over the two sides;
- *duration* (edges only): the change in median days times the edge's rate (the two sides'
  mean), as a share of all child-days as a rate, averaged over the sides.

A stage's duration is its outgoing moves pooled, which the edges already rank, so stages rank
by volume only. Only changes with a non-zero step score; `Comparison.shifts` keeps those scoring
at least `MIN_SHIFT`, highest first, ties to the item touching more children, then edges before
stages in stage order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from .columns import ACTIVITY, CASE, TIMESTAMP
from .disclosure import SUPPRESSED, Count
from .discover import Edge, Hidden, MapResult, Node, discover_map, stage_rank
from .errors import UsageError
from .eventlog import EventLog
from .focus import Condition, Level, case_runs, describe_focus, focus
from .render import day, days, number, plural
from .vocabulary import Vocabulary

Mode = Literal["period", "cohort"]
Metric = Literal["volume", "duration"]
METRICS: tuple[Metric, ...] = ("volume", "duration")
Per = Literal["children", "month"]
PER: tuple[Per, ...] = ("children", "month")
Kind = Literal["stage", "edge"]
Status = Literal["both", "new", "gone"]

#: how a rate reads after its number
RATE_WORDS: dict[Per, str] = {"children": "per 100 children", "month": "a month"}
#: a month in days: a rate "a month" is per this many days of the side's window
MONTH_DAYS = 365.25 / 12
#: relative changes from which a change is a step of 1, 2 and 3 (either way)
STEPS = (0.10, 0.25, 0.50)
#: a volume change is coloured only beyond this many standard errors
NOISE_Z = 2.0
#: medians are compared only with at least this many timed moves on each side
MIN_MOVES = 5
#: and only when they differ by at least this many days
MIN_DAYS = 1.0
#: a change is listed as a shift only with a score of at least this
MIN_SHIFT = 0.01
#: JSON floats are rounded to this many decimals
_DECIMALS = 6
_ONE_DAY = timedelta(days=1)
#: windows whose lengths differ by more than this ratio get a note
_UNEQUAL = 1.1


def _rounded(value: float | str | None) -> float | str | None:
    """A float for JSON at `_DECIMALS`; a symbol (``c``) or None as it is."""
    return value if value is None or isinstance(value, str) else round(float(value), _DECIMALS)


def _iso(value: date | None, months: bool) -> str | None:
    """A date for JSON: ``2024-10-01``, or ``2024-10`` to the month."""
    if value is None:
        return None
    return value.isoformat()[:7] if months else value.isoformat()


def _counted(n: Count, one: str, many: str) -> str:
    """``1 child``, ``400 children``, ``c children``."""
    return f"{n} {many}" if isinstance(n, str) else plural(n, one, many)


# ---------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Side:
    """One side: its name (before/after, A/B), what it holds in words, its size.

    ``unit`` turns a count into the side's rate (``100 / children`` or ``MONTH_DAYS /
    window days``); ``child_days`` is the days of all the side's moves (the base of a
    duration shift's score). A shown side (`protected.protect_comparison`) holds ``c`` for
    a hidden count.
    """

    name: str
    label: str
    children: Count
    events: Count
    window: tuple[date, date]
    unit: float
    conditions: tuple[str, ...] = ()
    child_days: float = 0.0

    @property
    def window_days(self) -> int:
        return (self.window[1] - self.window[0]).days + 1

    def rate(self, n: Count) -> float | None:
        """A count on the comparison's base; None for a hidden one."""
        return None if isinstance(n, str) else n * self.unit

    def to_dict(self, *, months: bool = False) -> dict[str, Any]:
        """``months``: a shown side (`Comparison.months`): its window to the month, and no
        length in days (with the window's end, that would give its first day)."""
        return {
            "name": self.name, "label": self.label, "children": self.children,
            "events": self.events,
            "window": {"from": _iso(self.window[0], months), "to": _iso(self.window[1], months)},
            "window_days": None if months else self.window_days,
            "conditions": list(self.conditions), "child_days": _rounded(self.child_days),
        }


@dataclass(frozen=True)
class Measure:
    """One side's numbers for one stage or edge.

    ``count`` is events (stage) or moves (edge), ``rate`` the same on the comparison's base;
    ``timed`` the moves behind ``median_days`` (an edge's moves; a stage's events followed by
    a next step). A shown measure holds ``c`` for a hidden count, a rate of None beside it,
    and ``c`` for a median it may not show.
    """

    count: Count
    cases: Count
    timed: Count
    median_days: float | str | None
    rate: float | None

    @property
    def hidden(self) -> bool:
        return self.count == SUPPRESSED

    def to_dict(self) -> dict[str, Any]:
        """A hidden count's rate is ``c`` too (SDC-10), not a missing value."""
        return {"count": self.count, "cases": self.cases, "timed": self.timed,
                "median_days": _rounded(self.median_days),
                "rate": SUPPRESSED if self.hidden else _rounded(self.rate)}


NOTHING = Measure(count=0, cases=0, timed=0, median_days=None, rate=0.0)


@dataclass(frozen=True)
class Delta:
    """A stage (``key`` one activity) or an edge (two) on both sides, and its change B − A."""

    kind: Kind
    key: tuple[str, ...]
    ids: tuple[str, ...]
    a: Measure
    b: Measure
    volume_step: int
    duration_step: int | None

    @property
    def where(self) -> str:
        return " → ".join(self.key)

    @property
    def status(self) -> Status:
        if self.a.count == 0:
            return "new"
        return "gone" if self.b.count == 0 else "both"

    @property
    def rate_change(self) -> float | None:
        """B − A of the rates; None when a side's count is hidden."""
        if self.a.rate is None or self.b.rate is None:
            return None
        return self.b.rate - self.a.rate

    @property
    def rate_share(self) -> float | None:
        """The relative change of the rate (None when A has none, or a side is hidden)."""
        change = self.rate_change
        return None if change is None or not self.a.rate else change / self.a.rate

    @property
    def median_change(self) -> float | None:
        a, b = self.a.median_days, self.b.median_days
        if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
            return None
        return b - a

    def step(self, metric: Metric) -> int | None:
        return self.volume_step if metric == "volume" else self.duration_step

    def to_dict(self) -> dict[str, Any]:
        """A change beside a hidden count or median is ``c``, as `change_text` says it."""
        names = ({"activity": self.key[0]} if self.kind == "stage"
                 else {"source": self.key[0], "target": self.key[1]})
        volume = SUPPRESSED if self.a.hidden or self.b.hidden else None
        duration = SUPPRESSED if SUPPRESSED in (self.a.median_days, self.b.median_days) else None
        return {
            **names, "status": self.status, "a": self.a.to_dict(), "b": self.b.to_dict(),
            "rate_change": volume or _rounded(self.rate_change),
            "rate_share": volume or _rounded(self.rate_share),
            "median_change_days": duration or _rounded(self.median_change),
            "volume_step": self.volume_step, "duration_step": self.duration_step,
        }


@dataclass(frozen=True)
class Shift:
    """A stage or edge that changed a lot, with the reasons in words (strongest first).

    ``scores`` holds the volume and the duration share (module docstring); ``score`` is the
    larger, and ``measure`` says which.
    """

    rank: int
    item: Delta
    scores: dict[Metric, float]
    reasons: tuple[str, ...]

    @property
    def score(self) -> float:
        return max(self.scores.values())

    @property
    def measure(self) -> Metric:
        return max(METRICS, key=lambda m: self.scores[m])

    @property
    def text(self) -> str:
        """``Referral → Assessment start: median up from 4 d to 11 d``."""
        return f"{self.item.where}: {'; '.join(self.reasons)}"

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "kind": self.item.kind, "where": self.item.where,
                "measure": self.measure, "score": _rounded(self.score),
                "volume_score": _rounded(self.scores["volume"]),
                "duration_score": _rounded(self.scores["duration"]),
                "reasons": list(self.reasons), "text": self.text}


@dataclass(frozen=True)
class Comparison:
    """Two sides, every stage and edge on either, and the largest shifts (``compare --json``).

    ``stages`` are in stage order, ``edges`` in (source, target) stage order; ids are the
    map's (``n<k>`` by the vocabulary), so a stage has the same id here as on ``map``.
    """

    mode: Mode
    level: Level
    per: Per
    as_at: date
    split_date: date | None
    a: Side
    b: Side
    overlap: Count
    stages: tuple[Delta, ...]
    edges: tuple[Delta, ...]
    shifts: tuple[Shift, ...]
    notes: tuple[str, ...] = ()
    hidden: Hidden = field(default_factory=Hidden)
    months: bool = False
    overlap_note: bool = True

    def date_text(self, value: date) -> str:
        """A date as this comparison shows it: ``1 Oct 2024``, or ``Oct 2024`` when
        ``months`` (shareable: a window's first day can be one child's first event)."""
        shown = day(value)
        return shown.split(" ", 1)[1] if self.months else shown

    @property
    def heading(self) -> str:
        """What is compared, in words: ``Before and after 1 Oct 2024``."""
        if self.split_date is not None:
            return f"Before and after {self.date_text(self.split_date)}"
        return f"A: {self.a.label}   vs   B: {self.b.label}"

    @property
    def rate_words(self) -> str:
        return RATE_WORDS[self.per]

    def largest(self, top: int, metric: Metric | None = None) -> tuple[Shift, ...]:
        """The ``top`` shifts overall, or by one measure's score (the ones a map coloured by
        that measure marks); each keeps its overall rank."""
        if metric is None:
            return self.shifts[:top]
        shifts = [s for s in self.shifts if s.scores[metric] >= MIN_SHIFT]
        return tuple(sorted(shifts, key=lambda s: -s.scores[metric])[:top])

    def describe(self, side: Side) -> str:
        """``Before: 1 Apr 2024 to 30 Sep 2024 (26 wk) — 400 children, 1,200 events``."""
        return f"{self.side_text(side)} — {self.side_size(side)}"

    def side_text(self, side: Side) -> str:
        """``Before: 1 Apr 2024 to 30 Sep 2024 (26 wk)``, ``A: team North``."""
        what = side.label
        if self.mode == "period":
            what = " to ".join(self.date_text(d) for d in side.window)
            what += f" ({days(side.window_days)})"
        return f"{side.name[0].upper()}{side.name[1:]}: {what}"

    @staticmethod
    def side_size(side: Side) -> str:
        """``400 children, 1,200 events`` (``c children`` for a hidden count)."""
        return (f"{_counted(side.children, 'child', 'children')}, "
                f"{_counted(side.events, 'event', 'events')}")

    @property
    def window_text(self) -> str:
        """The days whose events are compared, from the first side's start to the last's end."""
        return f"events {self.date_text(self.a.window[0])} to {self.date_text(self.b.window[1])}"

    def to_dict(self) -> dict[str, Any]:
        """``compare --json``. A shown comparison (``months``) gives its dates to the month
        and leaves out ``min_shift``, a constant of the ranking (module docstring) whose
        name the checker refuses at shareable levels (no minimum may be shown)."""
        threshold = {} if self.months else {"min_shift": MIN_SHIFT}
        return {
            "mode": self.mode, "level": self.level, "per": self.per,
            "as_at": _iso(self.as_at, self.months),
            "split_date": _iso(self.split_date, self.months),
            "a": self.a.to_dict(months=self.months), "b": self.b.to_dict(months=self.months),
            "overlap": self.overlap, **threshold,
            "stages": [d.to_dict() for d in self.stages],
            "edges": [d.to_dict() for d in self.edges],
            "shifts": [s.to_dict() for s in self.shifts],
            "notes": list(self.notes),
            "hidden": self.hidden.to_dict(),
        }


# ---------------------------------------------------------------------------------------
# Entry point


def compare(
    log: EventLog,
    *,
    split_date: date | None = None,
    where: Sequence[Condition | str] = (),
    vs: Sequence[Condition | str] = (),
    level: Level = "detail",
    start: date | None = None,
    end: date | None = None,
    per: Per | None = None,
) -> Comparison:
    """Compare before and after ``split_date``, or the cohorts ``where`` and ``vs``.

    Exactly one of ``split_date`` and ``vs`` is given; ``per`` defaults to ``month`` for
    periods and ``children`` for cohorts (module docstring for all the semantics).
    """
    _check_arguments(split_date, where, vs, start, end, per)
    if split_date is not None:
        mode: Mode = "period"
        _check_split(log, split_date, end)
        after = (split_date, end or log.as_at)
        windows = ((start or max(_first_day(log), split_date - (after[1] - after[0]) - _ONE_DAY),
                    split_date - _ONE_DAY), after)
        names, cohorts = ("before", "after"), (where, where)
        labels = tuple(f"{day(w[0])} to {day(w[1])}" for w in windows)
    else:
        mode = "cohort"
        windows = ((start or _first_day(log), end or log.as_at),) * 2
        names, cohorts = ("A", "B"), (where, vs)
        labels = tuple("; ".join(describe_focus(where=c)) for c in cohorts)
    base: Per = per or ("month" if mode == "period" else "children")
    view_a, view_b = (
        _view(log, mode, base, name, label, conditions, window, level)
        for name, label, conditions, window in zip(names, labels, cohorts, windows)
    )
    stages = _stage_deltas(view_a, view_b)
    edges = _edge_deltas(view_a, view_b)
    comparison = Comparison(
        mode=mode, level=level, per=base, as_at=log.as_at, split_date=split_date,
        a=view_a.side, b=view_b.side,
        overlap=len(np.intersect1d(view_a.children, view_b.children)),
        stages=stages, edges=edges,
        shifts=rank_shifts(stages, edges, view_a.side, view_b.side, level, RATE_WORDS[base]),
    )
    return replace(comparison, notes=comparison_notes(comparison))


def _check_arguments(
    split_date: date | None, where: Sequence[Condition | str], vs: Sequence[Condition | str],
    start: date | None, end: date | None, per: str | None,
) -> None:
    """One line for each way the options can fail to name a comparison."""
    if split_date is not None and vs:
        raise UsageError("compare either before and after a date (--split-date) or two cohorts "
                         "(--where A --vs B), not both")
    if split_date is None and not vs:
        raise UsageError("say what to compare: --split-date DATE (before and after) or "
                         "--where A --vs B (two cohorts)")
    if vs and not where:
        raise UsageError("--vs needs --where for the first cohort (--where A --vs B)")
    if per is not None and per not in PER:
        raise UsageError(f"--per must be children or month, not {per!r}")
    if start and end and start > end:
        raise UsageError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    if split_date is not None and start is not None and start >= split_date:
        raise UsageError("--from must be before --split-date: the 'before' period would be empty")
    if split_date is not None and end is not None and end < split_date:
        raise UsageError("--to must be on or after --split-date: the 'after' period would be empty")


def _check_split(log: EventLog, split_date: date, end: date | None) -> None:
    """The split date must leave days with data on both sides."""
    first, last = _first_day(log), end or log.as_at
    if split_date <= first:
        raise UsageError(f"--split-date {split_date.isoformat()} is not after the first event "
                         f"({first.isoformat()}): there is no 'before' period")
    if split_date > last:
        raise UsageError(f"--split-date {split_date.isoformat()} is after the as-at date "
                         f"({last.isoformat()}): there is no 'after' period")


def _first_day(log: EventLog) -> date:
    return log.period[0] if log.period else log.as_at


# ---------------------------------------------------------------------------------------
# One side


@dataclass(frozen=True)
class _View:
    """A side with the maps and the next-step times its deltas are read from."""

    side: Side
    children: np.ndarray
    stages: MapResult
    nodes: dict[str, Node]
    moves: MapResult
    next_step: pd.DataFrame
    vocabulary: Vocabulary


def _view(
    log: EventLog, mode: Mode, per: Per, name: str, label: str,
    conditions: Sequence[Condition | str], window: tuple[date, date], level: Level,
) -> _View:
    """Focus on the side's children, summarise their journeys, then keep the window's events.

    Stages are discovered on the window's events; moves on them plus each child's bridge event
    (the first one after the window), so moves leaving the window keep their duration.
    """
    chosen = focus(log, start=window[0], end=window[1], where=conditions, level=level)
    noun = f"the period {label}" if mode == "period" else f"cohort {name} ({label})"
    if chosen.cases == 0:
        raise UsageError(f"no children in {noun}")
    inside, bridge = _window_masks(chosen.frame, window)
    if not inside.any():
        raise UsageError(f"no events in {noun} to compare")
    in_window = chosen.with_frame(chosen.frame.loc[inside])
    stages = discover_map(in_window, level=level)
    with_bridge, moves = in_window, stages
    if bridge.any():
        with_bridge = chosen.with_frame(chosen.frame.loc[inside | bridge])
        moves = discover_map(with_bridge, level=level)
    days_in = (window[1] - window[0]).days + 1
    side = Side(
        name=name, label=label, children=chosen.cases, events=in_window.events, window=window,
        unit=100 / chosen.cases if per == "children" else MONTH_DAYS / days_in,
        conditions=describe_focus(where=conditions), child_days=moves.total_child_days,
    )
    return _View(side=side, children=chosen.frame[CASE].unique(), stages=stages,
                 nodes={n.activity: n for n in stages.nodes}, moves=moves,
                 next_step=_next_steps(with_bridge.frame), vocabulary=chosen.vocabulary)


def _window_masks(frame: pd.DataFrame, window: tuple[date, date]) -> tuple[np.ndarray, np.ndarray]:
    """Events inside the window, and each child's first event after it when the one before is
    inside (the bridge: the log is sorted, so that is the end of a move leaving the window)."""
    stamps = frame[TIMESTAMP].to_numpy()
    after = stamps >= np.datetime64(window[1] + _ONE_DAY, "ns")
    inside = (stamps >= np.datetime64(window[0], "ns")) & ~after
    number_, _, _ = case_runs(frame)
    bridge = np.zeros(len(frame), dtype=bool)
    if len(frame) > 1:
        bridge[1:] = after[1:] & inside[:-1] & (number_[1:] == number_[:-1])
    return inside, bridge


def _next_steps(frame: pd.DataFrame) -> pd.DataFrame:
    """Per activity: its events followed by a next step of the child (``timed``) and the
    median days to that step. A bridge event is its child's last row, so it has none."""
    number_, _, _ = case_runs(frame)
    followed = number_[1:] == number_[:-1]
    stamps = frame[TIMESTAMP].to_numpy()
    gap = (stamps[1:] - stamps[:-1])[followed] / np.timedelta64(1, "D")
    activity = frame[ACTIVITY].to_numpy()[:-1][followed]
    grouped = pd.Series(gap, dtype="float64").groupby(activity, sort=True)
    return pd.DataFrame({"timed": grouped.size(), "median_days": grouped.median()})


# ---------------------------------------------------------------------------------------
# Deltas


def _stage_measure(view: _View, activity: str) -> Measure:
    node = view.nodes.get(activity)
    timed, median = 0, None
    if activity in view.next_step.index:
        row = view.next_step.loc[activity]
        timed, median = int(row["timed"]), float(row["median_days"])
    events, cases = (node.events, node.cases) if node else (0, 0)
    return Measure(count=events, cases=cases, timed=timed, median_days=median,
                   rate=view.side.rate(events) or 0.0)


def _edge_measure(view: _View, edge: Edge | None) -> Measure:
    if edge is None:
        return NOTHING
    return Measure(count=edge.count, cases=edge.cases, timed=edge.count,
                   median_days=edge.median_days, rate=view.side.rate(edge.count) or 0.0)


def _stage_deltas(va: _View, vb: _View) -> tuple[Delta, ...]:
    """Every stage with an event, or at an end of a move, on either side, in stage order."""
    rank = stage_rank(va.vocabulary)
    names = {n.activity for v in (va, vb) for n in v.stages.nodes}
    names |= {name for v in (va, vb) for e in v.moves.edges for name in e.key}
    return tuple(
        _delta("stage", (name,), rank, va, vb, _stage_measure(va, name), _stage_measure(vb, name))
        for name in sorted(names, key=rank.__getitem__)
    )


def _edge_deltas(va: _View, vb: _View) -> tuple[Delta, ...]:
    rank = stage_rank(va.vocabulary)
    edges_a = {e.key: e for e in va.moves.edges}
    edges_b = {e.key: e for e in vb.moves.edges}
    keys = sorted(edges_a.keys() | edges_b.keys(), key=lambda k: (rank[k[0]], rank[k[1]]))
    return tuple(
        _delta("edge", key, rank, va, vb, _edge_measure(va, edges_a.get(key)),
               _edge_measure(vb, edges_b.get(key)))
        for key in keys
    )


def _delta(kind: Kind, key: tuple[str, ...], rank: dict[str, int], va: _View, vb: _View,
           a: Measure, b: Measure) -> Delta:
    return Delta(
        kind=kind, key=key, ids=tuple(f"n{rank[name]}" for name in key), a=a, b=b,
        volume_step=volume_step(a, b, va.side.unit, vb.side.unit),
        duration_step=duration_step(a, b),
    )


def step(change: float) -> int:
    """−3 … 3: how many of `STEPS` the relative change reaches, with its sign."""
    strength = sum(abs(change) >= s for s in STEPS)
    return int(np.sign(change)) * strength


def volume_step(a: Measure, b: Measure, unit_a: float, unit_b: float) -> int:
    """The step of a change in rate; 0 within `NOISE_Z` standard errors.

    Each count is taken as Poisson, so the rate count × unit has variance count × unit²; a
    side with none makes a full step (new or gone) when the other side's count alone is
    beyond chance. A hidden count (``c``) makes no step: its colour must not tell its size.
    """
    if isinstance(a.count, str) or isinstance(b.count, str) or a.rate is None or b.rate is None:
        return 0
    spread = np.sqrt(a.count * unit_a**2 + b.count * unit_b**2)
    change = b.rate - a.rate
    if spread == 0 or abs(change) < NOISE_Z * spread:
        return 0
    if a.count == 0 or b.count == 0:
        return 3 if b.count else -3
    return step(change / a.rate)


def duration_step(a: Measure, b: Measure) -> int | None:
    """The step of a change in median days: None with under `MIN_MOVES` timed moves on a
    side, 0 under `MIN_DAYS`; from a median of 0 days any change is a full step. A hidden
    median or count (``c``) is not compared."""
    change = Delta("edge", (), (), a, b, 0, None).median_change
    if change is None or isinstance(a.timed, str) or isinstance(b.timed, str) \
            or min(a.timed, b.timed) < MIN_MOVES:
        return None
    if abs(change) < MIN_DAYS:
        return 0
    if a.median_days == 0:
        return 3 if change > 0 else -3
    return step(change / float(a.median_days or 0))


# ---------------------------------------------------------------------------------------
# Largest shifts


def rank_shifts(
    stages: Sequence[Delta], edges: Sequence[Delta], a: Side, b: Side, level: Level,
    rate_words: str,
) -> tuple[Shift, ...]:
    """The changes scoring at least `MIN_SHIFT`, largest first (module docstring).

    Only shown rates count toward the totals, so a shown comparison is ranked from what it
    shows."""
    all_moves, all_events = _mean_total(edges), _mean_total(stages)
    all_days = ((a.rate(a.child_days) or 0.0) + (b.rate(b.child_days) or 0.0)) / 2
    unit = "visits" if level == "summary" else "events"
    scored = []
    for position, delta in enumerate((*edges, *stages)):
        is_edge = delta.kind == "edge"
        scores: dict[Metric, float] = {"volume": 0.0, "duration": 0.0}
        texts: dict[Metric, str] = {}
        if delta.volume_step:
            scores["volume"] = _share(abs(delta.rate_change or 0.0),
                                      all_moves if is_edge else all_events)
            texts["volume"] = volume_reason(delta, "moves" if is_edge else unit, rate_words)
        if is_edge and delta.duration_step:
            weight = ((delta.a.rate or 0.0) + (delta.b.rate or 0.0)) / 2
            scores["duration"] = _share(abs(delta.median_change or 0.0) * weight, all_days)
            texts["duration"] = duration_reason(delta)
        strongest = sorted(METRICS, key=lambda m: -scores[m])
        if scores[strongest[0]] >= MIN_SHIFT:
            reasons = tuple(texts[m] for m in strongest if scores[m] >= MIN_SHIFT)
            children = max(_number(delta.a.cases), _number(delta.b.cases))
            scored.append((scores, children, position, delta, reasons))
    scored.sort(key=lambda s: (-max(s[0].values()), -s[1], s[2]))
    return tuple(
        Shift(rank=i, item=delta, scores=scores, reasons=reasons)
        for i, (scores, _, _, delta, reasons) in enumerate(scored, start=1)
    )


def busier_rate(delta: Delta) -> float:
    """The busier side's rate (a hidden one as 0): what a path is kept and drawn wide by."""
    return max(delta.a.rate or 0.0, delta.b.rate or 0.0)


def _mean_total(deltas: Sequence[Delta]) -> float:
    return sum((d.a.rate or 0.0) + (d.b.rate or 0.0) for d in deltas) / 2


def _number(n: Count) -> int:
    """A count to sort by: a hidden one (``c``) as 0."""
    return 0 if isinstance(n, str) else n


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def signed_percent(share: float) -> str:
    """``+36%``, ``−25%`` (a true minus sign: it reads better on a projected map)."""
    text = f"{abs(share):.0%}"
    return ("+" if share > 0 else "−" if share < 0 else "") + text


def rate_text(measure: Measure) -> str:
    """A side's rate as the map and the table show it: ``none`` when it has no events,
    ``c`` when its count is hidden."""
    if measure.rate is None:
        return str(measure.count)
    return number(measure.rate) if measure.count else "none"


def median_text(measure: Measure) -> str:
    """A side's median as shown: ``4 d``, ``c`` (hidden), ``–`` (nothing to time)."""
    value = measure.median_days
    return "–" if value is None else value if isinstance(value, str) else days(value)


def count_change(delta: Delta) -> str:
    """B − A of the counts: ``+15``, ``−5``, ``0``; ``c`` when a side's count is hidden."""
    a, b = delta.a.count, delta.b.count
    if isinstance(a, str) or isinstance(b, str):
        return SUPPRESSED
    change = b - a
    return ("+" if change > 0 else "−" if change < 0 else "") + f"{abs(change):,}"


def values_text(delta: Delta, metric: Metric) -> str:
    """``45 → 61`` (rates) or ``4 d → 11 d`` (medians; ``–`` where a side has none)."""
    if metric == "volume":
        return f"{rate_text(delta.a)} → {rate_text(delta.b)}"
    return " → ".join(median_text(m) for m in (delta.a, delta.b))


def change_text(delta: Delta, metric: Metric) -> str:
    """``+36%``, ``new``, ``gone`` (rates) or ``+7 d`` (medians; empty when not compared)."""
    if metric == "volume":
        if delta.rate_change is None:
            return SUPPRESSED
        return signed_percent(delta.rate_share or 0.0) if delta.status == "both" else delta.status
    change = delta.median_change
    if change is None and SUPPRESSED in (delta.a.median_days, delta.b.median_days):
        return SUPPRESSED
    if change is None:
        return ""
    return ("+" if change > 0 else "−" if change < 0 else "") + days(abs(change))


def volume_reason(delta: Delta, unit: str, rate_words: str) -> str:
    """``moves up from 45 to 61 per 100 children (+36%)``; ``none`` for a side without any."""
    way = "up" if (delta.rate_change or 0.0) > 0 else "down"
    return (f"{unit} {way} from {rate_text(delta.a)} to {rate_text(delta.b)} {rate_words} "
            f"({change_text(delta, 'volume')})")


def duration_reason(delta: Delta) -> str:
    """``median up from 4 d to 11 d``."""
    a, b = (float(m.median_days) if isinstance(m.median_days, int | float) else 0.0
            for m in (delta.a, delta.b))
    return f"median {'up' if b > a else 'down'} from {days(a)} to {days(b)}"


# ---------------------------------------------------------------------------------------
# Simplification


def simplify(comparison: Comparison, *, paths: float = 100.0, top: int = 5) -> Comparison:
    """Keep the busiest ``paths`` % of edges (by the busier side's rate) and their stages.

    Like ``map --paths``, for a workshop picture of a busy detail map: the ``top`` largest
    shifts, overall and by either measure (what a map marks), and their stages are never
    hidden; ``hidden`` counts what went (``events`` and ``moves`` over both sides). The shifts
    themselves are unchanged.

    A shown comparison (`protected.protect_comparison`) is simplified by its shown rates, so
    a path with a ``c`` goes first and which one stays says nothing of its size; its
    ``hidden`` counts add up the shown counts only (a ``c`` adds nothing): they are never
    shown (its JSON is given whole, its map names the paths and stages left off).
    """
    if not 0 <= paths <= 100:
        raise UsageError(f"--paths must be a percentage from 0 to 100, not {paths}")
    edges = comparison.edges
    if paths >= 100 or not edges:
        return comparison
    marked = {s.item.key for m in (None, *METRICS) for s in comparison.largest(top, m)}
    busiest = sorted(range(len(edges)), key=lambda i: (-busier_rate(edges[i]), i))
    kept = set(busiest[:max(1, math.ceil(len(edges) * paths / 100))])
    kept |= {i for i, e in enumerate(edges) if e.key in marked}
    names = {name for i in kept for name in edges[i].key} | {k[0] for k in marked if len(k) == 1}
    gone_stages = [d for d in comparison.stages if d.key[0] not in names]
    gone_edges = [e for i, e in enumerate(edges) if i not in kept]
    hidden = Hidden(
        activities=tuple(d.key[0] for d in gone_stages),
        events=sum(_number(d.a.count) + _number(d.b.count) for d in gone_stages),
        paths=len(gone_edges),
        moves=sum(_number(e.a.count) + _number(e.b.count) for e in gone_edges),
    )
    return replace(
        comparison, hidden=hidden,
        stages=tuple(d for d in comparison.stages if d.key[0] in names),
        edges=tuple(e for i, e in enumerate(edges) if i in kept),
    )


# ---------------------------------------------------------------------------------------
# Notes


def comparison_notes(comparison: Comparison) -> tuple[str, ...]:
    """Cautions to read before taking a change as real.

    For periods: windows of different lengths, and stages on one side only (often a return's
    coverage, not practice). For cohorts a stage on one side is a finding, but children on
    both sides blur the difference.
    """
    a, b = comparison.a, comparison.b
    if comparison.mode == "cohort":
        if not comparison.overlap or not comparison.overlap_note:
            return ()
        return (f"{_counted(comparison.overlap, 'child is', 'children are')} in both cohorts: "
                "their journeys count on both sides.",)
    notes = []
    longer, shorter = max(a.window_days, b.window_days), min(a.window_days, b.window_days)
    if longer > _UNEQUAL * shorter:
        notes.append(
            f"The periods differ in length ({days(a.window_days)} and {days(b.window_days)}); "
            "--from and --to give equal windows.")
    for status, side in (("new", b), ("gone", a)):
        only = [d.where for d in comparison.stages if d.status == status]
        if only:
            notes.append(
                f"Only {side.name} "
                f"{comparison.date_text(comparison.split_date or comparison.as_at)}: "
                f"{', '.join(only)}. Check the returns cover both periods before reading "
                "this as a change.")
    return tuple(notes)
