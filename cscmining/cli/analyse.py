"""``cscmining variants | stuck | timescales``: journeys and statutory timescales in the terminal.

Each command opens the log (an event log file or folder, or raw returns) with the engine asked
for (``--engine``, `cscmining.engines`), makes one library call with the filters every analysis
shares (``--from/--to``, ``--where``, ``--level``) and renders it: a rich table, or with
``--json`` exactly what the library's ``to_dict`` returns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, cast

import click

from ..engines import LogSource, jsontext, open_log
from ..errors import UsageError
from ..focus import Condition, Level
from ..outputs import force_option
from ..render.terminal import stuck_summary_table, stuck_table, timescales_tables, variants_table
from ..timescales import Period, timescale_trend
from ..timescales import stuck as find_stuck
from ..variants import variants as find_variants
from . import cli
from .context import AppContext
from .engine_option import engine_option
from .focus_options import focus_options
from .options import json_option, source_options


def _open(
    app: AppContext, inputs: Sequence[Path], as_at: date | None, logmaps: Sequence[Path],
    encoding: str | None, keep_going: bool, engine: str,
) -> LogSource:
    """The log as at ``as_at``, opened with the engine asked for.

    The filters (``--from/--to``, ``--where``) and levels are applied by the analysis itself:
    variants need the detailed log to time whole journeys, and timescale rules name activities.
    """
    return open_log(list(inputs), engine=engine, as_at=as_at, logmaps=list(logmaps),
                    encoding=encoding, keep_going=keep_going, progress=app.note,
                    quiet=app.quiet)


def _detail_only(level: Level, command: str) -> None:
    if level != "detail":
        raise UsageError(f"{command} works at --level detail: timescale rules name activities, "
                         "not stage groups")


def _echo_json(payload: dict[str, Any]) -> None:
    """One line of JSON: with indentation json.dumps is four times slower on big results."""
    click.echo(json.dumps(payload))


rule_option = click.option(
    "--rule", "rules", multiple=True, metavar="NAME",
    help="Only this timescale rule (repeatable); names are in the stage vocabulary.",
)


@cli.command()
@source_options
@focus_options
@click.option("--top", type=click.IntRange(min=1), default=None, metavar="N",
              help="Show only the N most common variants.")
@click.option("--collapse", is_flag=True,
              help="Merge repeated consecutive steps (loops) into one step shown ×n.")
@engine_option
@json_option
@click.pass_obj
def variants(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, start: date | None, end: date | None,
    where: tuple[Condition, ...], level: Level, top: int | None, collapse: bool, engine: str,
    as_json: bool,
) -> None:
    """Journey variants: children grouped by the sequence of steps they went through.

    \b
    Example:
      cscmining variants out/log.parquet --top 10 --collapse
    """
    log = _open(app, inputs, as_at, logmaps, encoding, keep_going, engine)
    result = find_variants(log, level=level, collapse=collapse, top=top, start=start, end=end,
                           where=where, check=engine == "pm4py")
    if as_json:
        jsontext.echo(result.json_parts())
    else:
        app.out.print(variants_table(result, width=app.out.width))


@cli.command()
@force_option("csv_path")
@source_options
@focus_options
@rule_option
@click.option("--top", type=click.IntRange(min=1), default=200, show_default=True, metavar="N",
              help="Show the N longest waits in the table (--json and --csv hold them all).")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None,
              metavar="FILE", help="Also write the stuck list to this CSV file.")
@engine_option
@json_option
@click.pass_obj
def stuck(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, start: date | None, end: date | None,
    where: tuple[Condition, ...], level: Level, rules: tuple[str, ...], top: int,
    csv_path: Path | None, engine: str, as_json: bool,
) -> None:
    """Children waiting past a statutory timescale at the as-at date, longest first.

    \b
    Example:
      cscmining stuck out/log.parquet --rule icpc --csv stuck.csv
    """
    _detail_only(level, "stuck")
    log = _open(app, inputs, as_at, logmaps, encoding, keep_going, engine)
    result = find_stuck(log, rule=list(rules) or None, start=start, end=end, where=where)
    if csv_path is not None:
        result.write_csv(csv_path)
        app.note(f"wrote {csv_path}")
    if as_json:
        jsontext.echo(result.json_parts())
    else:
        app.out.print(stuck_table(result, top=top))
        app.out.print(stuck_summary_table(result))


@cli.command()
@source_options
@focus_options
@rule_option
@click.option("--by", type=click.Choice(["month", "quarter"]), default="month",
              show_default=True, help="Bucket by the month or quarter the wait started.")
@engine_option
@json_option
@click.pass_obj
def timescales(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, start: date | None, end: date | None,
    where: tuple[Condition, ...], level: Level, rules: tuple[str, ...], by: str, engine: str,
    as_json: bool,
) -> None:
    """Statutory timescales met, late, stuck and open, overall and per month or quarter.

    \b
    Example:
      cscmining timescales out/log.parquet --by quarter --rule assessment
    """
    _detail_only(level, "timescales")
    log = _open(app, inputs, as_at, logmaps, encoding, keep_going, engine)
    result = timescale_trend(log, by=cast(Period, by), rules=list(rules) or None, start=start,
                             end=end, where=where)
    if as_json:
        _echo_json(result.to_dict())
    else:
        app.out.print(timescales_tables(result))
