"""Focus an event log on what an analysis asks about: a period, some children, a level of detail.

Every analysis command shares these filters (``--from``, ``--to``, ``--where``, ``--level``),
so they mean the same everywhere. Filters keep or drop **whole journeys** (cases), never single
events: a map of "children active in 2023-24" still shows where those children came from and
where they went, and no child's journey is cut into a misleading fragment.

**Period** (``start``/``end``, both inclusive, either may be open): a child is kept when their
journey is *active* in the period, i.e. the journey's span overlaps it. The span runs from the
child's first event to their last event, or to the as-at date when the last event is not
terminal (the child is still in the system). So a child referred before the period and closed
after it is active in it even with no event inside it, as is a child still open at the as-at
date whose last event was earlier.

**Where** (``KEY=VALUE``): ``KEY`` names a case attribute (the log's ``case:KEY`` column, which
wins when both exist; ``case:KEY`` may also be written out) or an event attribute (the ``KEY``
column). A child is kept when *any* of their events holds the value, so ``legal_status=C2``
finds every child who was ever on a care order; a case attribute holds one value per child,
so for it "any event" is simply the child's value. Values compare as trimmed, case-insensitive
text; a missing value matches nothing. Several values for one key mean *any of them*
(``--where team=North --where team=East``); different keys must all match.

**Level**: ``detail`` keeps activities; ``summary`` replaces each activity by its stage group
(`Vocabulary.group`) and collapses a child's consecutive events in the same group into one
*visit*, kept as its first event (the day the child entered that stage). An analyst reading a
summary map asks "how long did children spend in child protection before care?", not how
often one CP review followed another, so a group never follows itself: leaving a stage and
coming back later is two visits, drawn as two edges through the other stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Literal

import numpy as np

from .columns import ACTIVITY, CASE, CASE_PREFIX, ORDER, TIMESTAMP
from .errors import UsageError
from .vocabulary import Activity, Vocabulary

if TYPE_CHECKING:  # pandas (and so the event log module) only where a frame is worked on
    import pandas as pd

    from .eventlog import EventLog

Level = Literal["detail", "summary"]
LEVELS: tuple[Level, ...] = ("detail", "summary")

#: (KEY, VALUE) as written on the command line
Condition = tuple[str, str]


def focus(
    log: EventLog,
    *,
    start: date | None = None,
    end: date | None = None,
    where: Iterable[Condition | str] = (),
    level: Level = "detail",
) -> EventLog:
    """The journeys active in [start, end] that match every ``where`` key, at ``level``.

    See the module docstring for exactly what each filter keeps. ``where`` items are
    ``(KEY, VALUE)`` pairs or ``"KEY=VALUE"`` strings.
    """
    keep = period_mask(log, start, end) & where_mask(log, _conditions(where))
    if not keep.all():
        log = log.with_frame(log.frame.loc[keep])
    return at_level(log, level)


def describe_focus(
    *,
    start: date | None = None,
    end: date | None = None,
    where: Iterable[Condition | str] = (),
) -> tuple[str, ...]:
    """The filters in words, for map titles and JSON (empty when nothing is filtered)."""
    parts: list[str] = []
    if start and end:
        parts.append(f"active {start.isoformat()} to {end.isoformat()}")
    elif start:
        parts.append(f"active from {start.isoformat()}")
    elif end:
        parts.append(f"active until {end.isoformat()}")
    for key, values in _by_key(_conditions(where)).items():
        parts.append(f"{key} = {' or '.join(values)}")
    return tuple(parts)


# ---------------------------------------------------------------------------------------
# Period


def case_runs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event, its case number (0, 1, … along the log); per case, its first and last rows.

    The log is sorted by case, so each case is one contiguous run: no grouping needed, and
    factorizing (a hash of the column) numbers the runs in order without copying strings.
    """
    import pandas as pd

    number = pd.factorize(frame[CASE], sort=False)[0].astype("int64")
    n = len(number)
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = number[1:] != number[:-1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, n - 1] if n else first
    return number, first, last


def activity_codes(frame: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """Each event's activity as its position in ``names`` (-1 if absent), strings not copied."""
    import pandas as pd

    codes, uniques = pd.factorize(frame[ACTIVITY], sort=False)
    position = {name: i for i, name in enumerate(names)}
    remap = np.array([position.get(u, -1) for u in uniques] + [-1], dtype="int64")
    return remap[codes]


def period_mask(log: EventLog, start: date | None, end: date | None) -> np.ndarray:
    """Events of the journeys whose span overlaps [start, end] (module docstring)."""
    frame = log.frame
    if start is None and end is None:
        return np.ones(len(frame), dtype=bool)
    if start and end and start > end:
        raise UsageError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    number, first, last = case_runs(frame)
    stamps = frame[TIMESTAMP].to_numpy()
    begins = stamps[first]
    ends = stamps[last]
    open_case = ~frame[ACTIVITY].iloc[last].isin(log.vocabulary.terminal).to_numpy()
    ends = np.where(open_case, np.maximum(ends, _midnight(log.as_at)), ends)
    active = np.ones(len(first), dtype=bool)
    if start is not None:
        active &= ends >= _midnight(start)
    if end is not None:
        active &= begins < _midnight(end) + np.timedelta64(1, "D")
    return active[number]


def _midnight(day: date) -> np.datetime64:
    return np.datetime64(day, "D").astype("datetime64[ns]")


# ---------------------------------------------------------------------------------------
# Where


def parse_where(text: str) -> Condition:
    """``"KEY=VALUE"`` → ``(KEY, VALUE)``, both trimmed; UsageError when it is not that shape."""
    key, sep, value = text.partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise UsageError(f"--where wants KEY=VALUE (e.g. team=North), not {text!r}")
    return key, value


def _conditions(where: Iterable[Condition | str]) -> list[Condition]:
    return [parse_where(w) if isinstance(w, str) else w for w in where]


def _by_key(conditions: Iterable[Condition]) -> dict[str, list[str]]:
    """Values per key, keys and values in the order given (duplicates once)."""
    grouped: dict[str, list[str]] = {}
    for key, value in conditions:
        values = grouped.setdefault(key, [])
        if value not in values:
            values.append(value)
    return grouped


def resolve_key(frame: pd.DataFrame, key: str) -> str:
    """The column a ``--where`` key names: ``case:KEY`` first, then the event attribute KEY."""
    for column in (key if key.startswith(CASE_PREFIX) else CASE_PREFIX + key, key):
        if column in frame.columns:
            return column
    attributes = (c for c in frame.columns if c not in (CASE, ACTIVITY, TIMESTAMP, ORDER))
    known = ", ".join(sorted(attributes))
    raise UsageError(f"--where {key}: no such case or event attribute (known: {known or 'none'})")


def where_mask(log: EventLog, conditions: Sequence[Condition]) -> np.ndarray:
    """Events of the children that match every key (any of its values; module docstring)."""
    frame = log.frame
    keep = np.ones(len(frame), dtype=bool)
    if not conditions:
        return keep
    number, first, _ = case_runs(frame)
    for key, values in _by_key(conditions).items():
        column = resolve_key(frame, key)
        text = frame[column].astype("string").str.strip().str.lower()
        hit = text.isin([v.lower() for v in values]).fillna(False).to_numpy(dtype=bool)
        case_hit = np.bincount(number, weights=hit, minlength=len(first)) > 0
        keep &= case_hit[number]
    return keep


# ---------------------------------------------------------------------------------------
# Level


def at_level(log: EventLog, level: Level) -> EventLog:
    """The log at ``detail`` (as it is) or ``summary`` level (groups, one event per visit)."""
    if level == "detail":
        return log
    if level != "summary":
        raise UsageError(f"--level must be detail or summary, not {level!r}")
    import pandas as pd

    vocabulary = summary_vocabulary(log.vocabulary)
    frame = log.frame
    detail = log.vocabulary.activities
    groups = [g.name for g in vocabulary.activities]
    group_of = np.array([groups.index(a.group) for a in detail] + [-1], dtype="int64")
    codes = activity_codes(frame, [a.name for a in detail])
    if (codes < 0).any():
        unknown = sorted(set(frame[ACTIVITY].iloc[np.flatnonzero(codes < 0)]))
        raise UsageError(f"activities not in the stage vocabulary: {', '.join(unknown)}")
    group = group_of[codes]
    number, _, _ = case_runs(frame)
    first_of_visit = np.ones(len(frame), dtype=bool)
    if len(frame) > 1:
        first_of_visit[1:] = (number[1:] != number[:-1]) | (group[1:] != group[:-1])
    kept = group[first_of_visit]
    names = np.array(groups, dtype=object)
    orders = np.array([g.order for g in vocabulary.activities])
    visits = frame.loc[first_of_visit].assign(**{
        ACTIVITY: pd.array(names[kept], dtype=frame[ACTIVITY].dtype),
        ORDER: orders[kept].astype(frame[ORDER].dtype),
    })
    return replace(log.with_frame(visits), vocabulary=vocabulary)


def summary_vocabulary(vocabulary: Vocabulary) -> Vocabulary:
    """A vocabulary whose activities are the stage groups of ``vocabulary``.

    A group ranks by its earliest activity and is terminal when all its activities are.
    Timescale rules name activities, not groups, so it has none. Built with
    ``model_construct``: the detail vocabulary was validated already, and its left-care
    outcome names are activities this one does not have.
    """
    members: dict[str, list[Activity]] = {}
    for activity in vocabulary.activities:
        members.setdefault(activity.group, []).append(activity)
    groups = [
        Activity(
            name=name,
            order=min(a.order for a in acts),
            group=name,
            terminal=all(a.terminal for a in acts),
        )
        for name, acts in members.items()
    ]
    groups.sort(key=lambda a: a.order)
    return Vocabulary.model_construct(
        version=vocabulary.version,
        activities=groups,
        left_care_outcomes=vocabulary.left_care_outcomes,
        timescales=[],
    )
