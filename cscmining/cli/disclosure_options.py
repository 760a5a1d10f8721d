"""``--disclosure``: the one option that says how much an output may show (SPEC §6)."""

from __future__ import annotations

from collections.abc import Callable

import click

from ..disclosure import LEVELS, Level
from .options import F

HELP = ("none: every number (for your own use); standard: counts 1 to 5 shown as c, no child "
        "identifiers or individual dates; strict (sharing beyond the LA): counts under 10 "
        "shown as c, others rounded to 5, no c that can be worked out, dates to the month. "
        "The written output is checked and the run fails if it shows anything it must not.")


def disclosure_option(default: Level) -> Callable[[F], F]:
    """``--disclosure LEVEL`` with the command's default (``none`` for maps and tables for
    the analyst, ``standard`` for the report); the keyword is ``disclosure``."""
    return click.option("--disclosure", type=click.Choice(LEVELS), default=default,
                        show_default=True, help=HELP)
