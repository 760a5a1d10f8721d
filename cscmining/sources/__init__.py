"""Finding input files and reading each one as the return it is, recognised by content.

This is the one place where a file's kind is decided: XML by its document element, xlsx by
its zip signature and then sheet by sheet by headers, CSV by its header row. It is also where
every file, whatever its kind, is held to the size limits (`Limits`) and its text looked at
for mojibake (`mojibake_notes`).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._threads import map_in_threads
from ..errors import InputFileError, UsageError
from ..logmap import LogMap
from .base import ROW, RawTable
from .tabular import Candidate, read_csv_table, read_xlsx_tables
from .xml import read_xml, xml_encoding

#: file endings read when a folder is given; files named directly are read whatever their name
DATA_SUFFIXES = {".csv", ".txt", ".xml", ".xlsx", ".xlsm"}
_ZIP_MAGIC = b"PK\x03\x04"
#: a URL, also after pathlib has collapsed its "//" (a drive letter "C:/" is one character)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")


@dataclass
class ReadResult:
    tables: list[RawTable] = field(default_factory=list)
    errors: list[InputFileError] = field(default_factory=list)
    #: file path -> sha256, for the provenance of every output
    hashes: dict[str, str] = field(default_factory=dict)
    #: things worth telling the user that are not errors (skipped sheets, ignored columns)
    notes: list[str] = field(default_factory=list)
    #: file path -> how its text was decoded (`RawTable.encoding`), for files that were read
    encodings: dict[str, str] = field(default_factory=dict)


def expand_inputs(inputs: list[Path] | tuple[Path, ...]) -> list[Path]:
    """Files named and data files inside folders named (recursively), sorted, each once.

    Sorting makes the result independent of the order the paths were given in.
    """
    files: set[Path] = set()
    for raw in inputs:
        text = str(raw)
        # `Path("https://host/x")` reads back as "https:/host/x": look for a scheme either way
        if _URL.match(text) or text.startswith("\\\\"):
            raise UsageError(f"{text}: only local files and folders can be read (no URLs)")
        path = Path(raw)
        if path.is_dir():
            for child in path.rglob("*"):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in DATA_SUFFIXES:
                    files.add(child)
        elif path.is_file():
            files.add(path)
        elif path.exists():
            raise UsageError(f"{path}: not a regular file or folder")
        else:
            raise UsageError(f"{path}: no such file or folder")
    return sorted(files)


def read_files(
    files: list[Path], logmaps: list[LogMap], encoding: str | None,
    done: Callable[[Path], None] | None = None,
) -> ReadResult:
    """Read every file; a file that cannot be read becomes an error, the others go on.

    Files are read side by side on the machine's cores (threads: the xlsx and XML parsers and
    Arrow's CSV reader do their work outside Python's lock), and their results gathered in
    the order of ``files``, so the outcome does not depend on which finished first. ``done``
    is called with each file's path once it is read (from the thread that read it).
    """
    candidates = [Candidate(m, t) for m in logmaps for t in m.tables]
    limits = Limits.from_environment()

    def read(path: Path) -> _FileRead:
        one = _read_path(path, encoding, candidates, limits)
        if done is not None:
            done(path)
        return one

    reads = map_in_threads(read, files)
    result = ReadResult()
    for one in reads:
        if one.sha256 is not None:
            result.hashes[str(one.path)] = one.sha256
        result.notes.extend(one.notes)
        if one.error is not None:
            result.errors.append(one.error)
            continue
        result.encodings.update({str(one.path): t.encoding for t in one.tables if t.encoding})
        result.tables.extend(one.tables)
    return result


@dataclass
class _FileRead:
    """What reading one file gave: its hash (once its bytes were read), tables and notes, or
    the error that stopped it."""

    path: Path
    sha256: str | None = None
    tables: list[RawTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: InputFileError | None = None


def _read_path(path: Path, encoding: str | None, candidates: list[Candidate], limits: Limits) -> _FileRead:
    one = _FileRead(path)
    try:
        limits.check_file(path)
        head, data, one.sha256 = _bytes_and_hash(path)
        one.tables = _read_one(path, head, data, encoding, candidates, one.notes)
        limits.check_rows(one.tables)
    except OSError as exc:
        one.error = InputFileError(path, "UNREADABLE", exc.strerror or "cannot be read")
        return one
    except InputFileError as exc:
        one.error = exc
        return one
    one.notes.extend(mojibake_notes(one.tables))
    for table in one.tables:
        if table.ignored_columns:
            where = f"{path} [{table.sheet}]" if table.sheet else str(path)
            one.notes.append(f"{where}: {len(table.ignored_columns)} column(s) not used: "
                             + ", ".join(table.ignored_columns))
    return one


#: bytes enough to tell a file's kind (`_read_one`) and an XML file's declared encoding
_HEAD = 64 * 1024


def _bytes_and_hash(path: Path) -> tuple[bytes, bytes | None, str]:
    """The file's first bytes, its whole content when a reader needs it in memory (CSV, and
    anything not recognised as XML or xlsx), and its sha256.

    An XML or xlsx file is hashed in chunks and left to its parser to stream: holding a
    census of a hundred megabytes in memory only to hash it would undo the streaming.
    """
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
        if not _streamed(head):
            fh.seek(0)  # read whole in one go: ``head + rest`` would copy the file once more
            data = fh.read()
            return head, data, hashlib.sha256(data).hexdigest()
        digest.update(head)
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return head, None, digest.hexdigest()


def _streamed(head: bytes) -> bool:
    """A file its parser reads from disk (xlsx, XML) rather than from bytes in memory."""
    return head.startswith(_ZIP_MAGIC) or _xml_head(head)


def _xml_head(head: bytes) -> bool:
    """The file starts (after a BOM and white space) with ``<``: XML, in UTF-8 or UTF-16."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\x00<")):
        return head[:512].decode(xml_encoding(head), errors="replace").lstrip("\ufeff \t\r\n").startswith("<")
    return head[:512].lstrip(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _read_one(
    path: Path, head: bytes, data: bytes | None, encoding: str | None, candidates: list[Candidate],
    notes: list[str],
) -> list[RawTable]:
    """The file's tables, by its kind; ``data`` is its content (None for a streamed kind)."""
    if head.startswith(_ZIP_MAGIC):
        tables, skipped = read_xlsx_tables(path, candidates)
        if skipped:
            notes.append(f"{path}: sheet(s) not recognised and skipped: " + ", ".join(skipped))
        return _decoded_as(tables, XLSX)
    if _xml_head(head):
        return _decoded_as(read_xml(path), xml_encoding(head))
    assert data is not None  # every other kind was read whole (`_bytes_and_hash`)
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
        raise InputFileError(path, "EMPTY_FILE", "the file is empty")
    if data[:8].startswith((b"\xd0\xcf\x11\xe0", b"%PDF")):
        raise InputFileError(path, "UNKNOWN_FORMAT", "an old .xls or a PDF; save it as .xlsx or CSV UTF-8")
    return [read_csv_table(path, data, encoding, candidates)]


#: the encoding recorded for a workbook: its parts are XML whose encoding the format fixes
XLSX = "xlsx"
def _decoded_as(tables: list[RawTable], encoding: str) -> list[RawTable]:
    """The tables, each recording how its file's text was decoded."""
    for table in tables:
        table.encoding = encoding
    return tables


# --- size limits ---------------------------------------------------------------------------

#: environment variables that raise (or lower) the limits; K, M or G may follow the number
MAX_FILE_SIZE_ENV = "CSCMINING_MAX_FILE_SIZE"
MAX_ROWS_ENV = "CSCMINING_MAX_ROWS"
#: a file is read into memory whole: past this it would not fit beside its parsed form on an
#: LA laptop (16 GB) and the run would swap for hours instead of failing. A decade of national
#: SSDA903 episodes (~10 M rows) is about 1 GB of CSV, so 8 GiB stops only absurd inputs.
DEFAULT_MAX_FILE_SIZE = 8 * 1024**3
#: rows of one table in one file: five times a decade of national SSDA903 episodes
DEFAULT_MAX_ROWS = 50_000_000
_AMOUNT = re.compile(r"^\s*(\d[\d_]*)\s*([KMG]?)B?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """How large an input may be before it is refused (`TOO_LARGE`, T-STR-10, T-PERF-02).

    The file size is checked from ``stat`` before a byte is read; the rows of each table as
    soon as the reader has them, before they are turned into events (the step whose memory
    grows with the rows). An xlsx is also refused by `tabular.check_zip` when it would inflate
    beyond reason, before its XML is parsed. Messages give the limit and how to raise it,
    never anything read from the file.
    """

    file_size: int = DEFAULT_MAX_FILE_SIZE
    rows: int = DEFAULT_MAX_ROWS

    @classmethod
    def from_environment(cls) -> Limits:
        return cls(_amount(MAX_FILE_SIZE_ENV, DEFAULT_MAX_FILE_SIZE, 1024),
                   _amount(MAX_ROWS_ENV, DEFAULT_MAX_ROWS, 1000))

    def check_file(self, path: Path) -> None:
        size = path.stat().st_size
        if size > self.file_size:
            raise InputFileError(path, "TOO_LARGE", f"{size:,} bytes, over the limit of "
                                 f"{self.file_size:,} bytes (set {MAX_FILE_SIZE_ENV} to raise it)")

    def check_rows(self, tables: list[RawTable]) -> None:
        for table in tables:
            if len(table.frame) > self.rows:
                where = f"sheet {table.sheet!r}" if table.sheet else f"table {table.table}"
                raise InputFileError(table.path, "TOO_LARGE", f"{where} has {len(table.frame):,} "
                                     f"rows, over the limit of {self.rows:,} (set {MAX_ROWS_ENV} to raise it)")


def _amount(variable: str, default: int, base: int) -> int:
    """A limit from the environment: a whole number, optionally followed by K, M or G
    (powers of ``base``); ``default`` when the variable is not set."""
    raw = os.environ.get(variable, "")
    if not raw.strip():
        return default
    found = _AMOUNT.match(raw)
    if found is None or int(found[1]) < 1:
        raise UsageError(f"{variable} must be a positive whole number, optionally followed by "
                         "K, M or G (e.g. 16G)")
    return int(found[1]) * base ** " KMG".index(found[2].upper() or " ")


# --- mojibake ------------------------------------------------------------------------------

#: UTF-8 text that was once decoded as cp1252 (or latin-1) and saved again: "é" becomes "Ã©",
#: "£" becomes "Â£", "’" becomes "â€™". A lead byte C2/C3 read as "Â"/"Ã" is followed by what
#: cp1252 makes of a continuation byte (80-BF); E2 80 (curly quotes, dashes) reads "â€".
#: English text has no such pairs, and the shipped code lists none.
MOJIBAKE = "[ÂÃ][\u00a0-\u00bf\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030" \
    "\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161" \
    "\u203a\u0153\u017e\u0178]|â€"
MOJIBAKE_SUSPECTED = "MOJIBAKE_SUSPECTED"


def mojibake_notes(tables: list[RawTable]) -> list[str]:
    """A note per table whose text cells look like mangled UTF-8 (T-ENC-05, DQ-12).

    The file is read as it is (valid UTF-8 is never second-guessed); the note names the file,
    sheet and columns and counts the cells, so the analyst can fix the export. Only the
    columns the table uses are looked at, with Arrow's regex kernel on whole columns.
    """
    notes = []
    for table in tables:
        found = {name: count for name in table.frame.columns if name != ROW
                 if (count := _mojibake_cells(table.frame[name]))}
        if found:
            where = f"{table.path} [{table.sheet}]" if table.sheet else str(table.path)
            detail = ", ".join(f"{name} ({count:,} cell(s))" for name, count in found.items())
            notes.append(f"{where}: {MOJIBAKE_SUSPECTED}: text that looks like UTF-8 read as "
                         f"cp1252 (e.g. 'Ã©' for 'é') in column(s) {detail}; check how the file was exported")
    return notes


def _mojibake_cells(cells: pd.Series) -> int:
    """How many cells of a column hold a `MOJIBAKE` sequence (spreadsheet numbers and dates,
    made text here, never do).

    Every `MOJIBAKE` sequence starts with "Â", "Ã" or "â", which Arrow (UTF-8 inside,
    whatever the file's encoding) stores as byte C3 then another. A column whose character
    data has no C3 byte at all, which is almost every column, is passed over after one scan
    of its bytes: the regex costs ~50 times more and runs only where it can find something.
    """
    if not isinstance(cells.dtype, pd.StringDtype):
        return _mojibake_objects(cells.to_numpy(dtype=object))
    # pandas' Arrow-backed text hands over its chunks as they are (`pa.array` would join them)
    arrow = cells.array.__arrow_array__() if hasattr(cells.array, "__arrow_array__") \
        else pa.chunked_array([pa.array(cells.to_numpy(dtype=object), pa.large_string(), from_pandas=True)])
    if isinstance(arrow, pa.Array):
        arrow = pa.chunked_array([arrow])
    if not any(_has_byte(chunk, 0xC3) for chunk in arrow.chunks):
        return 0
    return int(pc.sum(pc.match_substring_regex(arrow, MOJIBAKE)).as_py() or 0)


def _mojibake_objects(cells: np.ndarray) -> int:
    """`_mojibake_cells` for spreadsheet cells (text, numbers, dates, booleans mixed): only
    the distinct text cells are looked at, then counted back over the rows, so a sheet's
    million dates are never turned into strings."""
    codes, uniques = pd.factorize(cells)
    texts = pa.array([u if isinstance(u, str) else None for u in uniques], pa.large_string())
    if not _has_byte(texts, 0xC3):
        return 0
    found = pc.fill_null(pc.match_substring_regex(texts, MOJIBAKE), False).to_numpy(zero_copy_only=False)
    return int(found[codes[codes >= 0]].sum())


def _has_byte(strings: pa.Array, byte: int) -> bool:
    """Whether the character data of a string array holds ``byte`` (an over-estimate for a
    slice: its buffer may hold its neighbours' characters too)."""
    data = strings.buffers()[2]
    return data is not None and bool((np.frombuffer(data, dtype=np.uint8) == byte).any())
