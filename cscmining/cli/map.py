"""``cscmining map`` and ``cscmining bottlenecks``: where children get stuck."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from ..discover import bottlenecks, process_map
from ..errors import UsageError
from ..focus import Condition, Level
from ..ingest import load
from ..render import plural
from ..render.dot import METRICS, Metric, output_format, write_map
from ..render.pressure_table import pressure_table
from . import cli
from .context import AppContext
from .focus_options import focus_options
from .options import json_option, source_options

PERCENT = click.FloatRange(0, 100)


@cli.command(name="map")
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
@json_option
@click.pass_obj
def map_(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, start: date | None, end: date | None,
    where: tuple[Condition, ...], level: Level, output: Path | None, metric: Metric,
    activities: float, paths: float, top: int, as_json: bool,
) -> None:
    """Draw the process map: how children move between stages, and where they get stuck.

    \b
    Examples:
      cscmining map out/log.parquet -o map.svg --level summary
      cscmining map out/log.parquet -o map.png --metric performance --paths 40
      cscmining map returns/ --from 2023-04-01 --to 2024-03-31 --where team=North --json
    """
    if output is None and not as_json:
        raise UsageError(
            "say where to write the map (-o map.svg, .png, .pdf or .dot) or ask for --json")
    if output is not None:
        output_format(output)
    log = load(list(inputs), as_at=as_at, logmaps=list(logmaps), encoding=encoding,
               keep_going=keep_going, progress=app.note)
    result = process_map(log, start=start, end=end, where=where, level=level,
                         activities=activities, paths=paths, top=top)
    if output is not None:
        write_map(result, output, metric=metric)
        hidden = f"; hidden: {plural(len(result.hidden.activities), 'stage')}, " \
                 f"{plural(result.hidden.paths, 'path')}" if result.hidden else ""
        app.note(f"wrote {output}: {plural(len(result.nodes), 'stage')}, "
                 f"{plural(len(result.edges), 'path')}, "
                 f"{plural(len(result.pressure), 'pressure point')}{hidden}")
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))


@cli.command(name="bottlenecks")
@source_options
@focus_options
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many edges and stages to list.")
@json_option
@click.pass_obj
def bottlenecks_(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, start: date | None, end: date | None,
    where: tuple[Condition, ...], level: Level, top: int, as_json: bool,
) -> None:
    """Rank the steps and stages that hold the most child-days, waiting children or breaches.

    \b
    Examples:
      cscmining bottlenecks out/log.parquet
      cscmining bottlenecks out/log.parquet --level summary --top 5 --json
    """
    log = load(list(inputs), as_at=as_at, logmaps=list(logmaps), encoding=encoding,
               keep_going=keep_going, progress=app.note)
    report = bottlenecks(log, start=start, end=end, where=where, level=level, top=top)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        app.out.print(pressure_table(report))
