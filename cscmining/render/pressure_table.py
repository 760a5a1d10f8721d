"""The ``bottlenecks`` table: edges and stages ranked by pressure score, with the reasons."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ..discover import MIN_SCORE, BottleneckReport, Edge, percent
from . import count, day, days, number


def pressure_table(report: BottleneckReport) -> Table:
    """One row per ranked edge or stage; ▲ marks those drawn as pressure points on the map.

    Every data text goes in as `rich.text.Text`, so an activity named ``[bold]`` is shown
    as written, never read as markup.
    """
    table = Table(
        title=f"Where children's time goes: top {len(report.points)} by pressure",
        title_justify="left", expand=False,
    )
    table.add_column("#", justify="right")
    table.add_column("where", overflow="fold")
    for name in ("children", "median", "p90", "child-days", "waiting", "over limit"):
        table.add_column(name, justify="right")
    table.add_column("why", overflow="fold", ratio=1)
    for p in report.points:
        item = p.item
        edge = item if isinstance(item, Edge) else None
        marker = "▲" if p.score >= MIN_SCORE else ""
        table.add_row(
            f"{marker}{p.rank}",
            Text(p.where),
            count(item.cases),
            days(edge.median_days) if edge else "",
            days(edge.p90_days) if edge else "",
            number(edge.child_days) if edge else "",
            "" if edge else count(item.waiting),
            "" if item.breach_rate is None else percent(item.breach_rate),
            Text("; ".join(p.reasons)),
        )
    filters = "; ".join(report.filters) if report.filters else "none"
    period = f"{day(report.period[0])} to {day(report.period[1])}" if report.period else "no events"
    table.caption = Text(
        f"{report.level} level; {count(report.cases)} children; events {period}; as at "
        f"{day(report.as_at)}; filters: {filters}. {number(report.total_child_days)} child-days "
        f"between stages, {count(report.total_waiting)} children waiting. ▲ = pressure point "
        f"on the map (score ≥ {percent(MIN_SCORE)}: the largest of its share of child-days, "
        "its share of waiting children and its timescale breach rate)."
    )
    table.caption_justify = "left"
    return table
