"""The two XML returns: the CIN census and SSDA903 as XML.

Both are parsed safely (defusedxml: no DTD, no entities) and streamed one child at a time,
so memory stays flat however large the file. Each record element becomes one row of a table
named after it, carrying the child's identifier; the logmaps then read those tables exactly
as they read CSV files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
import pandas as pd
from defusedxml import DefusedXmlException

from ..errors import InputFileError
from .base import ROW, RawTable

CIN_ROOT = "Message"
SSDA903_ROOT = "EXPSSDA903"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _leaves(elem: Element) -> dict[str, str | None]:
    """The element's childless children as name -> stripped text."""
    out: dict[str, str | None] = {}
    for child in elem:
        if len(child) == 0:
            text = child.text.strip() if child.text else None
            out[_local(child.tag)] = text or None
    return out


def root_tag(path: Path) -> str:
    """The local name of the document element, read safely from the start of the file."""
    try:
        for _event, elem in SafeET.iterparse(str(path), events=("start",), forbid_dtd=True):
            return _local(elem.tag)
    except DefusedXmlException:
        raise InputFileError(path, "XML_FORBIDDEN", "the XML has a DOCTYPE or entity declarations, which are refused") from None
    except ParseError as exc:
        raise InputFileError(path, "BROKEN_XML", f"not well-formed XML (line {exc.position[0]})") from None
    raise InputFileError(path, "EMPTY_FILE", "the XML has no document element")


def _stream(path: Path, record: str) -> Iterator[tuple[str, Element]]:
    """(tag, element) for the header elements and each ``record`` element, then frees it."""
    try:
        context = SafeET.iterparse(str(path), events=("end",), forbid_dtd=True)
        for _event, elem in context:
            tag = _local(elem.tag)
            if tag in (record, "Header", "CollectionDetails"):
                yield tag, elem
                if tag == record:
                    elem.clear()
    except DefusedXmlException:
        raise InputFileError(path, "XML_FORBIDDEN", "the XML has a DOCTYPE or entity declarations, which are refused") from None
    except ParseError as exc:
        raise InputFileError(path, "BROKEN_XML", f"not well-formed XML (line {exc.position[0]})") from None


def _tables(path: Path, source: str, rows: dict[str, list[dict[str, Any]]], reference: date | None) -> list[RawTable]:
    """One table per record element found; the child table always, so that a return with no
    children still appears in the accounts (0 rows read, like a CSV with only a header)."""
    tables = []
    for name, records in rows.items():
        if not records and name != "child":  # a table the file does not contain has no rows
            continue
        frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
        frame[ROW] = range(1, len(frame) + 1)
        tables.append(RawTable(path=path, source=source, table=name, frame=frame,
                               reference_date=reference, unit="record"))
    return tables


def read_cin_census(path: Path) -> list[RawTable]:
    """CIN census XML (2017–2026 shapes) as tables child, cindetails, assessments, …"""
    rows: dict[str, list[dict[str, Any]]] = {
        t: [] for t in ("child", "cindetails", "assessments", "cinplandates", "section47",
                        "childprotectionplans", "cppreviewdate")
    }
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


def _cin_child(child: Element, rows: dict[str, list[dict[str, Any]]]) -> None:
    ident: dict[str, str | None] = {}
    chars: dict[str, str | None] = {}
    for part in child:
        name = _local(part.tag)
        if name == "ChildIdentifiers":
            ident = _leaves(part)
        elif name == "ChildCharacteristics":
            chars = _leaves(part)
    child_id = ident.get("LAchildID")
    rows["child"].append({
        "LAchildID": child_id,
        # GenderCurrent (to 2024) and Sex (2025 on) are one attribute
        "Sex": ident.get("Sex") or ident.get("GenderCurrent"),
        "Ethnicity": chars.get("Ethnicity"),
        "PersonBirthDate": ident.get("PersonBirthDate"),
    })
    for details in child:
        if _local(details.tag) != "CINdetails":
            continue
        rows["cindetails"].append({"LAchildID": child_id, **_leaves(details)})
        for block in details:
            name = _local(block.tag)
            if name == "Assessments":
                rows["assessments"].append({"LAchildID": child_id, **_leaves(block)})
            elif name == "CINPlanDates":
                rows["cinplandates"].append({"LAchildID": child_id, **_leaves(block)})
            elif name == "Section47":
                rows["section47"].append({"LAchildID": child_id, **_leaves(block)})
            elif name == "ChildProtectionPlans":
                rows["childprotectionplans"].append({"LAchildID": child_id, **_leaves(block)})
                for review in block.iter():
                    if _local(review.tag) == "CPPreviewDate":
                        text = review.text.strip() if review.text else None
                        rows["cppreviewdate"].append({"LAchildID": child_id, "CPPreviewDate": text or None})


_RENAME_903 = {"CHILDID": "CHILD", "PL": "PLACE"}


def read_ssda903_xml(path: Path) -> list[RawTable]:
    """SSDA903 XML (EXPSSDA903/CHILD/HEADER|EPISODE) as the tables of the CSV set."""
    rows: dict[str, list[dict[str, Any]]] = {
        t: [] for t in ("child", "episodes", "reviews", "missing", "placed_adoption")
    }
    for tag, elem in _stream(path, "CHILD"):
        if tag == "CHILD":
            _903_child(elem, rows)
    return _tables(path, "ssda903", rows, None)


def _903_child(child: Element, rows: dict[str, list[dict[str, Any]]]) -> None:
    header: dict[str, str | None] = {}
    for part in child:
        if _local(part.tag) == "HEADER":
            header = {_RENAME_903.get(k, k): v for k, v in _leaves(part).items()}
    if not header:
        header = {_RENAME_903.get(k, k): v for k, v in _leaves(child).items()}
    child_id, dob = header.get("CHILD"), header.get("DOB")
    rows["child"].append(header)
    tables = {"EPISODE": "episodes", "AREVIEW": "reviews", "AMISSING": "missing",
              "AD_PLACED": "placed_adoption"}
    for elem in child.iter():
        table = tables.get(_local(elem.tag))
        if table:
            fields = {_RENAME_903.get(k, k): v for k, v in _leaves(elem).items()}
            rows[table].append({"CHILD": child_id, "DOB": dob, **fields})


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
