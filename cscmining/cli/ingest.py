"""``cscmining ingest``: build the event log from the returns and account for every row."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from ..errors import UsageError
from ..eventlog import write_event_log
from ..ingest import build_event_log
from ..outputs import force_option
from ..pseudonym import check_la, read_key
from ..render.quality import quality_table
from . import cli
from .context import AppContext
from .options import json_option, reject_rate_option, source_options

#: names a key file when ``--key-file`` is not given (a path, never the key itself)
KEY_FILE_ENV = "CSCMINING_KEY_FILE"


@cli.command()
@source_options
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Event log to write: .parquet (default), .csv or .xes (owner-only: it "
                   "holds child ids or pseudonyms).")
@force_option("output")
@click.option("--pseudonymise", is_flag=True,
              help="Replace child ids by keyed pseudonyms (HMAC-SHA256); needs --key-file.")
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              envvar=KEY_FILE_ENV, show_envvar=True,
              help="The LA's key file, made once with `cscmining keygen` (never the key itself).")
@click.option("--la", default=None, metavar="CODE",
              help="Local authority code (e.g. 909): the same id in two LAs gets unrelated "
                   "pseudonyms.")
@reject_rate_option
@json_option
@click.pass_context
def ingest(
    ctx: click.Context, inputs: tuple[Path, ...], as_at: date | None, logmaps: tuple[Path, ...],
    encoding: str | None, keep_going: bool, output: Path, pseudonymise: bool,
    key_file: Path | None, la: str | None, max_reject_rate: float, as_json: bool,
) -> None:
    """Build an event log (one case per child) from statutory returns and logmapped exports.

    INPUT may be files or folders, in any mix: SSDA903 CSV sets or XML, CIN census XML, Annex A
    workbooks or CSVs, and exports described by --logmap. Files are recognised by content.

    \b
    Examples:
      cscmining ingest samples/cin_census_2025.xml samples/ssda903_2025 \\
          samples/annex_a_2025.xlsx -o out/log.parquet
      cscmining keygen ~/keys/la909.key
      cscmining ingest returns/ -o out/log.parquet --pseudonymise \\
          --key-file ~/keys/la909.key --la 909
    """
    app: AppContext = ctx.obj
    key = _key(ctx, pseudonymise, key_file, la)  # before any data is read
    log, read = build_event_log(
        list(inputs), as_at=as_at, logmaps=list(logmaps), encoding=encoding,
        keep_going=keep_going, progress=app.note, key=key, la=la or "",
        max_reject_rate=max_reject_rate, quiet=app.quiet,
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
            "pseudonymised": log.pseudonymised,
            "key_fingerprint": log.key_fingerprint,
            "files": [a.to_dict() for a in log.accounts],
            "unreadable": [{"path": e.path, "code": e.code} for e in read.errors],
            # what was said on stderr: skipped sheets, unused columns, conflicts, mojibake
            "notes": list(read.notes),
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        app.out.print(quality_table(log))
        if log.pseudonymised:
            app.note(f"child ids pseudonymised with key {log.key_fingerprint}")
        app.note(f"wrote {output}")


def _key(
    ctx: click.Context, pseudonymise: bool, key_file: Path | None, la: str | None,
) -> bytes | None:
    """The checked key when ``--pseudonymise``; options that only make sense with it refused."""
    if not pseudonymise:
        given = ctx.get_parameter_source("key_file") == click.core.ParameterSource.COMMANDLINE
        if given or la is not None:
            raise UsageError("--key-file and --la are used with --pseudonymise")
        return None
    if key_file is None:
        raise UsageError(f"--pseudonymise needs --key-file (or {KEY_FILE_ENV}); "
                         "make a key once with `cscmining keygen KEYFILE`")
    check_la(la or "")
    return read_key(key_file)
