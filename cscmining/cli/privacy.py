"""``cscmining keygen``: the LA's pseudonymisation key, made once and kept private."""

from __future__ import annotations

from pathlib import Path

import click

from ..pseudonym import fingerprint, read_key
from ..pseudonym import keygen as make_key
from . import cli
from .context import AppContext


@cli.command()
@click.argument("keyfile", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def keygen(app: AppContext, keyfile: Path) -> None:
    """Write a new random pseudonymisation key (32 bytes) to KEYFILE, readable by you only.

    Make one key per local authority and keep it outside the input and output folders, and
    out of shared drives and e-mail. An existing key file is never overwritten: the same
    key gives the same pseudonyms next year; destroying it makes them unlinkable for good.

    \b
    Example:
      cscmining keygen ~/keys/la909.key
      cscmining ingest returns/ -o out/log.parquet --pseudonymise --key-file ~/keys/la909.key
    """
    make_key(keyfile)
    app.note(f"wrote key {keyfile} (fingerprint {fingerprint(read_key(keyfile))}); "
             "keep it private and backed up")
