"""What every reader hands over: raw tables of cells with canonical column names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

#: the column holding each row's 1-based position in its file (spreadsheet row, CSV
#: record, or ordinal of the XML element), for messages and a deterministic order
ROW = "__row"


@dataclass
class RawTable:
    """One table read from one file, before any cell is interpreted.

    ``frame`` holds the cells as read (text, or real dates/numbers from spreadsheets) under
    the table's canonical column names, plus `ROW`. Readers keep blank rows; the engine
    counts those between data rows and drops those after the last one (SPEC §2.2).
    """

    path: Path
    source: str
    table: str
    frame: pd.DataFrame
    #: the records the reader read (data rows of a CSV or sheet, record elements of an XML):
    #: the engine's account must start from this number, not from ``len(frame)``, so that a
    #: row lost between reading and accounting is caught (ACC-2)
    rows_read: int
    sheet: str | None = None
    reference_date: date | None = None
    #: rows the reader itself rejected (e.g. ragged CSV records), by row number -> code
    rejected_rows: dict[int, str] = field(default_factory=dict)
    #: headers present in the file that the table does not use (listed, never read)
    ignored_columns: list[str] = field(default_factory=list)
    #: what to call a row in messages ("row", "record")
    unit: str = "row"
    #: a workbook in Excel's 1904 date system: its day serials count from 1904-01-01
    date1904: bool = False
    #: how the file's text was decoded (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252`` …;
    #: for XML as its BOM or declaration says), ``xlsx`` for a workbook: the provenance of
    #: every value read, so that a wrong ``--encoding`` can be traced (T-ENC-01/03)
    encoding: str | None = None

