"""``--engine``: how an analysis command reads the log (`cscmining.engines`)."""

from __future__ import annotations

import click

from ..engines import ENGINES
from .options import F


def engine_option(func: F) -> F:
    return click.option(
        "--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
        help="fast: pyarrow streams the Parquet log (any size); duckdb: DuckDB scans a log or "
             "a folder of logs (sorted out of core); pm4py: the whole log in pandas, checked "
             "against pm4py; auto: fast, or duckdb for a folder bigger than memory allows.",
    )(func)
