"""Statutory timescales: pair each rule's `from` event with its `to` event, measure, classify.

Rules come from the stage vocabulary (``timescales`` in ``logmaps/stages.yaml``). SPEC §2.2 and
§4 fix the semantics; the decisions this module adds are written here once:

**Pairing.** Each `from` event is paired with the first unpaired `to` event *after it in the log
order* of the same case. The log order breaks same-day ties by ``stage:order``, so an ICPC on
the day of its S47 enquiry (order 70 after 60) pairs, while a CP review recorded on the day a
plan starts (order 100 before 130) belongs to the plan before it. This greedy rule is a FIFO
match: the k-th `to` event that finds a `from` waiting closes the k-th `from` event.
A rule whose `from` and `to` are the same activity pairs each event with the next one.

**Journeys end.** A terminal event (``Case closed``, ``Left care: …``) ends a journey: `from`
events still waiting then are never paired with `to` events of a later journey, and are not
*stuck* (nobody waits for the first CLA review of a child who went home). If the limit had
already passed when the journey ended the event is *breached*; otherwise it is *ended* and,
like *open*, takes no part in breach rates.

**Clock.** ``elapsed`` counts the units *begun* since the `from` date: working days are the
days strictly after the `from` date up to and including the date in question, without
weekends and England and Wales bank holidays (``holidays``, GB/ENG, the same list as Wales);
days are calendar days; weeks and months are those begun. A child is over the limit when
``elapsed > within``. The **due date** is the last day at the limit: the `within`-th working
day after the `from` date (a weekend or bank holiday straight after it still counts as within:
no working day has passed), or the same day `within` calendar months later, clipped to the
month's end (a plan starting 2024-01-31 with a 3-month limit is due 2024-04-30, as pandas'
``DateOffset`` has it). At exactly the limit a child is not stuck and a `to` event is met.

**Exclusions.** ``exclude_when: {column: value}`` drops `from` events whose attribute columns
all hold those values (compared as trimmed, case-insensitive text; a missing column matches
nothing). An S47 enquiry recorded as not needing a conference waits for no ICPC, and does not
take the ICPC of a later enquiry.

Everything is vectorised over the sorted log: no Python loop per event or per child.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .columns import ACTIVITY, CASE, TIMESTAMP
from .errors import UsageError
from .eventlog import EventLog
from .vocabulary import TimescaleRule, Vocabulary

MET, BREACHED, STUCK, OPEN, ENDED = "met", "breached", "stuck", "open", "ended"
STATUSES = (MET, BREACHED, STUCK, OPEN, ENDED)

Period = Literal["month", "quarter"]

_DAY = np.timedelta64(1, "D")


# ---------------------------------------------------------------------------------------
# Calendar arithmetic (arrays of numpy datetime64[D])


@lru_cache(maxsize=16)
def _calendar(first_year: int, last_year: int) -> np.busdaycalendar:
    """Monday to Friday without England and Wales bank holidays, substitute days included."""
    import holidays  # 70 ms: only commands that count working days pay for it

    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.busdaycalendar(holidays=np.array(sorted(days), dtype="datetime64[D]"))


def working_calendar(*dates: np.ndarray) -> np.busdaycalendar:
    """A calendar covering every year of ``dates``, plus the next (due dates run past them)."""
    valid = [d[~np.isnat(d)] for d in dates if len(d)]
    valid = [d for d in valid if len(d)]
    if not valid:
        return _calendar(2000, 2000)
    years = np.concatenate([d.astype("datetime64[Y]").astype("int64") + 1970 for d in valid])
    return _calendar(int(years.min()), int(years.max()) + 1)


def _days(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]")


def elapsed_units(
    since: np.ndarray, until: np.ndarray, unit: str, calendar: np.busdaycalendar
) -> np.ndarray:
    """Units begun from ``since`` to ``until`` (datetime64[D] arrays); 0 on the same day.

    Over the limit exactly when ``elapsed > within``; see the module docstring.
    """
    if unit == "working_days":
        return np.busday_count(since + _DAY, until + _DAY, busdaycal=calendar).astype("int64")
    days = (until - since).astype("int64")
    if unit == "days":
        return days
    if unit == "weeks":
        return -(-days // 7)
    if unit == "months":
        months = (until.astype("datetime64[M]") - since.astype("datetime64[M]")).astype("int64")
        return months + (_day_of_month(until) > _clipped_day(since, until.astype("datetime64[M]")))
    raise ValueError(f"unknown timescale unit {unit!r}")


def due_dates(
    since: np.ndarray, within: int, unit: str, calendar: np.busdaycalendar
) -> np.ndarray:
    """The last date still within the limit, for each ``since`` date (datetime64[D])."""
    if unit == "working_days":
        # rolling a weekend or holiday back first makes the count start strictly after `since`
        return np.busday_offset(since, within, roll="backward", busdaycal=calendar)
    if unit == "days":
        return since + within * _DAY
    if unit == "weeks":
        return since + 7 * within * _DAY
    if unit == "months":
        month = since.astype("datetime64[M]") + np.timedelta64(within, "M")
        return month.astype("datetime64[D]") + (_clipped_day(since, month) - 1) * _DAY
    raise ValueError(f"unknown timescale unit {unit!r}")


def _day_of_month(days: np.ndarray) -> np.ndarray:
    return (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype("int64") + 1


def _clipped_day(since: np.ndarray, month: np.ndarray) -> np.ndarray:
    """``since``'s day of month moved into ``month`` (datetime64[M]), clipped to its length."""
    length = ((month + np.timedelta64(1, "M")).astype("datetime64[D]")
              - month.astype("datetime64[D]")).astype("int64")
    return np.minimum(_day_of_month(since), length)


# ---------------------------------------------------------------------------------------
# Pairing


def select_rules(vocabulary: Vocabulary, names: str | Sequence[str] | None) -> list[TimescaleRule]:
    """The rules named (all when None), in vocabulary order; UsageError for an unknown name."""
    if names is None:
        return list(vocabulary.timescales)
    wanted = {names} if isinstance(names, str) else set(names)
    known = [r.name for r in vocabulary.timescales]
    unknown = sorted(wanted - set(known))
    if unknown:
        raise UsageError(
            f"no timescale rule {', '.join(unknown)} (known: {', '.join(known) or 'none'})"
        )
    return [r for r in vocabulary.timescales if r.name in wanted]


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2… within each run of equal values of a non-decreasing array."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype="int64")
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    return np.arange(n) - run_start


def new_case(frame: pd.DataFrame) -> np.ndarray:
    """True at the first event of each case: the log is sorted, so cases are contiguous runs.

    Compares the column with itself shifted (fast on Arrow strings, unlike ``to_numpy``).
    """
    return np.array(frame[CASE].ne(frame[CASE].shift()), dtype=bool)  # a writable copy


def journeys(frame: pd.DataFrame, terminal: frozenset[str]) -> tuple[np.ndarray, np.ndarray]:
    """Journey id of every event and, per journey, the position of its ending event (or -1).

    A journey is a child's run of events up to and including a terminal event; the next event
    of the same child starts a new one. Ids rise along the (sorted) log.
    """
    n = len(frame)
    is_terminal = frame[ACTIVITY].isin(terminal).to_numpy(dtype=bool)
    new = new_case(frame)
    new[1:] |= is_terminal[:-1]
    journey = np.cumsum(new) - 1
    ending = np.full(int(journey[-1]) + 1 if n else 0, -1, dtype="int64")
    ends = np.flatnonzero(is_terminal)
    ending[journey[ends]] = ends
    return journey, ending


def _excluded(frame: pd.DataFrame, rule: TimescaleRule) -> np.ndarray:
    """Events whose attributes match every ``exclude_when`` condition of the rule."""
    out = np.ones(len(frame), dtype=bool) if rule.exclude_when else np.zeros(len(frame), dtype=bool)
    for column, value in rule.exclude_when.items():
        if column not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        text = frame[column].astype("string").str.strip().str.lower()
        out &= text.eq(value.strip().lower()).fillna(False).to_numpy(dtype=bool)
    return out


def pair(
    is_from: np.ndarray, is_to: np.ndarray, journey: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the `from` events and of the `to` event each is paired with (-1: none).

    FIFO matching within each journey, as a running balance: `from` +1, `to` -1; a `to` event
    that would take the balance below its lowest point so far finds nobody waiting and is
    dropped. The k-th `to` event kept closes the k-th `from` event. An event that is both
    (same activity at both ends) first closes the one waiting, then waits itself.
    """
    to_pos, from_pos = np.flatnonzero(is_to), np.flatnonzero(is_from)
    pos = np.concatenate([to_pos, from_pos])
    kind = np.concatenate([np.zeros(len(to_pos), "int64"), np.ones(len(from_pos), "int64")])
    order = np.argsort(pos * 2 + kind, kind="stable")
    pos, kind = pos[order], kind[order]
    group = journey[pos]
    step = np.where(kind == 1, 1, -1)
    balance = pd.Series(step).groupby(group).cumsum()
    low = np.minimum(balance.groupby(group).cummin().to_numpy(), 0)
    first = _rank_within(group) == 0
    prev_low = np.where(first, 0, np.r_[0, low[:-1]])
    kept_to = (kind == 0) & (low == prev_low)

    from_entries = kind == 1
    from_group = group[from_entries]
    to_group = group[kept_to]
    n_kept = np.bincount(to_group, minlength=int(journey.max(initial=-1)) + 1)
    paired = _rank_within(from_group) < n_kept[from_group]
    partner = np.full(len(from_group), -1, dtype="int64")
    partner[paired] = pos[kept_to]
    return pos[from_entries], partner


# ---------------------------------------------------------------------------------------
# Evaluation


def _scope(log: EventLog, as_at: date | None) -> EventLog:
    """The log as it stood at ``as_at`` (later events ignored), or as it is."""
    return log if as_at is None else log.as_of(as_at)


def evaluate(
    log: EventLog, as_at: date | None = None, rules: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per (non-excluded) `from` event of each rule, with its status at the as-at date.

    Columns: ``rule, case, from, to, since, until, journey_end, due, status, elapsed, limit,
    unit, elapsed_days, row``. ``until`` is the paired `to` date, ``journey_end`` the date the
    journey ended unpaired; ``elapsed`` (in the rule's unit) and ``elapsed_days`` run to
    ``until``, else ``journey_end``, else the as-at date. ``row`` is the `from` event's position
    in the log.
    Rows are in vocabulary rule order, then log order.
    """
    log = _scope(log, as_at)
    selected = select_rules(log.vocabulary, rules)
    frame = log.frame
    journey, ending = journeys(frame, log.vocabulary.terminal)
    stamps = _days(frame[TIMESTAMP])
    as_at_day = np.datetime64(log.as_at, "D")
    calendar = working_calendar(stamps, np.array([as_at_day]))
    context = _Context(frame, journey, ending, stamps, as_at_day, calendar, log.vocabulary.terminal)
    parts = [_evaluate_rule(context, rule) for rule in selected]
    if not parts:
        return _empty_evaluation()
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class _Context:
    """What every rule's evaluation shares, computed once per log."""

    frame: pd.DataFrame
    journey: np.ndarray
    ending: np.ndarray
    stamps: np.ndarray
    as_at: np.datetime64
    calendar: np.busdaycalendar
    terminal: frozenset[str]

    def journeys_for(self, rule: TimescaleRule) -> tuple[np.ndarray, np.ndarray]:
        """Journeys as this rule sees them: its `stop_when` activities also end the wait."""
        if not rule.stop_when:
            return self.journey, self.ending
        return journeys(self.frame, self.terminal | frozenset(rule.stop_when))


def _evaluate_rule(ctx: _Context, rule: TimescaleRule) -> pd.DataFrame:
    frame, stamps, calendar = ctx.frame, ctx.stamps, ctx.calendar
    is_from = frame[ACTIVITY].eq(rule.from_).to_numpy(dtype=bool) & ~_excluded(frame, rule)
    is_to = frame[ACTIVITY].eq(rule.to).to_numpy(dtype=bool)
    journey, ending = ctx.journeys_for(rule)
    rows, partner = pair(is_from, is_to, journey)
    paired = partner >= 0
    end_pos = ending[journey[rows]]
    ended = ~paired & (end_pos >= 0)
    since = stamps[rows]
    until = np.where(paired, stamps[np.maximum(partner, 0)], np.datetime64("NaT"))
    closed = np.where(ended, stamps[np.maximum(end_pos, 0)], np.datetime64("NaT"))
    clock = np.where(paired, until, np.where(ended, closed, ctx.as_at))
    elapsed = elapsed_units(since, clock, rule.unit, calendar)
    late = elapsed > rule.within
    status = np.select(
        [paired & ~late, paired | (ended & late), ended, late],
        [MET, BREACHED, ENDED, STUCK],
        default=OPEN,
    )
    return pd.DataFrame({
        "rule": rule.name,
        "case": frame[CASE].take(rows).to_numpy(),
        "from": rule.from_,
        "to": rule.to,
        "since": since.astype("datetime64[ns]"),
        "until": until.astype("datetime64[ns]"),
        "journey_end": closed.astype("datetime64[ns]"),
        "due": due_dates(since, rule.within, rule.unit, calendar).astype("datetime64[ns]"),
        "status": pd.Categorical(status, categories=STATUSES),
        "elapsed": elapsed,
        "limit": rule.within,
        "unit": rule.unit,
        "elapsed_days": (clock - since).astype("int64"),
        "row": rows,
    })


def _empty_evaluation() -> pd.DataFrame:
    return pd.DataFrame({
        "rule": pd.Series(dtype=object), "case": pd.Series(dtype=object),
        "from": pd.Series(dtype=object), "to": pd.Series(dtype=object),
        "since": pd.Series(dtype="datetime64[ns]"), "until": pd.Series(dtype="datetime64[ns]"),
        "journey_end": pd.Series(dtype="datetime64[ns]"),
        "due": pd.Series(dtype="datetime64[ns]"),
        "status": pd.Categorical([], categories=STATUSES),
        "elapsed": pd.Series(dtype="int64"), "limit": pd.Series(dtype="int64"),
        "unit": pd.Series(dtype=object), "elapsed_days": pd.Series(dtype="int64"),
        "row": pd.Series(dtype="int64"),
    })


def _rates(met: int, breached: int, stuck: int) -> tuple[float | None, float | None]:
    """(met rate, breach rate) over decided events: met, breached or stuck; None if none."""
    decided = met + breached + stuck
    if decided == 0:
        return None, None
    return met / decided, (breached + stuck) / decided


def _status_counts(statuses: pd.Series) -> dict[str, int]:
    counts = statuses.value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}


# ---------------------------------------------------------------------------------------
# Summary per rule


@dataclass(frozen=True)
class RuleSummary:
    """How one rule went: counts of `from` events by status, and the breach rate.

    ``breach_rate`` = (breached + stuck) / (met + breached + stuck), None when nothing is
    decided yet. ``ended`` counts journeys that ended within the limit without the `to` event.
    """

    name: str
    label: str
    from_: str
    to: str
    within: int
    unit: str
    met: int
    breached: int
    stuck: int
    open: int
    breach_rate: float | None
    ended: int = 0

    @property
    def met_rate(self) -> float | None:
        return _rates(self.met, self.breached, self.stuck)[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "from": self.from_, "to": self.to,
            "within": self.within, "unit": self.unit, "met": self.met,
            "breached": self.breached, "stuck": self.stuck, "open": self.open,
            "ended": self.ended, "met_rate": self.met_rate, "breach_rate": self.breach_rate,
        }


def _summary(rule: TimescaleRule, statuses: pd.Series) -> RuleSummary:
    counts = _status_counts(statuses)
    return RuleSummary(
        name=rule.name, label=rule.label, from_=rule.from_, to=rule.to, within=rule.within,
        unit=rule.unit, met=counts[MET], breached=counts[BREACHED], stuck=counts[STUCK],
        open=counts[OPEN], ended=counts[ENDED],
        breach_rate=_rates(counts[MET], counts[BREACHED], counts[STUCK])[1],
    )


def _by_rule(evaluation: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {str(name): part for name, part in evaluation.groupby("rule", sort=False)}


def summarise(
    log: EventLog, as_at: date | None = None, rules: str | Sequence[str] | None = None
) -> list[RuleSummary]:
    """One `RuleSummary` per timescale rule (vocabulary order), at the as-at date."""
    evaluation = evaluate(log, as_at, rules)
    parts = _by_rule(evaluation)
    empty = evaluation["status"].iloc[:0]
    return [
        _summary(rule, parts[rule.name]["status"] if rule.name in parts else empty)
        for rule in select_rules(log.vocabulary, rules)
    ]


# ---------------------------------------------------------------------------------------
# Stuck journeys


#: the stuck list's columns, as ``stuck --json`` and ``--csv`` write them
STUCK_COLUMNS = ["case", "rule", "from", "to", "since", "due", "elapsed", "limit", "unit",
                 "elapsed_days"]


@dataclass
class StuckResult:
    """Every stuck `from` event at the as-at date, longest wait first, and children per rule."""

    as_at: date
    rules: list[TimescaleRule]
    entries: pd.DataFrame = field(repr=False)

    @property
    def children(self) -> dict[str, int]:
        """Children with at least one stuck event, per rule (every selected rule listed)."""
        counts = self.entries.groupby("rule", sort=False)["case"].nunique()
        return {r.name: int(counts.get(r.name, 0)) for r in self.rules}

    @property
    def total_children(self) -> int:
        return int(self.entries["case"].nunique())

    def to_frame(self) -> pd.DataFrame:
        """The list with ISO date text, as JSON and CSV show it."""
        out = self.entries[STUCK_COLUMNS].copy()
        for column in ("since", "due"):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
        return out.reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        frame = self.to_frame()
        columns = [frame[c].tolist() for c in STUCK_COLUMNS]  # Python ints and str, fast
        return {
            "as_at": self.as_at.isoformat(),
            "stuck": [dict(zip(STUCK_COLUMNS, values)) for values in zip(*columns)],
            "children": self.children,
            "total_children": self.total_children,
        }

    def write_csv(self, path: Path) -> Path:
        from .outputs import write_text

        return write_text(path, self.to_frame().to_csv(index=False))


def stuck(
    log: EventLog, as_at: date | None = None, rule: str | Sequence[str] | None = None
) -> StuckResult:
    """Children waiting past a rule's limit at the as-at date (SPEC §4), longest first.

    Ties (same wait) are listed in rule order, then by child, so the list is stable.
    """
    scoped = _scope(log, as_at)
    selected = select_rules(scoped.vocabulary, rule)
    evaluation = evaluate(scoped, None, [r.name for r in selected])
    entries = evaluation.loc[evaluation["status"] == STUCK]
    rank = {r.name: i for i, r in enumerate(selected)}
    order = np.lexsort((
        entries["row"].to_numpy(),
        entries["case"].to_numpy().astype(str),
        entries["rule"].map(rank).to_numpy(),
        -entries["elapsed_days"].to_numpy(),
    ))
    return StuckResult(as_at=scoped.as_at, rules=selected,
                       entries=entries.iloc[order].reset_index(drop=True))


# ---------------------------------------------------------------------------------------
# Trend


@dataclass(frozen=True)
class PeriodCounts:
    """One rule's `from` events that started in one month or quarter, by status at the as-at."""

    period: str
    start: date
    end: date
    met: int
    breached: int
    stuck: int
    open: int
    ended: int

    @property
    def met_rate(self) -> float | None:
        return _rates(self.met, self.breached, self.stuck)[0]

    @property
    def breach_rate(self) -> float | None:
        return _rates(self.met, self.breached, self.stuck)[1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "met": self.met, "breached": self.breached, "stuck": self.stuck, "open": self.open,
            "ended": self.ended, "met_rate": self.met_rate, "breach_rate": self.breach_rate,
        }


@dataclass(frozen=True)
class RuleTrend:
    summary: RuleSummary
    periods: list[PeriodCounts]

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary.to_dict(), "periods": [p.to_dict() for p in self.periods]}


@dataclass(frozen=True)
class TrendResult:
    """Per rule, the overall counts and one row per period from the first to the last `from`."""

    as_at: date
    by: Period
    rules: list[RuleTrend]

    def to_dict(self) -> dict[str, Any]:
        return {"as_at": self.as_at.isoformat(), "by": self.by,
                "rules": [r.to_dict() for r in self.rules]}


_FREQ = {"month": "M", "quarter": "Q"}


def _period_label(period: pd.Period, by: Period) -> str:
    return f"{period.year}-Q{period.quarter}" if by == "quarter" else period.strftime("%Y-%m")


def _periods(part: pd.DataFrame, by: Period) -> list[PeriodCounts]:
    """Counts per period of the `from` date; periods without events in between are kept."""
    if part.empty:
        return []
    period = part["since"].dt.to_period(_FREQ[by])
    table = pd.crosstab(period, part["status"]).reindex(columns=list(STATUSES), fill_value=0)
    span = pd.period_range(period.min(), period.max(), freq=_FREQ[by])
    table = table.reindex(span, fill_value=0)
    return [
        PeriodCounts(
            period=_period_label(p, by), start=p.start_time.date(), end=p.end_time.date(),
            **{s: int(table.at[p, s]) for s in STATUSES},
        )
        for p in span
    ]


def timescale_trend(
    log: EventLog,
    by: Period = "month",
    as_at: date | None = None,
    rules: str | Sequence[str] | None = None,
) -> TrendResult:
    """Each rule's statuses overall and per month or quarter of the `from` event's date.

    Statuses are as at the as-at date, so the latest periods hold more *open* events: a
    trend after an intervention reads from the met and breach rates of settled periods.
    """
    if by not in _FREQ:
        raise UsageError(f"--by must be month or quarter, not {by!r}")
    scoped = _scope(log, as_at)
    selected = select_rules(scoped.vocabulary, rules)
    evaluation = evaluate(scoped, None, [r.name for r in selected])
    parts = _by_rule(evaluation)
    empty = evaluation.iloc[:0]
    trends = []
    for rule in selected:
        part = parts.get(rule.name, empty)
        trends.append(RuleTrend(summary=_summary(rule, part["status"]), periods=_periods(part, by)))
    return TrendResult(as_at=scoped.as_at, by=by, rules=trends)
