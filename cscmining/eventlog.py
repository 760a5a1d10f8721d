"""The event log: one case per child, pm4py's column names, a deterministic order.

Readers hand over *candidate events* (one row per event a source row produced). This module
merges the same fact reported by several source tables, orders same-day events by the stage
vocabulary, attaches case attributes, and reads and writes the log (Parquet, CSV, XES).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from . import __version__
from .accounting import TableAccount
from .columns import ACTIVITY, CASE, CASE_PREFIX, CORE, FILE, ORDER, ROW, SORT_KEY, SOURCE, TIMESTAMP
from .errors import AccountingError, EventLogError, UsageError
from .vocabulary import Vocabulary, load_vocabulary

METADATA_KEY = b"cscmining"


@dataclass
class EventLog:
    """A sorted event log and what is known about how it was made.

    ``frame`` is sorted by `columns.SORT_KEY` with a fresh RangeIndex, so a case's events are
    contiguous and in journey order: every analysis relies on that and never re-sorts.
    """

    frame: pd.DataFrame
    as_at: date
    vocabulary: Vocabulary = field(repr=False)
    accounts: list[TableAccount] = field(default_factory=list)
    inputs: list[dict[str, str]] = field(default_factory=list)
    same_day_ties: int = 0
    merged: int = 0
    pseudonymised: bool = False

    @property
    def events(self) -> int:
        return len(self.frame)

    @property
    def cases(self) -> int:
        return int(self.frame[CASE].nunique())

    @property
    def period(self) -> tuple[date, date] | None:
        """First and last event dates, or None for an empty log."""
        if self.frame.empty:
            return None
        ts = self.frame[TIMESTAMP]
        return ts.min().date(), ts.max().date()

    def with_frame(self, frame: pd.DataFrame) -> EventLog:
        """The same log restricted to (a sorted subset of) its events."""
        return EventLog(
            frame=frame.reset_index(drop=True),
            as_at=self.as_at,
            vocabulary=self.vocabulary,
            accounts=self.accounts,
            inputs=self.inputs,
            same_day_ties=count_same_day_ties(frame),
            merged=self.merged,
            pseudonymised=self.pseudonymised,
        )

    def as_of(self, as_at: date) -> EventLog:
        """The log as it stood at ``as_at``: later events are ignored (SPEC §2.2)."""
        if as_at >= self.as_at:
            return replace(self, as_at=as_at)
        cutoff = pd.Timestamp(as_at) + pd.Timedelta(days=1)
        kept = self.with_frame(self.frame.loc[self.frame[TIMESTAMP] < cutoff])
        return replace(kept, as_at=as_at)

    def metadata(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "as_at": self.as_at.isoformat(),
            "events": self.events,
            "cases": self.cases,
            "same_day_ties": self.same_day_ties,
            "merged": self.merged,
            "pseudonymised": self.pseudonymised,
            "inputs": self.inputs,
            "accounts": [a.to_dict() for a in self.accounts],
            "activities": [a.model_dump() for a in self.vocabulary.activities],
        }


def count_same_day_ties(frame: pd.DataFrame) -> int:
    """Events that share their child and date with the event before them in the log.

    Each such pair was ordered by ``stage:order`` (or source), not by time.
    """
    if len(frame) < 2:
        return 0
    case = frame[CASE].to_numpy()
    ts = frame[TIMESTAMP].to_numpy()
    return int(np.count_nonzero((case[1:] == case[:-1]) & (ts[1:] == ts[:-1])))


def sort_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort by (case, timestamp, stage order, source, source row) with a stable sort.

    Events that tie on everything before the source row (several rows of one table for one
    child on one day) are ordered by their activity and attributes first: the row number
    changes when the same rows come in another order, the log must not (SPEC §2).
    """
    order = _sort_order(frame, [c for c in SORT_KEY if c != ROW], [ACTIVITY])
    return frame.take(order).reset_index(drop=True)


def _sort_order(frame: pd.DataFrame, key: list[str], first: list[str]) -> np.ndarray:
    """The positions that sort ``frame`` by ``key``, then file and row, stably; rows that
    tie on ``key`` are ordered by ``first``, then their attribute values as text, then file
    and row. Only tied rows are looked at twice, so this costs little on a large log where
    ties within one table are rare; the caller takes the rows once.
    """
    tail = [c for c in (FILE, ROW) if c in frame.columns]
    keys = frame[[*key, *tail]].reset_index(drop=True)
    order = keys.sort_values([*key, *tail], kind="stable").index.to_numpy().copy()
    tied = keys.duplicated(key, keep=False).to_numpy()[order]
    if not tied.any():
        return order
    positions = np.flatnonzero(tied)
    sub = frame.iloc[order[positions]].reset_index(drop=True)
    attrs = [c for c in sub.columns if c not in (*CORE, ROW, FILE) and not c.startswith(CASE_PREFIX)]
    text = [sub[c].astype(object).where(sub[c].notna(), "").astype(str) for c in attrs]
    content = text[0].str.cat(text[1:], sep="\x1f") if text else pd.Series("", index=sub.index)
    by_content = sub.assign(__content=content).sort_values(
        [*key, *first, "__content", *tail], kind="stable"
    ).index.to_numpy()
    # tied rows of one group are contiguous and groups keep their order: put them back in place
    order[positions] = order[positions][by_content]
    return order


def merge_sources(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Collapse the same (child, activity, date) reported by several source tables.

    A group becomes as many events as the largest number any single table contributed
    (SPEC §2.2). The kept copy comes from the first source in sort order; its attributes
    are completed from the copies merged into it.
    """
    if frame.empty:
        return frame, 0
    key = [CASE, ACTIVITY, TIMESTAMP]
    # which copies pair up must not depend on row numbers either (see `sort_events`)
    frame = frame.take(_sort_order(frame, [*key, SOURCE], [])).reset_index(drop=True)
    nth = frame.groupby([*key, SOURCE], sort=False, dropna=False).cumcount()
    slot = [*key, nth.rename("__slot")]
    keep = ~pd.concat([frame[key], nth.rename("__slot")], axis=1).duplicated()
    merged = int((~keep).sum())
    if merged == 0:
        return frame, 0
    attrs = [c for c in frame.columns if c not in (*CORE, ROW, FILE)]
    if attrs:
        filled = frame.groupby(slot, sort=False, dropna=False)[attrs].transform("first")
        frame = frame.assign(**{c: filled[c] for c in attrs})
    return frame.loc[keep.to_numpy()].reset_index(drop=True), merged


def attach_case_attributes(frame: pd.DataFrame, case_attrs: pd.DataFrame) -> pd.DataFrame:
    """Add ``case:*`` columns (one value per child, first source wins) to every event."""
    if case_attrs.empty or frame.empty:
        return frame
    per_case = case_attrs.groupby(CASE, sort=True).first()
    per_case.columns = [CASE_PREFIX + c for c in per_case.columns]
    return frame.join(per_case, on=CASE)


def assemble(
    events: pd.DataFrame,
    *,
    vocabulary: Vocabulary,
    as_at: date,
    case_attrs: pd.DataFrame | None = None,
    accounts: list[TableAccount] | None = None,
    inputs: list[dict[str, str]] | None = None,
    pseudonymised: bool = False,
) -> EventLog:
    """Turn candidate events into a sorted, merged `EventLog`.

    ``events`` needs CASE, ACTIVITY, TIMESTAMP (datetime64, naive), SOURCE and ROW; any other
    column is an event attribute. Activities must be in the vocabulary.
    """
    unknown = sorted(set(events[ACTIVITY].unique()) - set(vocabulary.order))
    if unknown:
        raise UsageError(f"activities not in the stage vocabulary: {', '.join(map(str, unknown))}")
    if events[[CASE, ACTIVITY, TIMESTAMP]].isna().any().any():
        raise AccountingError("an event without a child, activity or date reached the event log")
    events = events.assign(
        **{
            CASE: events[CASE].astype(str),
            ACTIVITY: events[ACTIVITY].astype(str),
            TIMESTAMP: pd.to_datetime(events[TIMESTAMP]).astype("datetime64[ns]"),
            ORDER: events[ACTIVITY].map(vocabulary.order).astype("int32"),
        }
    )
    before = len(events)
    events, merged = merge_sources(events)
    if len(events) + merged != before:
        raise AccountingError("merging lost events")
    if case_attrs is not None:
        events = attach_case_attributes(events, case_attrs)
    events = sort_events(events)
    ordered = [*CORE, *[c for c in events.columns if c not in CORE]]
    events = events[ordered]
    accounts = accounts or []
    return EventLog(
        frame=events,
        as_at=as_at,
        vocabulary=vocabulary,
        accounts=accounts,
        inputs=inputs or [],
        same_day_ties=count_same_day_ties(events),
        merged=merged,
        pseudonymised=pseudonymised,
    )


def from_records(
    records: Iterable[tuple[str, str, str | date]],
    *,
    as_at: date | str | None = None,
    vocabulary: Vocabulary | None = None,
    attributes: Iterable[dict[str, Any]] | None = None,
) -> EventLog:
    """Build a log from ``(child, activity, date)`` triples: small logs for tests and notebooks.

    Example:
        >>> log = from_records([("c1", "Referral", "2024-04-01"), ("c1", "Case closed", "2024-05-01")])
        >>> log.events, log.cases
        (2, 1)
    """
    vocabulary = vocabulary or load_vocabulary()
    rows = list(records)
    frame = pd.DataFrame(rows, columns=[CASE, ACTIVITY, TIMESTAMP])
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP], format="ISO8601")
    frame[SOURCE] = "records"
    frame[ROW] = np.arange(1, len(frame) + 1, dtype="int64")
    if attributes is not None:
        extra = pd.DataFrame(list(attributes))
        frame = pd.concat([frame, extra], axis=1)
    if as_at is None:
        as_at_date = frame[TIMESTAMP].max().date() if len(frame) else date.today()
    else:
        as_at_date = date.fromisoformat(as_at) if isinstance(as_at, str) else as_at
    return assemble(frame, vocabulary=vocabulary, as_at=as_at_date)


# ---------------------------------------------------------------------------------------
# Writing and reading


def write_event_log(log: EventLog, path: Path) -> Path:
    """Write the log as Parquet (default), CSV or XES, chosen by the file extension."""
    from .outputs import atomic_path

    suffix = path.suffix.lower()
    with atomic_path(path) as tmp:
        if suffix in (".parquet", ".pq", ""):
            _write_parquet(log, tmp)
        elif suffix == ".csv":
            _public_frame(log).to_csv(tmp, index=False, date_format="%Y-%m-%d")
        elif suffix == ".xes":
            from .xes import write_xes

            write_xes(_public_frame(log), tmp)
        else:
            raise UsageError(f"{path}: unknown event log format (use .parquet, .csv or .xes)")
    return path


def _public_frame(log: EventLog) -> pd.DataFrame:
    return log.frame.drop(columns=[c for c in (FILE,) if c in log.frame.columns])


def _write_parquet(log: EventLog, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(log.frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(log.metadata()).encode()
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")


def is_event_log(path: Path) -> bool:
    """True for a Parquet file written by cscmining (the magic bytes and our metadata key)."""
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        if fh.read(4) != b"PAR1":
            return False
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:
        return False
    return METADATA_KEY in meta


def read_event_log(path: Path, *, vocabulary: Vocabulary | None = None) -> EventLog:
    """Read a log written by `write_event_log` (Parquet), keeping its as-at date and accounts."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise EventLogError(f"{path}: not a readable Parquet event log ({exc.__class__.__name__})") from None
    meta_raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if meta_raw is None:
        raise EventLogError(f"{path}: a Parquet file, but not an event log written by cscmining")
    meta = json.loads(meta_raw)
    frame = table.to_pandas()
    vocab = vocabulary or load_vocabulary()
    known = vocab.by_name
    from .vocabulary import Activity

    extra = [Activity(**a) for a in meta.get("activities", []) if a["name"] not in known]
    if extra:
        vocab = vocab.with_activities(extra)
    return EventLog(
        frame=frame,
        as_at=date.fromisoformat(meta["as_at"]),
        vocabulary=vocab,
        accounts=[TableAccount.from_dict(a) for a in meta.get("accounts", [])],
        inputs=meta.get("inputs", []),
        same_day_ties=meta.get("same_day_ties", count_same_day_ties(frame)),
        merged=meta.get("merged", 0),
        pseudonymised=meta.get("pseudonymised", False),
    )
