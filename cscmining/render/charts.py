"""The report's charts as geometry: bars, lines and labels that a template draws as inline SVG.

No chart library and no script: the report must load nothing and run nothing. Here the charts
are only numbers and words (where each bar and label goes, in the SVG's own units); the
report's template turns them into markup with autoescaping on, so no text from the data is
ever written into the page by hand.

Every value drawn is a *shown* value (`cscmining.disclosure`): a bar's height comes from the
protected count, and a count shown as ``c`` gets no bar at all, only a ``c`` at the baseline,
so a bar never gives away the size of a hidden count. Each count label is the whole text of
its own ``<text>`` element (the checker's count-position convention); a year under a month is
a ``year`` label, which the template marks as not a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..disclosure import Count, Shown, format_count

LabelKind = Literal["count", "percent", "text", "year"]


@dataclass(frozen=True)
class Bar:
    """A rectangle; ``series`` names its colour in the stylesheet."""

    x: float
    y: float
    width: float
    height: float
    series: str


@dataclass(frozen=True)
class Label:
    """A line of text at (x, y); ``kind`` says whether it is a count (checked) or not."""

    x: float
    y: float
    text: str
    kind: LabelKind
    anchor: Literal["start", "middle", "end"] = "middle"
    css: str = ""


@dataclass(frozen=True)
class Rule:
    """A horizontal line: an axis or a gridline."""

    x1: float
    x2: float
    y: float
    css: str


@dataclass(frozen=True)
class Chart:
    """One chart: a ``width`` × ``height`` drawing and a sentence that says what it shows
    (for screen readers; the template puts it in ``aria-label``, so it holds no number)."""

    width: float
    height: float
    description: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class Tick:
    """A place on the time axis: its name (``Apr``, ``Q2``) and the year, where it changes."""

    name: str
    year: int | None


_PAD = 10
_AXIS_TEXT = 16  # height of one line of axis text
_VALUE_TEXT = 15  # height of a value label


def _shown_max(values: Sequence[Shown]) -> float:
    numbers = [float(v) for v in values if not isinstance(v, str)]
    return max([*numbers, 0.0])


def _slots(ticks: Sequence[Tick], width: float) -> tuple[float, float]:
    """The width of one period's slot and of a bar in it."""
    slot = (width - 2 * _PAD) / max(len(ticks), 1)
    return slot, slot * 0.62


def _axis_labels(ticks: Sequence[Tick], slot: float, y: float, *,
                 left: float = _PAD) -> list[Label]:
    """Period names under the axis, with the year under the first period of each year."""
    labels: list[Label] = []
    for i, tick in enumerate(ticks):
        centre = left + slot * (i + 0.5)
        labels.append(Label(centre, y, tick.name, "text", css="axis"))
        if tick.year is not None:
            labels.append(Label(centre, y + _AXIS_TEXT, str(tick.year), "year", css="axis"))
    return labels


def volume_chart(ticks: Sequence[Tick], entered: Sequence[Count], left: Sequence[Count], *,
                 description: str, width: float = 420, height: float = 250) -> Chart:
    """Entries above the baseline and exits below it, one pair of bars per period.

    Each chart has its own scale (a stage with few children still shows its shape); every
    bar is labelled with its count, so no reader needs the scale to read a number.
    """
    slot, bar = _slots(ticks, width)
    axis_room = 2 * _AXIS_TEXT + 6
    half = (height - axis_room - 2 * _VALUE_TEXT - 2 * _PAD) / 2
    baseline = _PAD + _VALUE_TEXT + half
    top = _shown_max([*entered, *left]) or 1.0
    chart = Chart(width, height, description)
    chart.rules.append(Rule(_PAD, width - _PAD, baseline, "baseline"))
    for i, (came, went) in enumerate(zip(entered, left)):
        centre = _PAD + slot * (i + 0.5)
        for value, up in ((came, True), (went, False)):
            size = 0.0 if isinstance(value, str) else half * float(value) / top
            if size:
                y = baseline - size if up else baseline
                chart.bars.append(Bar(centre - bar / 2, y, bar, size, "in" if up else "out"))
            if value == 0:
                continue
            label_y = baseline - size - 4 if up else baseline + size + _VALUE_TEXT - 2
            chart.labels.append(Label(centre, label_y, format_count(value), "count",
                                      css="value"))
    chart.labels.extend(_axis_labels(ticks, slot, height - axis_room + _AXIS_TEXT - 2))
    return chart


def percent_chart(ticks: Sequence[Tick], percents: Sequence[Shown], due: Sequence[Count], *,
                  description: str, due_label: str = "due", width: float = 600,
                  height: float = 300) -> Chart:
    """A bar per period to a fixed 0–100% scale (gridlines at 50% and 100%), the percentage
    above each bar and, on a row of its own under the period names, the number it is a
    share of (``due_label`` names that row in the left margin, beside the scale)."""
    margin = 54.0
    slot = (width - margin - _PAD) / max(len(ticks), 1)
    bar = slot * 0.62
    axis_room = 2 * _AXIS_TEXT + 8 + _AXIS_TEXT + 14
    plot = height - axis_room - _VALUE_TEXT - _PAD
    baseline = _PAD + _VALUE_TEXT + plot
    due_y = height - _PAD
    chart = Chart(width, height, description)
    for pct in (50, 100):
        y = baseline - plot * pct / 100
        chart.rules.append(Rule(margin, width - _PAD, y, "grid"))
        chart.labels.append(Label(margin - 6, y + 5, f"{pct}%", "percent", "end", "grid"))
    chart.rules.append(Rule(margin, width - _PAD, baseline, "baseline"))
    chart.labels.append(Label(margin - 6, due_y, due_label, "text", "end", "due"))
    for i, (value, n) in enumerate(zip(percents, due)):
        centre = margin + slot * (i + 0.5)
        if isinstance(value, str):
            chart.labels.append(Label(centre, baseline - 6, value, "count", css="value"))
        else:
            size = plot * float(value) / 100
            if size:
                chart.bars.append(Bar(centre - bar / 2, baseline - size, bar, size, "pct"))
            chart.labels.append(Label(centre, baseline - size - 5, f"{value}%", "percent",
                                      css="value"))
        chart.labels.append(Label(centre, due_y, format_count(n), "count", css="due"))
    chart.labels.extend(_axis_labels(ticks, slot, baseline + _AXIS_TEXT + 2, left=margin))
    return chart
