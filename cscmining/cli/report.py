"""``cscmining report``: the workshop report, one self-contained HTML file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..compare import compare
from ..disclosure import Level
from ..errors import UsageError
from ..focus import parse_where
from ..ingest import load
from ..outputs import force_option
from ..report import write_report
from ..timescales import Period
from . import cli
from .context import AppContext
from .disclosure_options import disclosure_option
from .options import DATE, source_options


@cli.command()
@source_options
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The report to write: an .html file.")
@force_option("output")
@disclosure_option("standard")
@click.option("--from", "start", type=DATE, default=None,
              help="Only journeys active on or after this date; the charts start here.")
@click.option("--to", "end", type=DATE, default=None,
              help="Only journeys active on or before this date; the charts end here.")
@click.option("--where", "where", multiple=True, metavar="KEY=VALUE",
              help="Only children with this case or event attribute value (as for map).")
@click.option("--by", type=click.Choice(["month", "quarter"]), default="quarter",
              show_default=True, help="Timescale performance by month or by quarter.")
@click.option("--split-date", type=DATE, default=None,
              help="Add a comparison section: before vs after this date.")
@click.option("--cohort", "cohort", multiple=True, metavar="KEY=VALUE",
              help="Add a comparison section: these children ...")
@click.option("--vs", "vs", multiple=True, metavar="KEY=VALUE",
              help="... against these (e.g. --cohort team=North --vs team=South).")
@click.pass_obj
def report(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, output: Path, disclosure: Level,
    start: date | None, end: date | None, where: tuple[str, ...], by: Period,
    split_date: date | None, cohort: tuple[str, ...], vs: tuple[str, ...],
) -> None:
    """Write the workshop report: maps, pressure points, journeys, timescales, volumes.

    One HTML file with everything inline (it loads nothing and runs no script), for a
    projector or A4 landscape paper. Numbers are protected at the --disclosure level
    (standard by default) and the written file is checked before it takes its name.

    \b
    Examples:
      cscmining report out/log.parquet -o reports/year.html
      cscmining report returns/ -o reports/north.html --where team=North --by month
      cscmining report out/log.parquet -o share/year.html --disclosure strict
      cscmining report out/log.parquet -o share/change.html --split-date 2024-10-01
    """
    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"{output}: a report is written as .html")
    conditions = [parse_where(w) for w in where]
    log = load(list(inputs), as_at=as_at, logmaps=list(logmaps), encoding=encoding,
               keep_going=keep_going, progress=app.note, quiet=app.quiet)
    app.note("writing the report")
    comparison = None
    if split_date is not None or cohort or vs:
        comparison = compare(log, split_date=split_date, where=[*conditions, *cohort],
                             vs=[*conditions, *vs] if vs else (), start=start, end=end,
                             level="summary")
    result = write_report(log, output, disclosure=disclosure, start=start, end=end,
                          where=conditions, by=by, comparison=comparison)
    app.note(f"wrote {output} ({result.window}; disclosure {result.policy.level}; "
             f"{len(result.sections)} sections; checked)")
