"""The reading cases of research/reliability.md §3.1–§3.4, each with its exact outcome.

*file error* = the file is not read, the run stops (`InputFilesError`, exit 2 in the CLI)
naming the file and a code; *reject(CODE)* = the row is counted under CODE and gives no
event; *flag(CODE)* = the row gives its events and CODE is counted. In every case the
account balances: rows_read = used + rejected + duplicate + blank.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cscmining.columns import CASE, TIMESTAMP
from cscmining.errors import InputFilesError, UsageError

from reading_support import (
    EP,
    FIXTURES,
    L3,
    acc,
    account,
    build_xlsx,
    episode,
    events,
    file_error,
    ingest,
    write_csv,
)

# --- §3.1 encoding, file and structure ----------------------------------------------------


def test_utf8_bom(tmp_path) -> None:
    """T-ENC-01: Excel's "CSV UTF-8" starts with a BOM; the first header is still CHILD."""
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2023")], bom=True)
    plain = write_csv(tmp_path / "r.csv", ["CHILD,DOB,REVIEW,REVIEW_CODE", "1,01/01/2015,02/04/2023,PN1"])
    log, read = ingest(path, plain)
    assert events(log) == [("1", "Looked after start", "2023-04-01"), ("1", "CLA review", "2023-04-02")]
    assert account(log, "episodes") == acc(1, 1, events=1)
    # the manifest: how each file was decoded, in the log's provenance and in --json's files
    assert [(Path(i["path"]).name, i["encoding"]) for i in log.inputs] == [("e.csv", "utf-8-sig"), ("r.csv", "utf-8")]
    assert [(a.table, a.to_dict()["encoding"]) for a in log.accounts] == [("episodes", "utf-8-sig"), ("reviews", "utf-8")]
    assert read.encodings == {str(path): "utf-8-sig", str(plain): "utf-8"}


def test_cp1252_needs_encoding(tmp_path) -> None:
    """T-ENC-02/03: Windows text is refused unless named; named, `£` and `Ó` survive."""
    path = write_csv(tmp_path / "l3.csv", [L3, "W1,F,02/02/2024,g) Police,Team £ Ó Briain"], encoding="cp1252")
    code, message = file_error(path)
    assert code == "ENCODING"
    assert "save it as 'CSV UTF-8' or pass --encoding cp1252" in message
    assert "byte offset" in message and "Briain" not in message
    log, _ = ingest(path, encoding="cp1252")
    assert events(log) == [("W1", "Referral", "2024-02-02")]
    assert log.frame["team"].tolist() == ["Team £ Ó Briain"]
    assert [i["encoding"] for i in log.inputs] == ["cp1252"]
    # any spelling of the name is recorded by its canonical name
    log, _ = ingest(path, encoding="Windows-1252")
    assert [i["encoding"] for i in log.inputs] == ["cp1252"]
    assert log.accounts[0].encoding == "cp1252"


def test_utf16_with_bom(tmp_path) -> None:
    """T-ENC-04: Excel "Unicode text" (UTF-16 LE with BOM, tab-separated) is read."""
    lines = [EP.replace(",", "\t"), episode("16", "01/04/2023").replace(",", "\t")]
    path = tmp_path / "e.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-16"))
    log, _ = ingest(path)
    assert events(log) == [("16", "Looked after start", "2023-04-01")]
    assert [i["encoding"] for i in log.inputs] == ["utf-16"]


def test_invalid_bytes_mid_file(tmp_path) -> None:
    """T-ENC-06: no replacement characters; the file is refused with where it broke."""
    path = tmp_path / "e.csv"
    good = f"{EP}\r\n{episode('1', '01/04/2023')}\r\n".encode()
    path.write_bytes(good + b"2,01/04/2023,S,V2,N1,U4,PR1,,,,\xff\xfe,,\r\n")
    code, message = file_error(path)
    assert code == "ENCODING"
    # the bad byte follows "2,01/04/2023,S,V2,N1,U4,PR1,,,," (31 bytes) on the third line
    assert f"at byte offset {len(good) + 31};" in message


def test_empty_file(tmp_path) -> None:
    """T-STR-01."""
    path = tmp_path / "e.csv"
    path.write_bytes(b"")
    assert file_error(path) == ("EMPTY_FILE", f"{path}: EMPTY_FILE: the file is empty")


def test_header_only(tmp_path) -> None:
    """T-STR-02: a table with no rows: accounted 0 = 0, no events."""
    log, read = ingest(write_csv(tmp_path / "e.csv", [EP]))
    assert (log.events, log.cases) == (0, 0)
    assert account(log, "episodes") == acc(0, 0, events=0)
    assert read.errors == []


def test_missing_required_column(tmp_path) -> None:
    """T-STR-03: episodes without DECOM: the file is refused and the column named."""
    path = write_csv(tmp_path / "e.csv", [EP.replace("DECOM,", ""), "1,S,V2,N1,U4,PR1,,,,,,"])
    code, message = file_error(path)
    assert code == "COLUMN_MISSING"
    assert message.endswith("missing column(s): DECOM (for ssda903 episodes)")


def test_extra_columns_ignored_and_listed(tmp_path) -> None:
    """T-STR-04: listed by header in the notes; their values never reach the log."""
    path = write_csv(tmp_path / "e.csv", [f"{EP},Notes,Allocated Worker",
                                          episode("1", "01/04/2023") + ",Mrs Zebedee said,W-77"])
    log, read = ingest(path)
    assert read.notes == [f"{path}: 2 column(s) not used: Notes, Allocated Worker"]
    assert account(log, "episodes") == acc(1, 1, events=1)
    assert "Zebedee" not in log.frame.to_string() and "W-77" not in log.frame.to_string()


def test_ragged_rows_rejected_nothing_shifted(tmp_path) -> None:
    """T-STR-09: rows with too few or too many fields are ROW_SHAPE; the others are intact."""
    path = write_csv(tmp_path / "e.csv", [
        EP,
        episode("1", "01/04/2023", "01/05/2023", "E11"),
        "2,01/04/2023,S,V2,N1,U4,PR1,01/05/2023,E11,,,",       # one field short
        "3,01/04/2023,S,V2,N1,U4,PR1,01/05/2023,E11,,,,,x",    # two fields too many
        episode("4", "02/04/2023", "03/05/2023", "E13"),
    ])
    log, _ = ingest(path)
    assert events(log) == [
        ("1", "Looked after start", "2023-04-01"), ("1", "Left care: adopted", "2023-05-01"),
        ("4", "Looked after start", "2023-04-02"), ("4", "Left care: returned home", "2023-05-03"),
    ]
    assert account(log, "episodes") == acc(4, 2, rejected={"ROW_SHAPE": 2}, events=4)


def test_blank_rows_between_and_after(tmp_path) -> None:
    """T-STR-06: blank rows between data rows are `blank`; those after the last are not rows."""
    path = write_csv(tmp_path / "e.csv", [
        EP, episode("1", "01/04/2023"), ",,,,,,,,,,,,", "", episode("2", "01/04/2023"),
        "", ",,,,,,,,,,,,", " , ,,,,,,,,,,,",
    ])
    log, _ = ingest(path)
    assert account(log, "episodes") == acc(4, 2, blank=2, events=2)


def test_quoted_fields_and_semicolons(tmp_path) -> None:
    """T-STR-08: embedded newlines and commas inside quotes; a `;`-separated export."""
    path = write_csv(tmp_path / "e.csv", [EP, '1,01/04/2023,S,V2,N1,U4,PR1,,,,"AB1, 2","line\nbreak",',
                                          "2,01/04/2023,S,V2,N1,U4,PR1,,,,,,"])
    log, _ = ingest(path)
    assert account(log, "episodes") == acc(2, 2, events=2)
    semi = write_csv(tmp_path / "s.csv", [EP.replace(",", ";"), episode("3", "01/04/2023").replace(",", ";")])
    log, _ = ingest(semi)
    assert events(log) == [("3", "Looked after start", "2023-04-01")]


def test_csv_title_rows_above_the_header(tmp_path) -> None:
    """A list saved as CSV from a workbook keeps its title rows: the header is looked for in
    the first rows (as in a sheet); rows above it are not rows; row numbers are records."""
    path = write_csv(tmp_path / "l3.csv", [
        "List 3: Referrals,,,,", ",,,,", L3, "T1,F,02/02/2024,g) Police,East", ",,,,",
        "T2,M,03/02/2024,g) Police", "T3,M,04/02/2024,5D,West",
    ])
    log, _ = ingest(path)
    assert events(log) == [("T1", "Referral", "2024-02-02"), ("T3", "Referral", "2024-02-04")]
    assert log.frame["source:row"].tolist() == [4, 7]
    assert account(log, "list_3") == acc(4, 2, blank=1, rejected={"ROW_SHAPE": 1}, events=2)


def test_csv_header_cell_with_a_line_break(tmp_path) -> None:
    """Excel writes a header typed with Alt+Enter as a quoted field with a newline."""
    path = write_csv(tmp_path / "l3.csv", ['Child Unique ID,"Date of\nreferral"', "N1,02/02/2024"])
    log, _ = ingest(path)
    assert events(log) == [("N1", "Referral", "2024-02-02")]
    assert log.frame["source:row"].tolist() == [2]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("notes.csv", b"foo,bar,baz\r\n1,2,3\r\n", "UNKNOWN_TABLE"),
        ("report.pdf", b"%PDF-1.4\n...", "UNKNOWN_FORMAT"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "UNKNOWN_FORMAT"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "BROKEN_FILE"),
        ("other.xml", b'<?xml version="1.0"?><Foo><Bar/></Foo>', "UNKNOWN_XML"),
        ("blank.csv", b"\r\n  \r\n", "EMPTY_FILE"),
    ],
)
def test_unknown_file_kinds(tmp_path, name: str, data: bytes, code: str) -> None:
    """T-STR-07 and friends: a file-level error with a code, whatever the file name."""
    path = tmp_path / name
    path.write_bytes(data)
    assert file_error(path)[0] == code


def test_bad_files_are_all_listed_and_keep_going_reads_the_rest(tmp_path) -> None:
    bad1 = tmp_path / "a.csv"
    bad1.write_bytes(b"")
    bad2 = write_csv(tmp_path / "b.csv", ["foo,bar", "1,2"])
    good = write_csv(tmp_path / "c.csv", [EP, episode("1", "01/04/2023")])
    with pytest.raises(InputFilesError) as info:
        ingest(tmp_path)
    assert [(Path(e.path).name, e.code) for e in info.value.errors] == [
        ("a.csv", "EMPTY_FILE"), ("b.csv", "UNKNOWN_TABLE")]
    log, read = ingest(tmp_path, keep_going=True)
    assert events(log) == [("1", "Looked after start", "2023-04-01")]
    assert [a.path for a in log.accounts] == [str(good)]
    assert [e.code for e in read.errors] == ["EMPTY_FILE", "UNKNOWN_TABLE"]
    # keep-going with nothing readable still stops
    with pytest.raises(InputFilesError):
        ingest(bad1, bad2, keep_going=True)


@pytest.mark.parametrize("url", ["https://example.org/annex_a.xlsx", "http://intranet/903.csv",
                                 "ftp://host/cin.xml", "file:///tmp/x.csv"])
def test_url_input_is_a_usage_error(url: str) -> None:
    """T-STR-11: never fetched; the same whether given as text or as a Path."""
    for given in (url, Path(url)):
        with pytest.raises(UsageError, match="only local files and folders"):
            ingest(given)


def test_missing_input_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        ingest(tmp_path / "nope.csv")
    with pytest.raises(UsageError, match="no input files found"):
        ingest(tmp_path)  # an empty folder


# --- XML structure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY x "y">]><Message><Children/></Message>',
        '<?xml version="1.0"?><!DOCTYPE Message SYSTEM "http://example.org/cin.dtd"><Message/>',
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Message>&b;</Message>',
        '<?xml version="1.0"?><!DOCTYPE EXPSSDA903 [<!ENTITY e SYSTEM "file:///etc/passwd">]><EXPSSDA903>&e;</EXPSSDA903>',
    ],
)
def test_xml_with_doctype_or_entities_refused(tmp_path, text: str) -> None:
    path = tmp_path / "r.xml"
    path.write_text(text)
    assert file_error(path)[0] == "XML_FORBIDDEN"


def test_broken_xml(tmp_path) -> None:
    """Not well-formed anywhere in the file: refused, nothing half-read."""
    good = (FIXTURES / "cin_small.xml").read_text()
    path = tmp_path / "cin.xml"
    path.write_text(good.replace("</Children>", ""))
    code, message = file_error(path)
    assert code == "BROKEN_XML" and "not well-formed XML (line" in message
    path.write_text(good[: len(good) // 2])
    assert file_error(path)[0] == "BROKEN_XML"


def test_xml_with_no_children(tmp_path) -> None:
    """A census with no Child elements is read: 0 rows in its child table, no events."""
    path = tmp_path / "cin.xml"
    path.write_text('<?xml version="1.0"?><Message><Header><CollectionDetails>'
                    "<ReferenceDate>2024-03-31</ReferenceDate></CollectionDetails></Header>"
                    "<Children/></Message>")
    log, _ = ingest(path)
    assert (log.events, log.cases, log.as_at) == (0, 0, date(2024, 3, 31))
    assert account(log, "child") == acc(0, 0, events=0)


# --- §3.2 identifiers -------------------------------------------------------------------


def test_blank_ids(tmp_path) -> None:
    """T-ID-01: blank, spaces-only and NBSP-only ids are ID_MISSING."""
    path = write_csv(tmp_path / "e.csv", [
        EP, episode("", "01/04/2023"), episode("  ", "02/04/2023"), episode("\u00a0", "03/04/2023"),
        episode("5", "04/04/2023"),
    ])
    log, _ = ingest(path)
    assert events(log) == [("5", "Looked after start", "2023-04-04")]
    assert account(log, "episodes") == acc(4, 1, rejected={"ID_MISSING": 3}, events=1)


def test_leading_zeros_make_different_children(tmp_path) -> None:
    """T-ID-02: 000123 and 123 are two children; zeros are never lost. Every row whose id
    equals another id of the table once zeros are dropped is flagged (0123 too, and " 123"
    with it: it is 123), 4560 is not (trailing zeros are the id's own), nor the rows of a
    lone 0456."""
    path = write_csv(tmp_path / "e.csv", [
        EP, episode("000123", "01/04/2023"), episode("123", "01/04/2023", "03/04/2023", "X1"),
        episode("0123", "02/04/2023"), episode(" 123", "03/04/2023"),
        episode("0456", "01/04/2023", "05/04/2023", "X1"), episode("4560", "01/04/2023"),
        episode("0456", "05/04/2023"),
    ])
    log, _ = ingest(path)
    assert events(log)[:3] == [("000123", "Looked after start", "2023-04-01"),
                               ("0123", "Looked after start", "2023-04-02"),
                               ("0456", "Looked after start", "2023-04-01")]
    assert log.cases == 5
    assert account(log, "episodes") == acc(7, 7, events=7, flags={
        "ID_LEADING_ZERO_COLLISION_RISK": 4, "ID_NORMALISED": 1})
    # the rows of another table (or file of another table) are not this table's ids
    other = write_csv(tmp_path / "r.csv", ["CHILD,DOB,REVIEW,REVIEW_CODE", "00123,01/01/2015,02/04/2023,PN1"])
    log, _ = ingest(path, other)
    assert account(log, "reviews") == acc(1, 1, events=1)
    # but the files of one table are one table (yearly returns of the same children)
    later = write_csv(tmp_path / "r2.csv", ["CHILD,DOB,REVIEW,REVIEW_CODE", "123,01/01/2015,02/04/2024,PN1"])
    log, _ = ingest(other, later)
    assert [a.flags for a in log.accounts] == [{"ID_LEADING_ZERO_COLLISION_RISK": 1}] * 2


def test_ids_with_invisible_edges_are_one_child(tmp_path) -> None:
    """T-ID-04: spaces, NBSP and a BOM around an id are not part of it."""
    path = write_csv(tmp_path / "e.csv", [
        EP, episode(" 123", "01/04/2023"), episode("123 ", "02/04/2023"),
        episode("123\u00a0", "03/04/2023"), episode("\ufeff123", "04/04/2023"),
    ])
    log, _ = ingest(path)
    assert log.cases == 1 and set(log.frame[CASE]) == {"123"}
    assert log.events == 4
    # the count of id cells cleaning changed: every one here; a clean id is not counted.
    # (One child, so each later open episode overlaps the first: OVERLAP 3.)
    assert account(log, "episodes") == acc(4, 4, events=4, flags={"ID_NORMALISED": 4, "OVERLAP": 3})
    clean = write_csv(tmp_path / "c.csv", [EP, episode("123", "01/04/2023"), episode("124", "01/04/2023")])
    assert ingest(clean)[0].accounts[0].flags == {}
    # in a workbook: a padded text cell is normalised, a number cell is ID_FROM_NUMBER instead
    xlsx = build_xlsx(tmp_path / "l3.xlsx", {"Referrals": [
        ["Child Unique ID", "Date of referral"], [" W1", "02/02/2024"], [7.0, "03/02/2024"], ["W2", "04/02/2024"],
    ]})
    assert account(ingest(xlsx)[0], "list_3") == acc(3, 3, events=3, flags={"ID_NORMALISED": 1, "ID_FROM_NUMBER": 1})


def test_ids_from_numbers(tmp_path) -> None:
    """T-ID-03: a numeric cell 12345(.0) is "12345", flagged; text "12345.0" too;
    E-notation (digits lost) is ID_CORRUPT."""
    xlsx = build_xlsx(tmp_path / "l3.xlsx", {"Referrals": [
        ["Child Unique ID", "Date of referral"],
        [12345.0, "02/02/2024"],
        ["012345", "03/02/2024"],
        ["1.2345E+05", "04/02/2024"],
    ]})
    log, _ = ingest(xlsx)
    assert events(log) == [("012345", "Referral", "2024-02-03"), ("12345", "Referral", "2024-02-02")]
    # 12345 (from the number) and "012345" are two children, each flagged as a possible
    # pair that lost its zeros (T-ID-02)
    assert account(log, "list_3") == acc(3, 2, rejected={"ID_CORRUPT": 1}, events=2,
                                         flags={"ID_FROM_NUMBER": 1, "ID_LEADING_ZERO_COLLISION_RISK": 2})
    csv = write_csv(tmp_path / "e.csv", [EP, episode("12345.0", "01/04/2023")])
    log, _ = ingest(csv)
    assert events(log) == [("12345", "Looked after start", "2023-04-01")]
    assert account(log, "episodes") == acc(1, 1, events=1, flags={"ID_FROM_NUMBER": 1})


# --- §3.3 dates -----------------------------------------------------------------------------


def test_uk_dates_are_day_first(tmp_path) -> None:
    """T-DT-01: 03/04/2021 is 3 April, 02/05/2021 is 2 May; never month-first."""
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "03/04/2021", "02/05/2021", "E13")])
    log, _ = ingest(path)
    assert events(log) == [("1", "Looked after start", "2021-04-03"),
                           ("1", "Left care: returned home", "2021-05-02")]


def test_bad_dates_in_a_903_file(tmp_path) -> None:
    """T-DT-02/03/04/09/12: an impossible date of the right shape is DATE_INVALID; another
    shape (ISO in a dd/mm/YYYY return, two-digit year, text) DATE_FORMAT; blank DATE_MISSING."""
    path = write_csv(tmp_path / "e.csv", [
        EP,
        episode("1", "31/02/2024"),   # DATE_INVALID
        episode("2", "00/01/2021"),   # DATE_INVALID
        episode("3", "01/13/2021"),   # DATE_INVALID (month 13: not US order)
        episode("4", "2021-04-03"),   # DATE_FORMAT
        episode("5", "01/04/21"),     # DATE_FORMAT (two-digit year)
        episode("6", "abc"),          # DATE_FORMAT
        episode("7", "1st April"),    # DATE_FORMAT
        episode("8", ""),             # DATE_MISSING
        episode("9", "01/04/1985"),   # DATE_OUT_OF_RANGE (before 1990)
        episode("10", "03/04/2021 00:00"),   # Excel's text export adds a time: accepted
        episode("11", "04/04/2021", "31/02/2022", "E11"),  # bad end date: start kept, flagged
    ])
    log, _ = ingest(path, as_at=date(2024, 3, 31))
    assert events(log) == [("10", "Looked after start", "2021-04-03"),
                           ("11", "Looked after start", "2021-04-04")]
    assert account(log, "episodes") == acc(
        11, 2, events=2, flags={"DATE_INVALID": 1},
        rejected={"DATE_INVALID": 3, "DATE_FORMAT": 4, "DATE_MISSING": 1, "DATE_OUT_OF_RANGE": 1})


def test_cin_dates_are_iso_only(tmp_path) -> None:
    """A UK-style date inside the CIN census is DATE_FORMAT; 2024-02-30 is DATE_INVALID."""
    text = (FIXTURES / "cin_small.xml").read_text()
    text = text.replace("<CINreferralDate>2024-04-02", "<CINreferralDate>02/04/2024")
    text = text.replace("<AssessmentActualStartDate>2024-06-01", "<AssessmentActualStartDate>2024-02-30")
    path = tmp_path / "cin.xml"
    path.write_text(text)
    log, _ = ingest(path)
    assert account(log, "cindetails") == acc(2, 1, events=2, rejected={"DATE_FORMAT": 1})
    assert account(log, "assessments") == acc(2, 1, events=2, rejected={"DATE_INVALID": 1})
    # 10 - C001's referral - 0042's assessment start; C001's ICPC now comes from Section47
    # alone (its CINdetails row was rejected), so nothing is merged
    assert (log.events, log.merged) == (8, 0)


def test_excel_serials_and_date_cells(tmp_path) -> None:
    """T-DT-05/06: serial 44290 is 2021-04-04 (flagged); real date cells and text dd/mm/YYYY
    in the same column each by their rule; a number that is no plausible day is DATE_FORMAT."""
    path = build_xlsx(tmp_path / "l3.xlsx", {"L3": [
        ["Child Unique ID", "Date of referral"],
        ["S1", 44290],
        ["S2", dt.datetime(2021, 4, 4, 15, 30)],   # a time of day is dropped
        ["S3", "04/04/2021"],
        ["S4", 12.5],
        ["S5", 44290.5],
    ]})
    log, _ = ingest(path)
    assert events(log) == [("S1", "Referral", "2021-04-04"), ("S2", "Referral", "2021-04-04"),
                           ("S3", "Referral", "2021-04-04")]
    assert account(log, "list_3") == acc(5, 3, events=3, rejected={"DATE_FORMAT": 2},
                                         flags={"DATE_FROM_SERIAL": 1})


def test_excel_1904_date_system(tmp_path) -> None:
    """T-DT-05: in a 1904 workbook (old Mac Excel) serial 42828 is also 2021-04-04."""
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["Child Unique ID", "Date of referral"])
    ws.append(["M1", 42828])
    ws.append(["M2", dt.datetime(2021, 4, 4)])
    wb.save(tmp_path / "mac.xlsx")
    log, _ = ingest(tmp_path / "mac.xlsx")
    assert events(log) == [("M1", "Referral", "2021-04-04"), ("M2", "Referral", "2021-04-04")]


def test_future_dates_after_as_at(tmp_path) -> None:
    """T-DT-07: after the as-at date nothing has happened yet: a future start rejects the row,
    a future end is dropped from a row that gave its start (flagged)."""
    path = write_csv(tmp_path / "e.csv", [
        EP, episode("1", "01/04/2023", "01/06/2024", "E11"), episode("2", "01/07/2024"),
    ])
    log, _ = ingest(path, as_at=date(2024, 3, 31))
    assert events(log) == [("1", "Looked after start", "2023-04-01")]
    assert account(log, "episodes") == acc(2, 1, events=1, rejected={"DATE_FUTURE": 1},
                                           flags={"DATE_FUTURE": 1})


def test_future_dates_after_cin_reference_date(tmp_path) -> None:
    """The CIN census's own ReferenceDate is the limit when no as-at date is given."""
    text = (FIXTURES / "cin_small.xml").read_text().replace(
        "<CPPreviewDate>2024-07-15", "<CPPreviewDate>2025-04-15")
    path = tmp_path / "cin.xml"
    path.write_text(text)
    log, _ = ingest(path)
    assert account(log, "cppreviewdate") == acc(1, 0, events=0, rejected={"DATE_FUTURE": 1})
    assert log.events == 9


def test_date_only_events_stay_on_their_day(tmp_path) -> None:
    """T-DT-11: midnight, naive datetime64, never shifted by a time zone."""
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2021"), episode("2", "31/10/2021")])
    log, _ = ingest(path)
    ts = log.frame[TIMESTAMP]
    assert str(ts.dtype) == "datetime64[ns]" and ts.dt.tz is None
    assert ts.tolist() == [pd.Timestamp("2021-04-01"), pd.Timestamp("2021-10-31")]


# --- §3.4 episodes ------------------------------------------------------------------------


def test_end_before_start(tmp_path) -> None:
    """T-EP-01: DEC before DECOM: the start only, flagged END_BEFORE_START."""
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2023", "01/03/2023", "E11")])
    log, _ = ingest(path)
    assert events(log) == [("1", "Looked after start", "2023-04-01")]
    assert account(log, "episodes") == acc(1, 1, events=1, flags={"END_BEFORE_START": 1})


def test_end_before_start_in_annex_a(tmp_path) -> None:
    path = write_csv(tmp_path / "l4.csv", [
        "Child Unique ID,Continuous Assessment Start Date,Continuous Assessment Date of Authorisation",
        "Q1,10/01/2024,09/01/2024", "Q2,10/01/2024,10/01/2024"])
    log, _ = ingest(path)
    assert events(log) == [("Q1", "Assessment start", "2024-01-10"), ("Q2", "Assessment start", "2024-01-10"),
                           ("Q2", "Assessment authorised", "2024-01-10")]
    # Q2's same-day authorisation is kept, and flagged as a zero-duration step (T-EP-10)
    assert account(log, "list_4") == acc(2, 2, events=3, flags={"END_BEFORE_START": 1, "ZERO_DURATION": 1})


def test_open_episode(tmp_path) -> None:
    """T-EP-04: DEC blank: the start only, no problem counted."""
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2023"),
                                          episode("2", "01/04/2023", "01/05/2023", "X1"),
                                          episode("2", "01/05/2023", rne="P")])
    log, _ = ingest(path)
    assert events(log) == [("1", "Looked after start", "2023-04-01"),
                           ("2", "Looked after start", "2023-04-01"), ("2", "Placement change", "2023-05-01")]
    assert account(log, "episodes") == acc(3, 3, events=3)
