"""``cscmining ingest``: build the event log from the returns and account for every row."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from ..eventlog import write_event_log
from ..ingest import build_event_log
from ..render.quality import quality_table
from . import cli
from .context import AppContext
from .options import json_option, source_options


@cli.command()
@source_options
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Event log to write: .parquet (default), .csv or .xes.")
@json_option
@click.pass_obj
def ingest(
    app: AppContext, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, output: Path, as_json: bool,
) -> None:
    """Build an event log (one case per child) from statutory returns and logmapped exports.

    INPUT may be files or folders, in any mix: SSDA903 CSV sets or XML, CIN census XML, Annex A
    workbooks or CSVs, and exports described by --logmap. Files are recognised by content.

    \b
    Example:
      cscmining ingest samples/cin_census_2025.xml samples/ssda903_2025 \\
          samples/annex_a_2025.xlsx -o out/log.parquet
    """
    log, read = build_event_log(
        list(inputs), as_at=as_at, logmaps=list(logmaps), encoding=encoding,
        keep_going=keep_going, progress=app.note,
    )
    write_event_log(log, output)
    for error in read.errors:
        app.note(f"skipped (--keep-going): {error}")
    for note in read.notes:
        app.note(note)
    if as_json:
        payload = {
            "events": log.events,
            "cases": log.cases,
            "as_at": log.as_at.isoformat(),
            "same_day_ties": log.same_day_ties,
            "merged": log.merged,
            "files": [a.to_dict() for a in log.accounts],
            "unreadable": [{"path": e.path, "code": e.code} for e in read.errors],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        app.out.print(quality_table(log))
        app.note(f"wrote {output}")
