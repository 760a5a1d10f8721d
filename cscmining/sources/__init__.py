"""Finding input files and reading each one as the return it is, recognised by content.

This is the one place where a file's kind is decided: XML by its document element, xlsx by
its zip signature and then sheet by sheet by headers, CSV by its header row.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError, UsageError
from ..logmap import LogMap
from .base import RawTable
from .tabular import Candidate, read_csv_table, read_xlsx_tables
from .xml import read_xml

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


def read_files(files: list[Path], logmaps: list[LogMap], encoding: str | None) -> ReadResult:
    """Read every file; a file that cannot be read becomes an error, the others go on."""
    candidates = [Candidate(m, t) for m in logmaps for t in m.tables]
    result = ReadResult()
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            result.errors.append(InputFileError(path, "UNREADABLE", exc.strerror or "cannot be read"))
            continue
        result.hashes[str(path)] = hashlib.sha256(data).hexdigest()
        try:
            tables = _read_one(path, data, encoding, candidates, result.notes)
        except InputFileError as exc:
            result.errors.append(exc)
            continue
        for table in tables:
            if table.ignored_columns:
                where = f"{path} [{table.sheet}]" if table.sheet else str(path)
                result.notes.append(f"{where}: {len(table.ignored_columns)} column(s) not used: "
                                    + ", ".join(table.ignored_columns))
        result.tables.extend(tables)
    return result


def _read_one(path: Path, data: bytes, encoding: str | None, candidates: list[Candidate], notes: list[str]) -> list[RawTable]:
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
        raise InputFileError(path, "EMPTY_FILE", "the file is empty")
    if data.startswith(_ZIP_MAGIC):
        tables, skipped = read_xlsx_tables(path, candidates)
        if skipped:
            notes.append(f"{path}: sheet(s) not recognised and skipped: " + ", ".join(skipped))
        return tables
    head = data[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        return read_xml(path)
    if data[:8].startswith((b"\xd0\xcf\x11\xe0", b"%PDF")):
        raise InputFileError(path, "UNKNOWN_FORMAT", "an old .xls or a PDF; save it as .xlsx or CSV UTF-8")
    return [read_csv_table(path, data, encoding, candidates)]
