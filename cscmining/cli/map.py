"""``cscmining map`` and ``cscmining bottlenecks``: where children get stuck."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from ..disclosure import RULES_VERSION, Policy, legend
from ..disclosure import Level as DisclosureLevel
from ..discover import MIN_SCORE, bottlenecks, process_map, rank_pressure, simplify
from ..engines import open_log
from ..errors import UsageError
from ..focus import Condition, Level
from ..outputs import force_option
from ..protected import (
    Guard,
    ProtectedMap,
    ShownEdge,
    ShownPoint,
    format_shown,
    phrase_text,
    shown_days,
    shown_percent,
)
from ..render import plural
from ..render.dot import METRICS, Metric, output_format, write_map
from ..render.pressure_table import pressure_table
from . import cli
from .context import AppContext
from .disclosure_options import disclosure_option
from .engine_option import engine_option
from .focus_options import focus_options
from .options import json_option, source_options

PERCENT = click.FloatRange(0, 100)


@cli.command(name="map")
@force_option("output")
@source_options
@focus_options
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Map file to write: .svg, .png, .pdf or .dot.")
@click.option("--metric", type=click.Choice(METRICS), default="frequency", show_default=True,
              help="frequency: widths and labels by moves; performance: colour by median time, "
                   "labels median / 90th percentile.")
@click.option("--activities", type=PERCENT, default=100, show_default=True, metavar="PCT",
              help="Keep the busiest PCT% of activities (the map stays connected).")
@click.option("--paths", type=PERCENT, default=100, show_default=True, metavar="PCT",
              help="Keep the most used PCT% of paths (the map stays connected).")
@click.option("--top", type=click.IntRange(0, 20), default=5, show_default=True,
              help="How many pressure points to highlight.")
@disclosure_option("none")
@engine_option
@json_option
@click.pass_obj
def map_(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, start: date | None, end: date | None,
    where: tuple[Condition, ...], level: Level, output: Path | None, metric: Metric,
    activities: float, paths: float, top: int, disclosure: DisclosureLevel, engine: str,
    as_json: bool,
) -> None:
    """Draw the process map: how children move between stages, and where they get stuck.

    \b
    Examples:
      cscmining map out/log.parquet -o map.svg --level summary
      cscmining map out/log.parquet -o map.png --metric performance --paths 40
      cscmining map returns/ --from 2023-04-01 --to 2024-03-31 --where team=North --json
      cscmining map out/log.parquet -o share/map.svg --level summary --disclosure standard

    At --disclosure standard or strict every number, width and colour is protected, the
    written map (or, for .png and .pdf, the DOT it is drawn from) is checked, and --json
    gives the protected numbers of the whole, unsimplified map.
    """
    if output is None and not as_json:
        raise UsageError(
            "say where to write the map (-o map.svg, .png, .pdf or .dot) or ask for --json")
    if output is not None:
        output_format(output)
    log = open_log(list(inputs), engine=engine, as_at=as_at, logmaps=list(logmaps),
                   encoding=encoding, keep_going=keep_going, progress=app.note, quiet=app.quiet)
    check = engine == "pm4py"
    policy = Policy.from_name(disclosure)
    full = process_map(log, start=start, end=end, where=where, level=level, top=top,
                       check=check)
    result = simplify(full, activities=activities, paths=paths)
    shown = ProtectedMap.of(full, policy) if policy.shareable else None
    guard = Guard.for_log(log, policy, start, end) if shown is not None else None
    if output is not None:
        write_map(result, output, metric=metric, shown=shown, guard=guard)
        points = len(shown.points(result.pressure)) if shown else len(result.pressure)
        hidden = f"; hidden: {plural(len(result.hidden.activities), 'stage')}, " \
                 f"{plural(result.hidden.paths, 'path')}" if result.hidden else ""
        checked = f"; disclosure {policy.level}, checked" if shown else ""
        app.note(f"wrote {output}: {plural(len(result.nodes), 'stage')}, "
                 f"{plural(len(result.edges), 'path')}, "
                 f"{plural(points, 'pressure point')}{hidden}{checked}")
    if as_json:
        if shown is None:
            click.echo(json.dumps(result.to_dict(), indent=2))
        else:
            _echo_checked(shown.to_dict(), guard)


@cli.command(name="bottlenecks")
@source_options
@focus_options
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many edges and stages to list.")
@disclosure_option("none")
@engine_option
@json_option
@click.pass_obj
def bottlenecks_(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, start: date | None, end: date | None,
    where: tuple[Condition, ...], level: Level, top: int, disclosure: DisclosureLevel,
    engine: str, as_json: bool,
) -> None:
    """Rank the steps and stages that hold the most child-days, waiting children or breaches.

    \b
    Examples:
      cscmining bottlenecks out/log.parquet
      cscmining bottlenecks out/log.parquet --level summary --top 5 --json
      cscmining bottlenecks out/log.parquet --disclosure standard --json

    At --disclosure standard or strict the figures are protected, an edge or stage whose
    own counts are c is not listed, and the rest are numbered afresh; --json is checked.
    """
    log = open_log(list(inputs), engine=engine, as_at=as_at, logmaps=list(logmaps),
                   encoding=encoding, keep_going=keep_going, progress=app.note, quiet=app.quiet)
    check = engine == "pm4py"
    policy = Policy.from_name(disclosure)
    if not policy.shareable:
        report = bottlenecks(log, start=start, end=end, where=where, level=level, top=top,
                             check=check)
        if as_json:
            click.echo(json.dumps(report.to_dict(), indent=2))
        else:
            app.out.print(pressure_table(report))
        return
    full = process_map(log, start=start, end=end, where=where, level=level, check=check)
    shown = ProtectedMap.of(full, policy)
    marked = [p for p in rank_pressure(full) if p.score >= MIN_SCORE]
    points = shown.points(rank_pressure(full), marked)[:top]
    if as_json:
        _echo_checked(_shown_bottlenecks(shown, points), Guard.for_log(log, policy, start, end))
    else:
        app.out.print(_shown_pressure_table(shown, points))


def _echo_checked(payload: dict[str, Any], guard: Guard | None) -> None:
    """Print JSON for machines after the independent checker has read it (SDC-12)."""
    text = json.dumps(payload, indent=2)
    if guard is not None:
        guard.text(text, "json", where="the JSON output")
    click.echo(text)


def _shown_bottlenecks(shown: ProtectedMap, points: list[ShownPoint]) -> dict[str, Any]:
    """``bottlenecks --json`` at a shareable level: shown figures, the rules that made them."""
    return {
        "as_at": shown.to_dict()["as_at"], "level": shown.level,
        "filters": list(shown.filters), "cases": shown.cases,
        "disclosure": shown.policy.level, "disclosure_rules": RULES_VERSION,
        "bottlenecks": [p.to_dict() for p in points],
    }


def _shown_pressure_table(shown: ProtectedMap, points: list[ShownPoint]) -> Table:
    """The bottlenecks table in shown figures (``c`` where hidden); ▲ as in `pressure_table`."""
    table = Table(title=f"Where children's time goes: top {len(points)} by pressure",
                  title_justify="left", expand=False)
    table.add_column("#", justify="right")
    table.add_column("where", overflow="fold")
    for name in ("children", "median", "p90", "child-days", "waiting", "over limit"):
        table.add_column(name, justify="right")
    table.add_column("why", overflow="fold", ratio=1)
    for p in points:
        item = p.item
        edge = item if isinstance(item, ShownEdge) else None
        table.add_row(
            f"{'▲' if p.highlighted else ''}{p.rank}", Text(p.where), format_shown(item.cases),
            shown_days(edge.median_days) if edge else "",
            shown_days(edge.p90_days) if edge else "",
            format_shown(edge.child_days) if edge else "",
            "" if edge else format_shown(item.waiting),
            "" if item.over is None else shown_percent(item.over),
            Text("; ".join(phrase_text(r) for r in p.reasons)),
        )
    caption = (f"{shown.level} level; {format_shown(shown.cases)} children; events "
               f"{shown.period_text()}; as at {shown.day(shown.as_at)}; filters: "
               f"{'; '.join(shown.filters) or 'none'}. ▲ = pressure point on the map.")
    table.caption = Text("\n".join([caption, *legend(shown.policy)]))
    table.caption_justify = "left"
    return table
