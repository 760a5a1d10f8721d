"""From files to an event log: the main job behind ``cscmining ingest``.

`build_event_log` reads any mix of statutory returns and logmap-described exports, turns their
rows into events (accounting for every row), and assembles the sorted log. `load` is what
every analysis command calls: it takes either one event log written earlier or raw inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ._memory import ordinary_pages
from .accounting import MAX_REJECT_RATE, TableAccount, check_reject_rates
from .columns import CASE, FILE, TIMESTAMP
from .dates import DATE_FUTURE
from .errors import AccountingError, InputFileError, InputFilesError, UsageError
from .eventlog import EventLog, assemble, is_event_log, most_frequent, read_event_log
from .logmap import LogMap, check_activities, load_logmap, shipped_logmaps
from .progress import Advance
from .progress import progress as progress_bar
from .pseudonym import check_key, check_la, fingerprint, pseudonymise_columns
from .sources import ReadResult, expand_inputs, read_files
from .sources.base import RawTable
from .sources.engine import (
    BIRTH_DATE,
    SUPERSEDED,
    TableResult,
    concat_events,
    empty_events,
    process_table,
    union_categoricals,
)
from .vocabulary import Vocabulary, load_vocabulary

#: age bands of the DfE's children-looked-after tables, by age at the child's first event
AGE_BANDS = [(0, "under 1"), (1, "1-4"), (5, "5-9"), (10, "10-15"), (16, "16+")]

Progress = Callable[[str], None]


def build_event_log(
    inputs: Sequence[Path],
    *,
    as_at: date | None = None,
    logmaps: Sequence[Path] = (),
    encoding: str | None = None,
    keep_going: bool = False,
    vocabulary: Vocabulary | None = None,
    progress: Progress | None = None,
    key: bytes | None = None,
    la: str = "",
    max_reject_rate: float = MAX_REJECT_RATE,
    quiet: bool = True,
) -> tuple[EventLog, ReadResult]:
    """Read the inputs and build the event log; also return what reading found (notes, errors).

    ``progress`` gets a line per step; unless ``quiet``, large inputs also get progress bars
    on stderr (`cscmining.progress`) while files are read and rows turned into events.

    Any file that cannot be read stops the run (`InputFilesError` listing every such file)
    unless ``keep_going``; then the log is built from the others. So does a table that
    rejected more than ``max_reject_rate`` of its rows (`accounting.check_reject_rates`). With
    a ``key`` (see `pseudonym.read_key`) child ids become keyed pseudonyms in the domain of LA
    ``la``.
    """
    with ordinary_pages():  # see `_memory`: no huge pages for short-lived arrays
        return _build_event_log(
            inputs, as_at=as_at, logmaps=logmaps, encoding=encoding, keep_going=keep_going,
            vocabulary=vocabulary, progress=progress, key=key, la=la, max_reject_rate=max_reject_rate,
            quiet=quiet,
        )


def _build_event_log(
    inputs: Sequence[Path], *, as_at: date | None, logmaps: Sequence[Path], encoding: str | None,
    keep_going: bool, vocabulary: Vocabulary | None, progress: Progress | None, key: bytes | None,
    la: str, max_reject_rate: float, quiet: bool,
) -> tuple[EventLog, ReadResult]:
    if key is not None:  # a weak key or a bad LA code is refused before any data is read
        check_key(key)
        check_la(la)
    say = progress or (lambda _m: None)
    vocab = vocabulary or _default_vocabulary()
    maps = list(_shipped_maps())
    for path in logmaps:
        user_map = load_logmap(Path(path))
        check_activities(user_map, set(vocab.order), path)
        vocab = vocab.with_activities(user_map.activities)
        maps.append(user_map)

    files = expand_inputs(list(inputs))
    if not files:
        raise UsageError("no input files found")
    say(f"reading {len(files)} file(s)")
    with progress_bar("reading", _size(files), unit="bytes", quiet=quiet,
                      show_from=READ_BAR_FROM) as advance:
        read = read_files(files, maps, encoding, done=lambda path: advance(_size([path])))
    if read.errors and (not keep_going or not read.tables):
        raise _unreadable(read.errors)

    rows = sum(len(t.frame) for t in read.tables)
    say(f"turning {rows:,} rows into events")
    file_ids = {path: i for i, path in enumerate(sorted(read.hashes))}
    with progress_bar("turning rows into events", rows, unit="rows", quiet=quiet,
                      show_from=ROWS_BAR_FROM) as advance:
        events, case_attrs, accounts = _events_from_tables(read.tables, maps, vocab, as_at, file_ids, advance)
    check_reject_rates(accounts, max_reject_rate, not_faults=_not_faults(as_at))
    run_as_at = as_at or _reference_date(read.tables, events)
    read.notes.extend(_attribute_conflicts(case_attrs))
    case_attrs = _with_age_band(case_attrs, events)
    inputs_meta = [_provenance(p, h, read.encodings.get(p)) for p, h in sorted(read.hashes.items())]
    if key is not None:  # before `assemble`, which sorts the log by child
        events, case_attrs = pseudonymise_columns([events, case_attrs], CASE, key, la)
    log = assemble(
        events, vocabulary=vocab, as_at=run_as_at, case_attrs=case_attrs,
        accounts=accounts, inputs=inputs_meta, pseudonymised=key is not None,
    )
    log.key_fingerprint = fingerprint(key) if key is not None else None
    _check_events_reached_log(accounts, log)
    return log, read


#: inputs smaller than this (bytes) are read in a second or two, without a bar
READ_BAR_FROM = 256 * 2**20
#: tables of fewer rows than this are turned into events in a second or two, without a bar
ROWS_BAR_FROM = 1_000_000


def _size(files: Sequence[Path]) -> int:
    """The files' size in bytes (a file that cannot be read counts 0)."""
    total = 0
    for path in files:
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


def _provenance(path: str, sha256: str, encoding: str | None) -> dict[str, str]:
    """An input file's entry in the log's `EventLog.inputs`: its hash and, when it was read,
    how its text was decoded (a file skipped with --keep-going has no encoding)."""
    entry = {"path": path, "sha256": sha256}
    if encoding is not None:
        entry["encoding"] = encoding
    return entry


def _not_faults(as_at: date | None) -> frozenset[str]:
    """Reject reasons that say nothing about the extract's quality: a record a later file
    supersedes; and, when the analyst chose the as-at date, events after it (the view as it
    stood then leaves them out by design)."""
    return frozenset({SUPERSEDED, DATE_FUTURE} if as_at else {SUPERSEDED})


def _check_events_reached_log(accounts: list[TableAccount], log: EventLog) -> None:
    """Every event a table's rows gave is in the log, or merged into an equal event of another
    source (ACC-3): an event lost between the engine and the log fails the run."""
    made = sum(a.events for a in accounts)
    if made != log.events + log.merged:
        raise AccountingError(
            f"the tables gave {made} events but the log holds {log.events} and merged "
            f"{log.merged}: events were lost on the way"
        )


@lru_cache(maxsize=1)
def _shipped_maps() -> tuple[LogMap, ...]:
    """The shipped logmaps, parsed once per process: they are frozen models, safe to share."""
    return tuple(shipped_logmaps().values())


@lru_cache(maxsize=1)
def _default_vocabulary() -> Vocabulary:
    """The shipped stage vocabulary, parsed once per process (frozen, like the logmaps)."""
    return load_vocabulary()


def _unreadable(errors: list[InputFileError]) -> InputFilesError:
    """The error that stops the run; one bad file is said in one line (file, code, detail)."""
    error = InputFilesError(errors)
    if len(errors) == 1:
        error.args = (f"{errors[0]} (no event log written; --keep-going builds it from the other files)",)
    return error


def _events_from_tables(
    tables: list[RawTable], maps: list[LogMap], vocabulary: Vocabulary, as_at: date | None,
    file_ids: dict[str, int], advance: Advance,
) -> tuple[pd.DataFrame, pd.DataFrame, list[TableAccount]]:
    """Process each table (all its files at once); FILE becomes the index into the inputs.

    Tables with a date of birth of their own (a ``birth_date`` case attribute) go first: the
    date their rows give each child, chosen as the log chooses it (`_births`), is what the
    other tables' events are then checked against (``DATE_BEFORE_DOB``, see
    `sources.engine.process_table`). The dates come from every source: the log merges a
    child's rows across sources by id, so an SSDA903 episode is checked against the 903
    header, the CIN census child or an Annex A list alike, and so is a user logmap's table.
    The results keep the order of (source, table), whatever order they were worked in.
    """
    by_name = {m.source: m for m in maps}
    groups: dict[tuple[str, str], list[RawTable]] = defaultdict(list)
    for table in tables:
        groups[(table.source, table.table)].append(table)

    def process(key: tuple[str, str], births: pd.Series | None) -> TableResult:
        logmap = by_name[key[0]]
        raws = sorted(groups[key], key=lambda r: (str(r.path), r.sheet or ""))
        result = process_table(raws, logmap.table(key[1]), logmap, vocabulary, future_after=as_at, births=births)
        local = np.array([file_ids[str(r.path)] for r in raws], dtype=np.int64)
        result.events[FILE] = local[result.events[FILE].to_numpy(dtype=np.int64)]
        advance(sum(len(r.frame) for r in raws))
        return result

    keys = sorted(groups)
    dated = [k for k in keys if BIRTH_DATE in by_name[k[0]].table(k[1]).case_attributes]
    results = {key: process(key, None) for key in dated}
    dated_attrs = _concat_case_attributes([results[key].case_attributes for key in dated])
    births = _births(dated_attrs)
    results.update({key: process(key, births) for key in keys if key not in results})
    events = [results[key].events for key in keys]
    accounts = [a for key in keys for a in results[key].accounts]
    # in the statutory returns only the tables with a date of birth describe children at all
    described = [key for key in keys if len(results[key].case_attributes)]
    attrs = dated_attrs if set(described) <= set(dated) else _concat_case_attributes(
        [results[key].case_attributes for key in keys])
    # a run whose files hold no rows at all (an XML with no children) still has the columns;
    # event text columns are categorical (see `sources.engine`) and stay so when concatenated
    frame = concat_events(events) if events else empty_events()
    return frame, attrs, accounts


def _births(attrs: pd.DataFrame) -> pd.Series:
    """Each child's date of birth (datetime64, indexed by child id; children without one
    left out) from case attribute rows, chosen as the log's age band chooses it
    (`_with_age_band`). Rows without a date of birth take no part in that choice, so the
    rows of tables that have none cannot change it."""
    if attrs.empty or BIRTH_DATE not in attrs.columns:
        return pd.Series([], index=pd.Index([], dtype="str"), dtype="datetime64[ns]")
    case_codes, cases = _codes(attrs[CASE])
    chosen = _chosen_per_child(case_codes, attrs[BIRTH_DATE], len(cases))
    known = ~np.isnat(chosen)
    return pd.Series(chosen[known], index=pd.Index(cases.astype("str"))[known])


def _concat_case_attributes(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The tables' case attribute rows one after the other (as ``pd.concat``), categorical
    columns kept categorical over the union of their categories (``pd.concat`` would make
    them a Python string per row)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=[CASE])
    names = list(dict.fromkeys(c for f in frames for c in f.columns))
    categorical = [c for c in names if any(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames if c in f)]
    out = pd.concat([f.drop(columns=[c for c in categorical if c in f]) for f in frames], ignore_index=True)
    lengths = [len(f) for f in frames]
    for name in categorical:
        out[name] = union_categoricals([f[name].array if name in f else None for f in frames], lengths)
    return out[names]


def _reference_date(tables: list[RawTable], events: pd.DataFrame) -> date:
    """The census/return date of the data, or its latest event if that is later."""
    candidates = [t.reference_date for t in tables if t.reference_date]
    if len(events):
        candidates.append(events[TIMESTAMP].max().date())
    return max(candidates) if candidates else date.today()


#: a child described differently by two input rows (sex, ethnicity, date of birth)
ATTRIBUTE_CONFLICT = "ATTRIBUTE_CONFLICT"


def _attribute_conflicts(case_attrs: pd.DataFrame) -> list[str]:
    """One note per case attribute that some children have more than one value of, with the
    number of such children (never a value or an id): the log keeps one value per child
    (`eventlog.case_attribute_values`), and the analyst should know it had to choose."""
    names = [c for c in case_attrs.columns if c != CASE]
    if case_attrs.empty or not names:
        return []
    case_codes, cases = _codes(case_attrs[CASE])
    several = {name: _children_with_several(case_codes, len(cases), case_attrs[name]) for name in names}
    return [f"{ATTRIBUTE_CONFLICT}: {n:,} child(ren) have more than one {name} in the input "
            "rows; the log keeps each child's most frequent value (a tie: the first in order)"
            for name, n in several.items() if n]


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of ``values`` (-1: missing) and the values they stand for; a
    categorical's own codes, else ``pd.factorize``."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), values.cat.categories
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)


def _children_with_several(case_codes: np.ndarray, cases: int, values: pd.Series) -> int:
    """How many children (``case_codes`` 0..cases-1) have more than one distinct non-blank
    value: those whose smallest and largest value codes differ."""
    if values.dtype.kind == "M":
        stamps = values.to_numpy(dtype="datetime64[ns]")
        codes, valid = stamps.view(np.int64), ~np.isnat(stamps)
    else:
        codes = _codes(values)[0].astype(np.int64)
        valid = codes >= 0
    valid &= case_codes >= 0
    low = np.full(cases, np.iinfo(np.int64).max)
    high = np.full(cases, np.iinfo(np.int64).min)
    np.minimum.at(low, case_codes[valid], codes[valid])
    np.maximum.at(high, case_codes[valid], codes[valid])
    return int((low < high).sum())


def _with_age_band(case_attrs: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Replace the date of birth (an identifier) by the age band at the child's first event.

    A child whose rows give different dates of birth gets the band of the one chosen like
    every case attribute (`eventlog.case_attribute_values`): by content, not row order.
    Each row gets its child's band, as a categorical (missing: no date of birth, no event, or
    born after the first event); the rows keep their order, which nothing downstream depends on.

    Worked per child on integer codes, never by joining a million rows on their ids.
    """
    if BIRTH_DATE not in case_attrs.columns:
        return case_attrs
    attrs = case_attrs.drop(columns=[BIRTH_DATE])
    if events.empty or not case_attrs[BIRTH_DATE].notna().any():
        return attrs
    case_codes, cases = _codes(case_attrs[CASE])
    dob = _chosen_per_child(case_codes, case_attrs[BIRTH_DATE], len(cases))
    first = _first_event_dates(events, cases)
    band_codes, bands = pd.factorize(_age_bands(dob, first))
    per_row = np.where(case_codes >= 0, band_codes[np.maximum(case_codes, 0)], -1) if len(cases) else case_codes
    return attrs.assign(age_band=pd.Categorical.from_codes(
        per_row, categories=pd.Index(bands, dtype="str"), validate=False))


def _chosen_per_child(case_codes: np.ndarray, values: pd.Series, cases: int) -> np.ndarray:
    """Per child (``case_codes`` 0..cases-1, -1 none), the datetime64 value chosen as
    `eventlog.case_attribute_values` chooses (NaT: none).

    Nearly every child's rows agree; per-child minimum and maximum find those in two
    passes, and only the children whose rows disagree go through the frequency count.
    """
    stamps = values.to_numpy(dtype="datetime64[ns]")
    ints = stamps.view(np.int64)
    valid = ~np.isnat(stamps) & (case_codes >= 0)
    low = np.full(cases, np.iinfo(np.int64).max)
    high = np.full(cases, np.iinfo(np.int64).min)
    np.minimum.at(low, case_codes[valid], ints[valid])
    np.maximum.at(high, case_codes[valid], ints[valid])
    chosen = np.where(low <= high, low, np.iinfo(np.int64).min).view("datetime64[ns]")
    disagree = low < high
    if disagree.any():
        rows = valid & disagree[np.maximum(case_codes, 0)]
        children = np.flatnonzero(disagree)
        local = np.searchsorted(children, case_codes[rows])
        picked = most_frequent(local, values[rows], len(children))
        chosen[children] = pd.to_datetime(picked).to_numpy(dtype="datetime64[ns]")
    return chosen


def _first_event_dates(events: pd.DataFrame, cases: pd.Index) -> np.ndarray:
    """Each of ``cases``' first event date (datetime64; NaT: a child with no event).

    A minimum per code of the categorical child column: the events' ids are matched to
    ``cases`` once per distinct child, not once per event.
    """
    column = events[CASE]
    category = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    codes = category.cat.codes.to_numpy()
    stamps = events[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    present = (codes >= 0) & ~np.isnat(stamps)
    first = np.full(len(category.cat.categories), np.iinfo(np.int64).max)
    np.minimum.at(first, codes[present], stamps.view(np.int64)[present])
    first = np.where(first == np.iinfo(np.int64).max, np.iinfo(np.int64).min, first)
    where = pd.Index(category.cat.categories.astype(str)).get_indexer(cases.astype(str))
    out = np.where(where >= 0, first[np.maximum(where, 0)], np.iinfo(np.int64).min)
    return out.view("datetime64[ns]")


def _age_bands(dob: np.ndarray, start: np.ndarray) -> np.ndarray:
    """`AGE_BANDS` label of the age in whole years at ``start`` of someone born on ``dob``
    (datetime64 arrays); None where either is missing or the age is negative."""
    born, at = dob.astype("datetime64[D]"), start.astype("datetime64[D]")
    years = at.astype("datetime64[Y]").astype(np.int64) - born.astype("datetime64[Y]").astype(np.int64)
    age = years - (_month_day(at) < _month_day(born))  # the birthday not yet reached that year
    lows = np.array([low for low, _ in AGE_BANDS])
    labels = np.array([label for _, label in AGE_BANDS], dtype=object)
    known = ~np.isnat(born) & ~np.isnat(at) & (age >= 0)
    return np.where(known, labels[np.clip(np.searchsorted(lows, age, side="right") - 1, 0, None)], None)


def _month_day(days: np.ndarray) -> np.ndarray:
    """Month * 100 + day of each datetime64[D] value (order of the date within its year)."""
    months = days.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    return month * 100 + (days - months.astype("datetime64[D]")).astype(np.int64) + 1


def load(
    inputs: Sequence[Path],
    *,
    as_at: date | None = None,
    logmaps: Sequence[Path] = (),
    encoding: str | None = None,
    keep_going: bool = False,
    progress: Progress | None = None,
    quiet: bool = True,
) -> EventLog:
    """One event log file written by ``ingest``, or raw inputs built into a log on the fly.

    With ``as_at`` earlier than the data's end, later events are ignored (the view as it stood
    then).
    """
    paths = [Path(p) for p in inputs]
    if len(paths) == 1 and is_event_log(paths[0]):
        log = read_event_log(paths[0])
        return log.as_of(as_at) if as_at else log
    log, _ = build_event_log(
        paths, logmaps=logmaps, encoding=encoding, keep_going=keep_going, progress=progress,
        quiet=quiet,
    )
    return log.as_of(as_at) if as_at else log
