"""Disclosure control: one engine for every number an output shows, and an independent checker.

Outputs meant to leave the analyst's desk must not single out a child. ``--disclosure`` picks a
level (SPEC §6, reliability.md SDC-1 … SDC-13):

``none``
    The analyst's own use: every number is shown. Raw identifiers are still refused.
``standard`` (default for reports)
    Counts 1 to 5 are shown as ``c`` (DfE's rule, K = 6); no child identifiers, no individual
    dates, no minimum or maximum durations.
``strict`` (for sharing beyond the LA)
    K = 10, counts rounded to the nearest 5, secondary suppression (no ``c`` can be worked out
    by subtraction from any sum the output shows), dates to the month.

The engine (``protect_*``) turns raw numbers into the values to show; it is the last step
before writing, after every filter (SDC-11). Renderers draw everything from its output: labels,
edge widths, colours, tables, embedded data. ``check_text``/``check_file`` then re-read the
written file as text, knowing nothing of the engine, and fail the run when something slipped
through (SDC-12, SEC-9): the checker catches renderer mistakes the engine cannot see.

Decisions
---------
* ``0`` is a true zero and stays ``0`` (DfE); only 1 … K-1 become ``c``.
* Strict rounding is half up to a multiple of 5; K must be a multiple of the base, so a count
  of at least K never rounds below K. Totals are computed from unrounded values and then rounded,
  so they may not equal the sum of their rounded parts (the legend says so).
* Secondary suppression is exact linear derivability (SDC-4): a hidden count must not be the
  value of any combination of the sums the output shows (a row total, a node's in-flow or
  out-flow, the start counts against the number of children). While one is, the smallest
  non-zero shown term of the combination that gives it away is hidden too, to a fixed point
  (greedy: safe, not the fewest cells possible). Bounds (a ``c`` is 1 … K-1) are not used:
  this is the DfE/SACRO "no recalculation" rule, not an interval audit. ``standard`` has no
  secondary suppression: the SPEC gives it to ``strict``.
* Percentages are computed from the *shown* counts: with rounding, a percentage of unrounded
  numbers lets a reader undo the rounding (HES does the same). Without rounding the two agree.
* Journey variants below K are folded into one "other variants" bucket; while that bucket is
  non-empty but below K the smallest listed variant is folded in too, so the bucket never needs
  a ``c`` that the total would give away.
* Dates. An *individual* date belongs to one child (an event date, a stuck child's "since", a
  date of birth): shown only at level ``none``. An *aggregate* date describes the output (the
  data period, the as-at date, a month bucket): shown to the day at ``standard`` and to the
  month at ``strict``, where a report covers "2024-04 to 2025-03". The checker cannot tell the
  two apart, so at ``standard`` a day-level date passes only if the caller lists it in
  ``allowed_dates`` (the period bounds and as-at date it printed); at ``strict`` none does.
* Durations (medians, percentiles, means, child-days) are shown only when based on at least K
  children, in whole days, and never beside a hidden count; a minimum or maximum is never
  shown at a shareable level (the longest wait is one child's).
* Input child ids are searched as whole tokens, case-insensitively. Purely numeric ids shorter
  than ``MIN_NUMERIC_ID`` digits (without a leading zero) are not searched: they cannot be
  told from counts. Findings say where and what kind, never the value found.

How renderers show counts (the count-position convention)
----------------------------------------------------------
The checker cannot guess which digits in a file are counts, so every format has one rule, and
every number the rule covers is treated as a count ("default deny"): a renderer that forgets a
count cannot hide it from the checker, and a number that is not a count must say so.

HTML and SVG
    Every count stands alone as the whole text of its own element: ``<td>1,234</td>``,
    ``<span>c</span>`` inside a sentence, a graphviz ``<text>`` line. Any element whose own
    text is a whole number (digits, thousands separated by commas) or ``c`` is a count
    position, except ``<title>``, ``<style>`` and ``<script>`` elements and elements with
    ``class="nc"`` ("not a count": ranks, years). Durations and percentages carry their unit
    inside the same element (``12 d``, ``35%``), so they are never bare numbers. Never put a
    count in an attribute (``title``, ``alt``, ``aria-label``), a comment, or in running text
    without its own element. Machine data embedded in a report goes in
    ``<script type="application/json">`` and follows the JSON rule.
DOT, and the SVG graphviz draws from it
    Each count on its own label line (``label="Referral\\n1,234"``); a node or an edge shows at
    most one count (the overlay's measure). Start and end flows are edges from and to a start
    and an end node that show no count, so every node's in-flow and out-flow are drawn in full
    and the checker can rebuild the map's sums. Node ids are generated (``n1``), never bare
    numbers. A suppressed edge has ``penwidth`` ``SUPPRESSED_PENWIDTH`` (or none) and all
    suppressed edges share one ``color``; all suppressed nodes share one ``fillcolor``.
    Use ``penwidth`` to derive widths from shown values. A delta map (two sides) shows a
    box's or line's two counts as one label line ``A → B``: both are count positions, the
    pair enters no sum (the sides' sums are in the report's table beside it), and an item
    with a ``c`` on either side is drawn like every suppressed one.
JSON
    Every number is a count unless the last word of its key is one of ``NOT_COUNT_WORDS``
    (``median_days``, ``p90_days``, ``share``, ``rank``, ``limit``...). A process map in the
    SPEC shape (``nodes``/``edges``/``start``/``end``) is rebuilt and its sums checked.
CSV
    Every cell holding a whole number is a count unless the last word of its column header is
    one of ``NOT_COUNT_WORDS`` or the header contains ``%``.
Tables with totals (HTML and CSV)
    The first row holds the headers and the first column the row labels; the total row's
    first cell reads ``Total`` and the total column's header reads ``Total`` (``protect_table``
    writes them so); no cell spans two columns. The checker rebuilds the sums. Keys and
    headers whose words include min, max, minimum, maximum, longest or shortest are refused
    at shareable levels.

PNG and PDF cannot be read back: check the DOT or SVG they are drawn from (the same labels).
Write each shareable file through ``outputs.atomic_path`` and call ``check_file`` on the
temporary path inside the ``with`` block: a file that fails is never renamed into place.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import math
import numbers
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import pandas as pd

from .errors import CscMiningError, UsageError

Level = Literal["none", "standard", "strict"]
Kind = Literal["html", "svg", "json", "csv", "dot"]
LEVELS: tuple[Level, ...] = ("none", "standard", "strict")
KINDS: tuple[Kind, ...] = ("html", "svg", "json", "csv", "dot")

#: the lowest threshold any shareable output may use: DfE suppresses 1 to 5 (SDC-2)
FLOOR = 6
#: recorded in manifests so an output says which rules made it (SDC-11)
RULES_VERSION = "sdc-1"
#: GSS symbols (SDC-10)
SUPPRESSED = "c"
LOW = "k"
NOT_APPLICABLE = "z"
#: the label of the total row and column that ``protect_table`` adds
TOTAL = "Total"
#: every suppressed edge is drawn this wide, whatever it hides
SUPPRESSED_PENWIDTH = 1.0
#: last words of JSON keys and CSV headers that name something other than a count (or last
#: two, as in ``rate_change``: a count's change is a count; a rate, per 100 children or a
#: month, is worked out from shown counts, and a step of colour or a score is neither)
NOT_COUNT_WORDS = frozenset({
    "days", "weeks", "months", "years", "share", "pct", "percent", "rank", "year", "limit",
    "elapsed", "version", "rate", "step", "score", "rate change",
})
EXTREME_WORDS = frozenset({"min", "max", "minimum", "maximum", "longest", "shortest"})
#: purely numeric ids shorter than this (without a leading zero) look like ordinary counts and
#: are not searched: matching them would fail honest runs on a count that equals an id
MIN_NUMERIC_ID = 6

Count = int | str
"""A count as shown: a whole number, or ``"c"``."""
Shown = int | float | str
"""Any value as shown: a number, or one of the symbols c, k, z."""
Term = tuple[Hashable, ...]
"""One number of a table or map: ``("node", a)``, ``("edge", a, b)``, ``("start", a)``,
``("end", a)``, ``("cases",)``, or ``(row, column)`` positions in a table."""
Equation = Mapping[Term, int]
"""A sum the output shows, as coefficients: Σ coefficient × value = 0."""

V = TypeVar("V")
P = TypeVar("P", bound=Hashable)


# ---------------------------------------------------------------------------------------
# Policy and errors


@dataclass(frozen=True)
class Policy:
    """A disclosure level with its threshold K and rounding base.

    Build it with ``Policy.from_name``. Everything else follows from the level, so no
    combination the SPEC does not define (say, strict without secondary suppression) can exist.
    """

    level: Level
    threshold: int
    rounding: int

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise UsageError(f"unknown disclosure level; choose one of {', '.join(LEVELS)}")
        if not self.shareable:
            if (self.threshold, self.rounding) != (1, 1):
                raise UsageError("--disclosure none shows every number; it takes no threshold")
            return
        if self.threshold < FLOOR:
            raise UsageError(
                f"K_BELOW_FLOOR: a disclosure threshold of {self.threshold} is below the floor of "
                f"{FLOOR}; counts 1 to {FLOOR - 1} are never shown in a shareable output"
            )
        if self.rounding < 1 or self.threshold % self.rounding:
            raise UsageError(
                f"the disclosure threshold must be a multiple of the rounding base "
                f"{self.rounding}, or a count at the threshold would round below it"
            )

    @classmethod
    def from_name(cls, name: str, *, threshold: int | None = None) -> Policy:
        """The policy of ``--disclosure NAME``, with an optional configured threshold K."""
        presets = {"none": (1, 1), "standard": (FLOOR, 1), "strict": (10, 5)}
        if name not in presets:
            raise UsageError(f"unknown disclosure level; choose one of {', '.join(LEVELS)}")
        k, base = presets[name]
        if threshold is not None and name == "none":
            raise UsageError("--disclosure none shows every number; it takes no threshold")
        return cls(name, k if threshold is None else threshold, base)  # type: ignore[arg-type]

    @property
    def shareable(self) -> bool:
        """Whether the output may leave the analyst's desk (SDC-1)."""
        return self.level != "none"

    @property
    def secondary(self) -> bool:
        """Whether hidden counts are protected from subtraction (SDC-4)."""
        return self.level == "strict"

    @property
    def date_granularity(self) -> Literal["day", "month"]:
        """How finely aggregate dates (data period, as-at date, buckets) are shown (SDC-8)."""
        return "month" if self.level == "strict" else "day"

    @property
    def individual_dates(self) -> bool:
        """Whether one child's dates may be shown at all."""
        return not self.shareable

    @property
    def allow_extremes(self) -> bool:
        """Whether minimum and maximum durations may be shown (SDC-7)."""
        return not self.shareable

    def describe(self) -> str:
        """One line for the footer of every artefact (SDC-1)."""
        if not self.shareable:
            return "Disclosure control: none (every number shown; for the analyst's own use)"
        parts = [f"counts 1 to {self.threshold - 1} shown as c"]
        if self.rounding > 1:
            parts.append(f"others rounded to the nearest {self.rounding}")
        if self.secondary:
            parts.append("secondary suppression")
        parts.append("no child identifiers or individual dates")
        if self.date_granularity == "month":
            parts.append("dates to the month")
        parts.append("no minimum or maximum durations")
        return f"Disclosure control: {self.level} ({'; '.join(parts)})"

    def manifest(self) -> dict[str, Any]:
        """What a manifest records: the rules, never a value they hid (SDC-11)."""
        return {
            "level": self.level, "threshold": self.threshold, "rounding": self.rounding,
            "secondary": self.secondary, "date_granularity": self.date_granularity,
            "individual_dates": self.individual_dates, "allow_extremes": self.allow_extremes,
            "rules": RULES_VERSION,
        }


NONE = Policy.from_name("none")
STANDARD = Policy.from_name("standard")
STRICT = Policy.from_name("strict")


@dataclass(frozen=True)
class Finding:
    """One thing the checker found. ``detail`` never quotes the value it found."""

    where: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


class DisclosureError(CscMiningError):
    """A written output shows something it must not; the run fails (SDC-12)."""

    MAX_LISTED = 20

    def __init__(self, path: Path | str, findings: Sequence[Finding]) -> None:
        self.path = str(path)
        self.findings = list(findings)
        lines = [str(f) for f in self.findings[: self.MAX_LISTED]]
        if len(self.findings) > self.MAX_LISTED:
            lines.append(f"... and {len(self.findings) - self.MAX_LISTED} more")
        noun = "problem" if len(self.findings) == 1 else "problems"
        super().__init__(
            f"{self.path}: {len(self.findings)} disclosure {noun}; the file must not be shared:\n  "
            + "\n  ".join(lines)
        )


def legend(policy: Policy) -> list[str]:
    """The legend printed with every table and map (SDC-10): symbols, rounding, dates."""
    if not policy.shareable:
        return [policy.describe()]
    hidden = f"c  confidential: a count from 1 to {policy.threshold - 1}"
    if policy.secondary:
        hidden += ", or a count hidden so that no other c can be worked out by subtraction"
    lines = [policy.describe(), hidden, "0  true zero",
             "k  a percentage that rounds to 0 but is not zero", "z  not applicable"]
    if policy.rounding > 1:
        lines.append(f"Counts are rounded to the nearest {policy.rounding}; totals are rounded "
                     "from unrounded values, so totals may not equal the sum of their parts.")
    lines.append(f"Durations are shown only when based on at least {policy.threshold} children.")
    return lines


# ---------------------------------------------------------------------------------------
# Single values


def _whole(value: object) -> int:
    """A count as a Python int; counts arrive as ints, numpy ints or whole floats."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError("a count must be a whole number")
    if isinstance(value, numbers.Integral):
        n = int(value)
    elif float(value).is_integer():
        n = int(float(value))
    else:
        raise ValueError("a count must be a whole number")
    if n < 0:
        raise ValueError("a count cannot be negative")
    return n


def _round_half_up(value: Fraction | float, decimals: int = 0) -> Fraction:
    """Round exactly (no binary floating point), half up: 2.5 → 3, as published tables do."""
    scale = Fraction(10) ** decimals
    return Fraction(math.floor(Fraction(value) * scale + Fraction(1, 2))) / scale


def protect_count(n: int | str, policy: Policy) -> Count:
    """The count to show: ``0``, ``c`` for 1 … K-1, otherwise rounded to the policy's base.

    Idempotent, and ``c`` passes through, so shown values may be protected again (as
    ``protect_share`` does with a count that secondary suppression hid).
    """
    if isinstance(n, str):
        if n != SUPPRESSED:
            raise ValueError("a count must be a whole number or c")
        return n
    value = _whole(n)
    if not policy.shareable or value == 0:
        return value
    if value < policy.threshold:
        return SUPPRESSED
    return int(_round_half_up(Fraction(value, policy.rounding))) * policy.rounding


def protect_share(numerator: int | str, denominator: int | str, policy: Policy, *,
                  decimals: int = 0) -> Shown:
    """A percentage to show: ``c`` when either count is hidden, ``k`` when a non-zero share
    rounds to 0, ``z`` when the denominator is 0 (SDC-6).

    Pass the *shown* counts when secondary suppression hid one: a share of a hidden count
    would give it away. Computed from the shown (rounded) counts: see the module notes.
    Whole percentages by default, as DfE publishes.
    """
    num, den = protect_count(numerator, policy), protect_count(denominator, policy)
    if isinstance(num, str) or isinstance(den, str):
        return SUPPRESSED
    if den == 0:
        return NOT_APPLICABLE
    pct = _round_half_up(Fraction(100 * num, den), decimals)
    if num > 0 and pct == 0:
        return LOW
    return int(pct) if decimals == 0 else float(pct)


def protect_duration(value: float | None, cases: int | str, policy: Policy, *,
                     extreme: bool = False) -> Shown:
    """A duration statistic to show, from the number of children it is based on (SDC-7).

    ``c`` below K children, and always for a minimum or maximum (``extreme=True``) at shareable
    levels: the longest wait belongs to one child. Pass the count of children *as shown*
    where it is shown (``c`` stays ``c``): a duration beside a count that secondary suppression
    hid would give it away (child-days over a median is roughly the count). Renderers should
    leave min/max columns out when ``policy.allow_extremes`` is false rather than print a
    column of c. Shown values are whole days; ``z`` when there is nothing to measure.
    """
    based_on = protect_count(cases, policy)
    if value is None or pd.isna(value) or based_on == 0:
        return NOT_APPLICABLE
    if not policy.shareable:
        return value
    if based_on == SUPPRESSED or (extreme and not policy.allow_extremes):
        return SUPPRESSED
    return int(_round_half_up(float(value)))


def coarsen_date(value: date | datetime | pd.Timestamp | None, policy: Policy, *,
                 individual: bool = False) -> str | None:
    """A date as it may be shown, or None when it may not be shown at all (SDC-8).

    ``individual=True`` for one child's date (event date, "since", date of birth): shown only at
    level none. Aggregate dates (data period, as-at date, buckets) are ISO days, or ISO months
    (``2024-04``) at strict. None and NaT give None.
    """
    if value is None or pd.isna(value):
        return None
    if individual and not policy.individual_dates:
        return None
    day = pd.Timestamp(value).date()
    return f"{day:%Y-%m}" if policy.date_granularity == "month" else day.isoformat()


def format_count(value: Count) -> str:
    """A shown count as text, thousands separated by commas (the form the checker reads)."""
    return value if isinstance(value, str) else f"{value:,}"


def penwidth(value: Count, largest: int, *, widest: float = 6.0) -> float:
    """An edge width from the shown count: ``SUPPRESSED_PENWIDTH`` for ``c``, so a hidden
    count never shows through its width; otherwise 1 … ``widest`` in proportion to ``largest``
    (the largest shown count)."""
    if isinstance(value, str) or largest <= 0:
        return SUPPRESSED_PENWIDTH
    return round(1.0 + (widest - 1.0) * value / largest, 2)


# ---------------------------------------------------------------------------------------
# Derivability: which hidden numbers follow from the sums an output shows


def _axpy(target: dict[Term, Fraction], factor: Fraction, source: Mapping[Term, Fraction]) -> None:
    """target += factor × source, dropping terms that cancel."""
    for term, coefficient in source.items():
        value = target.get(term, Fraction(0)) + factor * coefficient
        if value:
            target[term] = value
        else:
            target.pop(term, None)


def _derivations(unknown: Sequence[Term],
                 equations: Iterable[Equation]) -> dict[Term, dict[Term, Fraction]]:
    """Unknown terms whose value follows from the equations, each with the known terms (and
    their coefficients) it is worked out from.

    Gauss-Jordan elimination over exact fractions on the unknown columns, carrying each row's
    known terms along. A reduced row left with one unknown computes it from shown values; any
    other unknown can take more than one value whatever the reader combines.
    """
    position = {t: i for i, t in enumerate(unknown)}
    pivots: dict[Term, tuple[dict[Term, Fraction], dict[Term, Fraction]]] = {}
    for equation in equations:
        row = {t: Fraction(c) for t, c in equation.items() if t in position and c}
        known = {t: Fraction(c) for t, c in equation.items() if t not in position and c}
        for pivot, (p_row, p_known) in pivots.items():
            factor = row.get(pivot)
            if factor:
                _axpy(row, -factor, p_row)
                _axpy(known, -factor, p_known)
        if not row:
            continue
        pivot = min(row, key=position.__getitem__)
        scale = row[pivot]
        row = {t: c / scale for t, c in row.items()}
        known = {t: c / scale for t, c in known.items()}
        for p_row, p_known in pivots.values():
            factor = p_row.get(pivot)
            if factor:
                _axpy(p_row, -factor, row)
                _axpy(p_known, -factor, known)
        pivots[pivot] = (row, known)
    return {pivot: known for pivot, (row, known) in pivots.items() if len(row) == 1}


def complete_suppression(values: Mapping[Term, int | None], hidden: Iterable[Term],
              equations: Sequence[Equation], fixed: frozenset[Term] = frozenset(),
              ) -> frozenset[Term]:
    """Hide more terms until no hidden one can be worked out (SDC-4), smallest first.

    ``values`` holds raw counts, in the output's order (None for one already shown as c).
    Each round takes the first derivable hidden term and hides the smallest non-zero shown
    term of the combination that gives it away. A zero is hidden only when nothing else will
    do (a filtered map whose only drawn in-flow of a node is a start count of 0). ``fixed``
    terms are shown by another part of the output, already protected (the report's map
    beside a comparison): they are never hidden here. Every round hides one more term, so
    this ends.
    """
    hidden = set(hidden)
    rank = {t: i for i, t in enumerate(values)}
    while True:
        found = _derivations([t for t in values if t in hidden], equations)
        if not found:
            return frozenset(hidden)
        leak = min(found, key=rank.__getitem__)
        free = [t for t in found[leak] if t not in fixed]
        if not free:
            raise ValueError("the sums of this output cannot hold: a hidden count is fixed by "
                             "their shape alone")
        hidden.add(min(free, key=lambda t: (values[t] == 0, values[t], rank[t])))


def _flow_equations(nodes: Iterable[Term], into: Mapping[Term, list[Term]],
                    out: Mapping[Term, list[Term]]) -> list[Equation]:
    """node = Σ flows in, node = Σ flows out, for every node that has flows on that side."""
    equations: list[Equation] = []
    for node in nodes:
        for side in (into.get(node, []), out.get(node, [])):
            if side:
                equations.append({node: 1, **{t: -1 for t in side}})
    return equations


# ---------------------------------------------------------------------------------------
# Process maps


@dataclass(frozen=True)
class FlowGraph(Generic[V]):
    """The numbers of one process map, for one measure (events, or children).

    ``nodes``: activity → count; ``edges``: (from, to) → count; ``start``/``end``: activity →
    children whose journey starts/ends there (absent means 0); ``cases``: the number of
    children, when the map shows it (title, legend). The sums a reader can form: each node
    equals its in-flow (edges in + start) and its out-flow (edges out + end); ``cases`` equals
    the start counts and the end counts. Raw graphs hold ints; protected ones ``Count``.
    """

    nodes: Mapping[str, V]
    edges: Mapping[tuple[str, str], V]
    start: Mapping[str, V] = field(default_factory=dict)
    end: Mapping[str, V] = field(default_factory=dict)
    cases: V | None = None

    def __post_init__(self) -> None:
        named = [b for edge in self.edges for b in edge] + list(self.start) + list(self.end)
        if any(a not in self.nodes for a in named):
            raise ValueError("every edge, start and end of a map must name one of its nodes")

    def terms(self) -> dict[Term, V]:
        """Every number of the map, keyed by term, in a stable order."""
        out: dict[Term, V] = {("node", a): v for a, v in self.nodes.items()}
        out.update({("edge", a, b): v for (a, b), v in self.edges.items()})
        out.update({("start", a): v for a, v in self.start.items()})
        out.update({("end", a): v for a, v in self.end.items()})
        if self.cases is not None:
            out[("cases",)] = self.cases
        return out

    def equations(self) -> list[Equation]:
        """The sums a reader of the map can form (see the class notes)."""
        into: dict[Term, list[Term]] = {}
        out: dict[Term, list[Term]] = {}
        for a, b in self.edges:
            out.setdefault(("node", a), []).append(("edge", a, b))
            into.setdefault(("node", b), []).append(("edge", a, b))
        for a in self.start:
            into.setdefault(("node", a), []).append(("start", a))
        for a in self.end:
            out.setdefault(("node", a), []).append(("end", a))
        equations = _flow_equations([("node", a) for a in self.nodes], into, out)
        if self.cases is not None:
            for kind, side in (("start", self.start), ("end", self.end)):
                if side:
                    equations.append({("cases",): 1, **{(kind, a): -1 for a in side}})
        return equations

    def suppressed(self) -> frozenset[Term]:
        """The terms shown as ``c``: draw them with ``SUPPRESSED_PENWIDTH`` and one colour."""
        return frozenset(t for t, v in self.terms().items() if v == SUPPRESSED)

    def replace(self, values: Mapping[Term, Any]) -> FlowGraph[Any]:
        """The same map with new values for its terms."""
        return FlowGraph(
            nodes={a: values[("node", a)] for a in self.nodes},
            edges={(a, b): values[("edge", a, b)] for a, b in self.edges},
            start={a: values[("start", a)] for a in self.start},
            end={a: values[("end", a)] for a in self.end},
            cases=None if self.cases is None else values[("cases",)],
        )


def protect_graphs(graphs: Sequence[FlowGraph[Any]], policy: Policy) -> list[FlowGraph[Count]]:
    """Protect several measures of one map (events and children) with one suppression pattern.

    A count hidden in one measure is hidden in all: children on an edge never exceed its
    transitions, so a shown child count would bound a hidden transition count. Graphs may be
    raw (ints) or already protected (``c`` passes through), so protection is idempotent.
    """
    if not graphs:
        return []
    all_terms = [g.terms() for g in graphs]
    if any(t.keys() != all_terms[0].keys() for t in all_terms):
        raise ValueError("the measures of one map must have the same nodes, edges, start and end")
    shown = [{t: protect_count(v, policy) for t, v in terms.items()} for terms in all_terms]
    hidden = frozenset(t for t in all_terms[0] if any(s[t] == SUPPRESSED for s in shown))
    if policy.secondary:
        raw = {t: None if isinstance(v, str) else _whole(v) for t, v in all_terms[0].items()}
        hidden = complete_suppression(raw, hidden, graphs[0].equations())
    return [g.replace({t: SUPPRESSED if t in hidden else v for t, v in s.items()})
            for g, s in zip(graphs, shown, strict=True)]


def protect_graph(graph: FlowGraph[Any], policy: Policy) -> FlowGraph[Count]:
    """Protect one measure of a map: every count, and (strict) every sum it shows."""
    return protect_graphs([graph], policy)[0]


def derivable(graph: FlowGraph[Any]) -> list[Term]:
    """The suppressed terms of a protected map that its other numbers give away (should be
    none at strict; ``standard`` does not promise it)."""
    terms = graph.terms()
    hidden = graph.suppressed()
    found = _derivations([t for t in terms if t in hidden], graph.equations())
    return [t for t in terms if t in found]


# ---------------------------------------------------------------------------------------
# Tables


def protect_table(table: pd.DataFrame, policy: Policy, *, counts: Sequence[str],
                  label: str | None = None, total_row: bool = False,
                  total_column: bool = False) -> pd.DataFrame:
    """A table of raw counts as it may be shown, with its totals added and protected.

    ``counts`` are the count columns (raw whole numbers). ``total_column`` adds a ``Total``
    column (the sum of ``counts`` along each row); ``total_row`` adds a last row, indexed
    ``Total`` and with ``Total`` in the ``label`` column, summing every count column. Totals
    are sums of unrounded values, rounded afterwards (SDC-3); they are added here so they are
    always the sums the checker expects. At strict no hidden cell can be worked out from a
    row or column total (T-SDC-01, T-SDC-02). Other columns are left as they are; compute
    shares from the shown values with ``protect_share``.
    """
    missing = [c for c in [*counts, *([label] if label else [])] if c not in table.columns]
    if missing or (total_column and TOTAL in table.columns):
        raise ValueError("protect_table: count or label columns missing, or a Total column exists")
    raw = table.copy()
    columns = list(counts)
    for c in columns:
        raw[c] = pd.Series([_whole(v) for v in raw[c]], index=raw.index, dtype=object)
    if total_column:
        raw[TOTAL] = pd.Series([sum(row) for row in raw[columns].itertuples(index=False)],
                               index=raw.index, dtype=object)
        columns.append(TOTAL)
    if total_row:
        sums: dict[str, Any] = {c: sum(raw[c]) for c in columns}
        if label:
            sums[label] = TOTAL
        total = pd.DataFrame([sums], index=[TOTAL]).astype({c: object for c in columns})
        raw = pd.concat([raw, total.reindex(columns=raw.columns)])
    n = len(raw)
    values: dict[Term, int] = {(i, c): raw[c].iat[i] for c in columns for i in range(n)}
    equations: list[Equation] = []
    if total_column:
        equations += [{(i, TOTAL): 1, **{(i, c): -1 for c in counts}} for i in range(n)]
    if total_row:
        equations += [{(n - 1, c): 1, **{(i, c): -1 for i in range(n - 1)}} for c in columns]
    shown = {t: protect_count(v, policy) for t, v in values.items()}
    hidden: frozenset[Term] = frozenset(t for t, v in shown.items() if v == SUPPRESSED)
    if policy.secondary:
        hidden = complete_suppression(values, hidden, equations)
    out = raw.copy()
    for c in columns:
        out[c] = pd.Series([SUPPRESSED if (i, c) in hidden else shown[(i, c)] for i in range(n)],
                           index=out.index, dtype=object)
    return out


# ---------------------------------------------------------------------------------------
# Journey variants


@dataclass(frozen=True)
class ProtectedVariants(Generic[P]):
    """Variants as they may be shown (SDC-5).

    ``listed``: variants shown on their own, with their shown count, in the input order;
    ``other``/``other_variants``: children and variants in the "other variants" bucket;
    ``cases``: all children. ``folded`` lists the variants in the bucket, for the renderer's
    own sums (the bucket's median duration): never show it.
    """

    listed: list[tuple[P, Count]]
    other: Count
    other_variants: Count
    cases: Count
    folded: tuple[P, ...]


def protect_variants(counts: Mapping[P, int], policy: Policy) -> ProtectedVariants[P]:
    """List variants with at least K children; fold the rest into "other variants".

    A bucket of 1 … K-1 children next to a shown total would give itself away, so the smallest
    listed variants are folded in until the bucket reaches K or nothing is left to fold; only
    when all children number fewer than K is the bucket (and the total) ``c``.
    """
    raw = {v: _whole(n) for v, n in counts.items()}
    total = sum(raw.values())
    if not policy.shareable:
        return ProtectedVariants(list(raw.items()), 0, 0, total, ())
    order = {v: i for i, v in enumerate(raw)}
    listed = [v for v, n in raw.items() if n >= policy.threshold]
    other = total - sum(raw[v] for v in listed)
    while 0 < other < policy.threshold and listed:
        smallest = min(listed, key=lambda v: (raw[v], -order[v]))
        listed.remove(smallest)
        other += raw[smallest]
    kept = set(listed)
    folded = tuple(v for v in raw if v not in kept)
    return ProtectedVariants(
        listed=[(v, protect_count(raw[v], policy)) for v in listed],
        other=protect_count(other, policy),
        other_variants=protect_count(len(folded), policy),
        cases=protect_count(total, policy),
        folded=folded,
    )


# ---------------------------------------------------------------------------------------
# The checker: what a written file shows


@dataclass(frozen=True)
class CountPosition:
    """A place where a file shows a count, and the count as written there."""

    where: str
    text: str


@dataclass
class _MapItem:
    """A node or edge of a drawn map: its id or ends, the counts it shows, how it is drawn."""

    kind: Literal["node", "edge"]
    key: str
    where: str
    counts: list[str] = field(default_factory=list)
    width: str | None = None
    colour: str | None = None
    drawn: bool = False
    pair_hidden: bool = False


@dataclass
class _Cell:
    text: str
    count: str | None
    where: str


@dataclass(frozen=True)
class _System:
    """Sums an output shows: which terms are unknown (None), which are shown as c."""

    values: dict[Term, int | None]
    hidden: frozenset[Term]
    equations: list[Equation]
    where: dict[Term, str]


@dataclass
class _Document:
    """What a reader found in one file, before any policy is applied."""

    counts: list[CountPosition] = field(default_factory=list)
    maps: list[list[_MapItem]] = field(default_factory=list)
    systems: list[_System] = field(default_factory=list)
    names: list[tuple[str, str]] = field(default_factory=list)
    external: list[Finding] = field(default_factory=list)
    conventions: list[Finding] = field(default_factory=list)

    def merge(self, other: _Document) -> None:
        self.counts += other.counts
        self.maps += other.maps
        self.systems += other.systems
        self.names += other.names
        self.external += other.external
        self.conventions += other.conventions


_COUNT_TOKEN = re.compile(r"c|0|[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]*")
#: a map label line with two sides' counts, ``A → B`` (the delta map of a comparison)
_COUNT_PAIR = re.compile(rf"({_COUNT_TOKEN.pattern}) → ({_COUNT_TOKEN.pattern})")


def _count_value(token: str) -> int | None:
    """The number a count token shows; None for c."""
    return None if token == SUPPRESSED else int(token.replace(",", ""))


def _words(name: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", name.casefold())


def _is_count_name(name: str) -> bool:
    """Whether a JSON key or CSV header holds counts (default deny; see the module notes)."""
    words = _words(name)
    return "%" not in name and not (words and (words[-1] in NOT_COUNT_WORDS
                                               or " ".join(words[-2:]) in NOT_COUNT_WORDS))


def _map_system(items: list[_MapItem]) -> tuple[_System, list[Finding]]:
    """The sums a drawn map shows: every node with a count equals the counts on the edges
    into it, and on the edges out of it. Edges without a count are unknown, not hidden."""
    values: dict[Term, int | None] = {}
    where: dict[Term, str] = {}
    hidden: set[Term] = set()
    into: dict[Term, list[Term]] = {}
    out: dict[Term, list[Term]] = {}
    problems: list[Finding] = []
    for i, item in enumerate(items):
        term: Term = ("node", item.key) if item.kind == "node" else ("edge", i)
        if len(item.counts) > 1:
            problems.append(Finding(item.where, "CONVENTION",
                                    f"a map {item.kind} shows more than one count"))
        token = item.counts[0] if len(item.counts) == 1 else None
        if item.kind == "node" and token is None:
            continue  # a start or end node, or one the checker cannot read: no sums
        values[term] = None if token is None else _count_value(token)
        where[term] = item.where
        if token == SUPPRESSED:
            hidden.add(term)
        if item.kind == "edge":
            tail, head = ([*re.split(r"->|--", item.key, maxsplit=1), ""])[:2]
            out.setdefault(("node", tail.split(":")[0].strip()), []).append(term)
            into.setdefault(("node", head.split(":")[0].strip()), []).append(term)
    nodes = [t for t in values if t[0] == "node"]
    system = _System(values, frozenset(hidden), _flow_equations(nodes, into, out), where)
    return system, problems


def _table_system(rows: list[list[_Cell]]) -> _System | None:
    """The sums a table with a ``Total`` column or last ``Total`` row shows, if any."""
    if len(rows) < 2 or len({len(r) for r in rows}) != 1:
        return None
    header, body = rows[0], rows[1:]
    columns = [j for j in range(1, len(header)) if all(r[j].count is not None for r in body)]
    total_column = next((j for j in columns if header[j].text.casefold() == "total"), None)
    total_rows = [i for i, r in enumerate(body) if r[0].text.casefold() == "total"]
    equations: list[Equation] = []
    if total_column is not None:
        parts = [j for j in columns if j != total_column]
        equations += [{(i, total_column): 1, **{(i, j): -1 for j in parts}}
                      for i in range(len(body))]
    if total_rows == [len(body) - 1]:
        last = len(body) - 1
        equations += [{(last, j): 1, **{(i, j): -1 for i in range(last)}} for j in columns]
    if not equations:
        return None
    cells = {(i, j): body[i][j] for i in range(len(body)) for j in columns}
    values: dict[Term, int | None] = {t: _count_value(c.count) for t, c in cells.items()
                                      if c.count is not None}
    hidden = frozenset(t for t, c in cells.items() if c.count == SUPPRESSED)
    return _System(values, hidden, equations, {t: c.where for t, c in cells.items()})


# --- HTML and SVG


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "param", "source", "track", "wbr"})
_URL_ATTRIBUTES = frozenset({"src", "href", "xlink:href", "action", "formaction", "poster",
                             "data", "srcset", "background", "cite", "longdesc", "manifest",
                             "ping", "codebase"})
_SHAPES = frozenset({"path", "ellipse", "polygon", "polyline", "rect", "circle"})


@dataclass
class _Element:
    tag: str
    where: str
    classes: frozenset[str]
    attrs: dict[str, str]
    own: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)
    item: _MapItem | None = None


class _MarkupReader(HTMLParser):
    """Reads HTML or SVG: count positions, graphviz maps, tables, external references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.doc = _Document()
        self.stack: list[_Element] = []
        self.svgs: list[list[_MapItem]] = []
        self.tables: list[list[list[_Cell]]] = []
        self.csp = False

    def read(self, text: str) -> _Document:
        self.feed(text)
        self.close()
        while self.stack:  # elements a page left open end with it
            self._close(self.stack.pop())
        return self.doc

    def _where(self) -> str:
        return f"line {self.getpos()[0]}"

    def _item(self) -> _MapItem | None:
        return next((e.item for e in reversed(self.stack) if e.item is not None), None)

    def _check_references(self, tag: str, attrs: dict[str, str]) -> None:
        """SEC-3: a report must load nothing: no links, scripts from files, remote sources."""
        where = self._where()
        if tag == "link":
            self.doc.external.append(Finding(where, "EXTERNAL", "a <link> element"))
        if tag == "script" and "src" in attrs:
            self.doc.external.append(Finding(where, "EXTERNAL", "a script loaded from elsewhere"))
        equiv = attrs.get("http-equiv", "").casefold()
        if tag == "meta" and equiv == "refresh":
            self.doc.external.append(Finding(where, "EXTERNAL", "a meta refresh"))
        if tag == "meta" and equiv == "content-security-policy":
            self.csp = "default-src 'none'" in attrs.get("content", "")
        for name, value in attrs.items():
            target = value.strip().casefold()
            if name in _URL_ATTRIBUTES and target and not target.startswith(("#", "data:")):
                self.doc.external.append(
                    Finding(where, "EXTERNAL", f"a {name} attribute pointing outside the file"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self._check_references(tag, values)
        item = self._item()
        if item is not None and tag in _SHAPES and not item.drawn:
            item.drawn = True  # the first shape is the edge's line or the node's outline
            item.colour = values.get("stroke" if item.kind == "edge" else "fill")
            item.width = values.get("stroke-width")
        if tag in _VOID:
            return
        classes = frozenset(values.get("class", "").split())
        element = _Element(tag, self._where(), classes, values)
        if tag == "g" and classes & {"node", "edge"}:
            element.item = _MapItem("node" if "node" in classes else "edge", "", element.where)
        if tag == "svg":
            self.svgs.append([])
        if tag == "table":
            self.tables.append([])
        if tag == "tr" and self.tables:
            self.tables[-1].append([])
        self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1].own.append(data)
            self.stack[-1].text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if all(e.tag != tag for e in self.stack):
            return
        while self.stack:
            element = self.stack.pop()
            self._close(element)
            if element.tag == tag:
                return

    def _close(self, element: _Element) -> None:
        own = "".join(element.own).strip()
        text = "".join(element.text).strip()
        parent = self.stack[-1] if self.stack else None
        counted = element.tag not in ("title", "style", "script") and "nc" not in element.classes
        if counted and _COUNT_TOKEN.fullmatch(own):
            element.counts.append(own)
            self.doc.counts.append(CountPosition(element.where, own))
        elif counted and (pair := _COUNT_PAIR.fullmatch(own)) and (item := self._item()):
            # two sides of a delta map: both are counts; the pair enters no sum (the delta
            # map draws no start or end), and a c on either side makes it a hidden item
            self.doc.counts += [CountPosition(element.where, t) for t in pair.groups()]
            item.pair_hidden = item.pair_hidden or SUPPRESSED in pair.groups()
        if parent is not None:
            parent.counts += element.counts
            parent.text.append(text)
        if element.tag == "title" and (item := self._item()) is not None:
            item.key = own
        if element.tag == "script" and "json" in element.attrs.get("type", ""):
            self.doc.merge(_read_json(text, prefix=f"{element.where}, "))
        if element.item is not None:
            element.item.counts = element.counts
            if self.svgs:
                self.svgs[-1].append(element.item)
        if element.tag == "svg" and self.svgs:
            self.doc.maps.append(self.svgs.pop())
        if element.tag in ("td", "th") and self.tables and self.tables[-1]:
            count = element.counts[0] if element.counts == [text] else None
            self.tables[-1][-1].append(_Cell(text, count, element.where))
            if self.tables[-1][-1] is self.tables[-1][0]:
                self.doc.names.append((element.where, text))
        if element.tag == "table" and self.tables:
            system = _table_system(self.tables.pop())
            if system is not None:
                self.doc.systems.append(system)


def _read_markup(text: str, *, page: bool) -> _Document:
    """Reads HTML (``page``: a whole report, which must carry its CSP) or SVG."""
    reader = _MarkupReader()
    doc = reader.read(text)
    for items in doc.maps:
        system, problems = _map_system(items)
        doc.systems.append(system)
        doc.conventions += problems
    if page and not reader.csp:
        doc.external.append(Finding("file", "NO_CSP", "no Content-Security-Policy meta element "
                                    "with default-src 'none'"))
    return doc


# --- DOT


_DOT_TOKEN = re.compile(r"""
    (?P<skip>\s+|//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<arrow>->|--)
  | (?P<id>[^\W\d]\w*|-?(?:\.\d+|\d+(?:\.\d*)?))
  | (?P<punct>[\[\]{}=;,:])
""", re.X | re.S)
_Token = tuple[str, str, int]
"""A DOT token: kind, text, line."""
_DOT_LABELS = ("label", "xlabel", "headlabel", "taillabel")
_DOT_LINKS = ("url", "href", "image")


def _dot_tokens(text: str) -> list[_Token]:
    """(kind, text, line) tokens; HTML-like labels ``<…>`` become one ``html`` token."""
    tokens: list[_Token] = []
    pos, line = 0, 1
    while pos < len(text):
        if text[pos] == "<":
            depth, end = 0, pos
            while end < len(text):
                depth += {"<": 1, ">": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            kind, value = "html", text[pos:end]
        else:
            match = _DOT_TOKEN.match(text, pos)
            if match is None:
                kind, value, end = "skip", text[pos], pos + 1
            else:
                kind, value, end = match.lastgroup or "skip", match.group(), match.end()
        if kind != "skip":
            tokens.append((kind, value, line))
        line += value.count("\n")
        pos = end
    return tokens


def _dot_value(token: _Token) -> str:
    kind, value, _ = token
    if kind == "string":
        return re.sub(r'\\(["\\])', r"\1", value[1:-1])
    return value


def _label_lines(token: _Token, name: str) -> list[str]:
    """The lines a DOT label draws: ``\\n``, ``\\l``, ``\\r`` break lines; ``\\N`` is the
    node's name; an HTML-like label draws the text between its tags."""
    if token[0] == "html":
        parts = re.split(r"<[^<>]*>", token[1][1:-1])
        return [html.unescape(p).strip() for p in parts]
    return [s.strip() for s in re.split(r"\\[nlr]", _dot_value(token).replace("\\N", name))]


def _dot_attributes(tokens: list[_Token], i: int) -> tuple[dict[str, _Token], int]:
    """The attribute lists ``[a=b, …][…]`` starting at token i, and the token after them."""
    attrs: dict[str, _Token] = {}
    while i < len(tokens) and tokens[i][1] == "[":
        i += 1
        while i < len(tokens) and tokens[i][1] != "]":
            if i + 2 < len(tokens) and tokens[i + 1][1] == "=":
                attrs[_dot_value(tokens[i]).casefold()] = tokens[i + 2]
                i += 3
            else:
                i += 1
        i += 1
    return attrs, i


def _dot_end_of_id(tokens: list[_Token], i: int) -> int:
    """Skip a ``:port`` or ``:port:compass`` after a node id."""
    while i + 1 < len(tokens) and tokens[i][1] == ":":
        i += 2
    return i


def _read_dot(text: str) -> _Document:
    """Reads DOT as cscmining writes it: nodes, edges and graph labels with their counts."""
    doc = _Document()
    tokens = _dot_tokens(text)
    nodes: dict[str, tuple[dict[str, _Token], str]] = {}
    edges: list[tuple[str, str, dict[str, _Token], str]] = []
    graph_labels: list[tuple[_Token, str]] = []
    i = 0
    while i < len(tokens):
        kind, value, line = tokens[i]
        word = value.casefold() if kind == "id" else ""
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if word in ("strict", "digraph", "subgraph"):
            i += 1
            if i + 1 < len(tokens) and tokens[i][0] in ("id", "string") and tokens[i + 1][1] == "{":
                i += 1
        elif word in ("graph", "node", "edge") and nxt == "[":
            attrs, i = _dot_attributes(tokens, i + 1)
            if word == "graph":
                graph_labels += [(attrs[k], f"line {line}") for k in _DOT_LABELS if k in attrs]
        elif kind in ("id", "string") and nxt == "=" and i + 2 < len(tokens):
            if _dot_value(tokens[i]).casefold() in _DOT_LABELS:
                graph_labels.append((tokens[i + 2], f"line {line}"))
            i += 3
        elif kind in ("id", "string"):
            chain = [_dot_value(tokens[i])]
            i = _dot_end_of_id(tokens, i + 1)
            while (i + 1 < len(tokens) and tokens[i][0] == "arrow"
                   and tokens[i + 1][0] in ("id", "string")):
                chain.append(_dot_value(tokens[i + 1]))
                i = _dot_end_of_id(tokens, i + 2)
            attrs, i = _dot_attributes(tokens, i)
            if len(chain) == 1:
                old, first = nodes.get(chain[0], ({}, f"line {line}"))
                nodes[chain[0]] = ({**old, **attrs}, first)
            else:
                edges += [(a, b, attrs, f"line {line}") for a, b in itertools.pairwise(chain)]
                for name in chain:
                    nodes.setdefault(name, ({}, f"line {line}"))
        else:
            i += 1
    items: list[_MapItem] = []
    for name, (attrs, where) in nodes.items():
        item = _MapItem("node", name, where, colour=_dot_plain(attrs.get("fillcolor")))
        labels = [attrs.get(k) for k in _DOT_LABELS if k in attrs] or [("string", f'"{name}"', 0)]
        item.counts = _label_counts(labels, name)
        doc.counts += _label_pairs(item, labels, name)
        items.append(item)
    for a, b, attrs, where in edges:
        item = _MapItem("edge", f"{a}->{b}", where, width=_dot_plain(attrs.get("penwidth")),
                        colour=_dot_plain(attrs.get("color")))
        labels = [attrs[k] for k in _DOT_LABELS if k in attrs]
        item.counts = _label_counts(labels, "")
        doc.counts += _label_pairs(item, labels, "")
        items.append(item)
    for attrs, where in [*nodes.values(), *((e[2], e[3]) for e in edges)]:
        if any(k in attrs for k in _DOT_LINKS):
            doc.external.append(Finding(where, "EXTERNAL", "a link or image attribute"))
    for item in items:
        doc.counts += [CountPosition(item.where, c) for c in item.counts]
    for token, where in graph_labels:
        doc.counts += [CountPosition(where, c) for c in _label_counts([token], "")]
    doc.maps.append(items)
    system, problems = _map_system(items)
    doc.systems.append(system)
    doc.conventions += problems
    return doc


def _dot_plain(token: _Token | None) -> str | None:
    return None if token is None else _dot_value(token)


def _label_counts(labels: Sequence[_Token | None], name: str) -> list[str]:
    return [line for token in labels if token is not None
            for line in _label_lines(token, name) if _COUNT_TOKEN.fullmatch(line)]


def _label_pairs(item: _MapItem, labels: Sequence[_Token | None],
                 name: str) -> list[CountPosition]:
    """The two counts of each ``A → B`` label line (a delta map), as `_MarkupReader` reads
    them from its SVG: both are count positions, the pair enters no sum, and a ``c`` on
    either side makes the item a hidden one (drawn like every other)."""
    pairs = [pair.groups() for token in labels if token is not None
             for line in _label_lines(token, name) if (pair := _COUNT_PAIR.fullmatch(line))]
    item.pair_hidden = any(SUPPRESSED in pair for pair in pairs)
    return [CountPosition(item.where, t) for pair in pairs for t in pair]


# --- JSON


def _read_json(text: str, *, prefix: str = "") -> _Document:
    """Reads JSON: every number is a count unless its key says otherwise; maps rebuilt."""
    doc = _Document()
    try:
        data = json.loads(text)
    except ValueError:
        doc.conventions.append(Finding(prefix + "file", "CONVENTION",
                                       "not valid JSON, so it cannot be checked"))
        return doc

    def walk(value: Any, path: str, key: str | None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                step = f".{k}" if re.fullmatch(r"[A-Za-z_]\w*", k) else f"[{json.dumps(k)}]"
                doc.names.append((prefix + path + step, k))
                walk(v, path + step, k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", key)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if key is None or _is_count_name(key):
                shown = str(int(value)) if float(value).is_integer() else str(value)
                doc.counts.append(CountPosition(prefix + path, shown))
        elif value == SUPPRESSED and (key is None or _is_count_name(key)):
            doc.counts.append(CountPosition(prefix + path, value))

    walk(data, "$", None)
    if isinstance(data, dict) and all(isinstance(data.get(k), list) for k in ("nodes", "edges")):
        for node_key, edge_key in (("events", "count"), ("cases", "cases")):
            system = _json_map_system(data, node_key, edge_key, prefix)
            if system is not None:
                doc.systems.append(system)
    return doc


def _json_map_system(data: dict[str, Any], node_key: str, edge_key: str,
                     prefix: str) -> _System | None:
    """The map of a ``map --json`` document for one measure, or None if it does not fit."""
    def shown(v: Any) -> bool:
        return v == SUPPRESSED or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)

    try:
        where: dict[Term, str] = {("node", n["activity"]): f"{prefix}$.nodes[{i}].{node_key}"
                                  for i, n in enumerate(data["nodes"])}
        where.update({("edge", e["source"], e["target"]): f"{prefix}$.edges[{i}].{edge_key}"
                      for i, e in enumerate(data["edges"])})
        graph: FlowGraph[Any] = FlowGraph(
            nodes={n["activity"]: n[node_key] for n in data["nodes"]},
            edges={(e["source"], e["target"]): e[edge_key] for e in data["edges"]},
            start=dict(data.get("start") or {}), end=dict(data.get("end") or {}),
        )
    except (KeyError, TypeError, ValueError):
        return None
    terms = graph.terms()
    if not all(shown(v) for v in terms.values()):
        return None
    for kind in ("start", "end"):
        where.update({(kind, a): f"{prefix}$.{kind}[{json.dumps(a)}]"
                      for a in getattr(graph, kind)})
    values = {t: None if v == SUPPRESSED else v for t, v in terms.items()}
    return _System(values, graph.suppressed(), graph.equations(), where)


# --- CSV


def _read_csv(text: str) -> _Document:
    """Reads CSV: every whole-number cell is a count unless its header says otherwise."""
    doc = _Document()
    reader = csv.reader(io.StringIO(text))
    rows: list[list[_Cell]] = []
    header: list[str] = []
    for row in reader:
        where = f"line {reader.line_num}"
        if not header:
            header = row
            doc.names += [(where, name) for name in header]
            rows.append([_Cell(name.strip(), None, where) for name in header])
            continue
        cells = []
        for j, value in enumerate(cell.strip() for cell in row):
            position = f"{where}, column {j + 1}"
            counted = (j < len(header) and _is_count_name(header[j])
                       and _COUNT_TOKEN.fullmatch(value) is not None)
            if counted:
                doc.counts.append(CountPosition(position, value))
            cells.append(_Cell(value, value if counted else None, position))
        rows.append(cells)
    system = _table_system(rows)
    if system is not None:
        doc.systems.append(system)
    return doc


# --- Scanning text for identifiers, dates and remote references


_UPN = re.compile(r"(?<![0-9A-Za-z])[A-Za-z][0-9]{11}[0-9A-Za-z](?![0-9A-Za-z])")
_NHS = re.compile(r"(?<![0-9])([0-9]{3})[ -]?([0-9]{3})[ -]?([0-9]{4})(?![0-9]|[.,][0-9])")
_POSTCODE = re.compile(
    r"(?<![A-Z0-9])(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2}(?![A-Z0-9])"
)
_PSEUDONYM = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")
_TOKEN = re.compile(r"[0-9A-Za-z]+(?:[-_/.][0-9A-Za-z]+)*")
_RUN = re.compile(r"[0-9A-Za-z]+")
_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DATES = (
    (re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])"), "ymd"),
    (re.compile(r"(?<![0-9])([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})(?![0-9])"), "dmy"),
    (re.compile(rf"(?<![0-9A-Za-z])([0-9]{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+"
                rf"([0-9]{{4}})(?![0-9])", re.I), "d month y"),
    (re.compile(rf"(?<![A-Za-z])({_MONTH})\.?\s+([0-9]{{1,2}})(?:st|nd|rd|th)?,?\s+"
                rf"([0-9]{{4}})(?![0-9])", re.I), "month d y"),
)
_CSS_IMPORT = re.compile(r"@import", re.I)
_CSS_URL = re.compile(r"(?<![\w-])url\(\s*['\"]?\s*(?!data:|#)", re.I)
_DECODE: dict[str, Callable[[str], str]] = {
    "html": html.unescape,
    "svg": html.unescape,
    "json": lambda line: re.sub(r"\\(?:u([0-9a-fA-F]{4})|.)",
                                lambda m: chr(int(m[1], 16)) if m[1] else " ", line),
    "dot": lambda line: re.sub(r"\\.", " ", line),
    "csv": lambda line: line,
}


def _nhs_valid(digits: str) -> bool:
    """The NHS number modulus 11 check: weights 10 … 2, check digit 11 - remainder."""
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(digits[9])


def _dates_in(line: str) -> Iterator[date]:
    """Every day-level date written in a line (ISO, day/month/year, or with a month name)."""
    months = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul",
                                           "aug", "sep", "oct", "nov", "dec"), 1)}
    for pattern, form in _DATES:
        for m in pattern.finditer(line):
            if form == "ymd":
                y, mo, d = int(m[1]), int(m[2]), int(m[3])
            elif form == "dmy":
                d, mo, y = int(m[1]), int(m[3]), int(m[4])
            elif form == "d month y":
                d, mo, y = int(m[1]), months[m[2][:3].casefold()], int(m[3])
            else:
                mo, d, y = months[m[1][:3].casefold()], int(m[2]), int(m[3])
            try:
                yield date(y, mo, d)
            except ValueError:
                continue


_COLOUR = re.compile(r"""(?<=[:\s"'(,])#[0-9a-f]{3,8}(?=[;"'\s),])""")


class _IdMatcher:
    """Finds input child ids as whole tokens (never inside a longer word or number)."""

    def __init__(self, ids: Iterable[str]) -> None:
        wanted = {str(i).strip().casefold() for i in ids}
        wanted = {i for i in wanted if self.searchable(i)}
        self.tokens = {i for i in wanted if _TOKEN.fullmatch(i)}
        self.others = [re.compile(rf"(?<![0-9a-z]){re.escape(i)}(?![0-9a-z])")
                       for i in sorted(wanted - self.tokens)]
        self.span = max((len(_RUN.findall(i)) for i in self.tokens), default=0)

    @staticmethod
    def searchable(child_id: str) -> bool:
        """Ids of 3 characters or more; see ``MIN_NUMERIC_ID`` for short numeric ones."""
        if len(child_id) < 3:
            return False
        return not (child_id.isascii() and child_id.isdigit() and child_id[0] != "0"
                    and len(child_id) < MIN_NUMERIC_ID)

    def found_in(self, line: str) -> bool:
        # a colour in CSS or an SVG attribute (`color: #111111;`, `fill="#111111"`) is not
        # text anyone reads, and the synthetic id 111111 must not be found in it; the same
        # digits shown as text (`>#111111<`) still are
        folded = _COLOUR.sub(" ", line.casefold())
        if any(p.search(folded) for p in self.others):
            return True
        if not self.tokens:
            return False
        for token in _TOKEN.finditer(folded):
            runs = list(_RUN.finditer(token.group()))
            for i in range(len(runs)):
                for j in range(i, min(len(runs), i + self.span)):
                    if token.group()[runs[i].start():runs[j].end()] in self.tokens:
                        return True
        return False


def _scan_lines(text: str, kind: Kind, policy: Policy, ids: _IdMatcher,
                allowed_dates: frozenset[date]) -> list[Finding]:
    """Identifiers, dates and CSS references, line by line, on the text as a reader sees it
    (character references and escapes decoded, so ``2024&#45;04&#45;01`` is a date)."""
    findings: list[Finding] = []
    for number, raw in enumerate(text.split("\n"), 1):
        problems = _line_problems(_DECODE[kind](raw), kind, policy, ids, allowed_dates)
        findings += [Finding(f"line {number}", rule, detail) for rule, detail in problems.items()]
    return findings


def _line_problems(line: str, kind: Kind, policy: Policy, ids: _IdMatcher,
                   allowed_dates: frozenset[date]) -> dict[str, str]:
    """What one line shows that it must not: rule → description, each rule once."""
    problems: dict[str, str] = {}
    if ids.found_in(line):
        problems["CHILD_ID"] = "an input child id"
    if _UPN.search(line):
        problems["UPN"] = "a string shaped like a UPN"
    if any(_nhs_valid("".join(m.groups())) for m in _NHS.finditer(line)):
        problems["NHS_NUMBER"] = "a valid NHS number"
    if _POSTCODE.search(line):
        problems["POSTCODE"] = "a postcode"
    if kind in ("html", "svg") and (_CSS_IMPORT.search(line) or _CSS_URL.search(line)):
        problems["EXTERNAL"] = "a CSS @import or url() pointing outside the file"
    if not policy.shareable:
        return problems
    if _PSEUDONYM.search(line):
        problems["PSEUDONYM"] = "a string shaped like a pseudonym"
    for day in _dates_in(line):
        if policy.date_granularity == "month":
            problems["DATE"] = "a date finer than a month"
        elif day not in allowed_dates:
            problems["DATE"] = "a day-level date that is not the data period or as-at date"
    return problems


def _count_findings(counts: Iterable[CountPosition], policy: Policy) -> list[Finding]:
    """Counts 1 … K-1, counts off the rounding base, and count positions holding no count."""
    findings: list[Finding] = []
    for position in counts:
        if not _COUNT_TOKEN.fullmatch(position.text):
            findings.append(Finding(position.where, "NOT_A_COUNT", "a count position holding "
                                    "something other than a whole number or c"))
            continue
        n = _count_value(position.text)
        if n is None or n == 0:
            continue
        if n < policy.threshold:
            findings.append(Finding(position.where, "SMALL_COUNT",
                                    f"a count below {policy.threshold} is shown"))
        elif n % policy.rounding:
            findings.append(Finding(position.where, "NOT_ROUNDED",
                                    f"a count that is not a multiple of {policy.rounding}"))
    return findings


def _is_suppressed_width(width: str | None) -> bool:
    try:
        return width is None or float(width) == SUPPRESSED_PENWIDTH
    except ValueError:
        return False


def _style_findings(maps: Iterable[list[_MapItem]]) -> list[Finding]:
    """Suppressed edges drawn with the suppressed width; suppressed nodes and edges each in
    one colour, so that nothing drawn varies with a hidden count (SDC-11)."""
    findings: list[Finding] = []
    for items in maps:
        for kind in ("node", "edge"):
            hidden = [it for it in items if it.kind == kind
                      and (it.counts == [SUPPRESSED] or it.pair_hidden)]
            for it in hidden:
                if kind == "edge" and not _is_suppressed_width(it.width):
                    findings.append(Finding(it.where, "SUPPRESSED_STYLE", "a suppressed edge "
                                            "drawn wider than the suppressed width"))
            if len({it.colour for it in hidden}) > 1:
                findings.append(Finding(hidden[0].where, "SUPPRESSED_STYLE",
                                        f"suppressed {kind}s drawn in different colours"))
    return findings


def _derivable_findings(systems: Iterable[_System]) -> list[Finding]:
    findings: list[Finding] = []
    for system in systems:
        found = _derivations([t for t, v in system.values.items() if v is None], system.equations)
        findings += [Finding(system.where[t], "DERIVABLE", "a suppressed count (c) can be "
                             "worked out from the other numbers shown")
                     for t in system.values if t in found and t in system.hidden]
    return findings


def _read(text: str, kind: Kind) -> _Document:
    if kind == "html":
        return _read_markup(text, page=True)
    if kind == "svg":
        return _read_markup(text, page=False)
    if kind == "dot":
        return _read_dot(text)
    if kind == "json":
        return _read_json(text)
    if kind == "csv":
        return _read_csv(text)
    raise ValueError(f"unknown kind of output; one of {', '.join(KINDS)}")


def count_positions(text: str, kind: Kind) -> list[CountPosition]:
    """Every count position the checker sees in a file: renderer tests assert that every
    count they drew is here (so none escapes the checker by breaking the convention)."""
    return _read(text, kind).counts


def _line_of(finding: Finding) -> tuple[int, str]:
    match = re.match(r"line (\d+)", finding.where)
    return (int(match[1]) if match else 0, finding.where)


def check_text(text: str, policy: Policy, *, kind: Kind, forbidden_ids: Iterable[str] = (),
               allowed_dates: Iterable[date] = ()) -> list[Finding]:
    """Everything a written output shows that its policy forbids, by position; [] if clean.

    At every level: the input child ids ``forbidden_ids``, UPN-, NHS-number- and postcode-
    shaped strings, and (HTML, SVG, DOT) anything that would load from outside the file. At
    shareable levels also: counts 1 … K-1 and counts off the rounding base in count positions,
    pseudonym-shaped strings, dates finer than allowed (``allowed_dates``: the data period and
    as-at date a standard report may show to the day), minimum/maximum columns, suppressed map
    elements drawn differently from each other; at strict, any ``c`` the sums give away.
    """
    doc = _read(text, kind)
    allowed = frozenset(pd.Timestamp(d).date() for d in allowed_dates)
    findings = doc.external + _scan_lines(text, kind, policy, _IdMatcher(forbidden_ids), allowed)
    if policy.shareable:
        findings += doc.conventions
        findings += _count_findings(doc.counts, policy)
        findings += _style_findings(doc.maps)
        if not policy.allow_extremes:
            findings += [Finding(where, "EXTREME", "a minimum or maximum column")
                         for where, name in doc.names if set(_words(name)) & EXTREME_WORDS]
        if policy.secondary:
            findings += _derivable_findings(doc.systems)
    return sorted(findings, key=_line_of)


_SUFFIXES: dict[str, Kind] = {".html": "html", ".htm": "html", ".svg": "svg", ".json": "json",
                              ".csv": "csv", ".dot": "dot", ".gv": "dot"}


def check_file(path: Path | str, policy: Policy, *, kind: Kind | None = None,
               forbidden_ids: Iterable[str] = (), allowed_dates: Iterable[date] = ()) -> None:
    """Re-read a written file and raise ``DisclosureError`` if it shows anything it must not.

    ``kind`` defaults to the file's suffix; pass it for temporary names (``.part``).
    """
    path = Path(path)
    kind = kind or _SUFFIXES.get(path.suffix.casefold())
    if kind is None:
        raise UsageError(f"{path}: cannot check this kind of file; "
                         "check the DOT or SVG it was drawn from")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        unreadable = Finding("file", "NOT_TEXT", "not UTF-8 text, so it cannot be checked")
        raise DisclosureError(path, [unreadable]) from None
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise UsageError(f"{path}: cannot read ({reason})") from None
    findings = check_text(text, policy, kind=kind, forbidden_ids=forbidden_ids,
                          allowed_dates=allowed_dates)
    if findings:
        raise DisclosureError(path, findings)
