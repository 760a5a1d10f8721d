"""The ``compare`` table: the largest shifts between two periods or cohorts, with the reasons.

The terminal table is the ranking and its reason lines, which carry the numbers ("median up
from 4 d to 11 d"), so it stays readable at 80 columns. `shift_rows` gives every cell as plain
text (rates and medians A → B, both changes, the reasons) for wider tables such as the HTML
report's, so the terminal and the report say the same things in the same words.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ..compare import Comparison, Metric, change_text, values_text
from ..disclosure import NONE, Policy, legend

#: the cells of `shift_rows`, in order, with headings for a table (``rate``: the rate's unit
#: goes in its heading, e.g. "per 100 children")
COLUMNS = {"rank": "#", "where": "where", "rate": "rate", "rate_change": "change",
           "median": "median", "median_change": "change", "why": "why"}


def shift_rows(comparison: Comparison, top: int = 10,
               metric: Metric | None = None) -> list[dict[str, str]]:
    """The ``top`` largest shifts (overall, or by one measure) as text cells keyed by `COLUMNS`.

    ``rate`` and ``median`` read A → B; the changes are B − A (``+36%``, ``new``, ``+7 d``).
    """
    return [
        {
            "rank": str(s.rank), "where": s.item.where,
            "rate": values_text(s.item, "volume"), "rate_change": change_text(s.item, "volume"),
            "median": values_text(s.item, "duration"),
            "median_change": change_text(s.item, "duration"),
            "why": "; ".join(s.reasons),
        }
        for s in comparison.largest(top, metric)
    ]


def caption(comparison: Comparison) -> str:
    """Both sides, how to read the numbers and the ranking, and any cautions."""
    c = comparison
    sides = f"{c.a.name} → {c.b.name}"
    parts = [
        c.describe(c.a) + ".", c.describe(c.b) + ".",
        f"{c.level.capitalize()} level; {c.window_text}; as at {c.date_text(c.as_at)}.",
        f"Rates: events at a stage, or moves from one stage to the next, {c.rate_words}, "
        f"{sides}. Medians: days of the move, or from a stage to the next step.",
        "Ranked by the larger of: the change in rate as a share of all events or moves, and "
        "the change in median times the move's rate as a share of all child-days. Changes "
        "under 10% or within chance are not listed.",
        *c.notes,
    ]
    return "\n".join(parts)


def shifts_table(comparison: Comparison, top: int = 10, metric: Metric | None = None,
                 policy: Policy = NONE) -> Table:
    """One row per shift, largest first. Every data text goes in as `rich.text.Text`, so an
    activity named ``[bold]`` is shown as written, never read as markup. A shareable
    ``policy`` (a shown comparison) adds its legend: what ``c`` means, how counts are
    rounded."""
    rows = shift_rows(comparison, top, metric)
    table = Table(
        title=f"{comparison.heading}: {'the largest' if rows else 'no large'} shifts",
        title_justify="left", expand=False,
    )
    table.add_column("#", justify="right")
    table.add_column("where", overflow="fold")
    table.add_column("shift", overflow="fold")
    for row in rows:
        table.add_row(row["rank"], Text(row["where"]), Text(row["why"]))
    table.caption = Text("\n".join([caption(comparison),
                                    *(legend(policy) if policy.shareable else [])]))
    table.caption_justify = "left"
    return table
