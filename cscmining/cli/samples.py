"""``cscmining samples``: the seeded synthetic returns for workshops, tests and benchmarks."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import click

from ..errors import UsageError
from ..outputs import check_output
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
    help="Folder to write into (created if missing).",
)
@click.option("--force", is_flag=True, help="Replace sample files already in the folder.")
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
def samples(
    app: AppContext, output: Path, force: bool, children: int, seed: int, reference_date: date,
) -> None:
    """Write synthetic CIN census, SSDA903 and Annex A files for one made-up LA.

    Every child, date and code is invented; the files use the real formats, field names and
    code lists, with the usual mess of real exports (see the README written beside them).

    Example:

    \b
        cscmining samples -o samples
    """
    written = _write_into(output, force, children=children, seed=seed,
                          reference_date=reference_date)
    for path in written:
        app.note(f"wrote {path}")


def _write_into(output: Path, force: bool, **options: object) -> list[Path]:
    """Write the samples into a hidden folder inside ``output``, then move each file into
    place with an atomic rename: a killed run leaves no half-written file under a final name,
    and files already there are kept unless ``force``."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        staging = tempfile.TemporaryDirectory(prefix=".samples-", dir=output)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise UsageError(f"{output}: cannot write here ({reason})") from None
    with staging as folder:
        written = write_samples(Path(folder), **options)  # type: ignore[arg-type]
        targets = [output / path.relative_to(folder) for path in written]
        for target in targets:
            check_output(target, force=force)
        for path, target in zip(written, targets):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    return targets
