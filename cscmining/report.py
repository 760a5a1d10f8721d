"""The workshop report: one self-contained HTML file a head of service can project or print.

`write_report` runs the main analyses on one log (maps at summary and detail level with their
pressure points, journey variants, stuck journeys by rule, timescale performance by period,
monthly entries and exits per stage, the data-quality account) and writes them as one page.

**Safe to share at its level.** Every number goes through the disclosure engine before it
reaches the template (`cscmining.disclosure`, `cscmining.protected`): counts, durations,
percentages, the maps' labels, widths and colours, the charts' bars. Then the independent
checker re-reads the written file, with the input child ids, and the run fails (the file
never takes its name) if anything slipped through.

**Loads nothing, runs nothing.** CSS and SVG are inline, there is no script, and a
Content-Security-Policy forbids loading anything, so a report that somehow referred to a
remote resource still could not fetch it. The template autoescapes every text; the only
markup not escaped is the maps' SVG, which graphviz drew from our own escaped DOT and which
`inline_svg` checks (known elements only, no links, no event handlers, no references)
before it is marked safe.

**Reads well on a projector, prints on A4 landscape.** Large type and high contrast, one
idea per section with the point said in its heading, a page per section in print, and maps
and charts that scale to the page instead of being cut off.

**Same input, same bytes.** Nothing depends on the clock: the report carries the data's
as-at date, not the day it was made.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from . import __version__
from .columns import ACTIVITY, CASE, TIMESTAMP
from .compare import Comparison, Delta, change_text, count_change, values_text
from .disclosure import (
    RULES_VERSION,
    SUPPRESSED,
    TOTAL,
    Count,
    Policy,
    Shown,
    legend,
    protect_count,
    protect_duration,
    protect_share,
    protect_table,
    protect_variants,
)
from .discover import MapResult, process_map, rank_pressure, simplify
from .errors import UsageError
from .eventlog import EventLog, same_as_previous
from .focus import Condition, at_level, describe_focus, focus
from .outputs import atomic_path
from .protected import (
    MONTHS,
    Figure,
    Guard,
    ProtectedMap,
    ShownPoint,
    check_complement,
    coarsen_text,
    format_shown,
    protect_comparison,
    shown_date,
    shown_days,
    shown_percent,
)
from .render.charts import Chart, Tick, percent_chart, volume_chart
from .render.delta import LINE, comparison_svg, step_labels
from .render.dot import RenderError, render, to_dot
from .render.quality import describe
from .timescales import Period, PeriodCounts, stuck, timescale_trend
from .variants import variants

#: the detail map of a report for the analyst alone (no disclosure control) keeps this
#: share of paths; a shareable one leaves off what is shown as c instead
DETAIL_PATHS = 60.0
#: rows of the pressure-point table and of the variants table
TOP_POINTS = 10
TOP_VARIANTS = 10
#: months the charts cover when no period is given: the year to the as-at date
WINDOW_MONTHS = 12


@dataclass(frozen=True)
class ReportResult:
    """What `write_report` wrote: the file, its disclosure policy, and what it covers."""

    path: Path
    policy: Policy
    children: Count
    window: str
    sections: tuple[str, ...]


def write_report(
    log: EventLog,
    path: Path,
    *,
    disclosure: str = "standard",
    start: date | None = None,
    end: date | None = None,
    where: Sequence[Condition | str] = (),
    by: Period = "quarter",
    comparison: Comparison | None = None,
) -> ReportResult:
    """Write the workshop report of ``log`` to ``path`` (module docstring).

    ``start``/``end``/``where`` focus it as every analysis command does (whole journeys);
    the charts cover ``start`` to ``end``, or the twelve months to the as-at date. ``by``
    groups timescale performance by month or quarter. ``comparison`` (from
    `compare.compare`) adds the before/after or cohort section. Raises
    `disclosure.DisclosureError` (and writes nothing) when the checker finds something the
    level forbids.
    """
    policy = Policy.from_name(disclosure)
    guard = Guard.for_log(log, policy, start, end)
    context = report_context(log, policy, start=start, end=end, where=where, by=by)
    context["comparison"] = None
    if comparison is not None:
        whole = process_map(log, start=start, end=end, where=where, level=comparison.level)
        context["comparison"] = _comparison_view(
            protect_comparison(comparison, policy, whole=whole), policy)
    context["sections"]["comparison"] = comparison is not None
    page = _environment().get_template("report.html.j2").render(**context)
    with atomic_path(path, mode=None) as tmp:  # shareable: the umask's permissions
        tmp.write_text(page, encoding="utf-8")
        guard.file(tmp, "html", final=path)
    return ReportResult(path, policy, context["headline"].children, context["window"],
                        tuple(s for s, shown in context["sections"].items() if shown))


# ---------------------------------------------------------------------------------------
# What the page shows


def report_context(
    log: EventLog, policy: Policy, *, start: date | None = None, end: date | None = None,
    where: Sequence[Condition | str] = (), by: Period = "quarter",
) -> dict[str, Any]:
    """Every value the template draws, protected: the template computes nothing."""
    focused = focus(log, start=start, end=end, where=where)
    if focused.events == 0:
        said = "; ".join(describe_focus(start=start, end=end, where=where)) or "no filters"
        raise UsageError(f"no child's journey is left to report on ({said})")
    window = _window(focused.as_at, start, end)
    maps = {level: process_map(log, start=start, end=end, where=where, level=level)
            for level in ("summary", "detail")}
    if policy.secondary and (start or end or where):  # differencing: see `check_complement`
        said = "; ".join(describe_focus(start=start, end=end, where=where))
        for level, result in maps.items():
            check_complement(result, process_map(log, level=level), policy,
                             what=f"the filter ({said})")
    shown = {level: ProtectedMap.of(result, policy) for level, result in maps.items()}
    points = shown["detail"].points(rank_pressure(maps["detail"]), maps["detail"].pressure)
    stuck_now = stuck(focused)
    trends = _trends(focused, policy, window, by)
    context = {
        "policy": policy,
        "legend": legend(policy),
        "title": "Children’s journeys through social care",
        "window": _window_text(window),
        "as_at": shown_date(focused.as_at, policy),
        "filters": [coarsen_text(f, policy) for f in describe_focus(start=start, end=end,
                                                                    where=where)],
        "headline": _headline(shown["summary"], points, stuck_now.total_children, trends,
                              policy),
        "summary_map": _map_view(maps["summary"], shown["summary"], "summary"),
        "detail_map": _map_view(_detail_drawing(maps["detail"], shown["detail"]),
                                shown["detail"], "detail"),
        "points": points[:TOP_POINTS],
        "variants": _variants(focused, policy),
        "stuck": _stuck_rows(stuck_now.children, stuck_now.total_children, focused, policy),
        "trends": trends,
        "by": by,
        "volumes": _volumes(focused, window, policy),
        "quality": _quality(log, policy),
        "provenance": _provenance(log),
    }
    context["sections"] = {
        "headline": True, "summary map": True, "pressure points": bool(points),
        "detail map": True, "variants": True, "stuck journeys": bool(context["stuck"]),
        "timescales": bool(trends), "volumes": True, "data quality": True,
    }
    return context


@dataclass(frozen=True)
class SideView:
    """One side of the comparison: what it holds, and how many (each count its own cell)."""

    text: str
    children: Count
    events: Count


@dataclass(frozen=True)
class CompareRow:
    """A stage, or a shift, of the comparison tables: shown counts and changes only."""

    rank: int | None
    where: str
    a: Count
    b: Count
    count_change: str
    rate_change: str
    median: str
    median_change: str
    why: str


@dataclass(frozen=True)
class ComparisonView:
    """The comparison section, every number drawn from `protected.protect_comparison`."""

    heading: str
    names: tuple[str, str]
    sides: list[SideView]
    overlap: Count
    notes: tuple[str, ...]
    reading: str
    svg: Markup
    key: list[tuple[str, str]]
    stages: list[CompareRow]
    events: tuple[Count, Count]
    shifts: list[CompareRow]
    unit: str


def _comparison_view(comparison: Comparison, policy: Policy) -> ComparisonView:
    """The delta map, the stages side by side with their totals, and the largest shifts.

    Counts stand in cells of their own (the checker's convention), so the stage table's
    ``Total`` row (each side's events) is a sum the checker rebuilds at strict.
    """
    c = comparison
    unit = "visits" if c.level == "summary" else "events"
    return ComparisonView(
        heading=c.heading, names=(c.a.name, c.b.name),
        sides=[SideView(c.side_text(s), s.children, s.events) for s in (c.a, c.b)],
        overlap=c.overlap if c.mode == "cohort" else 0, notes=c.notes,
        reading=(f"{c.level.capitalize()} level; {c.window_text}; as at "
                 f"{c.date_text(c.as_at)}. Colour: the change in {unit} or moves "
                 f"{c.rate_words}, so sides of different sizes compare fairly; "
                 f"numbers: {unit} or moves, {c.a.name} → {c.b.name}."),
        svg=inline_svg(comparison_svg(c, policy=policy), prefix="compare"),
        key=[(LINE[k], label) for k, label in sorted(step_labels().items())],
        stages=[_compare_row(d, None, "") for d in c.stages],
        events=(c.a.events, c.b.events),
        shifts=[_compare_row(s.item, s.rank, "; ".join(s.reasons)) for s in c.largest(10)],
        unit=unit,
    )


def _compare_row(delta: Delta, rank: int | None, why: str) -> CompareRow:
    return CompareRow(rank, delta.where, delta.a.count, delta.b.count, count_change(delta),
                      change_text(delta, "volume"), values_text(delta, "duration"),
                      change_text(delta, "duration"), why)


@dataclass(frozen=True)
class Window:
    """The months the charts cover, the first and the last."""

    first: pd.Period
    last: pd.Period

    def months(self) -> pd.PeriodIndex:
        return pd.period_range(self.first, self.last, freq="M")


def _window(as_at: date, start: date | None, end: date | None) -> Window:
    last = pd.Period(end or as_at, freq="M")
    first = pd.Period(start, freq="M") if start else last - (WINDOW_MONTHS - 1)
    if first > last:
        raise UsageError("the report's period ends before it starts")
    return Window(first, last)


def _month_text(period: pd.Period) -> str:
    return f"{MONTHS[period.month - 1]} {period.year}"


def _window_text(window: Window) -> str:
    return f"{_month_text(window.first)} to {_month_text(window.last)}"


# --- headline


@dataclass(frozen=True)
class Headline:
    """The figures that open the report."""

    children: Count
    still_open: Count
    stuck: Count
    top_point: ShownPoint | None
    timescales: list[TrendView]


def _headline(summary: ProtectedMap, points: list[ShownPoint], stuck_children: int,
              trends: list[TrendView], policy: Policy) -> Headline:
    return Headline(children=summary.cases, still_open=summary.open,
                    stuck=protect_count(stuck_children, policy),
                    top_point=points[0] if points else None, timescales=trends)


# --- maps


@dataclass(frozen=True)
class MapView:
    """A map as the report embeds it: its SVG, its pressure points, what it leaves off."""

    level: str
    svg: Markup
    points: list[ShownPoint]
    not_drawn: tuple[str, ...]
    paths_not_drawn: int
    any_hidden: bool


def _detail_drawing(result: MapResult, shown: ProtectedMap) -> MapResult:
    """The detail map to draw: at shareable levels the paths of at least K children (what
    is c is left off: it would be most of the lines and say nothing); for the analyst alone,
    the busiest `DETAIL_PATHS` % of paths."""
    if shown.policy.shareable:
        return shown.without_hidden(result)
    return simplify(result, paths=DETAIL_PATHS)


def _map_view(drawn: MapResult, shown: ProtectedMap, level: str) -> MapView:
    svg = render(to_dot(drawn, shown=shown, embedded=True), "svg").decode("utf-8")
    hidden = any(shown.edges[e.key].hidden for e in drawn.edges) or any(
        shown.nodes[n.activity].hidden for n in drawn.nodes)
    return MapView(level, inline_svg(svg, prefix=level),
                   shown.points(drawn.pressure, drawn.pressure), drawn.hidden.activities,
                   drawn.hidden.paths, hidden)


_SVG_ELEMENTS = frozenset({"svg", "g", "a", "title", "text", "path", "polygon", "polyline",
                           "ellipse", "circle", "rect", "line", "tspan"})
_SVG_ROOT_DROPPED = re.compile(r'\s(?:width|height|xmlns|xmlns:xlink)="[^"]*"')


class _SvgAudit(HTMLParser):
    """Collects what an SVG holds that a report must not: unknown elements, links, event
    handlers, styles, and anything that could point outside the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SVG_ELEMENTS:
            self.problems.append(f"a <{tag}> element")
        for name, value in attrs:
            text = (value or "").casefold()
            if name.startswith("on") or "href" in name or name in ("style", "src"):
                self.problems.append(f"a {name} attribute")
            if "url(" in text or "javascript:" in text or "//" in text:
                self.problems.append(f"a reference in a {name} attribute")

    def handle_comment(self, data: str) -> None:
        self.problems.append("a comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("a declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction")


def inline_svg(svg: str, *, prefix: str) -> Markup:
    """Graphviz's SVG, fit for the page and checked, as the one markup the template trusts.

    The XML prolog, doctype and comments go; the root loses its fixed size (CSS scales it)
    and its namespace declarations (HTML gives inline SVG its namespace); element ids get
    ``prefix`` so two maps on one page do not share ids. Then only known drawing elements
    may remain, with no link, event handler, style or reference (SEC-3, SEC-4).
    """
    body = re.sub(r"<!--.*?-->", "", svg[svg.find("<svg"):], flags=re.S)
    root_end = body.find(">") + 1
    if root_end <= 0 or not body.startswith("<svg"):
        raise RenderError("graphviz did not draw an SVG")
    root = _SVG_ROOT_DROPPED.sub("", body[:root_end])
    body = re.sub(r'\sid="', f' id="{prefix}-', root + body[root_end:]).strip()
    audit = _SvgAudit()
    audit.feed(body)
    audit.close()
    if audit.problems:
        raise RenderError("the map's SVG holds " + ", ".join(sorted(set(audit.problems)))
                          + ": it is not embedded")
    return Markup(body)  # checked above: our own drawing, every text escaped by graphviz


# --- variants


@dataclass(frozen=True)
class VariantRow:
    rank: int
    steps: tuple[str, ...]
    children: Count
    share: Shown
    median: str


@dataclass(frozen=True)
class VariantsView:
    """The commonest journeys at summary level, and the rest in one bucket (SDC-5)."""

    rows: list[VariantRow]
    other_children: Count
    other_variants: Count
    other_share: Shown
    children: Count


def _variants(log: EventLog, policy: Policy) -> VariantsView:
    """Journeys through stage groups, loops merged, protected: each listed variant has at
    least K children; the `TOP_VARIANTS` commonest are shown, the rest form one bucket."""
    found = variants(log, level="summary", collapse=True)
    counts = {v.rank: v.count for v in found.variants}
    protected = protect_variants(counts, policy)
    by_rank = {v.rank: v for v in found.variants}
    top = protected.listed[:TOP_VARIANTS]
    rows = [VariantRow(rank, tuple(s for s, _, _ in by_rank[rank].steps()), shown,
                       protect_share(shown, protected.cases, policy),
                       shown_days(protect_duration(by_rank[rank].median_days, shown, policy)))
            for rank, shown in top]
    listed = {rank for rank, _ in top}
    rest = [v for v in found.variants if v.rank not in listed]
    other = protect_count(sum(v.count for v in rest), policy) if rows else protected.other
    return VariantsView(
        rows=rows, other_children=other,
        other_variants=protect_count(len(rest), policy) if rows else protected.other_variants,
        other_share=protect_share(other, protected.cases, policy),
        children=protected.cases,
    )


# --- stuck journeys


@dataclass(frozen=True)
class StuckRow:
    label: str
    children: Count


def _stuck_rows(by_rule: dict[str, int], total: int, log: EventLog,
                policy: Policy) -> list[StuckRow]:
    """Children past each rule's limit with no `to` event yet; counts only, no one named."""
    labels = {r.name: r.label for r in log.vocabulary.timescales}
    rows = [StuckRow(labels[name], protect_count(n, policy)) for name, n in by_rule.items()]
    if rows:
        rows.append(StuckRow("Any of these timescales", protect_count(total, policy)))
    return rows


# --- timescales


@dataclass(frozen=True)
class TrendView:
    """One timescale rule: the share within its limit over the window, and per period."""

    label: str
    within: Shown
    due: Count
    chart: Chart | None


def _period_ticks(periods: Sequence[PeriodCounts], by: Period) -> list[Tick]:
    ticks: list[Tick] = []
    for i, p in enumerate(periods):
        if by == "quarter":
            name = f"{MONTHS[p.start.month - 1]}–{MONTHS[p.end.month - 1]}"
        else:
            name = MONTHS[p.start.month - 1]
        new_year = i == 0 or p.start.year != periods[i - 1].start.year
        ticks.append(Tick(name, p.start.year if new_year else None))
    return ticks


def _trends(log: EventLog, policy: Policy, window: Window, by: Period) -> list[TrendView]:
    """Per rule, the share of due `from` events met within the limit, per period of the
    window and over the window. Due means decided: met, or late (breached, or stuck past the
    limit); open ones are not yet due. Met and late are protected as a table with its totals
    (due per period, and the window's), so no hidden one follows from a total (SDC-4), and
    each share is worked out from the shown met and due counts."""
    trend = timescale_trend(log, by=by)
    views: list[TrendView] = []
    for rule in trend.rules:
        periods = [p for p in rule.periods
                   if pd.Period(p.end, freq="M") >= window.first
                   and pd.Period(p.start, freq="M") <= window.last]
        label = rule.summary.label
        if not periods:
            views.append(TrendView(label, protect_share(0, 0, policy), 0, None))
            continue
        table = pd.DataFrame({"period": [p.period for p in periods],
                              "met": [p.met for p in periods],
                              "late": [p.breached + p.stuck for p in periods]})
        shown = protect_table(table, policy, counts=["met", "late"], label="period",
                              total_row=True, total_column=True)
        within = [protect_share(m, n, policy) for m, n in zip(shown["met"], shown[TOTAL])]
        due = shown[TOTAL].tolist()
        chart = percent_chart(_period_ticks(periods, by), within[:-1], due[:-1],
                              description=f"Share within the timescale by {by}: {label}")
        views.append(TrendView(label, within[-1], due[-1], chart))
    return views


# --- volumes


@dataclass(frozen=True)
class VolumeView:
    """Entries into and exits from one stage group per month of the window."""

    stage: str
    entered: Count
    left: Count
    chart: Chart


def _volumes(log: EventLog, window: Window, policy: Policy) -> list[VolumeView]:
    """Per stage group, visits that began (entered) and ended with a move to another stage
    (left) in each month, protected with their totals (a total row per stage, SDC-4)."""
    visits = at_level(log, "summary")
    frame = visits.frame
    months = window.months()
    groups = list(visits.vocabulary.groups)
    stage = pd.Categorical(frame[ACTIVITY], categories=groups).codes
    month = _month_numbers(frame[TIMESTAMP].to_numpy(), months)
    moved_on = np.r_[same_as_previous(frame[CASE]), False]  # the child's next visit follows
    left_month = np.r_[month[1:], -1]
    entered = _counts(stage, month, len(groups), len(months))
    left = _counts(stage[moved_on], left_month[moved_on], len(groups), len(months))
    ticks = [Tick(MONTHS[m.month - 1], m.year if i == 0 or m.month == 1 else None)
             for i, m in enumerate(months)]
    views: list[VolumeView] = []
    for row, name in enumerate(groups):
        table = pd.DataFrame({
            "month": [_month_text(m) for m in months],
            "entered": entered[row],
            "left": left[row],
        })
        if not (table["entered"].sum() or table["left"].sum()):
            continue
        shown = protect_table(table, policy, counts=["entered", "left"], label="month",
                              total_row=True)
        body = shown.iloc[:-1]
        views.append(VolumeView(
            name, shown["entered"].iat[-1], shown["left"].iat[-1],
            volume_chart(ticks, body["entered"].tolist(), body["left"].tolist(),
                         description=f"Children entering and leaving {name}, by month")))
    return views


def _month_numbers(stamps: np.ndarray, months: pd.PeriodIndex) -> np.ndarray:
    """Each datetime's month as its position in ``months`` (-1: outside them, or NaT)."""
    first = np.datetime64(months[0].start_time, "M")
    number = (stamps.astype("datetime64[M]") - first).astype(np.int64)
    return np.where(~np.isnat(stamps) & (number >= 0) & (number < len(months)), number, -1)


def _counts(row: np.ndarray, column: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """A ``rows`` x ``columns`` table counting the (row, column) pairs (-1 in either: not
    counted), as a crosstab would, in one pass over integers."""
    keep = (row >= 0) & (column >= 0)
    cells = np.bincount(row[keep] * columns + column[keep], minlength=rows * columns)
    return cells.reshape(rows, columns)


# --- data quality and provenance


@dataclass(frozen=True)
class QualityView:
    """Where every input row went, protected as a table with its totals; the rows rejected
    and the rows kept with a flag, by code, each with what the code means."""

    columns: list[str]
    rows: list[list[Any]]
    reasons: list[list[Any]]
    flags: list[list[Any]]
    events: Count
    children: Count
    ties: Count
    merged: Count


def _quality(log: EventLog, policy: Policy) -> QualityView:
    accounts = pd.DataFrame({
        "File": [Path(a.path).name + (f" [{a.sheet}]" if a.sheet else "") for a in log.accounts],
        "Table": [a.table for a in log.accounts],
        "Used": [a.used for a in log.accounts],
        "Rejected": [a.rejected_total for a in log.accounts],
        "Duplicate": [a.duplicate for a in log.accounts],
        "Blank": [a.blank for a in log.accounts],
    })
    counts = ["Used", "Rejected", "Duplicate", "Blank"]
    table = protect_table(accounts, policy, counts=counts, label="File", total_row=True,
                          total_column=True)
    table["Table"] = table["Table"].astype(object).fillna("")
    return QualityView(
        columns=list(table.columns), rows=table.to_numpy().tolist(),
        reasons=_by_code([a.rejected for a in log.accounts], policy, total=True),
        flags=_by_code([a.flags for a in log.accounts], policy, total=False),
        events=protect_count(log.events, policy), children=protect_count(log.cases, policy),
        ties=protect_count(log.same_day_ties, policy), merged=protect_count(log.merged, policy),
    )


def _by_code(counters: Sequence[Mapping[str, int]], policy: Policy, *,
             total: bool) -> list[list[Any]]:
    """Rows per code over every table, protected, as [code, rows, what it means]; with
    ``total``, a last row of their sum (rejected rows: each has one reason). Flags have no
    total: a row can carry more than one, so their sum counts no rows."""
    rows: Counter[str] = Counter()
    for counter in counters:
        rows.update(counter)
    if not rows:
        return []
    codes = sorted(rows)
    shown = protect_table(pd.DataFrame({"Code": codes, "Rows": [rows[c] for c in codes]}),
                          policy, counts=["Rows"], label="Code", total_row=total)
    return [[code, n, "" if code == TOTAL else describe(code)]
            for code, n in shown.to_numpy().tolist()]


@dataclass(frozen=True)
class Provenance:
    inputs: list[tuple[str, str]]
    version: str
    rules: str
    pseudonymised: bool


def _provenance(log: EventLog) -> Provenance:
    """Where the report came from. A sha256 is shown in groups of eight with thin spaces:
    a long run of digits in a hash would look like an NHS number or a UPN to the checker."""
    grouped = [(i["path"], "\u2009".join(re.findall(".{1,8}", i["sha256"])))
               for i in log.inputs]
    return Provenance(grouped, __version__, RULES_VERSION, log.pseudonymised)


# ---------------------------------------------------------------------------------------
# Template


def _environment() -> Environment:
    """Jinja2 with autoescaping on for every template (its default is off, SEC-4)."""
    env = Environment(loader=PackageLoader("cscmining", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["count"] = format_shown
    env.filters["pct"] = shown_percent
    env.tests["figure"] = lambda value: isinstance(value, Figure)
    env.globals["SUPPRESSED"] = SUPPRESSED
    return env
