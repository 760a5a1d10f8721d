"""cscmining's own DOT writer for process maps, and rendering with the local ``dot`` binary.

pm4py's visualiser is not used: its node ids are ``hash()`` values (a different file on every
run), its labels are not escaped (a quote or backslash in an activity breaks the file, ``<…>``
becomes an HTML-like label) and its durations read "1MO". Here:

- **Stable output.** Node ids are ``n<k>`` by the activity's place in the stage vocabulary;
  nodes, edges and attributes are written in a fixed order; nothing depends on hash seeds,
  dict order of unsorted data, the locale or the clock. The same map gives the same bytes.
- **Escaping.** Every text that comes from data (activity names, filter values, reasons) is a
  quoted DOT string with ``\\`` and ``"`` escaped and line breaks removed, or HTML-escaped
  inside the title block, the only HTML-like label, whose markup is our own fixed strings.
  Attributes other than labels (tooltips, colours, sizes) never carry data (SEC-4): hover
  texts are numbers and fixed words.
- **Reading.** Left to right, a green Start and a dark End, line width by the number of moves,
  colour by median time (``performance``), pressure points in Okabe–Ito vermillion with a
  thicker pen and a numbered ▲ marker, and a title block with the data period, the as-at
  date, the children, the filters, what simplification hid, and a key to every width and
  colour. Blue and vermillion stay distinct for the common colour-vision deficiencies.
- **Two layouts.** Without disclosure control (``to_dot(result)``) the analyst's own map:
  every raw number, several to a box, and numeric hover texts. With a `ProtectedMap`
  (``to_dot(result, shown=...)``) the shareable map: every number, width and colour drawn
  from the protected values, one count to a box or line as the independent checker reads
  them (`cscmining.disclosure`), no numbers in tooltips, and ``c`` drawn alike whatever it
  hides. Both share the preamble, the key's pieces and the pressure-point rows.
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..disclosure import NOT_APPLICABLE, SUPPRESSED, SUPPRESSED_PENWIDTH, Count, Shown, format_count
from ..discover import Edge, MapResult, Node, PressurePoint, percent
from ..errors import CscMiningError, UsageError
from ..outputs import atomic_path
from ..protected import (
    Figure,
    Guard,
    Phrase,
    ProtectedMap,
    ShownEdge,
    ShownNode,
    ShownPoint,
    shown_days,
    shown_percent,
)
from . import count, day, days, plural

Metric = Literal["frequency", "performance"]
METRICS: tuple[Metric, ...] = ("frequency", "performance")
#: file extensions and the formats they are written in
FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf"}

FONT = "Helvetica"
TITLE = "Children’s journeys through social care"
INK = "#333333"
MUTED = "#7F7F7F"
#: Okabe–Ito: pressure points, the start node
VERMILLION = "#D55E00"
PRESSURE_FILL = "#FBE3D1"
GREEN = "#009E73"
#: ColorBrewer Blues (colour-blind safe, sequential): median days of a move
DURATION_BINS: tuple[tuple[float, str, str], ...] = (
    (7, "#9ECAE1", "under 1 wk"),
    (28, "#6BAED6", "1–4 wk"),
    (91, "#3182BD", "4–13 wk"),
    (182, "#08519C", "13–26 wk"),
    (math.inf, "#08306B", "26 wk or more"),
)
#: node fill by events, lightest to darkest (dark text stays readable on all)
NODE_SHADES = ("#F7FBFF", "#DEEBF7", "#C6DBEF", "#A9CCE5", "#8DBDDE")
NEUTRAL_FILL = "#F2F2F2"
#: every line shown as c is drawn in this colour (at `SUPPRESSED_PENWIDTH`), every box shown
#: as c in this fill, whatever they hide (SDC-11)
HIDDEN = "#9A9A9A"
HIDDEN_FILL = "#FFFFFF"
MIN_PEN, MAX_PEN, PRESSURE_EXTRA_PEN = 1.2, 9.0, 2.0
PNG_DPI = 144


class RenderError(CscMiningError):
    """Graphviz could not draw the map (missing ``dot`` binary or a layout failure)."""


# ---------------------------------------------------------------------------------------
# DOT syntax


def quote(text: str) -> str:
    """A DOT double-quoted string showing ``text`` literally.

    Backslashes are doubled (so ``\\N`` or a trailing ``\\`` stay text), quotes escaped, and
    line breaks and other control characters become spaces. Being quoted, ``<…>`` is never
    taken as an HTML-like label.
    """
    return '"' + _printable(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def label_lines(*lines: str) -> str:
    """A quoted multi-line label: each line quoted as text, joined by DOT's centred ``\\n``."""
    return "\\n".join(quote(line)[1:-1] for line in lines)


def _attrs(pairs: Iterable[tuple[str, str]]) -> str:
    """``[k=v, …]`` in the given order; values are already DOT syntax (quoted or ``<…>``)."""
    return "[" + ", ".join(f"{k}={v}" for k, v in pairs) + "]"


def _multiline(*lines: str) -> str:
    return '"' + label_lines(*lines) + '"'


def _printable(text: str) -> str:
    """Control characters (line breaks, tabs, DEL) as spaces: labels are laid out by us."""
    return "".join(" " if ord(ch) < 32 or ch == "\x7f" else ch for ch in text)


def _h(text: str) -> str:
    """Text for inside the HTML-like title block."""
    return html.escape(_printable(text), quote=True)


# ---------------------------------------------------------------------------------------
# Scales


def duration_colour(median_days: float) -> str:
    for limit, colour, _ in DURATION_BINS:
        if median_days < limit:
            return colour
    return DURATION_BINS[-1][1]


def pen_width(value: int, largest: int) -> float:
    """Line width from ``MIN_PEN`` to ``MAX_PEN`` by the square root of the share of the
    largest count, so a path used 4 times as often looks twice as thick, not 4 times."""
    if largest <= 0:
        return MIN_PEN
    return round(MIN_PEN + (MAX_PEN - MIN_PEN) * math.sqrt(value / largest), 1)


def arrow_size(pen: float) -> float:
    """Graphviz draws arrowheads with the line's pen, so thick lines need smaller heads."""
    return max(0.45, 0.95 - 0.045 * pen)


def node_shade(events: int, largest: int) -> str:
    if largest <= 0:
        return NODE_SHADES[0]
    step = min(len(NODE_SHADES) - 1, int(len(NODE_SHADES) * events / largest))
    return NODE_SHADES[step]


def _f(value: float) -> str:
    """A DOT number: fixed one-decimal text, never locale- or repr-dependent."""
    return f"{value:.1f}"


# ---------------------------------------------------------------------------------------
# The map


def to_dot(result: MapResult, *, metric: Metric = "frequency",
           shown: ProtectedMap | None = None, embedded: bool = False) -> str:
    """The DOT source of the map (see the module docstring).

    With ``shown`` (the protected values of the whole map ``result`` was drawn from, maybe
    simplified), the shareable layout: every number, width and colour comes from ``shown``
    (see `_shared_lines`). Without it, the analyst's own layout with every raw number.
    ``embedded`` draws the map for a page that says its title and key itself: no title
    block, and larger type, so the map reads at the width of the page.
    """
    if metric not in METRICS:
        raise UsageError(f"--metric must be frequency or performance, not {metric!r}")
    if shown is not None:
        return _digraph(_shared_lines(result, metric, shown, embedded))
    marks = _marks(result.pressure)
    largest = max([e.count for e in result.edges] + list(result.start.values())
                  + list(result.end.values()) + [1])
    most_events = max([n.events for n in result.nodes] + [1])
    ids = {n.activity: n.id for n in result.nodes}
    terminal = {n.activity for n in result.nodes if n.terminal}
    size = _size(result.level, embedded)
    title = None if embedded else title_block(result, metric, largest)
    lines = _preamble(size, _graph_attrs(size, title))
    lines += ["  " + _node(n, metric, marks, most_events, result.level) for n in result.nodes]
    lines += [
        "  " + f"start -> {ids[a]} "
        + _attrs(_link_attrs(n, largest, f"{plural(n, 'journey')} start here"))
        for a, n in result.start.items()
    ]
    lines += ["  " + _edge(e, ids, metric, marks, largest) for e in result.edges]
    lines += [
        "  " + f"{ids[a]} -> end "
        + _attrs(_link_attrs(n, largest, f"{plural(n, 'journey')} ended here"))
        for a, n in result.end.items() if a in terminal
    ]
    return _digraph(lines)


#: how much larger the type of an embedded map is (`to_dot`), and its tighter spacing: the
#: layout's width is mostly boxes and labels, so larger type needs less space between ranks
EMBEDDED_LARGER = 10
EMBEDDED_SPACING = (("nodesep", "0.3"), ("ranksep", "0.15"))


def _size(level: str, embedded: bool = False) -> int:
    return (16 if level == "summary" else 14) + (EMBEDDED_LARGER if embedded else 0)


def _digraph(lines: list[str]) -> str:
    return "\n".join([*lines, "}"]) + "\n"


def _preamble(size: int, graph_attrs: str) -> list[str]:
    """The graph, its defaults, and the Start and End nodes: the same in both layouts."""
    return [
        'digraph "process map" {',
        "  " + graph_attrs,
        "  " + "node " + _attrs([
            ("shape", "box"), ("style", quote("rounded,filled")), ("fontname", quote(FONT)),
            ("fontsize", str(size)), ("color", quote(INK)), ("fontcolor", quote(INK)),
            ("penwidth", "1.2"), ("margin", quote("0.18,0.08")),
        ]),
        "  " + "edge " + _attrs([
            ("fontname", quote(FONT)), ("fontsize", str(size - 2)), ("color", quote(INK)),
            ("fontcolor", quote(INK)), ("arrowsize", "0.8"),
        ]),
        "  start " + _attrs([
            ("label", quote("Start")), ("shape", "circle"), ("style", "filled"),
            ("fillcolor", quote(GREEN)), ("color", quote(GREEN)), ("fontcolor", quote("white")),
            ("width", "0.9"), ("fixedsize", "true"), ("tooltip", quote("Journeys start here")),
        ]),
        "  end " + _attrs([
            ("label", quote("End")), ("shape", "doublecircle"), ("style", "filled"),
            ("fillcolor", quote(INK)), ("color", quote(INK)), ("fontcolor", quote("white")),
            ("width", "0.8"), ("fixedsize", "true"),
            ("tooltip", quote("Journeys that ended: case closed or left care")),
        ]),
    ]


def _marks(points: Iterable[PressurePoint]) -> dict[tuple[str, ...], int]:
    """Pressure-point rank by edge key or by ``(activity,)``."""
    out: dict[tuple[str, ...], int] = {}
    for p in points:
        key = p.item.key if isinstance(p.item, Edge) else (p.item.activity,)
        out[key] = p.rank
    return out


def _node(node: Node, metric: Metric, marks: dict[tuple[str, ...], int], most: int,
          level: str) -> str:
    rank = marks.get((node.activity,))
    title = node.activity if rank is None else f"▲{rank} {node.activity}"
    unit = "visit" if level == "summary" else "event"
    lines = [title, plural(node.cases, "child", "children")]
    if metric == "frequency" and node.events != node.cases:
        lines[-1] += f" · {plural(node.events, unit)}"
    if node.waiting:
        lines.append(f"{count(node.waiting)} waiting now")
    if node.breach_rate is not None:
        lines.append(f"{percent(node.breach_rate)} over timescale")
    if rank is not None:
        fill = PRESSURE_FILL
    else:
        fill = node_shade(node.events, most) if metric == "frequency" else NEUTRAL_FILL
    attrs = [("label", _multiline(*lines)), ("fillcolor", quote(fill))]
    if rank is not None:
        attrs += [("color", quote(VERMILLION)), ("penwidth", "3.5")]
    attrs.append(("tooltip", quote(_node_tip(node, unit))))
    return f"{node.id} " + _attrs(attrs)


def _node_tip(node: Node, unit: str) -> str:
    """Hover text: numbers and fixed words only (no data in attributes, SEC-4)."""
    parts = [plural(node.cases, "child", "children"), plural(node.events, unit),
             f"{count(node.waiting)} waiting now"]
    parts += [f"{percent(t.breach_rate)} over a {t.within_text} timescale"
              for t in node.timescales if t.breach_rate is not None]
    return ", ".join(parts)


def _edge(edge: Edge, ids: dict[str, str], metric: Metric, marks: dict[tuple[str, ...], int],
          largest: int) -> str:
    rank = marks.get(edge.key)
    width = pen_width(edge.count, largest)
    if metric == "frequency":
        text = [count(edge.count)]
        colour = INK
    else:
        text = [f"{days(edge.median_days)} / {days(edge.p90_days)}"]
        colour = duration_colour(edge.median_days)
    if edge.breach_rate is not None:
        text.append(f"{percent(edge.breach_rate)} over timescale")
    extra: list[tuple[str, str]] = []
    if rank is not None:
        text[0] = f"▲{rank}  {text[0]}"
        colour, width = VERMILLION, width + PRESSURE_EXTRA_PEN
        extra = [("fontcolor", quote(VERMILLION))]
    attrs = [("label", _multiline(*text)), ("color", quote(colour)), ("penwidth", _f(width)),
             ("arrowsize", _f(arrow_size(width))), *extra, ("tooltip", quote(_edge_tip(edge)))]
    return f"{ids[edge.source]} -> {ids[edge.target]} " + _attrs(attrs)


def _edge_tip(edge: Edge) -> str:
    """Hover text: numbers and fixed words only (no data in attributes, SEC-4)."""
    parts = [
        f"{plural(edge.count, 'move')} by {plural(edge.cases, 'child', 'children')}",
        f"median {days(edge.median_days)}, 90th percentile {days(edge.p90_days)}",
        f"{count(round(edge.child_days))} child-days",
    ]
    parts += [f"{percent(t.breach_rate)} over a {t.within_text} timescale"
              for t in edge.timescales if t.breach_rate is not None]
    return "; ".join(parts)


def _link_attrs(n: int, largest: int, tip: str) -> list[tuple[str, str]]:
    width = pen_width(n, largest)
    return [("label", quote(count(n))), ("color", quote(MUTED)), ("fontcolor", quote(INK)),
            ("penwidth", _f(width)), ("arrowsize", _f(arrow_size(width))), ("tooltip", quote(tip))]


# ---------------------------------------------------------------------------------------
# Title block and key


def _graph_attrs(size: int, title: str | None) -> str:
    """The graph's layout, and its title block (our own HTML-like markup); without a title
    (embedded) the spacing is `EMBEDDED_SPACING`."""
    layout = _graph_layout(size)
    if title is None:
        spacing = dict(EMBEDDED_SPACING)
        return "graph " + _attrs([(k, quote(spacing[k]) if k in spacing else v)
                                  for k, v in layout])
    return "graph " + _attrs([*layout, ("label", "<" + title + ">")])


def _graph_layout(size: int) -> list[tuple[str, str]]:
    return [
        ("rankdir", "LR"), ("fontname", quote(FONT)), ("fontsize", str(size)),
        ("fontcolor", quote(INK)), ("bgcolor", quote("white")), ("pad", quote("0.4")),
        ("nodesep", quote("0.45")), ("ranksep", quote("0.7")), ("labelloc", "t"),
        ("labeljust", "l"), ("newrank", "true"), ("outputorder", "edgesfirst"),
    ]


def title_block(result: MapResult, metric: Metric, largest: int) -> str:
    """The HTML-like title and key: our own markup; every data text goes through `_h`."""
    rows = _heading_rows(result, metric, _h(_facts(result)), result.filters)
    if result.hidden:
        rows.append(_row(_h(_hidden_text(result))))
    rows += _key(result, metric, largest)
    if result.pressure:
        rows += _pressure_key(result.pressure)
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>")


def _heading_rows(result: MapResult, metric: Metric, facts: str,
                  filters: Iterable[str]) -> list[str]:
    """Title, kind of map, the facts line (already markup) and the filters."""
    level = "stage groups" if result.level == "summary" else "activities"
    said = "; ".join(filters) or "none"
    return [
        _row(f'<FONT POINT-SIZE="24"><B>{_h(TITLE)}</B></FONT>'),
        _row(_h(f"{'Summary map' if result.level == 'summary' else 'Detail map'} of {level}, "
                f"{'frequency' if metric == 'frequency' else 'time between stages'}")),
        _row(facts),
        _row(_h(f"Filters: {said}")),
    ]


def _row(cell: str) -> str:
    return f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{cell}</TD></TR>'


def _facts(result: MapResult) -> str:
    period = (f"events {day(result.period[0])} to {day(result.period[1])}"
              if result.period else "no events")
    return (f"{plural(result.cases, 'child', 'children')}, {plural(result.events, 'event')}; "
            f"{period}; as at {day(result.as_at)}")


def _hidden_text(result: MapResult) -> str:
    hidden = result.hidden
    parts = []
    if hidden.activities:
        names = ", ".join(hidden.activities)
        parts.append(f"{plural(len(hidden.activities), 'stage')} "
                     f"({plural(hidden.events, 'event')}: {names})")
    if hidden.paths:
        parts.append(f"{plural(hidden.paths, 'path')} ({plural(hidden.moves, 'move')})")
    return "Hidden to simplify: " + "; ".join(parts)


def _swatch(colour: str, glyph: str = "■", size: int | None = None) -> str:
    """A coloured sample glyph. Text, not nested tables: graphviz stretches nested tables."""
    sized = f' POINT-SIZE="{size}"' if size else ""
    return f'<FONT COLOR="{colour}"{sized}>{glyph}</FONT>'


def _key_row(title: str, *parts: str) -> str:
    gap = "&#160;" * 3
    return _row(f"<B>{_h(title)}</B>{gap}" + gap.join(parts))


def _key(result: MapResult, metric: Metric, largest: int) -> list[str]:
    """Rows of the key: what line widths, colours, shades and markers mean, with samples."""
    samples = sorted({1, max(1, largest // 4), largest})
    widths = [f"{_swatch(INK, '━━', round(8 + 3 * pen_width(n, largest)))} {_h(count(n))}"
              for n in samples]
    rows = [_lines_row(widths, metric)]
    rows += _colour_rows(metric)
    shade = (f"{_swatch(NODE_SHADES[1])}{_swatch(NODE_SHADES[-1])} {_h('shade: events')}"
             if metric == "frequency" else "")
    waiting = _h("waiting now: children whose latest event is here, still in the system")
    rows.append(_key_row("Boxes", *([shade] if shade else []), waiting))
    rows.append(_marks_row())
    return rows


def _lines_row(widths: list[str], metric: Metric) -> str:
    said = ("number on the line: moves" if metric == "frequency"
            else "label: median / 90th percentile time to the next stage")
    return _key_row("Lines", *widths, _h(f"width: number of moves; {said}"))


def _colour_rows(metric: Metric) -> list[str]:
    if metric != "performance":
        return []
    bins = [f"{_swatch(colour)} {_h(text)}" for _, colour, text in DURATION_BINS]
    return [_key_row("Colour", *bins, _h("median time to the next stage"))]


def _marks_row() -> str:
    return _key_row(
        "Marks",
        f"{_swatch(VERMILLION, '▲')} {_h('pressure point (thick, orange), listed below')}",
        f"{_swatch(GREEN, '●')} {_h('Start')}",
        f"{_swatch(INK, '◉')} {_h('End: case closed or left care')}",
    )


def _pressure_key(points: Iterable[PressurePoint]) -> list[str]:
    return _pressure_rows((p.rank, p.where, [_h(r) for r in p.reasons]) for p in points)


def _pressure_rows(points: Iterable[tuple[int, str, list[str]]]) -> list[str]:
    """The pressure-point rows of the key: rank, where, and the reasons (already markup)."""
    mark = f'<FONT COLOR="{VERMILLION}"><B>{{}}</B></FONT>'
    rows = [_row(mark.format(_h("Pressure points"))
                 + _h(": most child-days, children waiting or missed timescales"))]
    rows += [
        _row(f"{mark.format(_h(f'▲{rank}'))} <B>{_h(where)}</B>: "
             + f'<BR ALIGN="LEFT"/>{"&#160;" * 6}'.join(reasons)
             + '<BR ALIGN="LEFT"/>')
        for rank, where, reasons in points
    ]
    return rows


# ---------------------------------------------------------------------------------------
# The shareable layout: every number from a `ProtectedMap`


def _shared_lines(result: MapResult, metric: Metric, shown: ProtectedMap,
                  embedded: bool) -> list[str]:
    """The map drawn from protected values, following the checker's count-position
    convention (`cscmining.disclosure`): a box or a line shows one count, alone on its label
    line (a box its events, a line its moves); nothing with a number goes in a tooltip; a line
    or box shown as ``c`` is drawn in `HIDDEN` at `SUPPRESSED_PENWIDTH`, whatever it hides.
    Journeys still open end in a dotted stub per stage that says how many wait there, so every
    box's in-flow and out-flow are drawn in full and its sums can be checked.
    """
    ids = {n.activity: n.id for n in result.nodes}
    terminal = {n.activity for n in result.nodes if n.terminal}
    starts = {a: shown.start[a] for a in result.start}
    ends = {a: shown.end[a] for a in result.end if a in terminal}
    waiting = {a: shown.end[a] for a in result.end if a not in terminal}
    edges = [shown.edges[e.key] for e in result.edges]
    flows = [e.count for e in edges] + list(starts.values()) + list(ends.values())
    largest = max([v for v in flows if isinstance(v, int)] + [1])
    events = [shown.nodes[n.activity].events for n in result.nodes]
    most = max([v for v in events if isinstance(v, int)] + [1])
    points = shown.points(result.pressure, result.pressure)
    marks = {p.key: p.rank for p in points}
    size = _size(result.level, embedded)
    title = None
    if not embedded:
        key = _SharedKey(metric, largest, sorted({v for v in flows if isinstance(v, int)}),
                         any(v == SUPPRESSED for v in [*flows, *events, *waiting.values()]))
        title = _shared_title(result, metric, shown, key, points)
    lines = _preamble(size, _graph_attrs(size, title))
    lines += ["  " + f"{n.id} " + _attrs(_shared_node(
        shown.nodes[n.activity], metric, marks.get((n.activity,)), most)) for n in result.nodes]
    lines += ["  " + f"start -> {ids[a]} " + _attrs(_shared_link(v, largest))
              for a, v in starts.items()]
    lines += ["  " + f"{ids[e.source]} -> {ids[e.target]} "
              + _attrs(_shared_edge(e, metric, marks.get(e.key), largest)) for e in edges]
    lines += ["  " + f"{ids[a]} -> end " + _attrs(_shared_link(v, largest))
              for a, v in ends.items()]
    for a, v in waiting.items():
        lines += _stub(ids[a], "w", _waiting_link(v))
    for a, side in _unfinished_sums(result, shown):
        link = [("label", quote("")), ("color", quote(MUTED)), ("style", "dotted"),
                ("arrowhead", "none"), ("minlen", "0")]
        lines += _stub(ids[a], side, link)
    return lines


def _stub(node_id: str, side: str, link: list[tuple[str, str]]) -> list[str]:
    """A short line from a box to a dot beside it (``o``, ``w``) or from a dot into it
    (``i``): the flows of a box that the map does not draw as a line between stages."""
    stub = f"{node_id}{side}"
    ends = f"{stub} -> {node_id}" if side == "i" else f"{node_id} -> {stub}"
    return ["  " + f"{stub} " + _attrs([
                ("label", quote("")), ("shape", "point"), ("width", "0.09"),
                ("color", quote(MUTED)), ("fillcolor", quote(MUTED))]),
            "  " + f"{ends} " + _attrs(link)]


def _unfinished_sums(result: MapResult, shown: ProtectedMap) -> list[tuple[str, str]]:
    """The sides (``i`` in, ``o`` out) of boxes whose drawn sum would mislead the checker.

    A simplified map leaves lines off, so a box no longer equals the lines drawn into it or
    out of it. Where that sum holds a ``c``, a reader (and the checker) would "work it out"
    wrongly; an unlabelled dotted stub there says "and other paths", an unknown that makes
    the sum say nothing. Sums without a ``c`` cannot give anything away and get no stub.
    """
    drawn = {e.key for e in result.edges}
    out: list[tuple[str, str]] = []
    for node in result.nodes:
        a = node.activity
        sides = {
            "i": ([v for k, v in shown.edges.items() if k[1] == a and k in drawn]
                  + ([shown.start[a]] if a in result.start else []),
                  any(k[1] == a and k not in drawn for k in shown.edges)
                  or (a in shown.start and a not in result.start)),
            "o": ([v for k, v in shown.edges.items() if k[0] == a and k in drawn]
                  + ([shown.end[a]] if a in result.end else []),
                  any(k[0] == a and k not in drawn for k in shown.edges)
                  or (a in shown.end and a not in result.end)),
        }
        for side, (values, lost) in sides.items():
            hidden = shown.nodes[a].hidden or any(
                (v.hidden if isinstance(v, ShownEdge) else v == SUPPRESSED) for v in values)
            if lost and hidden:
                out.append((a, side))
    return out


def _over_line(over: Shown | None) -> list[str]:
    """The share over a timescale, as a label line (never a bare count); none for z."""
    if over is None or over == NOT_APPLICABLE:
        return []
    if over == SUPPRESSED:
        return ["over timescale: c"]
    return [f"{shown_percent(over)} over timescale"]


def _shared_node(node: ShownNode, metric: Metric, rank: int | None,
                 most: int) -> list[tuple[str, str]]:
    title = node.activity if rank is None else f"▲{rank} {node.activity}"
    lines = [title, format_count(node.events), *_over_line(node.over)]
    if node.hidden:
        return [("label", _multiline(*lines)), ("fillcolor", quote(HIDDEN_FILL)),
                ("style", quote("rounded,filled,dashed")), ("color", quote(HIDDEN))]
    if rank is not None:
        return [("label", _multiline(*lines)), ("fillcolor", quote(PRESSURE_FILL)),
                ("color", quote(VERMILLION)), ("penwidth", "3.5")]
    fill = node_shade(int(node.events), most) if metric == "frequency" else NEUTRAL_FILL
    return [("label", _multiline(*lines)), ("fillcolor", quote(fill))]


def _hidden_line() -> list[tuple[str, str]]:
    """How every line shown as c is drawn: one colour, one width, dashed."""
    return [("color", quote(HIDDEN)), ("penwidth", _f(SUPPRESSED_PENWIDTH)),
            ("arrowsize", _f(arrow_size(SUPPRESSED_PENWIDTH))), ("style", "dashed")]


def _shared_edge(edge: ShownEdge, metric: Metric, rank: int | None,
                 largest: int) -> list[tuple[str, str]]:
    if edge.hidden:
        return [("label", _multiline(SUPPRESSED)), *_hidden_line()]
    count_ = int(edge.count)
    width = pen_width(count_, largest)
    if metric == "frequency":
        text, colour = [format_count(count_)], INK
    else:
        text = [f"{shown_days(edge.median_days)} / {shown_days(edge.p90_days)}"]
        colour = INK if isinstance(edge.median_days, str) else duration_colour(edge.median_days)
    text += _over_line(edge.over)
    extra: list[tuple[str, str]] = []
    if rank is not None:
        text.insert(0, f"▲{rank}")
        colour, width = VERMILLION, width + PRESSURE_EXTRA_PEN
        extra = [("fontcolor", quote(VERMILLION))]
    return [("label", _multiline(*text)), ("color", quote(colour)), ("penwidth", _f(width)),
            ("arrowsize", _f(arrow_size(width))), *extra]


def _shared_link(value: Count, largest: int) -> list[tuple[str, str]]:
    """A start or end line: children starting or ending there."""
    if value == SUPPRESSED:
        return [("label", quote(SUPPRESSED)), *_hidden_line()]
    width = pen_width(int(value), largest)
    return [("label", quote(format_count(value))), ("color", quote(MUTED)),
            ("penwidth", _f(width)), ("arrowsize", _f(arrow_size(width)))]


def _waiting_link(value: Count) -> list[tuple[str, str]]:
    """The stub of the children still waiting at a stage: the number, not the width, says
    how many (a wide stub would crowd the stage it leaves)."""
    label = _multiline("waiting", format_count(value))
    place = [("arrowhead", "none"), ("minlen", "0")]
    if value == SUPPRESSED:
        return [("label", label), *_hidden_line(), *place]
    return [("label", label), ("color", quote(MUTED)), ("style", "dotted"),
            ("penwidth", _f(MIN_PEN)), *place]


@dataclass(frozen=True)
class _SharedKey:
    """What the shareable key needs: the metric, the widths to sample, whether any c shows."""

    metric: Metric
    largest: int
    counts: list[int]
    any_hidden: bool

    def rows(self, threshold: int) -> list[str]:
        samples = sorted({self.counts[0], self.counts[len(self.counts) // 2], self.largest}) \
            if self.counts else []
        widths = [f"{_swatch(INK, '━━', round(8 + 3 * pen_width(n, self.largest)))} "
                  f"{_h(format_count(n))}" for n in samples]
        rows = [_lines_row(widths, self.metric), *_colour_rows(self.metric)]
        unit = "number in a box: events, or visits to a stage group"
        stub = f"{_swatch(MUTED, '┄')} {_h('waiting: children still in the system, by stage')}"
        rows.append(_key_row("Boxes", _h(unit), stub))
        if self.any_hidden:
            rows.append(_key_row(
                "Hidden", f"{_swatch(HIDDEN, '╍╍')} <B>c</B>",
                _h(f"fewer than {threshold} children, or hidden so that no other c can be "
                   "worked out: drawn thin, grey and dashed whatever it hides")))
        rows.append(_marks_row())
        return rows


def _phrase_markup(phrase: Phrase) -> str:
    """A phrase inside the title block: each count in an element of its own (bold)."""
    return "".join(f"<B>{_h(format_count(p.value))}</B>" if isinstance(p, Figure) else _h(p)
                   for p in phrase)


def _shared_title(result: MapResult, metric: Metric, shown: ProtectedMap, key: _SharedKey,
                  points: list[ShownPoint]) -> str:
    """The title block of the shareable layout: facts in shown figures, the disclosure rule."""
    facts: Phrase = (Figure(shown.cases), f" children; events {shown.period_text()}; "
                     f"as at {shown.day(shown.as_at)}")
    rows = _heading_rows(result, metric, _phrase_markup(facts), shown.filters)
    if result.hidden:
        rows.append(_row(_h(_shared_hidden_text(result))))
    rows.append(_row(_h(shown.policy.describe())))
    rows += key.rows(shown.policy.threshold)
    if points:
        rows += _pressure_rows((p.rank, p.where, [_phrase_markup(r) for r in p.reasons])
                               for p in points)
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>")


def _shared_hidden_text(result: MapResult) -> str:
    """What the map leaves off, by name and number of paths: no counts of children."""
    hidden = result.hidden
    parts = []
    if hidden.activities:
        parts.append(f"{plural(len(hidden.activities), 'stage')} ({', '.join(hidden.activities)})")
    if hidden.paths:
        parts.append(plural(hidden.paths, "path"))
    return "Not drawn (to simplify, or shown as c): " + "; ".join(parts)


# ---------------------------------------------------------------------------------------
# Rendering and writing


def output_format(path: Path) -> str:
    """The format a map file is written in, by its extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: a map is written as .svg, .png, .pdf or .dot")
    return fmt


def render(source: str, fmt: str) -> bytes:
    """Lay out and draw DOT source with the local ``dot``, through pipes (no temporary files)."""
    binary = shutil.which("dot")
    if binary is None:
        raise RenderError("graphviz's 'dot' program is not installed: install graphviz, "
                          "or write the map as .dot")
    args = [binary, f"-T{fmt}"]
    if fmt == "png":
        args.append(f"-Gdpi={PNG_DPI}")
    done = subprocess.run(args, input=source.encode("utf-8"), capture_output=True, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = message[-1] if message else "no message"
        raise RenderError(f"graphviz could not draw the map ({said})")
    return done.stdout


def write_map(result: MapResult, path: Path, *, metric: Metric = "frequency",
              shown: ProtectedMap | None = None, guard: Guard | None = None) -> Path:
    """Write the map as DOT, SVG, PNG or PDF (by extension), atomically.

    With ``guard``, the independent checker reads what is written before it takes the final
    name: the file itself for DOT and SVG, the DOT source a PNG or PDF is drawn from.
    """
    return write_source(to_dot(result, metric=metric, shown=shown), path, guard=guard)


def write_source(source: str, path: Path, *, guard: Guard | None = None) -> Path:
    """Write DOT ``source`` drawn as ``path``'s format, atomically, with the permissions the
    umask gives (a map is a shareable output). ``guard``: see `write_map`."""
    fmt = output_format(path)
    if guard is not None and fmt not in ("dot", "svg"):
        guard.text(source, "dot", where=f"{path} (the DOT it is drawn from)")
    data = source.encode("utf-8") if fmt == "dot" else render(source, fmt)
    with atomic_path(path, mode=None) as tmp:
        tmp.write_bytes(data)
        if guard is not None and fmt in ("dot", "svg"):
            guard.file(tmp, "dot" if fmt == "dot" else "svg", final=path)
    return path
