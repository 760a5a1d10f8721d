"""Reading CSV files and xlsx workbooks, and recognising their tables by their headers.

A CSV file is one table; an xlsx workbook holds one table per sheet. Which table (an SSDA903
CSV, an Annex A list, a table of a user's logmap) is decided by the header row alone, never
by the file or sheet name.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputFileError
from ..logmap import LogMap, TableMap
from .base import ROW, RawTable

ROW_SHAPE = "ROW_SHAPE"
#: an xlsx is a zip: refuse one that inflates beyond this (a zip bomb), before reading it
MAX_XLSX_INFLATED = 2 * 1024**3
MAX_XLSX_RATIO = 200
#: header rows are looked for among a sheet's first rows (some exports add a title row)
HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class Candidate:
    """A table some logmap defines, which a file's header may turn out to be."""

    logmap: LogMap
    table: TableMap


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    positions: dict[str, int]


def recognise(headers: list[str], candidates: list[Candidate]) -> Match | list[str] | None:
    """The table these headers belong to; or the missing columns of a near miss; or None.

    All required columns present: the most specific table (most required columns) wins.
    Otherwise a table with at least half (and at least two) of its required columns is a
    near miss, reported as the list of missing column names.
    """
    complete: list[tuple[int, int, Match]] = []
    near: list[tuple[float, list[str]]] = []
    for cand in candidates:
        required = cand.table.required
        if not required:
            continue
        found = cand.table.match_headers(headers)
        missing = [c for c in required if c not in found]
        if not missing:
            complete.append((len(required), len(found), Match(cand, found)))
        elif len(required) - len(missing) >= 2:
            share = (len(required) - len(missing)) / len(required)
            if share >= 0.5:
                near.append((share, [f"{c} (for {cand.logmap.source} {cand.table.name})" for c in missing]))
    if complete:
        complete.sort(key=lambda t: (-t[0], -t[1]))
        return complete[0][2]
    if near:
        near.sort(key=lambda t: -t[0])
        return near[0][1]
    return None


def _table_from_rows(
    path: Path, match: Match, headers: list[str], body: pd.DataFrame, first_row: int,
    sheet: str | None, unit: str,
) -> RawTable:
    """Select the matched columns, name them canonically, number the rows."""
    cols = {name: body.iloc[:, pos] for name, pos in match.positions.items()}
    frame = pd.DataFrame(cols, index=body.index)
    frame[ROW] = pd.RangeIndex(first_row, first_row + len(body)) if len(body) else pd.Series(dtype="int64")
    used = set(match.positions.values())
    ignored = [h for i, h in enumerate(headers) if i not in used and str(h).strip()]
    return RawTable(
        path=path, source=match.candidate.logmap.source, table=match.candidate.table.name,
        frame=frame.reset_index(drop=True), rows_read=len(body), sheet=sheet,
        ignored_columns=ignored, unit=unit,
    )


# --- CSV --------------------------------------------------------------------------------


def text_encoding(data: bytes, encoding: str | None) -> str:
    """The codec a text file is decoded with (by `decode` and `_utf8`): UTF-16 when it starts
    with a UTF-16 BOM, else the one named (by its canonical name), else UTF-8, ``utf-8-sig``
    when it starts with a UTF-8 BOM. A name Python does not know raises LookupError."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if encoding:
        return codecs.lookup(encoding).name
    return "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"


def decode(path: Path, data: bytes, encoding: str | None) -> str:
    """Bytes to text, strictly: UTF-8 (with or without BOM), UTF-16 with a BOM, or as named."""
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
        raise InputFileError(path, "EMPTY_FILE", "the file is empty")
    try:
        return data.decode(text_encoding(data, encoding))
    except LookupError:
        raise InputFileError(path, "ENCODING", f"unknown encoding name {encoding!r}") from None
    except UnicodeDecodeError as exc:
        named = encoding or "UTF-8"
        hint = "" if encoding else "; save it as 'CSV UTF-8' or pass --encoding cp1252"
        raise InputFileError(
            path, "ENCODING", f"not valid {named} text at byte offset {exc.start}{hint}"
        ) from None


def _sniff_delimiter(lines: list[str]) -> str:
    """The separator used most on any one of the first lines (the header row has the most)."""
    counts = {d: max((line.count(d) for line in lines), default=0) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


#: a UTF-8 file larger than this is decoded only this far to find its header row; Arrow's
#: parser checks the rest is UTF-8 as it reads it
HEAD_BYTES = 1 << 20


def read_csv_table(path: Path, data: bytes, encoding: str | None, candidates: list[Candidate]) -> RawTable:
    """One CSV file as one table; every cell is kept as text.

    The header row is looked for among the first records, as in a sheet: a CSV saved from a
    workbook keeps the title rows above its header. Records above the header are not rows.

    A large UTF-8 file is not decoded to Python text at all: its head is, to find the header,
    and Arrow reads the bytes (validating them). Whenever that shortcut cannot decide
    exactly as reading the whole text would (a header not found, a record Arrow cannot
    read), the whole file is decoded after all, so errors and their order stay the same.
    """
    full: list[str] = []

    def whole_text() -> str:
        if not full:
            full.append(decode(path, data, encoding))
        return full[0]

    head = _utf8_head(data) if encoding is None else None
    start = _head_records(head, HEADER_SEARCH_ROWS, whole=False) if head is not None else None
    if start is None:
        start = _head_records(whole_text(), HEADER_SEARCH_ROWS, whole=True)
    assert start is not None
    delimiter, records = start
    found: tuple[int, list[str], Match] | None = None
    near: list[str] | None = None
    for index, record in enumerate(records):
        header = [h.strip().lstrip("\ufeff") for h in record]
        if not any(header):
            continue
        match = recognise(header, candidates)
        if isinstance(match, Match):
            found = (index, header, match)
            break
        if isinstance(match, list) and near is None:
            near = match
    if found is None:
        whole_text()  # a file that is not valid text is that error first
    if found is None and near is not None:
        raise InputFileError(path, "COLUMN_MISSING", "missing column(s): " + "; ".join(near))
    if found is None:
        raise InputFileError(
            path, "UNKNOWN_TABLE",
            "its header row matches no SSDA903 table, Annex A list or logmap table",
        )
    header_index, header, match = found
    raw = _utf8(data, whole_text, encoding)
    quoted = b'"' in data if not full else '"' in full[0]  # bytes as read, or decoded text
    body, rejected = _csv_body(whole_text, raw, quoted, delimiter, len(header), header_index + 1)
    table = _table_from_rows(path, match, header, body, first_row=header_index + 2, sheet=None, unit="row")
    table.rejected_rows = rejected
    table.encoding = text_encoding(data, encoding)
    return table


def _utf8_head(data: bytes) -> str | None:
    """The whole lines in the first `HEAD_BYTES` of a large file assumed UTF-8 (BOM
    dropped), or None for a small file, a UTF-16 one, or a head that does not decode."""
    if len(data) <= HEAD_BYTES or data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    end = data.rfind(b"\n", 0, HEAD_BYTES)  # a line end is one byte, never inside a character
    if end < 0:
        return None
    try:
        return data[: end + 1].decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _head_records(text: str, count: int, *, whole: bool) -> tuple[str, list[list[str]]] | None:
    """The delimiter (sniffed on the first ``count`` lines) and the first ``count`` records
    of ``text``. When ``text`` is only the head of the file, None unless it holds ``count``
    whole lines and one record more than needed (which proves the last one needed whole)."""
    if not whole and _nth_line_end(text, count) < 0:
        return None
    delimiter = _sniff_delimiter(_first_lines(text, count))
    records = list(itertools.islice(csv.reader(_lines(text), delimiter=delimiter), count + 1))
    if not whole and len(records) <= count:
        return None
    return delimiter, records[:count]


def _nth_line_end(text: str, count: int) -> int:
    """The position of the ``count``-th "\\n" of ``text`` (-1 when it has fewer)."""
    end = -1
    for _ in range(count):
        end = text.find("\n", end + 1)
        if end < 0:
            return -1
    return end


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their line ends, as ``io.StringIO(text, newline="")`` gives
    them, found one at a time: reading a header never copies a large file's text."""
    for found in _LINE.finditer(text):
        yield found.group()


def _first_lines(text: str, count: int) -> list[str]:
    """The first ``count`` lines split on "\\n" (as ``text.split("\\n")`` would give them)."""
    lines: list[str] = []
    start = 0
    while len(lines) < count:
        end = text.find("\n", start)
        if end < 0:
            lines.append(text[start:])
            break
        lines.append(text[start:end])
        start = end + 1
    return lines


def _utf8(data: bytes, text: Callable[[], str], encoding: str | None) -> pa.Buffer:
    """The file as UTF-8 for Arrow's parser: the bytes as read (without a BOM, no copy) when
    they should be UTF-8 already (Arrow checks that they are); encoded from the decoded text
    otherwise."""
    if encoding is None and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        return pa.py_buffer(data).slice(skip)
    return pa.py_buffer(text().encode("utf-8"))


def _csv_body(
    text: Callable[[], str], raw: pa.Buffer, quoted: bool, delimiter: str, width: int, skip: int,
) -> tuple[pd.DataFrame, dict[int, str]]:
    """The data records as text; records with the wrong number of fields are rejected.

    The fast path (pyarrow) reads well-formed files from ``raw``, the UTF-8 bytes of the
    file's ``text``; a file with any ragged record (or bytes that are not UTF-8) is read
    again from its decoded text, record by record, so each bad record is known by its
    number and nothing shifts into the wrong column (and text that does not decode is the
    `decode` error). Arrow's parser is told values may span lines only when the file has a
    quote character at all (``quoted``): that mode parses serially, and without a quote no
    value can hold a line break.
    """
    names = [f"c{i}" for i in range(width)]
    ragged = False

    def on_invalid(_row: object) -> str:
        nonlocal ragged
        ragged = True
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(raw),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=quoted, ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            # large_string is what pandas' str dtype holds: no conversion to a frame
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        ragged = True
    if not ragged:
        body = table.to_pandas()
        body.columns = range(width)
        return body, {}
    return _csv_body_slow(text(), delimiter, width, skip)


def _csv_body_slow(text: str, delimiter: str, width: int, skip: int) -> tuple[pd.DataFrame, dict[int, str]]:
    rows: list[list[str]] = []
    rejected: dict[int, str] = {}
    reader = csv.reader(_lines(text), delimiter=delimiter)
    for _ in range(skip):
        next(reader, None)
    for number, record in enumerate(reader, start=skip + 1):
        if len(record) == width:
            rows.append(record)
        elif not record or all(not f.strip() for f in record):
            rows.append([""] * width)
        else:
            rows.append([""] * width)
            rejected[number] = ROW_SHAPE
    # text columns, as the fast path gives (not object columns of Python strings)
    cells = pd.DataFrame(rows, columns=range(width), dtype=object)
    return cells.astype("str") if len(cells) else cells, rejected


# --- xlsx -------------------------------------------------------------------------------


_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*[\"'](?:1|true)[\"']")


def check_zip(path: Path) -> bool:
    """Refuse an xlsx that would inflate to gigabytes before any XML inside it is parsed.

    Returns whether the workbook uses Excel's 1904 date system (Mac Excel's old default):
    real date cells come out right either way, but a day serial typed into a date column
    means a date 1462 days later than in the 1900 system.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            book = next((i for i in infos if i.filename == "xl/workbook.xml"), None)
            # the flag sits near the top: read a slice, never the whole (possibly huge) part
            head = zf.open(book).read(1 << 16) if book is not None else b""
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        raise InputFileError(path, "BROKEN_FILE", "not a readable xlsx workbook (bad zip)") from None
    inflated = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if inflated > MAX_XLSX_INFLATED or inflated / packed > MAX_XLSX_RATIO:
        raise InputFileError(path, "XLSX_UNSAFE", "the workbook inflates far beyond its size (zip bomb?)")
    if any(i.filename.endswith("vbaProject.bin") for i in infos):
        raise InputFileError(path, "XLSX_UNSAFE", "the workbook contains macros; save it as .xlsx")
    return bool(_DATE1904.search(head))


def read_xlsx_tables(path: Path, candidates: list[Candidate]) -> tuple[list[RawTable], list[str]]:
    """Every sheet recognised as a table; and the names of sheets that were not."""
    from python_calamine import CalamineWorkbook

    date1904 = check_zip(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [(name, workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
                  for name in workbook.sheet_names]
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise InputFileError(path, "BROKEN_FILE", f"not a readable xlsx workbook ({exc.__class__.__name__})") from None
    tables: list[RawTable] = []
    skipped: list[str] = []
    near_misses: list[str] = []
    for name, rows in sheets:
        found = _find_header(rows, candidates)
        if found is None:
            skipped.append(name)
            continue
        if isinstance(found, list):
            near_misses.append(f"sheet {name!r}: missing column(s): " + "; ".join(found))
            continue
        header_index, match = found
        headers = ["" if h is None else str(h).strip() for h in rows[header_index]]
        body = _sheet_body(rows[header_index + 1:], len(headers))
        table = _table_from_rows(path, match, headers, body, header_index + 2, name, "row")
        table.date1904 = date1904
        tables.append(table)
    if near_misses:
        raise InputFileError(path, "COLUMN_MISSING", " | ".join(near_misses))
    if not tables:
        raise InputFileError(path, "UNKNOWN_TABLE", "no sheet has the headers of an Annex A list or logmap table")
    return tables, skipped


def _sheet_body(rows: list[list[object]], width: int) -> pd.DataFrame:
    """The rows below the header as ``width`` object columns: a shorter row is padded with
    None, a longer one cut, a missing value (NaN) is None. Built as one array from the cells
    laid end to end, not row by row (a sheet can hold a million rows)."""
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=object, count=int(lengths.sum()))
    if len(rows) and (lengths == width).all():  # calamine's sheets are rectangular
        cells = flat.reshape(len(rows), width)
    else:
        row_of = np.repeat(np.arange(len(rows)), lengths)
        column_of = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        inside = column_of < width
        cells = np.full((len(rows), width), None, dtype=object)
        cells[row_of[inside], column_of[inside]] = flat[inside]
    cells[pd.isna(cells)] = None
    return pd.DataFrame(cells, columns=range(width), dtype=object)


def _find_header(rows: list[list[object]], candidates: list[Candidate]) -> tuple[int, Match] | list[str] | None:
    near: list[str] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        headers = ["" if h is None else str(h) for h in row]
        if not any(h.strip() for h in headers):
            continue
        match = recognise(headers, candidates)
        if isinstance(match, Match):
            return index, match
        if isinstance(match, list) and near is None:
            near = match
    return near
