"""Engines: how an analysis gets at the events of a log, from a few hundred to 100 M.

Every analysis (`discover`, `variants`, `timescales`) computes its numbers with one set of
vectorised kernels over `Chunk`s: whole cases of the sorted log as integer arrays. The engines
differ only in where the chunks come from (`sources`):

``fast``
    pyarrow reads only the columns needed from cscmining's Parquet log, batch by batch,
    the next batch while the current one is analysed. Memory is bounded by a batch plus a few
    numbers per child, so it also runs logs far bigger than memory. A folder of logs is read
    whole and sorted in memory.
``duckdb``
    DuckDB scans the Parquet file or folder (e.g. partitioned by LA and year), sorting a
    folder out of core, and streams the rows to the same kernels: for folders, whatever their
    size. It never touches the network (`sources.duckdb_connection`).
``pm4py``
    the whole log in pandas (`cscmining.eventlog.read_event_log`), and pm4py's own
    directly-follows graph, performance DFG and variants computed alongside as a cross-check
    (a disagreement stops the run): the reference, slow on big logs.
``auto`` (default)
    ``fast`` for a log file (sorted already: it streams in bounded memory at any size);
    ``duckdb`` for a folder, which has to be sorted as one log (DuckDB sorts out of core, and
    faster than pyarrow in memory even when the folder would fit), ``fast`` if DuckDB is
    not installed.

Raw returns (not an event log) are always built in memory first (``ingest``'s job).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from copy import copy
from datetime import date
from pathlib import Path
from typing import Any, Literal

from ..focus import Condition, _by_key, _conditions
from .chunk import NS_PER_DAY, Chunk, midnight_ns, period_cases, resolve_where, scoped, where_cases
from .sources import (
    ArrowSource,
    DuckDBSource,
    FrameSource,
    LogFiles,
    LogSource,
)

Engine = Literal["auto", "fast", "duckdb", "pm4py"]
ENGINES: tuple[Engine, ...] = ("auto", "fast", "duckdb", "pm4py")

__all__ = [
    "ENGINES",
    "ArrowSource",
    "Chunk",
    "DuckDBSource",
    "Engine",
    "FrameSource",
    "LogFiles",
    "LogSource",
    "as_source",
    "choose_engine",
    "focused_chunks",
    "open_log",
    "with_as_at",
]


def choose_engine(requested: str, files: LogFiles) -> str:
    """The engine for a Parquet log: ``requested``, or for ``auto`` by its shape (module
    docstring)."""
    if requested not in ENGINES:
        from ..errors import UsageError

        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, not {requested!r}")
    if requested != "auto":
        return requested
    if not files.folder:
        return "fast"
    try:  # a folder must be sorted as one log: DuckDB does it out of core, and faster
        import duckdb  # noqa: F401
    except ImportError:
        return "fast"
    return "duckdb"


def open_log(
    inputs: Sequence[Path],
    *,
    engine: str = "auto",
    as_at: date | None = None,
    logmaps: Sequence[Path] = (),
    encoding: str | None = None,
    keep_going: bool = False,
    progress: Any = None,
    quiet: bool = True,
) -> LogSource:
    """The log an analysis command reads: an event log (file or folder) or raw returns.

    Parquet logs are opened, not read: only their footers are looked at until an analysis
    asks for chunks. Raw returns, and any log with ``engine="pm4py"``, are loaded into memory.
    """
    paths = [Path(p) for p in inputs]
    files = LogFiles.find(paths[0]) if len(paths) == 1 else None
    if files is not None and engine != "pm4py":
        chosen = choose_engine(engine, files)
        kind = DuckDBSource if chosen == "duckdb" else ArrowSource
        source: LogSource = kind(files, quiet=quiet)
        return with_as_at(source, as_at)
    if engine not in ENGINES:
        choose_engine(engine, LogFiles(Path("."), (), ()))  # raises the usage error
    from ..ingest import load

    log = load(paths, as_at=as_at, logmaps=list(logmaps), encoding=encoding,
               keep_going=keep_going, progress=progress, quiet=quiet)
    source = FrameSource(log)
    source.quiet = quiet
    if engine == "pm4py":
        source.engine = "pm4py"
    return source


def as_source(log: Any) -> LogSource:
    """A `LogSource` as it is, an `EventLog` as a one-chunk source."""
    return log if isinstance(log, LogSource) else FrameSource(log)


def with_as_at(source: LogSource, as_at: date | None) -> LogSource:
    """The source as it stood at ``as_at``: later events left out (SPEC §2.2), or as it is."""
    if as_at is None:
        return source
    out = copy(source)
    out.as_at = as_at
    if as_at < source.as_at:
        cutoff = midnight_ns(as_at) + NS_PER_DAY
        previous = getattr(source, "cutoff_ns", None)
        out.cutoff_ns = cutoff if previous is None else min(previous, cutoff)  # type: ignore[attr-defined]
    return out


def focused_chunks(
    source: LogSource,
    description: str,
    *,
    start: date | None = None,
    end: date | None = None,
    where: Sequence[Condition | str] = (),
    columns: Sequence[str] = (),
) -> Iterator[Chunk]:
    """Detail-level chunks of the journeys active in [start, end] matching every ``where``
    key (`cscmining.focus`), as the log stood at the source's as-at date."""
    if start and end and start > end:
        from ..errors import UsageError

        raise UsageError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    conditions = resolve_where(source.columns, _by_key(_conditions(where)))
    wanted = list(dict.fromkeys([*columns, *(c for c, _ in conditions)]))
    cutoff = getattr(source, "cutoff_ns", None)
    activities = source.activities
    for chunk in source.scan(description, wanted, cutoff):
        chunk = scoped(chunk, cutoff)
        if start is not None or end is not None or conditions:
            keep = period_cases(chunk, activities, source.as_at, start, end)
            if conditions:
                keep &= where_cases(chunk, conditions)
            chunk = chunk.keep_cases(keep)
        yield chunk
