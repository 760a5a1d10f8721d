"""``--from``, ``--to``, ``--where``, ``--level``: the filters every analysis command shares.

Their meaning is `cscmining.focus` (whole journeys, active in the period, any event matching);
the keyword names are ``start``, ``end``, ``where`` (a tuple of ``(KEY, VALUE)`` pairs) and
``level``, ready to pass to `cscmining.focus.focus`.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import UsageError
from ..focus import LEVELS, Condition, parse_where
from .options import DATE, F


def _conditions(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[Condition, ...]:
    try:
        return tuple(parse_where(v) for v in value)
    except UsageError as exc:
        raise click.BadParameter(str(exc).removeprefix("--where "), ctx, param) from None


def focus_options(func: F) -> F:
    """The shared filter options (see the module docstring)."""
    decorators: list[Any] = [
        click.option("--from", "start", type=DATE, default=None,
                     help="Only journeys active on or after this date (whole journeys kept)."),
        click.option("--to", "end", type=DATE, default=None,
                     help="Only journeys active on or before this date (whole journeys kept)."),
        click.option("--where", "where", multiple=True, metavar="KEY=VALUE",
                     callback=_conditions,
                     help="Only children with this case or event attribute value, e.g. "
                          "team=North or age_band=10-15; repeat a key for 'any of', "
                          "different keys must all match."),
        click.option("--level", type=click.Choice(LEVELS), default="detail", show_default=True,
                     help="summary: stage groups (one box per stage); detail: activities."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func
