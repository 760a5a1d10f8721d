"""``cscmining demo``: the main job on the bundled samples."""

from __future__ import annotations

from pathlib import Path

import click

from ..demo import run_demo
from ..render.pressure_table import pressure_table
from ..render.quality import quality_table
from ..render.terminal import stuck_summary_table, variants_table
from . import cli
from .context import AppContext


@cli.command()
@click.option("--samples", type=click.Path(path_type=Path), default=Path("samples"),
              show_default=True, help="Folder of sample returns (written afresh if empty).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("reports/demo"),
              show_default=True, help="Folder to write the demo's outputs to.")
@click.pass_obj
def demo(app: AppContext, samples: Path, output: Path) -> None:
    """Run the whole main job on the synthetic samples: log, maps, variants, stuck children,
    and the workshop report (report.html, at the standard disclosure level).

    \b
    Example:
      cscmining demo --samples samples -o reports/demo
    """
    result = run_demo(samples, output, progress=app.note, quiet=app.quiet)
    app.out.print(quality_table(result.log))
    app.out.print(variants_table(result.variants, width=app.out.width))
    app.out.print(pressure_table(result.bottlenecks))
    app.out.print(stuck_summary_table(result.stuck))
    app.out.print(f"\nwrote {len(result.written)} files to {output}/:")
    for path in result.written:
        app.out.print(f"  {path.name}", markup=False)
    app.out.print(f"open {result.report.path} in a browser: the workshop report "
                  f"(disclosure {result.report.policy.level}, checked)", markup=False)
