"""The delta map: one picture of what changed between two periods or two cohorts.

Drawn like the process map (`render.dot`, whose quoting, title-block helpers and graphviz call
it uses) so a workshop reads both the same way: left to right, a box per stage, a line per
move, the same stable ids (``n<k>`` by the stage vocabulary), every data text escaped and
nothing data-bearing in tooltips. What differs:

- **Colour is change**, on a diverging palette: blue for fewer (or faster), orange for more
  (or slower), grey for little change, in three steps each way (`compare.STEPS`). Blue and
  orange stay apart for the common colour-vision deficiencies, and the steps differ in
  lightness, so the map also reads in greyscale. ``metric`` picks the change that colours
  the map: ``volume`` (rates) or ``duration`` (medians); the label always shows A → B.
- **Line width** is the busier side's rate, so the map keeps the shape of the service.
- **Dashed** lines and boxes exist on one side only (new or gone).
- **◆k** marks the k-th largest shift; the title block lists them with their reasons, names
  both sides with their windows and children, states the as-at date and any cautions.

**Shareable** (a comparison from `protected.protect_comparison`, drawn with its shareable
``policy``): the checker's count-position convention for maps. A box or line shows its two
sides' *counts* as ``A → B`` alone on a label line (a pair the checker reads as two counts),
not rates; one with a ``c`` on either side is drawn like every hidden one (one colour, the
suppressed width, dashed), so neither its colour nor its width tells its size; nothing
carries a tooltip; the title block gives each side's children and events in elements of
their own, the disclosure rule and, when any shows, what ``c`` means. ``embedded`` leaves
the title block off: the report says it in HTML. `write_delta_map` has the independent
checker read what it writes (the DOT a PNG or PDF is drawn from).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..compare import (
    METRICS,
    MIN_MOVES,
    STEPS,
    Comparison,
    Delta,
    Measure,
    Metric,
    Shift,
    busier_rate,
    values_text,
)
from ..disclosure import NONE, SUPPRESSED, Count, Policy, format_count
from ..errors import UsageError
from ..protected import Guard
from . import days, number, plural
from .dot import (
    FONT,
    HIDDEN,
    HIDDEN_FILL,
    INK,
    _attrs,
    _f,
    _graph_layout,
    _h,
    _hidden_line,
    _key_row,
    _row,
    _size,
    _swatch,
    arrow_size,
    label_lines,
    pen_width,
    quote,
    render,
    write_source,
)

#: ColorBrewer Blues and Oranges (colour-blind safe), by step: −3 … 3. Lines need the darker
#: shades to show on white; boxes the lighter ones under dark text.
LINE = {-3: "#08519C", -2: "#3182BD", -1: "#6BAED6", 0: "#B3B3B3",
        1: "#FD8D3C", 2: "#E6550D", 3: "#A63603"}
FILL = {-3: "#9ECAE1", -2: "#C6DBEF", -1: "#E3EEF9", 0: "#F2F2F2",
        1: "#FEE6CE", 2: "#FDD0A2", 3: "#FDAE6B"}
#: words for each end of the scale, by metric
ENDS = {"volume": ("fewer", "more"), "duration": ("faster", "slower")}
#: the report's delta map (``embedded``) runs top to bottom, closer together: left to right,
#: a summary comparison is over twice as wide as it is tall (lines back to the front door
#: loop round the whole map), so at the width of a page or projector its labels read at half
#: the size; top to bottom it fits the page at about twice that
EMBEDDED_LAYOUT = {"rankdir": "TB", "nodesep": quote("0.3"), "ranksep": quote("0.3")}
MARK = "◆"
TITLE = "Comparing children’s journeys"


def _check(metric: str) -> None:
    if metric not in METRICS:
        raise UsageError(f"--metric must be volume or duration, not {metric!r}")


# ---------------------------------------------------------------------------------------
# The map


def to_dot(comparison: Comparison, *, metric: Metric = "volume", top: int = 5,
           policy: Policy = NONE, embedded: bool = False) -> str:
    """The DOT source of the delta map (see the module docstring); a shareable ``policy``
    draws the shareable layout of a shown comparison."""
    _check(metric)
    marks = {s.item.key: s.rank for s in comparison.largest(top, metric)}
    largest = max([busier_rate(d) for d in comparison.edges] + [1e-9])
    size = _size(comparison.level, embedded)
    title = [] if embedded else [
        ("label", "<" + title_block(comparison, metric, top, largest, policy) + ">")]
    lines = [
        'digraph "comparison map" {',
        "  graph " + _attrs([*_layout(size, embedded), *title]),
        "  node " + _attrs([
            ("shape", "box"), ("style", quote("rounded,filled")), ("fontname", quote(FONT)),
            ("fontsize", str(size)), ("color", quote(INK)), ("fontcolor", quote(INK)),
            ("penwidth", "1.2"), ("margin", quote("0.18,0.08")),
        ]),
        "  edge " + _attrs([
            ("fontname", quote(FONT)), ("fontsize", str(size - 2)), ("color", quote(INK)),
            ("fontcolor", quote(INK)), ("arrowsize", "0.8"),
        ]),
    ]
    names = (comparison.a.name, comparison.b.name)
    unit = "visit" if comparison.level == "summary" else "event"
    draw = _Drawing(metric, names, policy.shareable)
    lines += ["  " + _stage(d, draw, marks.get(d.key), unit) for d in comparison.stages]
    lines += ["  " + _move(d, draw, marks.get(d.key), largest) for d in comparison.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layout(size: int, embedded: bool) -> list[tuple[str, str]]:
    """The process map's graph attributes; embedded, with `EMBEDDED_LAYOUT`'s."""
    layout = _graph_layout(size)
    return [(k, EMBEDDED_LAYOUT.get(k, v)) for k, v in layout] if embedded else layout


@dataclass(frozen=True)
class _Drawing:
    """How every box and line of one delta map is drawn."""

    metric: Metric
    names: tuple[str, str]
    shareable: bool

    def numbers(self, delta: Delta) -> str:
        """``45 → 61`` rates, or (shareable, volume) the counts ``c → 25``."""
        if self.shareable and self.metric == "volume":
            return " → ".join(format_count(m.count) for m in (delta.a, delta.b))
        return values_text(delta, self.metric)


def _hidden(delta: Delta) -> bool:
    return SUPPRESSED in (delta.a.count, delta.b.count)


def _step(delta: Delta, metric: Metric) -> int:
    return delta.step(metric) or 0


def _marked(text: str, rank: int | None, gap: str = " ") -> str:
    return text if rank is None else f"{MARK}{rank}{gap}{text}"


def _stage(delta: Delta, draw: _Drawing, rank: int | None, unit: str) -> str:
    step = _step(delta, draw.metric)
    label = label_lines(_marked(delta.key[0], rank), draw.numbers(delta))
    attrs = [("label", f'"{label}"')]
    if draw.shareable and _hidden(delta):
        attrs += [("fillcolor", quote(HIDDEN_FILL)), ("color", quote(HIDDEN)),
                  ("style", quote("rounded,filled,dashed"))]
    else:
        attrs += [
            ("fillcolor", quote(FILL[step])),
            ("color", quote(LINE[step] if step else INK)),
            ("penwidth", "3.5" if rank is not None else "2.2" if step else "1.2"),
        ]
        if delta.status != "both":
            attrs.append(("style", quote("rounded,filled,dashed")))
    if not draw.shareable:
        attrs.append(("tooltip", quote(_tip(delta, draw.names, unit))))
    return f"{delta.ids[0]} " + _attrs(attrs)


def _move(delta: Delta, draw: _Drawing, rank: int | None, largest: float) -> str:
    """A line; shareable, its mark goes on a line of its own so its numbers stay a pair."""
    step = _step(delta, draw.metric)
    if draw.shareable:
        text = label_lines(*([f"{MARK}{rank}"] if rank is not None else []), draw.numbers(delta))
        attrs = [("label", f'"{text}"')]
    else:
        attrs = [("label", quote(_marked(draw.numbers(delta), rank, "  ")))]
    if draw.shareable and _hidden(delta):
        attrs += _hidden_line()
    else:
        width = pen_width(busier_rate(delta), largest)
        attrs += [("color", quote(LINE[step])), ("penwidth", _f(width)),
                  ("arrowsize", _f(arrow_size(width)))]
        if delta.status != "both":
            attrs.append(("style", "dashed"))
    if rank is not None:
        attrs.append(("fontcolor", quote(LINE[step] if step else INK)))
    if not draw.shareable:
        attrs.append(("tooltip", quote(_tip(delta, draw.names, "move"))))
    return f"{delta.ids[0]} -> {delta.ids[1]} " + _attrs(attrs)


def _tip(delta: Delta, names: tuple[str, str], unit: str) -> str:
    """Hover text: counts, children and medians of each side; numbers and fixed words only."""
    return "; ".join(f"{name}: {_side_tip(m, unit)}" for name, m in zip(names, (delta.a, delta.b)))


def _side_tip(measure: Measure, unit: str) -> str:
    text = f"{plural(measure.count, unit)}, {plural(measure.cases, 'child', 'children')}"
    if measure.median_days is not None:
        text += f", median {days(measure.median_days)}"
    return text


# ---------------------------------------------------------------------------------------
# Title block and key


def title_block(comparison: Comparison, metric: Metric, top: int, largest: float,
                policy: Policy = NONE) -> str:
    """The HTML-like title and key: our own markup; every data text goes through `_h`, and
    every count is the whole text of an element of its own (`_figure`)."""
    c = comparison
    level = "stage groups" if c.level == "summary" else "activities"
    colour = (f"change in volume ({c.rate_words})" if metric == "volume"
              else "change in median time")
    rows = [
        _row(f'<FONT POINT-SIZE="24"><B>{_h(TITLE)}</B></FONT>'),
        _row(f"<B>{_h(c.heading)}</B>"),
        *(_row(f"{_h(c.side_text(side))} — {_figure(side.children)} "
               f"{_h('child' if side.children == 1 else 'children')}, "
               f"{_figure(side.events)} {_h('event' if side.events == 1 else 'events')}")
          for side in (c.a, c.b)),
        _row(_h(f"{'Summary' if c.level == 'summary' else 'Detail'} map of {level}; colour: "
                f"{colour}; {c.window_text}; as at {c.date_text(c.as_at)}")),
    ]
    rows += [_row(f'<FONT COLOR="{LINE[2]}"><B>Note</B></FONT> {_h(note)}') for note in c.notes]
    if c.hidden:
        rows.append(_row(_h(_hidden_text(c))))
    if policy.shareable:
        rows.append(_row(_h(policy.describe())))
    rows += _key(c, metric, largest, policy)
    rows += _shifts_key(c.largest(top, metric), metric)
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>")


def _figure(n: Count) -> str:
    """A count in the title block: bold, the whole text of its element (the checker's
    count-position convention; ``1,234`` or ``c``)."""
    return f"<B>{_h(format_count(n))}</B>"


def _hidden_text(c: Comparison) -> str:
    parts = [f"{plural(c.hidden.paths, 'path')}, the least used"] if c.hidden.paths else []
    if c.hidden.activities:
        parts.append(f"{plural(len(c.hidden.activities), 'stage')} "
                     f"({', '.join(c.hidden.activities)})")
    return "Hidden to simplify: " + "; ".join(parts)


def step_labels() -> dict[int, str]:
    """What each step means as a relative change: ``10–25%``, ``50% or more``."""
    bounds = [*(round(s * 100) for s in STEPS)]
    labels = {1: f"{bounds[0]}–{bounds[1]}%", 2: f"{bounds[1]}–{bounds[2]}%",
              3: f"{bounds[2]}% or more"}
    return {0: "little change", **labels, **{-k: v for k, v in labels.items()}}


def _key(c: Comparison, metric: Metric, largest: float, policy: Policy) -> list[str]:
    """Rows of the key: colours either way, grey, widths, dashes, the numbers and marks; a
    width's sample says its unit, so no rate stands alone where a count would."""
    less, more = ENDS[metric]
    labels = step_labels()
    down = [f"{_swatch(LINE[-k])} {_h(labels[-k])}" for k in (3, 2, 1)]
    up = [f"{_swatch(LINE[k])} {_h(labels[k])}" for k in (1, 2, 3)]
    grey = ("little change: under 10%, or within chance for these numbers" if metric == "volume"
            else f"little change (under 10% or 1 d), or too few moves to compare "
                 f"(under {MIN_MOVES} on a side)")
    sides = f"{c.a.name} → {c.b.name}"
    volumes = ("events or moves, counted" if policy.shareable
               else f"events or moves {c.rate_words}")
    said = (f"numbers: {sides}, {volumes}" if metric == "volume"
            else f"numbers: {sides}, median time of the move, or from a stage to the next step")
    samples = sorted({largest / 16, largest / 4, largest})
    widths = [f"{_swatch(INK, '━━', round(8 + 3 * pen_width(n, largest)))} "
              f"{_h(f'{number(n)} {c.rate_words}')}" for n in samples]
    rows = [
        _key_row(f"{less[0].upper()}{less[1:]}", *down),
        _key_row(f"{more[0].upper()}{more[1:]}", *up),
        _key_row("Grey", f"{_swatch(LINE[0])} {_h(grey)}"),
        _key_row("Lines", *widths, _h("width: the busier side; dashed: on one side only "
                                       "(new or gone)")),
        _key_row("Labels", _h(said)),
    ]
    if policy.shareable and any(_hidden(d) for d in (*c.stages, *c.edges)):
        rows.append(_key_row(
            "Hidden", f"{_swatch(HIDDEN, '╍╍')} <B>c</B>",
            _h(f"fewer than {policy.threshold} children on a side"
               + (", or hidden so that no other c can be worked out" if policy.secondary else "")
               + ": drawn thin, grey and dashed whatever it hides; its change is not shown")))
    return rows


def _shifts_key(shifts: tuple[Shift, ...], metric: Metric) -> list[str]:
    """The marked shifts, numbered by their overall rank (the ``compare`` table's)."""
    what = "volume" if metric == "volume" else "median time"
    if not shifts:
        return [_row(_h(f"No large shifts in {what}: every change is small or within chance."))]
    rows = [_row(f"<B>{_h(f'Largest shifts in {what}')}</B>"
                 f"{_h(f' (marked {MARK} on the map, numbered by overall rank)')}")]
    rows += [_row(f"<B>{_h(f'{MARK}{s.rank} {s.item.where}')}</B>: {_h('; '.join(s.reasons))}")
             for s in shifts]
    return rows


# ---------------------------------------------------------------------------------------
# Writing


def write_delta_map(comparison: Comparison, path: Path, *, metric: Metric = "volume",
                    top: int = 5, policy: Policy = NONE, guard: Guard | None = None) -> Path:
    """Write the delta map as DOT, SVG, PNG or PDF (by extension), atomically.

    With ``guard`` (a shareable run), the independent checker reads what is written before
    it takes the final name, as `dot.write_map` does: the file itself for DOT and SVG, the
    DOT source a PNG or PDF is drawn from.
    """
    return write_source(to_dot(comparison, metric=metric, top=top, policy=policy), path,
                        guard=guard)


def comparison_svg(comparison: Comparison, *, metric: Metric = "volume", top: int = 5,
                   policy: Policy = NONE) -> str:
    """The delta map as SVG text for the HTML report (graphviz's own SVG document), without
    its title block: the report gives the sides, the key and the shifts in HTML."""
    return render(to_dot(comparison, metric=metric, top=top, policy=policy, embedded=True),
                  "svg").decode("utf-8")
