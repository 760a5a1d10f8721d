"""``cscmining samples``: the seeded synthetic returns for workshops, tests and benchmarks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ..samples import write_samples
from . import cli
from .context import AppContext
from .options import DATE


@cli.command()
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (created if missing; files of the same names are replaced).",
)
@click.option(
    "--children",
    default=600,
    show_default=True,
    type=click.IntRange(min=1),
    help="Children in the synthetic pool.",
)
@click.option(
    "--seed",
    default=2025,
    show_default=True,
    type=int,
    help="Random seed: the same seed gives byte-identical files.",
)
@click.option(
    "--reference-date",
    type=DATE,
    default="2025-03-31",
    show_default=True,
    help="The returns' reference date (end of the collection year).",
)
@click.pass_obj
def samples(app: AppContext, output: Path, children: int, seed: int, reference_date: date) -> None:
    """Write synthetic CIN census, SSDA903 and Annex A files for one made-up LA.

    Every child, date and code is invented; the files use the real formats, field names and
    code lists, with the usual mess of real exports (see the README written beside them).

    Example:

    \b
        cscmining samples -o samples
    """
    for path in write_samples(output, children=children, seed=seed, reference_date=reference_date):
        app.note(f"wrote {path}")
