"""Options shared by several commands, so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from ..accounting import MAX_REJECT_RATE, MIN_ROWS_FOR_REJECT_RATE

F = TypeVar("F", bound=Callable[..., Any])


class DateParam(click.ParamType):
    """A calendar date written YYYY-MM-DD (ISO, so that 03/04 can never mean two things)."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date written YYYY-MM-DD", param, ctx)


DATE = DateParam()


def source_options(func: F) -> F:
    """INPUT... plus the options that say how to read raw inputs (ignored for an event log)."""
    decorators = [
        click.argument(
            "inputs", nargs=-1, required=True, type=click.Path(path_type=Path),
            metavar="LOG|INPUT...",
        ),
        click.option("--as-at", type=DATE, default=None,
                     help="The date the view is taken at (default: the data's reference date)."),
        click.option("--logmap", "logmaps", multiple=True, type=click.Path(path_type=Path),
                     help="A logmap (YAML) describing another tabular export; repeatable."),
        click.option("--encoding", default=None, metavar="NAME",
                     help="Text encoding of CSV inputs that are not UTF-8, e.g. cp1252."),
        click.option("--keep-going", is_flag=True,
                     help="Build the log from the readable files and list the others."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")(func)


def reject_rate_option(func: F) -> F:
    """``--max-reject-rate``: the share of a table's rows that may be rejected before the run
    stops (`accounting.check_reject_rates`)."""
    return click.option(
        "--max-reject-rate", type=click.FloatRange(0, 1), default=MAX_REJECT_RATE, show_default=True,
        metavar="SHARE",
        help="Stop when more than this share of a table's rows is rejected (tables of "
             f"{MIN_ROWS_FOR_REJECT_RATE}+ rows); 1 turns the check off.",
    )(func)
