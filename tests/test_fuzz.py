"""A bounded fuzz of every reader (TST-3, T-FUZ-01): random and mutated bytes in, and out comes
either a log whose accounts balance or one of cscmining's own typed errors
(`CscMiningError`), never another exception.

Hypothesis drives it (`st.binary()` and byte mutations of real returns), derandomized and
bounded for CI; set CSCMINING_HYPOTHESIS_EXAMPLES (and CSCMINING_HYPOTHESIS_RANDOM=1) for a
longer hunt. Atheris would need a libFuzzer build of CPython for coverage guidance; Hypothesis
keeps the same contract and runs everywhere.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cscmining.errors import CscMiningError
from cscmining.ingest import _shipped_maps, build_event_log
from cscmining.sources.tabular import Candidate, read_csv_table, read_xlsx_tables
from cscmining.sources.xml import read_xml

from reading_support import FIXTURES, build_annex_a_xlsx

EXAMPLES = int(os.environ.get("CSCMINING_HYPOTHESIS_EXAMPLES", "0")) or None
RANDOM = bool(os.environ.get("CSCMINING_HYPOTHESIS_RANDOM"))


def budget(examples: int) -> settings:
    """Fixed examples and bounded time in CI; no shrinking (the failing input is printed)."""
    return settings(max_examples=EXAMPLES or examples, derandomize=not RANDOM, deadline=None,
                    database=None, phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if RANDOM else [])],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def candidates() -> list[Candidate]:
    return [Candidate(m, t) for m in _shipped_maps() for t in m.tables]


def typed_or_balanced(name: str, data: bytes, reader=None) -> None:
    """The contract: a reader (or the whole ingest) gives a result or a `CscMiningError`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        if reader is not None:
            try:
                reader(path, data)
            except CscMiningError:
                pass
        try:
            log, _ = build_event_log([path])
        except CscMiningError:
            return
    for account in log.accounts:
        account.check()
    assert sum(a.events for a in log.accounts) == log.events + log.merged


def read_csv(path: Path, data: bytes) -> None:
    read_csv_table(path, data, None, candidates())


def read_xlsx(path: Path, _data: bytes) -> None:
    read_xlsx_tables(path, candidates())


def read_any_xml(path: Path, _data: bytes) -> None:
    read_xml(path)


def mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with a few spans replaced by random bytes, cut short, or doubled."""
    @st.composite
    def mutate(draw) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            span = draw(st.integers(0, 16))
            data[at:at + span] = draw(st.binary(max_size=16))
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
        return bytes(data)
    return mutate()


# --- CSV ---------------------------------------------------------------------------------

HEADERS = [
    b"CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\r\n",
    b"CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\r\n",
    b"Child Unique ID,Gender,Date of referral,Referral Source\r\n",
    b"\xef\xbb\xbfChild Unique ID;Continuous Assessment Start Date;Continuous Assessment Date of Authorisation\n",
    b"\xff\xfeC\x00H\x00I\x00L\x00D\x00,\x00D\x00E\x00C\x00O\x00M\x00,\x00R\x00N\x00E\x00\n\x00",
]
CELL_TEXT = st.text(alphabet=st.sampled_from(list(',;"\r\n\t |0123456789/-.:AEeSTXZ\u00a0\ufeff\u202e\x00é£')),
                    max_size=80)


@given(st.binary(max_size=400))
@budget(50)
def test_csv_random_bytes(data: bytes) -> None:
    typed_or_balanced("x.csv", data, read_csv)


@given(header=st.sampled_from(HEADERS), body=st.one_of(st.binary(max_size=300), CELL_TEXT.map(str.encode)))
@budget(25)
def test_csv_known_header_random_body(header: bytes, body: bytes) -> None:
    typed_or_balanced("x.csv", header + body, read_csv)


#: cells that look like the data: dates in and out of shape and range, codes, ids, numbers
LIKE_DATA = st.one_of(
    # any four-digit year: 1023 and 9999 are as likely in an export as 2023
    st.from_regex(r"\A[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}\Z"),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?\Z"),
    st.from_regex(r"\A[0-9]{1,6}(\.0+|[eE][+-]?[0-9]{1,3})?\Z"),
    st.sampled_from(["", " ", "S", "P", "L", "B", "U", "X1", "E11", "E45: SGO", "A3", "U4", "a) Adopted",
                     "\u00a0", "\ufeff12", "=HYPERLINK(1)", "NaN", "None", "null", "#N/A"]),
)


@given(header=st.sampled_from(HEADERS[:4]), rows=st.lists(st.lists(LIKE_DATA, min_size=1, max_size=14), max_size=10))
@budget(15)
def test_csv_rows_of_data_like_cells(header: bytes, rows: list[list[str]]) -> None:
    delimiter = ";" if b";" in header else ","
    body = "\r\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in row) for row in rows)
    typed_or_balanced("x.csv", header + body.encode("utf-8"), read_csv)


@given(mutations((FIXTURES / "ssda903_csv" / "episodes.csv").read_bytes()))
@budget(20)
def test_csv_mutated_episodes(data: bytes) -> None:
    typed_or_balanced("episodes.csv", data, read_csv)


# --- XML ---------------------------------------------------------------------------------

XML_TEXT = st.text(alphabet=st.sampled_from(list("<>/=\"' &;#x0123456789abcdefCINdtlsReferralDate-:\n\u00e9\x00\ud7ff")),
                   max_size=120)
CIN = (FIXTURES / "cin_small.xml").read_bytes()
SSDA903 = (FIXTURES / "ssda903.xml").read_bytes()


@given(st.one_of(st.binary(max_size=400).map(lambda b: b"<" + b),
                 st.binary(max_size=200).map(lambda b: b'<?xml version="1.0" encoding="' + b)))
@budget(50)
def test_xml_random_bytes(data: bytes) -> None:
    typed_or_balanced("x.xml", data, read_any_xml)


@given(st.sampled_from([
    b"<Message><Children><Child>%s</Child></Children></Message>",
    b"<Message><Children><Child><ChildIdentifiers><LAchildID>1</LAchildID></ChildIdentifiers>"
    b"<CINdetails>%s</CINdetails></Child></Children></Message>",
    b"<EXPSSDA903><CHILD><HEADER><CHILDID>1</CHILDID></HEADER><EPISODE>%s</EPISODE></CHILD></EXPSSDA903>",
]), XML_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
@budget(25)
def test_xml_known_shape_random_content(skeleton: bytes, inner: bytes) -> None:
    typed_or_balanced("x.xml", skeleton % inner, read_any_xml)


@given(st.one_of(mutations(CIN), mutations(SSDA903)))
@budget(30)
def test_xml_mutated_returns(data: bytes) -> None:
    typed_or_balanced("r.xml", data, read_any_xml)


# --- xlsx ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> bytes:
    return build_annex_a_xlsx(tmp_path_factory.mktemp("fuzz") / "a.xlsx").read_bytes()


@given(st.binary(max_size=400).map(lambda b: b"PK\x03\x04" + b))
@budget(40)
def test_xlsx_random_bytes(data: bytes) -> None:
    typed_or_balanced("x.xlsx", data, read_xlsx)


@given(data=st.data())
@budget(15)
def test_xlsx_mutated_workbook(workbook: bytes, data) -> None:
    typed_or_balanced("a.xlsx", data.draw(mutations(workbook)), read_xlsx)


CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True),
    # beyond pandas' nanosecond range (1677-2262) too: 31/12/9999 is a common placeholder
    st.datetimes(min_value=dt.datetime(1900, 3, 1)), st.dates(min_value=dt.date(1900, 3, 1)), st.times(),
    CELL_TEXT, st.sampled_from(["01/04/2023", "2023-04-01", "=1+1", "#N/A", "a) Adopted", "E11", "1.2345E+05"]),
)


@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=9), max_size=8), title=st.booleans())
@budget(15)
def test_xlsx_any_cell_values(rows: list[list[object]], title: bool) -> None:
    """Annex A list 8's header, then cells of every type Excel can hold, in every column."""
    from openpyxl import Workbook

    header = ["Child Unique ID", "Gender", "Date Started to be Looked After", "Start date of current legal status",
              "Date of Latest Statutory Review", "Date Ceased to be Looked After",
              "Reason Ceased to be Looked After", "Start Date of Most Recent Placement", "Placement Type"]
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append(["List 8: Children in care"])
    ws.append(header)
    for row in rows:
        ws.append([_storable(v) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    typed_or_balanced("l8.xlsx", buffer.getvalue(), read_xlsx)


def _storable(value: object) -> object:
    """What openpyxl can write: text without control characters, finite or not numbers."""
    if isinstance(value, str):
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", "", value)
    return value


def test_the_contract_would_catch_an_untyped_error(monkeypatch) -> None:
    """The harness fails on any exception that is not cscmining's own."""
    import cscmining.ingest as ingest_module

    def broken(*_a, **_k):
        raise ValueError("a parser bug")

    monkeypatch.setattr(ingest_module, "read_files", broken)
    with pytest.raises(ValueError):
        typed_or_balanced("x.csv", HEADERS[0] + b"1,01/04/2023,S,V2,N1,U4,PR1,,,,,,\r\n")


def test_zip_files_that_are_not_workbooks(tmp_path: Path) -> None:
    """A zip holding anything else (a docx, an empty zip) is a typed error too."""
    for name, members in (("empty.xlsx", {}), ("doc.xlsx", {"word/document.xml": b"<w:document/>"}),
                          ("junk.xlsx", {"xl/workbook.xml": b"not xml", "[Content_Types].xml": b"<"})):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for member, content in members.items():
                zf.writestr(member, content)
        typed_or_balanced(name, buffer.getvalue(), read_xlsx)
