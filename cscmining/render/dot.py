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
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from ..discover import Edge, MapResult, Node, PressurePoint, percent
from ..errors import CscMiningError, UsageError
from ..outputs import write_bytes
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


def to_dot(result: MapResult, *, metric: Metric = "frequency") -> str:
    """The DOT source of the map (see the module docstring)."""
    if metric not in METRICS:
        raise UsageError(f"--metric must be frequency or performance, not {metric!r}")
    marks = _marks(result.pressure)
    largest = max([e.count for e in result.edges] + list(result.start.values())
                  + list(result.end.values()) + [1])
    most_events = max([n.events for n in result.nodes] + [1])
    size = 16 if result.level == "summary" else 14
    ids = {n.activity: n.id for n in result.nodes}
    terminal = {n.activity for n in result.nodes if n.terminal}
    lines = [
        'digraph "process map" {',
        "  " + _graph_attrs(result, metric, largest, size),
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
    lines.append("}")
    return "\n".join(lines) + "\n"


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


def _graph_attrs(result: MapResult, metric: Metric, largest: int, size: int) -> str:
    return "graph " + _attrs([
        ("rankdir", "LR"), ("fontname", quote(FONT)), ("fontsize", str(size)),
        ("fontcolor", quote(INK)), ("bgcolor", quote("white")), ("pad", quote("0.4")),
        ("nodesep", quote("0.45")), ("ranksep", quote("0.7")), ("labelloc", "t"),
        ("labeljust", "l"), ("newrank", "true"), ("outputorder", "edgesfirst"),
        ("label", "<" + title_block(result, metric, largest) + ">"),
    ])


def title_block(result: MapResult, metric: Metric, largest: int) -> str:
    """The HTML-like title and key: our own markup; every data text goes through `_h`."""
    level = "stage groups" if result.level == "summary" else "activities"
    rows = [
        _row(f'<FONT POINT-SIZE="24"><B>{_h(TITLE)}</B></FONT>'),
        _row(_h(f"{'Summary map' if result.level == 'summary' else 'Detail map'} of {level}, "
                f"{'frequency' if metric == 'frequency' else 'time between stages'}")),
        _row(_h(_facts(result))),
        _row(_h("Filters: " + ("; ".join(result.filters) if result.filters else "none"))),
    ]
    if result.hidden:
        rows.append(_row(_h(_hidden_text(result))))
    rows += _key(result, metric, largest)
    if result.pressure:
        rows += _pressure_key(result.pressure)
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>")


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
    said = ("number on the line: moves" if metric == "frequency"
            else "label: median / 90th percentile time to the next stage")
    rows = [_key_row("Lines", *widths, _h(f"width: number of moves; {said}"))]
    if metric == "performance":
        bins = [f"{_swatch(colour)} {_h(text)}" for _, colour, text in DURATION_BINS]
        rows.append(_key_row("Colour", *bins, _h("median time to the next stage")))
    shade = (f"{_swatch(NODE_SHADES[1])}{_swatch(NODE_SHADES[-1])} {_h('shade: events')}"
             if metric == "frequency" else "")
    waiting = _h("waiting now: children whose latest event is here, still in the system")
    rows.append(_key_row("Boxes", *([shade] if shade else []), waiting))
    rows.append(_key_row(
        "Marks",
        f"{_swatch(VERMILLION, '▲')} {_h('pressure point (thick, orange), listed below')}",
        f"{_swatch(GREEN, '●')} {_h('Start')}",
        f"{_swatch(INK, '◉')} {_h('End: case closed or left care')}",
    ))
    return rows


def _pressure_key(points: Iterable[PressurePoint]) -> list[str]:
    mark = f'<FONT COLOR="{VERMILLION}"><B>{{}}</B></FONT>'
    rows = [_row(mark.format(_h("Pressure points"))
                 + _h(": most child-days, children waiting or missed timescales"))]
    rows += [
        _row(f"{mark.format(_h(f'▲{p.rank}'))} <B>{_h(p.where)}</B>: "
             + f'<BR ALIGN="LEFT"/>{"&#160;" * 6}'.join(_h(r) for r in p.reasons)
             + '<BR ALIGN="LEFT"/>')
        for p in points
    ]
    return rows


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


def write_map(result: MapResult, path: Path, *, metric: Metric = "frequency") -> Path:
    """Write the map as DOT, SVG, PNG or PDF (by extension), atomically."""
    fmt = output_format(path)
    source = to_dot(result, metric=metric)
    data = source.encode("utf-8") if fmt == "dot" else render(source, fmt)
    return write_bytes(path, data)
