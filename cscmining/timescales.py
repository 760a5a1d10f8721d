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

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .columns import ACTIVITY, CASE
from .engines import LogSource, as_source, focused_chunks, with_as_at
from .engines.chunk import Activities, Chunk, chunk_from_frame, column_matches, column_take
from .errors import UsageError
from .vocabulary import TimescaleRule, Vocabulary

if TYPE_CHECKING:  # pandas only where a frame is made: `stuck --json` never needs it
    import pandas as pd

    from .eventlog import EventLog

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
    ends = []
    for d in dates:
        days = np.asarray(d).astype("datetime64[D]").view(np.int64)
        days = days[days != np.iinfo(np.int64).min]  # NaT
        if len(days):
            ends += [days.min(), days.max()]
    if not ends:
        return _calendar(2000, 2000)
    years = np.array(ends, dtype="datetime64[D]").astype("datetime64[Y]").astype("int64") + 1970
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
    return _journeys(new_case(frame), frame[ACTIVITY].isin(terminal).to_numpy(dtype=bool))


def _journeys(new: np.ndarray, is_stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`journeys` from the case starts and the events that end a journey."""
    n = len(new)
    starts = new.copy()
    starts[1:] |= is_stop[:-1]
    journey = np.cumsum(starts) - 1
    ending = np.full(int(journey[-1]) + 1 if n else 0, -1, dtype="int64")
    ends = np.flatnonzero(is_stop)
    ending[journey[ends]] = ends
    return journey, ending


def pair(
    is_from: np.ndarray, is_to: np.ndarray, journey: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the `from` events and of the `to` event each is paired with (-1: none).

    FIFO matching within each journey, as a running balance: `from` +1, `to` -1; a `to` event
    that would take the balance below its lowest point so far finds nobody waiting and is
    dropped. The k-th `to` event kept closes the k-th `from` event. An event that is both
    (same activity at both ends) first closes the one waiting, then waits itself.

    Journeys rise along the log, so the balance and its lowest point are running sums and
    minima over the whole array, restarted at each journey: a cumulative sum less its value
    where the journey starts, and a cumulative minimum of values shifted down by a step per
    journey larger than any balance (so no earlier journey's values can be the minimum).
    """
    to_pos, from_pos = np.flatnonzero(is_to), np.flatnonzero(is_from)
    return _pair(to_pos, from_pos, lambda positions: journey[positions])


def _pair(
    to_pos: np.ndarray, from_pos: np.ndarray, journey_of: Any
) -> tuple[np.ndarray, np.ndarray]:
    """`pair` on the sorted positions of the `to` and `from` events; ``journey_of(positions)``
    gives their journeys (ids rising along the log)."""
    # merge the two sorted lists, a `to` before a `from` at the same position
    m = len(to_pos) + len(from_pos)
    to_at = np.arange(len(to_pos)) + np.searchsorted(from_pos, to_pos, side="left")
    from_at = np.arange(len(from_pos)) + np.searchsorted(to_pos, from_pos, side="right")
    pos = np.empty(m, dtype=np.int64)
    kind = np.zeros(m, dtype=bool)  # True: a `from` event
    pos[to_at] = to_pos
    pos[from_at], kind[from_at] = from_pos, True
    return _pair_merged(pos, kind, journey_of)


def _pair_merged(pos: np.ndarray, kind: np.ndarray,
                 journey_of: Any) -> tuple[np.ndarray, np.ndarray]:
    """`_pair` on the merged positions (``kind`` True for a `from` event, which comes after
    a `to` event at the same position)."""
    m = len(pos)
    if m == 0:
        return pos[kind], np.zeros(0, dtype=np.int64)
    group = journey_of(pos)
    first = np.ones(m, dtype=bool)
    first[1:] = group[1:] != group[:-1]
    dense = np.cumsum(first) - 1  # the journeys numbered 0, 1, … here
    step = np.where(kind, 1, -1)
    running = np.cumsum(step)
    balance = running - (running - step)[first][dense]
    shift = dense * (2 * m + 2)
    low = np.minimum(np.minimum.accumulate(balance - shift) + shift, 0)
    prev_low = np.empty(m, dtype=low.dtype)
    prev_low[0] = 0
    prev_low[1:] = low[:-1]
    prev_low[first] = 0
    kept_to = ~kind & (low == prev_low)
    # the k-th `from` of a journey is paired when the journey kept more than k `to` events
    journeys = int(dense[-1]) + 1
    from_journey = dense[kind]
    froms = np.bincount(from_journey, minlength=journeys)
    rank = np.arange(len(from_journey)) - (np.cumsum(froms) - froms)[from_journey]
    paired = rank < np.bincount(dense[kept_to], minlength=journeys)[from_journey]
    partner = np.full(len(from_journey), -1, dtype="int64")
    partner[paired] = pos[kept_to]
    return pos[kind], partner


# ---------------------------------------------------------------------------------------
# Evaluation


_CODE = {status: np.int8(i) for i, status in enumerate(STATUSES)}


def exclusion_columns(rules: Sequence[TimescaleRule]) -> list[str]:
    """The attribute columns the rules' ``exclude_when`` conditions read."""
    return list(dict.fromkeys(c for r in rules for c in r.exclude_when))


@dataclass
class RuleRows:
    """One rule's `from` events in a chunk: where they are, their dates, status, elapsed time.

    ``rows`` are positions in the chunk; dates are datetime64[D] (NaT where there is none);
    ``status`` indexes `STATUSES`.
    """

    rule: TimescaleRule
    rows: np.ndarray
    since: np.ndarray
    until: np.ndarray
    closed: np.ndarray
    status: np.ndarray
    elapsed: np.ndarray
    elapsed_days: np.ndarray
    calendar: np.busdaycalendar | None

    def due(self, which: np.ndarray | None = None) -> np.ndarray:
        since = self.since if which is None else self.since[which]
        return due_dates(since, self.rule.within, self.rule.unit, self.calendar)


def _excluded(chunk: Chunk, rule: TimescaleRule, rows: np.ndarray) -> np.ndarray:
    """Of these events, those whose attributes match every ``exclude_when`` condition."""
    out = np.ones(len(rows), dtype=bool)
    for column, value in rule.exclude_when.items():
        if column not in chunk.columns:
            return np.zeros(len(rows), dtype=bool)
        values = chunk.columns[column]
        if len(rows) * 8 < chunk.events:
            out &= column_matches(column_take(values, rows), [value.strip().lower()])
        else:  # most rows: test every value once (a dictionary column: each distinct once)
            out &= column_matches(values, [value.strip().lower()])[rows]
    return out


def rules_calendar(source: LogSource, rules: Sequence[TimescaleRule]) -> Any:
    """The working-day calendar the rules need over the whole log (None: none needed, or the
    log's first date is not known), made in a thread while the first chunk is read: the
    bank-holiday library takes a noticeable part of a second to load and compute."""
    if not any(r.unit == "working_days" for r in rules):
        return None
    first = source.first_day
    if first is None:
        return None
    from concurrent.futures import ThreadPoolExecutor

    days = np.array([first, source.as_at], dtype="datetime64[D]")
    pool = ThreadPoolExecutor(1, thread_name_prefix="cscmining-calendar")
    future = pool.submit(working_calendar, days)
    pool.shutdown(wait=False)  # the work goes on; the thread ends with it
    return future


def evaluate_chunk(
    chunk: Chunk, activities: Activities, rules: Sequence[TimescaleRule], as_at: date,
    calendar: Any = None,
) -> list[RuleRows]:
    """Every rule's `from` events in the chunk (whole cases, detail level) at ``as_at``.

    The chunk holds the columns of `exclusion_columns` that the log has. ``calendar``: the
    working-day calendar of the whole log (or a future of it, `rules_calendar`); when None,
    one covering the chunk's dates is made (the same counts: a calendar covering more years
    adds only holidays outside every interval counted).
    """
    if not rules:
        return []
    stamps = chunk.stamps
    as_at_day = np.datetime64(as_at, "D")
    if hasattr(calendar, "result"):
        calendar = calendar.result()
    if calendar is None and any(r.unit == "working_days" for r in rules):
        first_last = np.array([stamps.min(), stamps.max()] if chunk.events else [],
                              dtype=np.int64).view("datetime64[ns]")
        calendar = working_calendar(first_last, np.array([as_at_day]))
    codes = chunk.codes
    seen: dict[bytes, _Stops] = {}
    out = []
    for rule in rules:
        stop = activities.terminal | activities.mask(rule.stop_when)
        if stop.tobytes() not in seen:
            seen[stop.tobytes()] = _Stops(chunk, stop[codes])
        stops = seen[stop.tobytes()]
        rows, partner = _pair_merged(*_ends(chunk, activities, rule), stops.journey)
        paired = partner >= 0
        end_pos = stops.ending(rows)
        ended = ~paired & (end_pos >= 0)
        since = _day_of(stamps[rows])
        until = np.where(paired, _day_of(stamps[np.maximum(partner, 0)]), np.datetime64("NaT"))
        closed = np.where(ended, _day_of(stamps[np.maximum(end_pos, 0)]), np.datetime64("NaT"))
        clock = np.where(paired, until, np.where(ended, closed, as_at_day))
        elapsed = elapsed_units(since, clock, rule.unit, calendar)
        late = elapsed > rule.within
        status = np.select(
            [paired & ~late, paired | (ended & late), ended, late],
            [_CODE[MET], _CODE[BREACHED], _CODE[ENDED], _CODE[STUCK]],
            default=_CODE[OPEN],
        ).astype(np.int8)
        out.append(RuleRows(
            rule=rule, rows=rows, since=since, until=until,
            closed=closed, status=status, elapsed=elapsed.astype(np.int64),
            elapsed_days=(clock - since).astype("int64"), calendar=calendar,
        ))
    return out


def _ends(chunk: Chunk, activities: Activities,
          rule: TimescaleRule) -> tuple[np.ndarray, np.ndarray]:
    """The rule's `to` and (not excluded) `from` events of the chunk in log order, as
    (positions, is a `from`); an event that is both comes twice, as a `to` first."""
    codes = chunk.codes
    f, t = activities.code[rule.from_], activities.code[rule.to]
    if f != t:
        pos = np.flatnonzero((codes == f) | (codes == t))
        kind = codes[pos] == f
    else:
        pos = np.repeat(np.flatnonzero(codes == f), 2)
        kind = np.tile(np.array([False, True]), len(pos) // 2)
    if rule.exclude_when:
        froms = np.flatnonzero(kind)
        out = froms[_excluded(chunk, rule, pos[froms])]
        keep = np.ones(len(pos), dtype=bool)
        keep[out] = False
        pos, kind = pos[keep], kind[keep]
    return pos, kind


class _Stops:
    """The events that end a journey in a chunk: every event's journey (ids rising along the
    log: a case's events up to and including a stop, then the next ones) and each journey's
    stop (-1: still open)."""

    def __init__(self, chunk: Chunk, is_stop: np.ndarray) -> None:
        starts = chunk.new.copy()
        if len(starts):
            starts[1:] |= is_stop[:-1]
        self.ids = np.cumsum(starts, dtype=np.int32) - 1
        stops = np.flatnonzero(is_stop)
        self.end = np.full(int(self.ids[-1]) + 1 if len(starts) else 0, -1, dtype=np.int64)
        self.end[self.ids[stops]] = stops

    def journey(self, positions: np.ndarray) -> np.ndarray:
        return self.ids[positions]

    def ending(self, positions: np.ndarray) -> np.ndarray:
        return self.end[self.ids[positions]]


def _day_of(stamps: np.ndarray) -> np.ndarray:
    """int64 nanoseconds as datetime64[D] (the calendar date, no timezone)."""
    return stamps.view("datetime64[ns]").astype("datetime64[D]")


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
    activities = Activities.of(log.vocabulary)
    chunk = chunk_from_frame(log.frame, activities, exclusion_columns(selected))
    parts = [_rows_frame(r, log.frame[CASE].take(r.rows).to_numpy())
             for r in evaluate_chunk(chunk, activities, selected, log.as_at)]
    if not parts:
        return _empty_evaluation()
    import pandas as pd

    return pd.concat(parts, ignore_index=True)


def _rows_columns(r: RuleRows, case: Any, which: np.ndarray | None = None,
                  row_offset: int = 0) -> dict[str, np.ndarray]:
    """`evaluate`'s columns for one rule's rows (those of ``which``, all when None)."""
    def pick(values: np.ndarray) -> np.ndarray:
        return values if which is None else values[which]

    rule = r.rule
    n = len(r.rows) if which is None else len(which)

    def same(value: Any) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[:] = value
        return out

    return {
        "rule": same(rule.name),
        "case": np.asarray(case, dtype=object),
        "from": same(rule.from_),
        "to": same(rule.to),
        "since": pick(r.since).astype("datetime64[ns]"),
        "until": pick(r.until).astype("datetime64[ns]"),
        "journey_end": pick(r.closed).astype("datetime64[ns]"),
        "due": r.due(which).astype("datetime64[ns]"),
        "status": pick(r.status),
        "elapsed": pick(r.elapsed),
        "limit": np.full(n, rule.within, dtype=np.int64),
        "unit": same(rule.unit),
        "elapsed_days": pick(r.elapsed_days),
        "row": pick(r.rows).astype(np.int64) + row_offset,
    }


def _rows_frame(r: RuleRows, case: Any, which: np.ndarray | None = None,
                row_offset: int = 0) -> Any:
    """`evaluate`'s rows for one rule (those of ``which``, all when None)."""
    import pandas as pd

    columns = _rows_columns(r, case, which, row_offset)
    columns["status"] = pd.Categorical.from_codes(columns["status"].astype(np.int64),
                                                  categories=list(STATUSES))
    return pd.DataFrame(columns)


def _empty_evaluation() -> pd.DataFrame:
    import pandas as pd

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

    @property
    def late(self) -> int:
        """`from` events over the limit: the `to` event came late, or has not come yet."""
        return self.breached + self.stuck

    @property
    def decided(self) -> int:
        """`from` events whose outcome is known: met, or late."""
        return self.met + self.breached + self.stuck

    @property
    def within_text(self) -> str:
        """``45 working-day``, ``3-month``: the limit as an adjective, for fixed-word texts."""
        if self.unit == "working_days":
            return f"{self.within} working-day"
        return f"{self.within}-{self.unit.removesuffix('s')}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "from": self.from_, "to": self.to,
            "within": self.within, "unit": self.unit, "met": self.met,
            "breached": self.breached, "stuck": self.stuck, "open": self.open,
            "ended": self.ended, "met_rate": self.met_rate, "breach_rate": self.breach_rate,
        }


def _summary(rule: TimescaleRule, statuses: pd.Series) -> RuleSummary:
    counts = _status_counts(statuses)
    return rule_summary(rule, np.array([counts[s] for s in STATUSES]))


def rule_summary(rule: TimescaleRule, counts: np.ndarray) -> RuleSummary:
    """The summary of a rule from its `from` events counted by status (`STATUSES` order)."""
    met, breached, stuck_, open_, ended = (int(c) for c in counts)
    return RuleSummary(
        name=rule.name, label=rule.label, from_=rule.from_, to=rule.to, within=rule.within,
        unit=rule.unit, met=met, breached=breached, stuck=stuck_, open=open_, ended=ended,
        breach_rate=_rates(met, breached, stuck_)[1],
    )


def _evaluations(
    log: EventLog | LogSource, as_at: date | None, rules: str | Sequence[str] | None,
    description: str, start: date | None = None, end: date | None = None,
    where: Sequence[Any] = (),
) -> tuple[LogSource, list[TimescaleRule], Iterator[tuple[Chunk, list[RuleRows]]]]:
    """The (scoped, focused) source, the rules selected, and per chunk its evaluation."""
    source = with_as_at(as_source(log), as_at)
    selected = select_rules(source.vocabulary, rules)
    chunks = focused_chunks(source, description, start=start, end=end, where=where,
                            columns=exclusion_columns(selected))
    activities = source.activities
    calendar = rules_calendar(source, selected)

    def each() -> Iterator[tuple[Chunk, list[RuleRows]]]:
        for chunk in chunks:
            yield chunk, evaluate_chunk(chunk, activities, selected, source.as_at, calendar)

    return source, selected, each()


def summarise(
    log: EventLog | LogSource, as_at: date | None = None,
    rules: str | Sequence[str] | None = None,
) -> list[RuleSummary]:
    """One `RuleSummary` per timescale rule (vocabulary order), at the as-at date."""
    _, selected, evaluations = _evaluations(log, as_at, rules, "Timescales")
    counts = np.zeros((len(selected), len(STATUSES)), dtype=np.int64)
    for _, parts in evaluations:
        for i, part in enumerate(parts):
            counts[i] += np.bincount(part.status, minlength=len(STATUSES))
    return [rule_summary(rule, counts[i]) for i, rule in enumerate(selected)]


# ---------------------------------------------------------------------------------------
# Stuck journeys


#: the stuck list's columns, as ``stuck --json`` and ``--csv`` write them
STUCK_COLUMNS = ["case", "rule", "from", "to", "since", "due", "elapsed", "limit", "unit",
                 "elapsed_days"]


class StuckResult:
    """Every stuck `from` event at the as-at date, longest wait first, and children per rule.

    Kept as columns (``EVALUATION_COLUMNS``, numpy arrays) with the children counted as the
    chunks went by; ``entries`` is the same as a pandas frame, made when first asked for, so
    ``stuck --json`` never needs pandas.
    """

    def __init__(self, as_at: date, rules: list[TimescaleRule],
                 entries: Any = None, *, columns: dict[str, np.ndarray] | None = None,
                 children: dict[str, int] | None = None,
                 total_children: int | None = None) -> None:
        self.as_at = as_at
        self.rules = rules
        self._columns = columns
        self._children = children
        self._total = total_children
        if entries is not None:
            self.entries = entries

    @cached_property
    def entries(self) -> Any:
        """The stuck list as a pandas frame (columns as `evaluate` gives them)."""
        import pandas as pd

        c = self._columns
        if c is None or len(c["row"]) == 0:
            return _empty_evaluation()
        frame = pd.DataFrame({k: c[k] for k in EVALUATION_COLUMNS if k != "status"})
        frame.insert(EVALUATION_COLUMNS.index("status"), "status", pd.Categorical.from_codes(
            c["status"].astype(np.int64), categories=list(STATUSES)))
        for column in ("since", "until", "journey_end", "due"):
            frame[column] = frame[column].astype("datetime64[ns]")
        return frame

    def _column(self, name: str) -> np.ndarray:
        if self._columns is not None:
            return self._columns[name]
        return self.entries[name].to_numpy()

    @property
    def children(self) -> dict[str, int]:
        """Children with at least one stuck event, per rule (every selected rule listed)."""
        if self._children is not None:
            return {r.name: int(self._children.get(r.name, 0)) for r in self.rules}
        counts = self.entries.groupby("rule", sort=False)["case"].nunique()
        return {r.name: int(counts.get(r.name, 0)) for r in self.rules}

    @property
    def total_children(self) -> int:
        if self._total is not None:
            return self._total
        return int(self.entries["case"].nunique())

    def to_frame(self) -> Any:
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

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``, character for character, made column-wise."""
        return b"".join(bytes(p) if not isinstance(p, str) else p.encode("ascii")
                        for p in self.json_parts()).decode("ascii")

    def json_parts(self) -> list[Any]:
        """`to_json` in pieces (text, and the list as one view of an Arrow buffer)."""
        from .engines import jsontext as jt

        head = '{"as_at": ' + json.dumps(self.as_at.isoformat()) + ', "stuck": ['
        tail = '], "children": ' + json.dumps(self.children) + ', "total_children": ' + \
            json.dumps(self.total_children) + "}"
        if len(self._column("row")) == 0:
            return [head + tail]
        fields = {"since": jt.dates(self._column("since")), "due": jt.dates(self._column("due"))}
        for c in ("case", "rule", "from", "to", "unit"):
            fields[c] = jt.strings(self._column(c))
        for c in ("elapsed", "limit", "elapsed_days"):
            fields[c] = jt.integers(self._column(c))
        return [head, jt.joined_bytes([(c, fields[c]) for c in STUCK_COLUMNS]), tail]

    def write_csv(self, path: Path) -> Path:
        from .outputs import csv_safe, write_text

        return write_text(path, csv_safe(self.to_frame()).to_csv(index=False))


#: the columns of `evaluate` (and of `StuckResult.entries`), in order
EVALUATION_COLUMNS = ["rule", "case", "from", "to", "since", "until", "journey_end", "due",
                      "status", "elapsed", "limit", "unit", "elapsed_days", "row"]


def stuck(
    log: EventLog | LogSource, as_at: date | None = None,
    rule: str | Sequence[str] | None = None, *, start: date | None = None,
    end: date | None = None, where: Sequence[Any] = (),
) -> StuckResult:
    """Children waiting past a rule's limit at the as-at date (SPEC §4), longest first.

    Ties (same wait) are listed in rule order, then by child, so the list is stable.
    ``start``, ``end``, ``where`` focus the log first (`cscmining.focus`).
    """
    source, selected, evaluations = _evaluations(log, as_at, rule, "Finding stuck journeys",
                                                 start, end, where)
    parts: list[dict[str, np.ndarray]] = []
    children = dict.fromkeys((r.name for r in selected), 0)
    total = 0
    for chunk, evaluated in evaluations:
        cases_here = []
        for part in evaluated:
            hit = np.flatnonzero(part.status == _CODE[STUCK])
            if len(hit) == 0:
                continue
            cases = chunk.case_of(part.rows[hit])
            distinct = np.unique(cases)  # a case never spans two chunks: counts add up
            children[part.rule.name] += len(distinct)
            cases_here.append(distinct)
            parts.append(_rows_columns(part, chunk.ids(cases), hit, chunk.offset))
        if cases_here:
            total += len(np.unique(np.concatenate(cases_here)))
    columns = {k: np.concatenate([p[k] for p in parts]) for k in EVALUATION_COLUMNS} \
        if parts else None
    if columns is not None:
        rank = {r.name: i for i, r in enumerate(selected)}
        order = np.lexsort((
            columns["row"],
            columns["case"].astype(str),
            np.array([rank[r] for r in columns["rule"].tolist()]),
            -columns["elapsed_days"],
        ))
        columns = {k: v[order] for k, v in columns.items()}
    return StuckResult(as_at=source.as_at, rules=selected, columns=columns,
                       children=children, total_children=total)


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
    import pandas as pd

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
    log: EventLog | LogSource,
    by: Period = "month",
    as_at: date | None = None,
    rules: str | Sequence[str] | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    where: Sequence[Any] = (),
) -> TrendResult:
    """Each rule's statuses overall and per month or quarter of the `from` event's date.

    Statuses are as at the as-at date, so the latest periods hold more *open* events: a
    trend after an intervention reads from the met and breach rates of settled periods.
    """
    if by not in _FREQ:
        raise UsageError(f"--by must be month or quarter, not {by!r}")
    source, selected, evaluations = _evaluations(log, as_at, rules, "Timescales",
                                                 start, end, where)
    since: list[list[np.ndarray]] = [[] for _ in selected]
    status: list[list[np.ndarray]] = [[] for _ in selected]
    for _, parts in evaluations:
        for i, part in enumerate(parts):
            since[i].append(part.since)
            status[i].append(part.status)
    import pandas as pd

    trends = []
    for i, rule in enumerate(selected):
        codes = np.concatenate(status[i]) if status[i] else np.zeros(0, dtype=np.int8)
        part = pd.DataFrame({
            "since": (np.concatenate(since[i]) if since[i] else np.zeros(0, "datetime64[D]"))
            .astype("datetime64[ns]"),
            "status": pd.Categorical.from_codes(codes.astype(np.int64), categories=list(STATUSES)),
        })
        trends.append(RuleTrend(summary=_summary(rule, part["status"]), periods=_periods(part, by)))
    return TrendResult(as_at=source.as_at, by=by, rules=trends)
