"""The two XML returns: the CIN census and SSDA903 as XML.

Both are parsed safely and streamed one child at a time: each child's element is read,
turned into rows, then cleared *and* detached from its parent, so the document tree never
grows however large the file. Each record element becomes one row of a table named after
it, carrying the child's identifier; the logmaps then read those tables exactly as they
read CSV files. Rows are kept column by column (`_Rows`), each repeated value (dates,
codes) stored once, and become Arrow text columns.

Safety: the prolog is read with defusedxml (`root_tag`), which refuses a DOCTYPE and so any
entity declaration or external reference (both can only be declared in a DOCTYPE, which can
only come before the document element). Past that point a DOCTYPE is a syntax error to any
XML parser, so the body is read with lxml's C parser, told all the same to resolve no
entities, load no DTD, touch no network and keep its limits on depth and text size.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import ParseError, TreeBuilder

import defusedxml.ElementTree as SafeET
import pandas as pd
import pyarrow as pa
from defusedxml import DefusedXmlException
from lxml import etree

from ..errors import InputFileError
from .base import ROW, RawTable

CIN_ROOT = "Message"
SSDA903_ROOT = "EXPSSDA903"


#: tag -> local name (without a namespace): a file repeats a few dozen tags a million times
_LOCAL_NAMES: dict[str, str] = {}
#: a file inventing tags by the million does not get them all remembered
_LOCAL_NAMES_MAX = 4096


def _local(tag: str) -> str:
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1]
        if len(_LOCAL_NAMES) < _LOCAL_NAMES_MAX:
            _LOCAL_NAMES[tag] = name
    return name


def _leaves(elem: etree._Element) -> dict[str, str | None]:
    """The element's childless children as name -> stripped text."""
    out: dict[str, str | None] = {}
    local = _LOCAL_NAMES.get
    for child in elem:
        if not len(child):
            text = child.text
            out[local(child.tag) or _local(child.tag)] = (text.strip() or None) if text else None
    return out


def root_tag(path: Path) -> str:
    """The local name of the document element, read safely from the start of the file."""
    try:
        with _utf8_source(path) as (source, override):
            parser = SafeET.DefusedXMLParser(target=TreeBuilder(), encoding=override, forbid_dtd=True)
            for _event, elem in SafeET.iterparse(source, events=("start",), parser=parser):
                return _local(elem.tag)
    except DefusedXmlException:
        raise InputFileError(path, "XML_FORBIDDEN", "the XML has a DOCTYPE or entity declarations, which are refused") from None
    except ParseError as exc:
        raise InputFileError(path, "BROKEN_XML", f"not well-formed XML (line {exc.position[0]})") from None
    except ValueError:  # expat on an encoding it cannot read that `_utf8_source` did not see
        raise InputFileError(path, "ENCODING", "the XML's text encoding cannot be read; save it as UTF-8") from None
    raise InputFileError(path, "EMPTY_FILE", "the XML has no document element")


#: the encoding an XML declaration names (within the first line)
_XML_DECLARED = re.compile(rb"^<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']")
#: bytes enough to hold a BOM and the XML declaration
_PROLOG_BYTES = 512


def xml_encoding(data: bytes) -> str:
    """How an XML file's text is decoded, as the XML rules decide it: a BOM (UTF-8 or
    UTF-16), else the encoding its declaration names (canonical codec name), else UTF-8. A
    name Python does not know raises LookupError."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((b"<\x00", b"\x00<")):  # UTF-16 without a BOM (XML 1.0, appendix F)
        return "utf-16-le" if data[0] == ord("<") else "utf-16-be"
    declared = _XML_DECLARED.match(data[:_PROLOG_BYTES].lstrip())
    if declared is None:
        return "utf-8"
    return codecs.lookup(declared[1].decode("ascii")).name


@contextmanager
def _utf8_source(path: Path) -> Iterator[tuple[BinaryIO, str]]:
    """The file open for an XML parser, and the encoding the parser must then assume.

    A UTF-8 file is handed over as it is. Any other is decoded by Python, which knows more
    encodings than either parser (expat reads no multi-byte legacy encoding; libxml2 knows
    other names), and handed over as UTF-8, chunk by chunk: the parser is told so, since the
    declaration still names the original. A name nobody knows, or bytes that are not valid
    in the encoding, is an ``ENCODING`` error.
    """
    with path.open("rb") as fh:
        try:
            encoding = xml_encoding(fh.read(_PROLOG_BYTES))
        except LookupError:
            raise InputFileError(path, "ENCODING", "the XML declares an unknown text encoding") from None
        fh.seek(0)
        if encoding in ("utf-8", "utf-8-sig"):  # (told so: libxml2 knows not every alias)
            yield fh, "utf-8"
            return
        try:
            yield _Utf8Reader(fh, encoding), "utf-8"
        except UnicodeDecodeError as exc:
            raise InputFileError(path, "ENCODING", f"not valid {encoding} text at byte offset {exc.start}") from None
        except UnicodeError:  # e.g. UTF-16 declared, but no byte order mark to read it by
            raise InputFileError(path, "ENCODING", f"not valid {encoding} text") from None


class _Utf8Reader(io.RawIOBase):
    """A binary file of text in ``encoding``, read as the same text in UTF-8. A decoding
    error gives the offset of the bad byte in the file."""

    def __init__(self, raw: BinaryIO, encoding: str) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self._pending = b""
        self._done = False
        self._offset = 0  # bytes of the file read so far

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._pending) < size):
            chunk = self._raw.read(1 << 16)
            self._done = not chunk
            # the decoder may hold the first bytes of a character from the chunk before
            start = self._offset - len(self._decoder.getstate()[0])
            self._offset += len(chunk)
            try:
                text = self._decoder.decode(chunk, final=self._done)
            except UnicodeDecodeError as exc:
                exc.start += start
                raise
            self._pending += text.encode("utf-8")
        if size < 0:
            size = len(self._pending)
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


def _stream(path: Path, record: str) -> Iterator[tuple[str, etree._Element]]:
    """(tag, element) for each ``CollectionDetails`` and each ``record`` element; a record is
    cleared, and the records before it removed, once the caller is done with it.

    lxml picks out the wanted elements in C (``tag=``): the standard library's parser would
    hand Python every start and end of every leaf, five million events for an LA's census.
    """
    root_tag(path)  # refuses a DOCTYPE (and so entities) before the body is parsed
    wanted = (f"{{*}}{record}", "{*}CollectionDetails")
    with _utf8_source(path) as (source, override):
        events = etree.iterparse(
            source, events=("end",), tag=wanted, encoding=override, resolve_entities=False,
            no_network=True, load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True,
        )
        try:
            for _event, elem in events:
                tag = _local(elem.tag)
                yield tag, elem
                if tag == record:
                    elem.clear(keep_tail=False)
                    parent = elem.getparent()
                    while parent is not None and elem.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            raise InputFileError(path, "BROKEN_XML", f"not well-formed XML (line {exc.position[0]})") from None


class _Rows:
    """The rows of one table, column by column; a value seen before is stored once.

    A list of one dict per row costs some 500 bytes a row before any value; here a row costs
    one reference per column, and the thousands of rows sharing a date or a code share one
    string.
    """

    def __init__(self) -> None:
        self.columns: dict[str, list[str | None]] = {}
        self.count = 0
        self._seen: dict[str, str] = {}

    def add(self, row: dict[str, str | None]) -> None:
        seen, count = self._seen, self.count
        for name, value in row.items():
            column = self.columns.get(name)
            if column is None:
                column = self.columns[name] = [None] * count
            elif len(column) < count:  # rows without this field
                column.extend([None] * (count - len(column)))
            column.append(value if value is None else seen.setdefault(value, value))
        self.count = count + 1

    def frame(self) -> pd.DataFrame:
        """The rows as a frame of Arrow text columns, in order of first appearance."""
        out = {}
        for name in list(self.columns):
            column = self.columns.pop(name)
            column.extend([None] * (self.count - len(column)))
            out[name] = pd.Series(pa.array(column, type=pa.large_string()), dtype="str")
        self._seen.clear()
        return pd.DataFrame(out, index=pd.RangeIndex(self.count))


def _tables(path: Path, source: str, rows: dict[str, _Rows], reference: date | None) -> list[RawTable]:
    """One table per record element found; the child table always, so that a return with no
    children still appears in the accounts (0 rows read, like a CSV with only a header)."""
    tables = []
    for name, records in rows.items():
        if not records.count and name != "child":  # a table the file does not contain has no rows
            continue
        frame = records.frame()
        frame[ROW] = range(1, len(frame) + 1)
        tables.append(RawTable(path=path, source=source, table=name, frame=frame,
                               rows_read=records.count, reference_date=reference, unit="record"))
    return tables


def read_cin_census(path: Path) -> list[RawTable]:
    """CIN census XML (2017–2026 shapes) as tables child, cindetails, assessments, …"""
    rows = {t: _Rows() for t in ("child", "cindetails", "assessments", "cinplandates", "section47",
                                 "childprotectionplans", "cppreviewdate")}
    reference: date | None = None
    for tag, elem in _stream(path, "Child"):
        if tag == "CollectionDetails":
            ref = _leaves(elem).get("ReferenceDate")
            reference = _iso_date(ref)
            continue
        if tag != "Child":
            continue
        _cin_child(elem, rows)
    return _tables(path, "cin_census", rows, reference)


def _iso_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _cin_child(child: etree._Element, rows: dict[str, _Rows]) -> None:
    ident: dict[str, str | None] = {}
    chars: dict[str, str | None] = {}
    for part in child:
        name = _local(part.tag)
        if name == "ChildIdentifiers":
            ident = _leaves(part)
        elif name == "ChildCharacteristics":
            chars = _leaves(part)
    child_id = ident.get("LAchildID")
    rows["child"].add({
        "LAchildID": child_id,
        # GenderCurrent (to 2024) and Sex (2025 on) are one attribute
        "Sex": ident.get("Sex") or ident.get("GenderCurrent"),
        "Ethnicity": chars.get("Ethnicity"),
        "PersonBirthDate": ident.get("PersonBirthDate"),
    })
    for details in child:
        if _local(details.tag) != "CINdetails":
            continue
        rows["cindetails"].add({"LAchildID": child_id, **_leaves(details)})
        for block in details:
            name = _local(block.tag)
            if name == "Assessments":
                rows["assessments"].add({"LAchildID": child_id, **_leaves(block)})
            elif name == "CINPlanDates":
                rows["cinplandates"].add({"LAchildID": child_id, **_leaves(block)})
            elif name == "Section47":
                rows["section47"].add({"LAchildID": child_id, **_leaves(block)})
            elif name == "ChildProtectionPlans":
                rows["childprotectionplans"].add({"LAchildID": child_id, **_leaves(block)})
                for review in block.iter():
                    if _local(review.tag) == "CPPreviewDate":
                        text = review.text.strip() if review.text else None
                        rows["cppreviewdate"].add({"LAchildID": child_id, "CPPreviewDate": text or None})


_RENAME_903 = {"CHILDID": "CHILD", "PL": "PLACE"}


def read_ssda903_xml(path: Path) -> list[RawTable]:
    """SSDA903 XML (EXPSSDA903/CHILD/HEADER|EPISODE) as the tables of the CSV set."""
    rows = {t: _Rows() for t in ("child", "episodes", "reviews", "missing", "placed_adoption")}
    for tag, elem in _stream(path, "CHILD"):
        if tag == "CHILD":
            _903_child(elem, rows)
    return _tables(path, "ssda903", rows, None)


def _903_child(child: etree._Element, rows: dict[str, _Rows]) -> None:
    header: dict[str, str | None] = {}
    for part in child:
        if _local(part.tag) == "HEADER":
            header = {_RENAME_903.get(k, k): v for k, v in _leaves(part).items()}
    if not header:
        header = {_RENAME_903.get(k, k): v for k, v in _leaves(child).items()}
    child_id, dob = header.get("CHILD"), header.get("DOB")
    rows["child"].add(header)
    tables = {"EPISODE": "episodes", "AREVIEW": "reviews", "AMISSING": "missing",
              "AD_PLACED": "placed_adoption"}
    for elem in child.iter():
        table = tables.get(_local(elem.tag))
        if table:
            fields = {_RENAME_903.get(k, k): v for k, v in _leaves(elem).items()}
            rows[table].add({"CHILD": child_id, "DOB": dob, **fields})


READERS = {CIN_ROOT: read_cin_census, SSDA903_ROOT: read_ssda903_xml}


def read_xml(path: Path) -> list[RawTable]:
    """Recognise the return by its document element and read it."""
    root = root_tag(path)
    reader = READERS.get(root)
    if reader is None:
        raise InputFileError(
            path, "UNKNOWN_XML",
            f"XML root <{root}> is neither a CIN census (<Message>) nor an SSDA903 return (<EXPSSDA903>)",
        )
    return reader(path)
