"""Rich tables for the terminal: journey variants, stuck journeys, timescales.

Tables stay readable at 80 columns: numbers are short ("45.5 d", "33%"), and the one long
column (a variant's path) wraps at step boundaries instead of pushing the table wider. Colour
is decoration only, never the sole carrier of meaning, and rich drops it under ``NO_COLOR``.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..timescales import PeriodCounts, RuleSummary, StuckResult, TrendResult
from ..variants import Variant, VariantsResult
from . import count, day, days, plural

#: how a rule's unit reads after a number
UNIT_WORDS = {"working_days": "working days", "days": "days", "weeks": "weeks",
              "months": "months"}


def percent(rate: float | None, digits: int = 0) -> str:
    """``33%`` (or ``33.3%`` with ``digits=1``); ``–`` when there is nothing to divide by."""
    return "–" if rate is None else f"{rate:.{digits}%}"


def _repeats(low: int, high: int) -> str:
    if high == 1:
        return ""
    return f" ×{low}" if low == high else f" ×{low}–{high}"


def variant_steps(variant: Variant) -> list[str]:
    """``["Referral", "CLA review ×2–5"]``: each step with how often it repeated."""
    return [name + _repeats(low, high) for name, low, high in variant.steps()]


def pack_steps(steps: list[str], width: int | None) -> str:
    """``A → B → C``, broken into lines of at most ``width`` between steps, not inside them.

    A step longer than a line gets a line of its own (the table folds it).
    """
    if width is None:
        return " → ".join(steps)
    lines: list[str] = []
    for step in steps:
        # room for the step and, should another follow on the next line, a trailing arrow
        if lines and len(lines[-1]) + len(" → ") + len(step) + len(" →") <= width:
            lines[-1] += " → " + step
        else:
            if lines:
                lines[-1] += " →"
            lines.append(step)
    return "\n".join(lines)


#: the variant table's number columns; the optional ones go first when the terminal is narrow
_VARIANT_COLUMNS = ("#", "children", "share", "cum.", "median", "p90")
_OPTIONAL = ("cum.", "p90")
_PATH_MIN = 16
_PATH_COMFORT = 24


def _layout(cells: dict[str, list[str]], width: int | None) -> tuple[list[str], int | None]:
    """The number columns to show and the path width left at the console ``width``.

    Rich draws each column with a space either side and a border between columns. Below a
    comfortable path width the optional columns are dropped, so an 80-column terminal keeps
    every column and a narrower one keeps the path legible.
    """
    columns = list(_VARIANT_COLUMNS)
    if width is None:
        return columns, None

    def room(cols: list[str]) -> int:
        used = sum(max(len(c), *(len(v) for v in cells[c]), 0) for c in cols)
        return width - used - 3 * (len(cols) + 1) - 1

    for optional in _OPTIONAL:
        if room(columns) >= _PATH_COMFORT:
            break
        columns.remove(optional)
    return columns, max(_PATH_MIN, room(columns))


def variants_table(result: VariantsResult, width: int | None = None) -> Table:
    """Rank, children, share, cumulative share, median and p90 journey days, and the path.

    With the console ``width`` the path is wrapped between steps to what the other columns
    leave, so a step's name is never split across lines (see `_layout`).
    """
    shown = len(result.variants)
    scope = f"top {shown} of " if shown < result.total else ""
    table = Table(
        title=f"Journey variants: {scope}{plural(result.total, 'variant')} among "
              f"{plural(result.cases, 'child', 'children')}",
        title_justify="left", expand=False,
    )
    vs = result.variants
    cells = {
        "#": [str(v.rank) for v in vs],
        "children": [count(v.count) for v in vs],
        "share": [percent(v.share, 1) for v in vs],
        "cum.": [percent(v.cumulative_share, 1) for v in vs],
        "median": [days(v.median_days) for v in vs],
        "p90": [days(v.p90_days) for v in vs],
    }
    columns, path_width = _layout(cells, width)
    for name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("path", overflow="fold")
    for i, v in enumerate(vs):
        table.add_row(*(cells[c][i] for c in columns), pack_steps(variant_steps(v), path_width))
    notes = [f"level {result.level}"]
    if result.collapse:
        notes.append("repeated steps collapsed (×least–most)")
    table.caption = "; ".join(notes) + "; days: first to last event"
    table.caption_justify = "left"
    return table


def stuck_table(result: StuckResult, top: int | None = None) -> Table:
    """Each stuck wait, longest first: child, rule, since, elapsed and limit in the rule's unit.

    ``top`` keeps the table to the longest waits: rich takes about a third of a millisecond a
    row, so a list of 100,000 would take half a minute to draw.
    """
    table = Table(
        title=f"Stuck journeys as at {day(result.as_at)}: "
              f"{plural(result.total_children, 'child', 'children')}",
        title_justify="left", expand=False,
    )
    table.add_column("child", overflow="fold")
    table.add_column("rule", overflow="fold")
    table.add_column("since", no_wrap=True)
    table.add_column("elapsed", justify="right", no_wrap=True)
    table.add_column("limit", justify="right", no_wrap=True)
    table.add_column("unit", overflow="fold")
    entries = result.entries.iloc[:top]
    if len(entries) < len(result.entries):
        table.caption = (f"The {count(len(entries))} longest of {count(len(result.entries))} "
                         "stuck waits; --csv FILE or --json lists them all.")
        table.caption_justify = "left"
    for case, rule, since, elapsed, limit, unit in zip(
        entries["case"].tolist(), entries["rule"].tolist(), entries["since"].tolist(),
        entries["elapsed"].tolist(), entries["limit"].tolist(), entries["unit"].tolist(),
    ):
        table.add_row(case, rule, day(since.date()), count(elapsed), count(limit),
                      UNIT_WORDS.get(unit, unit))
    return table


def stuck_summary_table(result: StuckResult) -> Table:
    """Children stuck per rule (a child stuck twice on one rule counts once)."""
    labels = {r.name: r.label for r in result.rules}
    table = Table(title="Children stuck, per rule", title_justify="left", expand=False)
    table.add_column("rule", overflow="fold")
    table.add_column("timescale", overflow="fold")
    table.add_column("children", justify="right", no_wrap=True)
    for name, n in result.children.items():
        table.add_row(name, labels[name], count(n))
    if len(result.children) > 1:
        table.add_section()
        table.add_row("any", "", count(result.total_children), style="bold")
    return table


def _counts_row(label: str, c: PeriodCounts | RuleSummary) -> list[str]:
    total = c.met + c.breached + c.stuck + c.open + c.ended
    return [label, count(total), count(c.met), count(c.breached), count(c.stuck),
            count(c.open), count(c.ended), percent(c.met_rate), percent(c.breach_rate)]


def timescales_tables(result: TrendResult) -> Group:
    """One table per rule: a row per month or quarter of the start date, then the total."""
    tables = []
    for trend in result.rules:
        s = trend.summary
        table = Table(
            title=f"{s.label} ({s.from_} → {s.to}, {s.within} {UNIT_WORDS.get(s.unit, s.unit)})",
            title_justify="left", expand=False,
        )
        table.add_column(result.by, no_wrap=True)
        for name in ("n", "met", "late", "stuck", "open", "ended", "met%", "late%"):
            table.add_column(name, justify="right", no_wrap=True)
        for period in trend.periods:
            table.add_row(*_counts_row(period.period, period))
        table.add_section()
        table.add_row(*_counts_row("all", s), style="bold")
        tables.append(table)
    caption = Text(
        f"As at {day(result.as_at)}, by the date each wait started. n: waits started; late: "
        "the end event came after the limit (or the journey ended past it); stuck: still "
        "waiting past the limit; open: waiting within it; ended: the journey ended within the "
        "limit without it. met% and late% are of met + late + stuck.",
        style="dim",
    )
    return Group(*tables, caption)
