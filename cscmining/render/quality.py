"""The data-quality table: where every input row ended, per file and table."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ..eventlog import EventLog


def quality_table(log: EventLog) -> Table:
    """Rows read, used, rejected (by reason), duplicate and blank, per file and table."""
    table = Table(title="Data quality: every input row accounted for", title_justify="left",
                  show_lines=False, expand=False)
    table.add_column("file", overflow="fold")
    table.add_column("table")
    for name in ("rows", "used", "rejected", "dupl.", "blank", "events"):
        table.add_column(name, justify="right")
    table.add_column("reasons / flags", overflow="fold")
    for acc in log.accounts:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(acc.rejected.items()))
        flags = ", ".join(f"{code} {n}" for code, n in sorted(acc.flags.items()))
        notes = "; ".join(x for x in (reasons, f"flags: {flags}" if flags else "") if x)
        table.add_row(
            Path(acc.path).name + (f" [{acc.sheet}]" if acc.sheet else ""), acc.table, f"{acc.rows_read:,}", f"{acc.used:,}", f"{acc.rejected_total:,}",
            f"{acc.duplicate:,}", f"{acc.blank:,}", f"{acc.events:,}", notes,
        )
    table.caption = (
        f"{log.events:,} events for {log.cases:,} children; {log.same_day_ties:,} same-day ties "
        f"ordered by stage; {log.merged:,} events reported by two sources merged; as at {log.as_at}"
    )
    table.caption_justify = "left"
    return table
