"""Helpers shared by the reader tests: running ingest on fixtures and building test files.

Not a test module (no ``test_`` prefix); the reader tests import it by name, pytest puts
this folder on ``sys.path``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from pathlib import Path
from typing import Any

from cscmining.accounting import TableAccount
from cscmining.columns import ACTIVITY, CASE, SOURCE, TIMESTAMP
from cscmining.eventlog import EventLog
from cscmining.ingest import build_event_log
from cscmining.sources import ReadResult

FIXTURES = Path(__file__).parent / "fixtures"

#: the headers of an SSDA903 episodes file, an SSDA903 header file and Annex A list 3
EP = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
L3 = "Child Unique ID,Gender,Date of referral,Referral Source,Allocated Team"


def episode(child: str, decom: str, dec: str = "", rec: str = "", rne: str = "S", place: str = "U4") -> str:
    """One row of an SSDA903 episodes file (`EP`)."""
    return f"{child},{decom},{rne},V2,N1,{place},PR1,{dec},{rec},,,,"


def file_error(*paths: Path, **options: Any) -> tuple[str, str]:
    """(code, message) of the one file error reading ``paths`` gives."""
    import pytest

    from cscmining.errors import InputFilesError

    with pytest.raises(InputFilesError) as info:
        ingest(*paths, **options)
    (error,) = info.value.errors
    return error.code, str(error)


def ingest(*paths: Path | str, **options: Any) -> tuple[EventLog, ReadResult]:
    """`build_event_log` on the given files or folders."""
    return build_event_log([Path(p) for p in paths], **options)


@functools.cache
def ingest_fixture(path: Path) -> tuple[EventLog, ReadResult]:
    """`ingest` of a fixture file or folder, once per test session (read it, never change it)."""
    return ingest(path)


def events(log: EventLog) -> list[tuple[str, str, str]]:
    """The log as (child, activity, YYYY-MM-DD) in log order."""
    frame = log.frame
    days = frame[TIMESTAMP].dt.strftime("%Y-%m-%d")
    return list(zip(frame[CASE].tolist(), frame[ACTIVITY].tolist(), days.tolist()))


def activity_counts(log: EventLog) -> dict[str, int]:
    return dict(Counter(log.frame[ACTIVITY].tolist()))


def sources_of(log: EventLog) -> dict[tuple[str, str, str], str]:
    """(child, activity, date) -> the source table of the event kept in the log."""
    days = log.frame[TIMESTAMP].dt.strftime("%Y-%m-%d")
    keys = zip(log.frame[CASE], log.frame[ACTIVITY], days)
    return dict(zip(keys, log.frame[SOURCE]))


def account(log: EventLog, table: str, name: str | None = None) -> dict[str, Any]:
    """The account of ``table`` (in the file whose name is ``name``, if several), as in --json."""
    found = [a for a in log.accounts if a.table == table and (name is None or Path(a.path).name == name)]
    assert len(found) == 1, [(a.path, a.table) for a in log.accounts]
    return short(found[0])


def short(acc: TableAccount) -> dict[str, Any]:
    """The numbers of an account, without its path."""
    d = acc.to_dict()
    return {k: d[k] for k in ("rows_read", "used", "rejected", "duplicate", "blank", "reasons", "flags", "events")}


def acc(rows_read: int, used: int, *, events: int, rejected: dict[str, int] | None = None,
        duplicate: int = 0, blank: int = 0, flags: dict[str, int] | None = None) -> dict[str, Any]:
    """An expected account, in the shape `short` returns."""
    reasons = dict(sorted((rejected or {}).items()))
    return {"rows_read": rows_read, "used": used, "rejected": sum(reasons.values()),
            "duplicate": duplicate, "blank": blank, "reasons": reasons,
            "flags": dict(sorted((flags or {}).items())), "events": events}


def write_csv(path: Path, lines: list[str], *, encoding: str = "utf-8", bom: bool = False) -> Path:
    """A CSV file from its lines, written exactly (CRLF line ends as Excel writes them)."""
    data = "\r\n".join(lines) + "\r\n"
    raw = data.encode(encoding)
    if bom:
        raw = b"\xef\xbb\xbf" + raw
    path.write_bytes(raw)
    return path


# --- the Annex A workbook -----------------------------------------------------------------

D = dt.datetime


def build_annex_a_xlsx(path: Path) -> Path:
    """An Annex A workbook as LAs send them: a cover sheet, lists named anyhow, mixed cells.

    Sheets are deliberately not named after the lists (they are found by their headers);
    headers vary in case, spacing and wording; dates come as real date cells, as text
    ``dd/mm/YYYY`` and as Excel day serials; ids as text and as a number; every list sheet
    ends with empty but formatted rows, as a template pre-formatted for 500 children does.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Border, PatternFill, Side

    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover.append(["Ofsted Annex A: child-level data"])
    cover.append(["Local authority", "Anytown"])
    cover.append(["Prepared on", D(2024, 4, 30)])
    cover.append(["Contact", "Performance team"])

    def sheet(title: str, rows: list[list[object]], *, formatted_tail: int = 6) -> None:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        width = max(len(r) for r in rows)
        fill = PatternFill("solid", fgColor="FFF2CC")
        side = Side(style="thin")
        first_empty = len(rows) + 1
        for r in range(first_empty, first_empty + formatted_tail):
            for c in range(1, width + 1):
                cell = ws.cell(row=r, column=c)
                cell.fill = fill
                cell.border = Border(left=side, right=side, top=side, bottom=side)
                cell.number_format = "dd/mm/yyyy"
                # cells "cleared" with the space bar or holding an empty string still come
                # back from the workbook: they must not count as rows either
                if c == 1:
                    cell.value = " " if r % 2 else ""

    # List 1 with a title row above its header row
    sheet("Contacts", [
        ["List 1: Contacts"],
        ["Child unique ID", "Gender", "Ethnicity", "Date of birth", "Age of Child (Years)",
         "Date of Contact", "Contact Source"],
        ["X1", "b) Female", "WBRI", D(2016, 3, 1), 7, D(2024, 1, 5), "a) 1A: Individual"],
    ])
    # List 3: upper case, padded and reworded headers; a blank row between data rows
    sheet("Sheet3", [
        ["CHILD UNIQUE ID", " Gender ", "ethnicity", "Date Of Birth", "Referral Date",
         "Referral Source", "Referral NFA"],
        ["X1", "b) Female", "WBRI", D(2016, 3, 1), D(2024, 1, 8), "a) 1A: Individual", "b) No"],
        ["X2", "F", "WBRI", "01/03/2016", "09/01/2024", "g) Police", "b) No"],
        [None, None, None, None, None, None, None],
        [12345, "a) Male", "WIRI", D(2015, 2, 2), 45300, "g) Police", "a) Yes"],
    ])
    # List 8: the four spellings of "adopted" / SGO, gender label and code
    sheet("CLA", [
        ["Child Unique Id", "gender", "Date started to be looked after ",
         "START DATE OF CURRENT LEGAL STATUS", "Child's legal status",
         "Date of Latest Statutory Review", "Date Ceased to be Looked After",
         "Reason ceased to be looked after", "Start date of most recent placement",
         "Placement type", "Allocated Worker"],
        ["Y1", "b) Female", D(2023, 5, 1), D(2023, 5, 1), "b) Full care orders", D(2023, 11, 1),
         D(2024, 2, 1), "a) Adopted", D(2023, 9, 1), "b) Placed for adoption", "W1"],
        ["Y2", "F", D(2023, 6, 2), D(2023, 8, 15), "e) Placement order granted", None,
         D(2024, 2, 3), "E11", D(2023, 6, 2), "U4", "W1"],
        ["Y3", "M", "10/06/2023", None, "b) Full care orders", None,
         D(2024, 2, 5), "Adopted", "20/07/2023", "a) Foster placement", "W2"],
        ["Y4", "a) Male", 45110, None, "b) Full care orders", None,
         D(2024, 2, 6), "g) Special Guardianship Orders", None, None, "W2"],
    ])
    # List 10, on a sheet named like something else
    sheet("Adoption (L10)", [
        ["Child Unique ID", "Gender", "Date the child entered care",
         "Date of decision that child should be placed for adoption", "Date of Placement Order",
         "Date of Matching Child and Prospective Adopters", "Date Placed for Adoption",
         "Date of Adoption Order"],
        ["Y1", "b) Female", D(2023, 5, 1), D(2023, 6, 1), D(2023, 8, 1), D(2023, 8, 20),
         D(2023, 9, 1), D(2024, 2, 1)],
    ])
    wb.save(path)
    return path


def build_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A plain workbook: sheet title -> rows."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def run_cli(*args: object) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``cscmining ARGS`` through `cscmining.cli.main` (the
    function behind the script: one-line errors and exit codes) in click's isolation."""
    from click.testing import CliRunner

    import cscmining.cli as cli_module

    with CliRunner().isolation() as (out, err, _mixed):
        try:
            cli_module.main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return code, out.getvalue().decode(), err.getvalue().decode()
