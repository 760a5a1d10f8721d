"""``cscmining compare``: before and after a date, or one cohort against another.

The options read as the issue wrote them: ``--split-date DATE`` for periods, ``--where A --vs
B`` for cohorts. ``--where`` keeps its meaning from every other command (only children
matching it), so with ``--split-date`` it picks the children of both periods. ``--from`` and
``--to`` here bound the events compared (`cscmining.compare`), so they have their own help.

``--disclosure standard`` or ``strict`` (default ``none``, as for ``map``: the analyst's own
use) protects the whole comparison once (`protected.protect_comparison`) and draws every
output from it: the delta map, the shifts table and ``--json`` (the whole, unsimplified
comparison, as ``map --json``). At strict its sums include the map of the same children (the
one ``map`` would share beside it), so no ``c`` follows from the two together. The checker
re-reads the map written (or the DOT a PNG or PDF is drawn from) and the JSON printed, and
the run fails if anything slipped through.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..compare import METRICS, PER, Metric, Per, compare, simplify
from ..disclosure import Level as DisclosureLevel
from ..disclosure import Policy
from ..discover import process_map
from ..focus import LEVELS, Condition, Level
from ..ingest import load
from ..outputs import force_option
from ..protected import Guard, protect_comparison
from ..render import plural
from ..render.compare_table import shifts_table
from ..render.delta import write_delta_map
from ..render.dot import output_format
from . import cli
from .context import AppContext
from .disclosure_options import disclosure_option
from .focus_options import _conditions
from .map import _echo_checked
from .options import DATE, json_option, source_options


@cli.command(name="compare")
@force_option("output")
@source_options
@click.option("--split-date", type=DATE, default=None,
              help="Compare before this date with from it on (e.g. the day a new front door "
                   "opened). A move counts in the period its first event falls in.")
@click.option("--where", "where", multiple=True, metavar="KEY=VALUE", callback=_conditions,
              help="Cohort A with --vs; with --split-date, the children of both periods. "
                   "e.g. team=North or age_band=10-15; repeat a key for 'any of'.")
@click.option("--vs", "vs", multiple=True, metavar="KEY=VALUE", callback=_conditions,
              help="Cohort B, written like --where (e.g. team=South).")
@click.option("--from", "start", type=DATE, default=None,
              help="Count events from this date (default with --split-date: a before period "
                   "as long as the after one).")
@click.option("--to", "end", type=DATE, default=None,
              help="Count events up to this date (default: the as-at date).")
@click.option("--level", type=click.Choice(LEVELS), default="detail", show_default=True,
              help="summary: stage groups (one box per stage); detail: activities.")
@click.option("--per", type=click.Choice(PER), default=None,
              help="Rates per 100 children of each side (default for cohorts) or a month "
                   "(default for periods).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Delta map to write: .svg, .png, .pdf or .dot.")
@click.option("--metric", type=click.Choice(METRICS), default="volume", show_default=True,
              help="The change that colours the map: volume (rates) or duration (medians).")
@click.option("--paths", type=click.FloatRange(0, 100), default=100, show_default=True,
              metavar="PCT", help="Draw the most used PCT% of paths (marked shifts always).")
@click.option("--top", type=click.IntRange(0, 50), default=5, show_default=True,
              help="How many of the largest shifts to list and mark on the map.")
@disclosure_option("none")
@json_option
@click.pass_obj
def compare_(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, split_date: date | None,
    where: tuple[Condition, ...], vs: tuple[Condition, ...], start: date | None,
    end: date | None, level: Level, per: Per | None, output: Path | None, metric: Metric,
    paths: float, top: int, disclosure: DisclosureLevel, as_json: bool,
) -> None:
    """Compare two periods or two cohorts: a delta map and the largest shifts.

    Volumes are rates (per 100 children, or a month), so sides of different sizes compare
    fairly; changes are B − A, blue for fewer or faster, orange for more or slower.

    \b
    Examples:
      cscmining compare out/log.parquet --split-date 2024-10-01 -o change.svg
      cscmining compare out/log.parquet --split-date 2024-10-01 --from 2024-04-01 \\
          --metric duration --level summary -o change.png
      cscmining compare out/log.parquet --where team=North --vs team=South --json
      cscmining compare out/log.parquet --split-date 2024-10-01 -o share/change.svg \\
          --disclosure standard

    At --disclosure standard or strict every count, rate, change, colour and width is
    protected, the written map (or, for .png and .pdf, the DOT it is drawn from) and --json
    are checked, and --json gives the protected numbers of the whole, unsimplified
    comparison.
    """
    if output is not None:
        output_format(output)
    log = load(list(inputs), as_at=as_at, logmaps=list(logmaps), encoding=encoding,
               keep_going=keep_going, progress=app.note, quiet=app.quiet)
    policy = Policy.from_name(disclosure)
    full = compare(log, split_date=split_date, where=where, vs=vs, level=level, start=start,
                   end=end, per=per)
    guard = None
    if policy.shareable:
        beside = where if split_date is not None else ()
        full = protect_comparison(full, policy, whole=process_map(
            log, start=start, end=end, where=beside, level=level))
        guard = Guard.for_log(log, policy, start, end, split_date)
    result = simplify(full, paths=paths, top=top)
    if output is not None:
        write_delta_map(result, output, metric=metric, top=top, policy=policy, guard=guard)
        checked = f"; disclosure {policy.level}, checked" if guard else ""
        app.note(f"wrote {output}: {plural(len(result.stages), 'stage')}, "
                 f"{plural(len(result.edges), 'path')}, "
                 f"{plural(len(result.largest(top, metric)), 'marked shift')}{checked}")
    if as_json:
        _echo_checked((full if guard else result).to_dict(), guard)
    else:
        app.out.print(shifts_table(result, top, policy=policy))
