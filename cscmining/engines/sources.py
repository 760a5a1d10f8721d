"""Where chunks come from: an in-memory log, Parquet read by pyarrow, or Parquet read by DuckDB.

Every source hands the analyses the same thing, `Chunk`s of whole cases in the log's order
(case, timestamp, stage order, source, source row), so every engine computes the same numbers
with the same kernels:

``FrameSource``
    an `EventLog` already in memory (raw returns built on the fly, the library API, the
    ``pm4py`` engine): one chunk.
``ArrowSource`` (engine ``fast``)
    one Parquet event log written by cscmining, which is sorted: its batches are read in file
    order with only the columns an analysis needs (activity dictionary-encoded, so no activity
    string is ever made) while the previous batch is analysed, and cut at case boundaries. A
    folder of logs is read whole and sorted in memory.
``DuckDBSource`` (engine ``duckdb``)
    one log or a folder of logs (for example partitioned ``la=…/year=…``) scanned by DuckDB,
    which pushes the as-at cut-off into the scan, sorts a folder out of core (spilling to a
    private temporary folder) and streams the rows as Arrow batches. Memory stays bounded by
    the batch, whatever the size of the log. (A folder's cases come out in another order than
    the ``fast`` engine's, by a hash of the id: no result depends on the order of cases.)

A folder's ``key=value`` directories (below the folder given) become text columns of every
event in them, so ``--where la=E08000021`` works; a case is still identified by the case
column alone, so child identifiers must be distinct across the folder (pseudonymised logs
are). The folder's as-at date is the latest of its files'.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..columns import ACTIVITY, CASE, ORDER, SOURCE, TIMESTAMP
from ..errors import EventLogError, UsageError
from ..progress import progress
from ..vocabulary import Activity, Vocabulary
from .chunk import (
    NS_PER_DAY,
    Activities,
    Chunk,
    arrow_new_cases,
    chunk_from_arrow,
    chunk_from_frame,
)

METADATA_KEY = b"cscmining"
#: rows per batch read (and so per chunk, give or take the last case of a batch)
BATCH_ROWS = 1 << 20
#: helper columns of a folder read: which file, which row of it (the last tie-breaks)
_FILE, _POSITION = "__file", "__position"


# ---------------------------------------------------------------------------------------
# The files of a log


@dataclass(frozen=True)
class LogFiles:
    """One event log file, or the Parquet files of a folder (sorted by relative path)."""

    root: Path
    files: tuple[Path, ...]
    #: per file, its ``key=value`` directories below the root
    partitions: tuple[tuple[tuple[str, str], ...], ...]

    @property
    def folder(self) -> bool:
        return self.root.is_dir()

    @classmethod
    def find(cls, path: Path) -> LogFiles | None:
        """The log files at ``path``, or None when it is not an event log (or folder of them)."""
        path = Path(path)
        if path.is_file():
            return cls(path, (path,), ((),)) if _is_log_file(path) else None
        if not path.is_dir():
            return None
        files = [p for p in path.rglob("*") if p.is_file() and
                 not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)]
        found = sorted(files, key=lambda p: p.relative_to(path).as_posix())
        # only logs: a folder of returns with an old log in it is still a folder of returns
        if not found or not all(p.suffix.lower() in (".parquet", ".pq") and _is_log_file(p)
                                for p in found):
            return None
        partitions = tuple(
            tuple(tuple(part.split("=", 1)) for part in p.relative_to(path).parts[:-1]
                  if "=" in part)  # type: ignore[misc]
            for p in found
        )
        return cls(path, tuple(found), partitions)

    @cached_property
    def metadata(self) -> list[dict[str, Any]]:
        """Each file's cscmining metadata, from its Parquet footer (no rows are read).

        Every use of a folder goes through here first (its as-at date, vocabulary, the
        folder read), so this is where a folder mixing logs pseudonymised with different
        keys, or pseudonymised and raw logs, is refused (`KEY_MISMATCH`): their ids cannot
        be told apart or matched, and combining them would be silently wrong.
        """
        import pyarrow.parquet as pq

        from ..pseudonym import check_same_key

        out = []
        for path in self.files:
            try:
                raw = (pq.read_schema(path).metadata or {})[METADATA_KEY]
                out.append(json.loads(raw))
            except Exception:  # pyarrow raises many types for a broken file
                raise EventLogError(f"{path}: not a readable Parquet event log") from None
        check_same_key(out)
        return out

    @cached_property
    def rows(self) -> int:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files)

    @cached_property
    def file_columns(self) -> list[str]:
        import pyarrow.parquet as pq

        names: dict[str, None] = {}
        for path in self.files:
            names.update(dict.fromkeys(pq.read_schema(path).names))
        return [n for n in names if n != "__index_level_0__"]

    @cached_property
    def partition_columns(self) -> list[str]:
        names: dict[str, None] = {}
        for parts in self.partitions:
            names.update(dict.fromkeys(k for k, _ in parts))
        return [n for n in names if n not in self.file_columns]

    @property
    def columns(self) -> list[str]:
        return [*self.file_columns, *self.partition_columns]

    @property
    def as_at(self) -> date:
        return max(date.fromisoformat(m["as_at"]) for m in self.metadata)

    def vocabulary(self) -> Vocabulary:
        """The shipped vocabulary plus the activities the logs' metadata declare."""
        vocab = _shipped_vocabulary()
        known = set(vocab.by_name)
        extra: dict[str, Activity] = {}
        for meta in self.metadata:
            for a in meta.get("activities", []):
                if a["name"] not in known and a["name"] not in extra:
                    extra[a["name"]] = Activity(**a)
        return vocab.with_activities(list(extra.values())) if extra else vocab


@lru_cache(maxsize=1)
def _shipped_vocabulary() -> Vocabulary:
    from ..vocabulary import load_vocabulary

    return load_vocabulary()


def _is_log_file(path: Path) -> bool:
    """A Parquet file with cscmining's metadata (`cscmining.eventlog.is_event_log`, without
    importing pandas)."""
    import pyarrow.parquet as pq

    try:
        with path.open("rb") as fh:
            if fh.read(4) != b"PAR1":
                return False
        return METADATA_KEY in (pq.read_schema(path).metadata or {})
    except Exception:  # unreadable: not a log
        return False


# ---------------------------------------------------------------------------------------
# Sources


class LogSource:
    """Chunks of a log in its order, and what is known about the log before reading it."""

    engine: str = "fast"
    as_at: date
    vocabulary: Vocabulary
    columns: list[str]
    rows: int
    quiet: bool = True

    @cached_property
    def activities(self) -> Activities:
        return Activities.of(self.vocabulary)

    def chunks(self, columns: Sequence[str] = (), cutoff_ns: int | None = None) -> Iterator[Chunk]:
        """Whole cases in log order, with ``columns`` (those the log has) per event.

        ``cutoff_ns``: a source may leave out events from then on (the caller drops them
        anyway); it lets a scan skip them.
        """
        raise NotImplementedError

    @cached_property
    def frame(self) -> Any:
        """The case column as a pandas frame: what an output checker needs (every child id)."""
        raise NotImplementedError

    @cached_property
    def first_day(self) -> date | None:
        """The date of the log's first event, when known without reading the log."""
        return None

    def scan(self, description: str, columns: Sequence[str] = (),
             cutoff_ns: int | None = None) -> Iterator[Chunk]:
        """`chunks` with a progress bar (big logs, unless quiet)."""
        with progress(description, self.rows, quiet=self.quiet) as advance:
            for chunk in self.chunks(columns, cutoff_ns):
                yield chunk
                advance(chunk.events)


class FrameSource(LogSource):
    """An `EventLog` in memory: one chunk."""

    engine = "memory"

    def __init__(self, log: Any) -> None:
        self.log = log
        self.as_at = log.as_at
        self.vocabulary = log.vocabulary
        self.columns = list(log.frame.columns)
        self.rows = len(log.frame)

    @property
    def frame(self) -> Any:  # type: ignore[override]
        return self.log.frame

    @cached_property
    def first_day(self) -> date | None:
        period = self.log.period
        return None if period is None else period[0]

    def chunks(self, columns: Sequence[str] = (), cutoff_ns: int | None = None) -> Iterator[Chunk]:
        yield chunk_from_frame(self.log.frame, self.activities, columns)


class _ParquetSource(LogSource):
    def __init__(self, files: LogFiles, *, quiet: bool = True) -> None:
        self.files = files
        self.quiet = quiet
        self.as_at = files.as_at
        self.vocabulary = files.vocabulary()
        self.columns = files.columns
        self.rows = files.rows

    @cached_property
    def frame(self) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cases = [pq.read_table(p, columns=[CASE]) for p in self.files.files]
        return pa.concat_tables(cases).to_pandas()

    @cached_property
    def first_day(self) -> date | None:
        """From the Parquet statistics of the timestamp column (None if a file has none)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        lowest = None
        for path in self.files.files:
            parquet = pq.ParquetFile(path)
            field = parquet.schema_arrow.field(TIMESTAMP)
            if not pa.types.is_timestamp(field.type):
                return None
            per_day = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000,
                       "ns": NS_PER_DAY}[field.type.unit]
            column = parquet.schema_arrow.get_field_index(TIMESTAMP)
            for i in range(parquet.metadata.num_row_groups):
                stats = parquet.metadata.row_group(i).column(column).statistics
                if stats is None or not stats.has_min_max:
                    return None
                day = int(stats.min_raw) // per_day
                lowest = day if lowest is None else min(lowest, day)
        return None if lowest is None else \
            np.datetime64(lowest, "D").astype(object)  # type: ignore[no-any-return]

    def _wanted(self, columns: Sequence[str]) -> list[str]:
        present = set(self.columns)
        extra = [c for c in columns if c in present and c not in (CASE, ACTIVITY, TIMESTAMP)]
        return [CASE, ACTIVITY, TIMESTAMP, *dict.fromkeys(extra)]

    def _attributes(self, columns: Sequence[str]) -> list[str]:
        """The columns asked for that the log has (the case, activity or date too)."""
        present = set(self.columns)
        return [c for c in dict.fromkeys(columns) if c in present]


class ArrowSource(_ParquetSource):
    """Engine ``fast``: pyarrow reads the needed columns (module docstring)."""

    engine = "fast"

    def chunks(self, columns: Sequence[str] = (), cutoff_ns: int | None = None) -> Iterator[Chunk]:
        wanted = self._wanted(columns)
        if not self.files.folder:
            batches = self._batches(self.files.files[0], wanted)
            # read, decode and code the next batch in a thread while this one is analysed
            yield from _prefetched(chunk_stream(batches, self.activities,
                                                self._attributes(columns)))
        else:
            tables = _slices(read_folder(self.files, wanted), BATCH_ROWS)
            yield from chunk_stream(tables, self.activities, self._attributes(columns))

    def _batches(self, path: Path, wanted: list[str]) -> Iterator[Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        texts = [c for c in wanted if c != CASE and c in schema.names and
                 (pa.types.is_string(schema.field(c).type)
                  or pa.types.is_large_string(schema.field(c).type))]
        parquet = pq.ParquetFile(path, read_dictionary=texts)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted, use_threads=True):
            yield pa.Table.from_batches([batch])


def _prefetched(items: Iterator[Any]) -> Iterator[Any]:
    """The items, the next one read in a thread while the caller works on the current one
    (pyarrow and numpy release the GIL, so reading and analysing use both cores)."""
    done = object()
    box: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                box.put((True, item))
        except BaseException as exc:  # handed to the caller, raised there
            box.put((False, exc))
            return
        box.put((True, done))

    thread = threading.Thread(target=work, name="cscmining-read", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = box.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        # let a reader blocked on a full queue finish its put and see the stop flag
        while thread.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def _slices(table: Any, rows: int) -> Iterator[Any]:
    for start in range(0, max(table.num_rows, 1), rows):
        yield table.slice(start, rows)


def chunk_stream(tables: Iterable[Any], activities: Activities,
                 columns: Sequence[str]) -> Iterator[Chunk]:
    """Chunks of whole cases from Arrow tables of consecutive rows of the sorted log.

    The rows from the last case start of a table on are carried over to the next table (a
    case may go on there), so no case is ever split.
    """
    import pyarrow as pa

    carry = None
    offset = 0
    for table in tables:
        if table.num_rows == 0:
            continue
        if carry is not None:
            table = pa.concat_tables([carry, table])
        new = arrow_new_cases(table.column(CASE))
        last = int(np.flatnonzero(new)[-1])
        if last > 0:
            yield chunk_from_arrow(table.slice(0, last), activities, columns, new[:last], offset)
            offset += last
        carry = table.slice(last)
    if carry is not None and carry.num_rows:
        new = arrow_new_cases(carry.column(CASE))
        yield chunk_from_arrow(carry, activities, columns, new, offset)


def read_folder(files: LogFiles, columns: Sequence[str] | None = None) -> Any:
    """Every event of the folder's logs as one Arrow table, in the log order.

    Rows are sorted by (case, timestamp, stage order, source), then by file (relative path)
    and position in it: each file is a sorted log, whose ties on those four were broken by
    content and source row when it was written (`cscmining.eventlog.sort_events`), so tied
    events keep that order. DuckDB's scan of the folder sorts the same way.
    ``columns`` None: every column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    keys = [CASE, TIMESTAMP, ORDER, SOURCE]
    tables = []
    for index, (path, parts) in enumerate(zip(files.files, files.partitions)):
        schema_names = pq.read_schema(path).names
        wanted = None if columns is None else \
            [c for c in dict.fromkeys([*columns, *keys]) if c in schema_names]
        table = pq.read_table(path, columns=wanted)
        table = table.drop_columns([c for c in table.column_names if c == "__index_level_0__"])
        n = table.num_rows
        for key, value in parts:
            if key not in table.column_names and (columns is None or key in columns):
                table = table.append_column(key, pa.array([value] * n, type=pa.large_string()))
        table = table.append_column(_FILE, pa.array(np.full(n, index, dtype=np.int64)))
        table = table.append_column(_POSITION, pa.array(np.arange(n, dtype=np.int64)))
        tables.append(table)
    table = pa.concat_tables(tables, promote_options="permissive").unify_dictionaries()
    sort_keys = [(k, "ascending") for k in [*keys, _FILE, _POSITION] if k in table.column_names]
    order = pc.sort_indices(table, sort_keys=sort_keys)  # missing values last (the default)
    table = table.take(order).drop_columns([_FILE, _POSITION])
    if columns is not None:
        table = table.select([c for c in columns if c in table.column_names])
    return table


def read_log_folder(path: Path, *, vocabulary: Vocabulary | None = None) -> Any:
    """A folder of event logs as one `EventLog`, sorted as one log (see `read_folder`).

    The as-at date is the latest of the files'; accounts and inputs are all the files'.
    """
    from ..accounting import TableAccount
    from ..eventlog import EventLog, count_same_day_ties

    files = LogFiles.find(path)
    if files is None:
        raise EventLogError(f"{path}: not a folder of cscmining event logs (Parquet)")
    frame = read_folder(files).to_pandas()
    meta = files.metadata
    vocab = files.vocabulary() if vocabulary is None else vocabulary.with_activities(
        [Activity(**a) for m in meta for a in m.get("activities", [])
         if a["name"] not in vocabulary.by_name])
    fingerprints = {m.get("key_fingerprint") for m in meta}
    extra = {"key_fingerprint": fingerprints.pop()} if len(fingerprints) == 1 and \
        "key_fingerprint" in EventLog.__dataclass_fields__ else {}
    return EventLog(
        frame=frame, as_at=files.as_at, vocabulary=vocab,
        accounts=[TableAccount.from_dict(a) for m in meta for a in m.get("accounts", [])],
        inputs=[i for m in meta for i in m.get("inputs", [])],
        same_day_ties=count_same_day_ties(frame),
        merged=sum(int(m.get("merged", 0)) for m in meta),
        pseudonymised=all(m.get("pseudonymised", False) for m in meta),
        **extra,
    )


class DuckDBSource(_ParquetSource):
    """Engine ``duckdb``: DuckDB scans the Parquet file(s) (module docstring)."""

    engine = "duckdb"

    def chunks(self, columns: Sequence[str] = (), cutoff_ns: int | None = None) -> Iterator[Chunk]:
        import pyarrow as pa

        wanted = self._wanted(columns)
        with duckdb_connection(self.files) as con:
            sql = self._sql(con, wanted, cutoff_ns)
            try:
                relation = con.sql(sql)
                stream = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
                reader = stream(BATCH_ROWS)
                tables = (pa.Table.from_batches([b]) for b in reader)
                yield from _prefetched(chunk_stream(tables, self.activities,
                                                    self._attributes(columns)))
            except Exception as exc:
                if type(exc).__name__ == "ConversionException":
                    self._unknown_activities(con)
                raise

    def _sql(self, con: Any, wanted: list[str], cutoff_ns: int | None) -> str:
        names = ", ".join(_literal(n) for n in self.activities.names)
        con.execute(f"CREATE TYPE activity AS ENUM ({names})")
        files = self.files
        part_columns = [c for c in wanted if c in files.partition_columns]
        values = ", ".join(
            f"({_literal(str(p))}, {i}"
            + "".join(f", {_literal(dict(parts).get(c))}" if c in dict(parts) else ", NULL"
                      for c in part_columns) + ")"
            for i, (p, parts) in enumerate(zip(files.files, files.partitions))
        )
        names_sql = ", ".join(["path", "file_index", *(_ident(c) for c in part_columns)])
        types = ["path VARCHAR", "file_index BIGINT",
                 *(f"{_ident(c)} VARCHAR" for c in part_columns)]
        con.execute(f"CREATE TEMP TABLE files ({', '.join(types)})")
        con.execute(f"INSERT INTO files ({names_sql}) VALUES {values}")
        paths = ", ".join(_literal(str(p)) for p in files.files)
        select = [f"e.{_ident(CASE)} AS {_ident(CASE)}",
                  f"CAST(e.{_ident(ACTIVITY)} AS activity) AS {_ident(ACTIVITY)}",
                  f"CAST(e.{_ident(TIMESTAMP)} AS TIMESTAMP_NS) AS {_ident(TIMESTAMP)}"]
        for c in wanted[3:]:
            table = "f" if c in part_columns else "e"
            select.append(f"{table}.{_ident(c)} AS {_ident(c)}")
        where = "" if cutoff_ns is None else \
            f"WHERE e.{_ident(TIMESTAMP)} < make_timestamp_ns({int(cutoff_ns)})"
        if not files.folder:
            source = f"read_parquet([{paths}], hive_partitioning = false)"
            return f"SELECT {', '.join(select)} FROM {source} e {where}"
        source = (f"read_parquet([{paths}], filename = true, file_row_number = true, "
                  "union_by_name = true, hive_partitioning = false)")
        keys = [c for c in (CASE, TIMESTAMP, ORDER, SOURCE) if c in files.file_columns]
        # cases come out in the order of a hash of their id (a fixed-width key sorts faster
        # than the text; no analysis depends on the order of cases, only on each case's
        # events being together and in order), then as `read_folder` orders them
        order = ", ".join([f"hash(e.{_ident(CASE)})", *(f"e.{_ident(k)}" for k in keys),
                           "f.file_index", "e.file_row_number"])
        return (f"SELECT {', '.join(select)} FROM {source} e JOIN files f ON f.path = e.filename "
                f"{where} ORDER BY {order}")

    def _unknown_activities(self, con: Any) -> None:
        paths = ", ".join(_literal(str(p)) for p in self.files.files)
        known = ", ".join(_literal(n) for n in self.activities.names)
        rows = con.execute(
            f"SELECT DISTINCT {_ident(ACTIVITY)} FROM read_parquet([{paths}], "
            f"union_by_name = true) WHERE {_ident(ACTIVITY)} NOT IN ({known})").fetchall()
        unknown = sorted(str(r[0]) for r in rows)
        if unknown:
            raise UsageError(f"activities not in the stage vocabulary: {', '.join(unknown)}")


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class duckdb_connection:
    """A private in-memory DuckDB that can read only the log's files and its own spill folder.

    No extension is ever installed or loaded (so nothing is fetched from the network), no
    community extensions, external access off once the allowed paths are set, and the
    configuration locked. Memory is capped (DuckDB spills a big sort to the temporary folder,
    which is removed afterwards).
    """

    def __init__(self, files: LogFiles) -> None:
        self.files = files

    def __enter__(self) -> Any:
        import tempfile

        import duckdb

        self.tmp = tempfile.TemporaryDirectory(prefix="cscmining-duckdb-")
        con = duckdb.connect(config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "threads": max(1, os.cpu_count() or 1),
            "memory_limit": f"{duckdb_memory_limit()}MB",
        })
        directories = [self.tmp.name + os.sep]
        if self.files.folder:
            directories.append(str(Path(self.files.root).resolve()) + os.sep)
        else:
            paths = ", ".join(_literal(str(p.resolve())) for p in self.files.files)
            con.execute(f"SET allowed_paths = [{paths}]")
        con.execute(f"SET allowed_directories = [{', '.join(_literal(d) for d in directories)}]")
        con.execute(f"SET temp_directory = {_literal(self.tmp.name)}")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET preserve_insertion_order = true")  # a plain scan keeps file order
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        self.con = con
        return con

    def __exit__(self, *exc: Any) -> None:
        try:
            self.con.close()
        finally:
            self.tmp.cleanup()


def duckdb_memory_limit() -> int:
    """MB DuckDB may hold before spilling: 40% of the memory available, between 1 and 4 GB."""
    available = available_memory()
    return int(min(4096, max(1024, 0.4 * available / 2**20)))


def available_memory() -> int:
    """Bytes of memory available to this process now (Linux MemAvailable, else free pages)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30
