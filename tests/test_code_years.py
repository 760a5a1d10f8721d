"""Code lists versioned by collection year (T-CD-04) and the encoding of each input file in
the log's provenance (T-ENC-01/03), hand-worked.

A collection year runs 1 April to 31 March and is named by the year it starts in (2023 is
2023/24). The shipped SSDA903 map declares H5 and P2 valid until 2022/23, K3 from 2023/24 and
Z11–Z14 from 2025/26 (research/domain.md); the year is that of the row's own start date.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cscmining.codes import collection_years
from cscmining.errors import LogMapError
from cscmining.eventlog import read_event_log, write_event_log
from cscmining.logmap import load_logmap

from reading_support import (
    EP,
    FIXTURES,
    acc,
    account,
    build_xlsx,
    events,
    ingest,
    run_cli,
    write_csv,
)

AS_AT = date(2027, 1, 1)


def placed(child: str, decom: str, place: str) -> str:
    """An open episode starting a period of care in placement ``place``."""
    return f"{child},{decom},S,V2,N1,{place},PR1,,,,,,"


def test_collection_year_turns_on_1_april() -> None:
    days = np.array(["2023-03-31", "2023-04-01", "2024-01-15", "2024-03-31", "2024-04-01", "1969-12-31"],
                    dtype="datetime64[ns]")
    assert collection_years(days).tolist() == [2022, 2023, 2023, 2023, 2024, 1969]


def test_placement_code_outside_its_years_is_flagged_and_keeps_its_events(tmp_path) -> None:
    """One file, episodes of several years: each row is held to the list of its own year.

    A H5 2024/25 (flag) · B H5 2022/23, the last year it was valid · C P2 on the first day of
    2023/24 (flag) · D K3 on the last day of 2023/24, its first year · E K3 in 2022/23 (flag)
    · F Z11 in 2025/26 · G Z12 on the last day of 2024/25 (flag) · H U4, not a listed code ·
    I H5 on an impossible date (rejected, so not flagged) · J "k3 " (normalised: K3) in
    2022/23 (flag). Five flags, nine events.
    """
    path = write_csv(tmp_path / "episodes.csv", [
        EP, placed("A", "01/05/2024", "H5"), placed("B", "31/03/2023", "H5"),
        placed("C", "01/04/2023", "P2"), placed("D", "31/03/2024", "K3"),
        placed("E", "31/03/2023", "K3"), placed("F", "31/03/2026", "Z11"),
        placed("G", "31/03/2025", "Z12"), placed("H", "01/05/2024", "U4"),
        placed("I", "31/02/2024", "H5"), placed("J", "01/04/2022", "k3 "),
    ])
    log, _ = ingest(path, as_at=AS_AT)
    assert account(log, "episodes") == acc(10, 9, rejected={"DATE_INVALID": 1}, events=9,
                                           flags={"CODE_WRONG_YEAR": 5})
    assert ("A", "Looked after start", "2024-05-01") in events(log)
    placements = dict(zip(log.frame["case:concept:name"], log.frame["placement_type"]))
    assert placements["A"] == "H5" and placements["J"] == "k3"


def test_the_row_date_not_the_file_sets_the_year(tmp_path) -> None:
    """A H5 episode begun in 2021/22 is open in the 2022/23 return and comes again, closed in
    2024/25, in the 2024/25 return: it is right in both, coded with the list valid when it
    began (its end date does not move it either). The later row supersedes the earlier; only
    B, a H5 episode begun in 2024/25, is flagged."""
    (tmp_path / "2023").mkdir()
    (tmp_path / "2025").mkdir()
    old = write_csv(tmp_path / "2023" / "episodes.csv", [EP, placed("A", "10/10/2021", "H5")])
    new = write_csv(tmp_path / "2025" / "episodes.csv",
                    [EP, "A,10/10/2021,S,V2,N1,H5,PR1,01/06/2024,E13,,,,", placed("B", "10/10/2024", "H5")])
    log, _ = ingest(old, new, as_at=AS_AT)
    by_file = {Path(a.path).parent.name: (a.used, dict(a.rejected), dict(a.flags)) for a in log.accounts}
    assert by_file == {"2023": (0, {"SUPERSEDED": 1}, {}), "2025": (2, {}, {"CODE_WRONG_YEAR": 1})}


def test_code_years_come_from_the_logmap(tmp_path) -> None:
    """The years are data: a user's map declares its own, checked like every other key."""
    text = """
source: lcs
tables:
  - name: placements
    columns: {ID: [], START: [], TYPE: []}
    required: [ID, START, TYPE]
    id: ID
    normalise: {TYPE: upper}
    events:
      - {activity: Placement change, date: START}
    code_years:
      TYPE:
        date: START
        codes:
          OLD: {valid_until: 2019}
          NEW: {valid_from: 2020, valid_until: 2021}
"""
    logmap = tmp_path / "lcs.yaml"
    logmap.write_text(text)
    data = write_csv(tmp_path / "p.csv", ["ID,START,TYPE", "1,31/03/2020,old", "2,01/04/2020,OLD",
                                          "3,01/04/2020,new", "4,01/04/2022,NEW", "5,01/04/2022,other"])
    log, _ = ingest(data, logmaps=[logmap], as_at=AS_AT)
    assert account(log, "placements") == acc(5, 5, events=5, flags={"CODE_WRONG_YEAR": 2})

    for bad, message in [
        ("OLD: {valid_from: 2021, valid_until: 2019}", "valid_from is after valid_until"),
        ("OLD: {}", "give valid_from, valid_until or both"),
        ("OLD: {valid_until: 2019, typo: 1}", "Extra inputs are not permitted"),
    ]:
        logmap.write_text(text.replace("OLD: {valid_until: 2019}", bad))
        with pytest.raises(LogMapError, match=message):
            load_logmap(logmap)
    logmap.write_text(text.replace("date: START", "date: END"))
    with pytest.raises(LogMapError, match="columns used but not defined under `columns`: END"):
        load_logmap(logmap)


def test_shipped_ssda903_years() -> None:
    """What domain.md says, declared in the shipped map (not in engine code)."""
    episodes = load_logmap(Path(__file__).parents[1] / "logmaps" / "ssda903.yaml").table("episodes")
    years = episodes.code_years["PLACE"]
    assert years.date == "DECOM"
    assert {code: (v.valid_from, v.valid_until) for code, v in years.codes.items()} == {
        "H5": (None, 2022), "P2": (None, 2022), "K3": (2023, None),
        "Z11": (2025, None), "Z12": (2025, None), "Z13": (2025, None), "Z14": (2025, None),
    }


# --- encodings in the provenance -------------------------------------------------------------


def test_every_kind_of_file_records_its_encoding(tmp_path) -> None:
    """CSV by how it was decoded, XML by its BOM or declaration, a workbook as xlsx; the
    encodings survive writing and reading the log."""
    xml = tmp_path / "903.xml"
    xml.write_bytes((FIXTURES / "ssda903.xml").read_bytes().replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"'))
    xlsx = build_xlsx(tmp_path / "l3.xlsx", {"Referrals": [["Child Unique ID", "Date of referral"], ["W1", "02/02/2024"]]})
    log, read = ingest(FIXTURES / "ssda903.xml", xml, xlsx)
    assert {Path(p).name: e for p, e in read.encodings.items()} == {
        "ssda903.xml": "utf-8", "903.xml": "iso8859-1", "l3.xlsx": "xlsx"}
    write_event_log(log, tmp_path / "log.parquet")
    again = read_event_log(tmp_path / "log.parquet")
    # (inputs are in order of their full paths, which depends on where the checkout is)
    assert sorted((Path(i["path"]).name, i["encoding"]) for i in again.inputs) == [
        ("903.xml", "iso8859-1"), ("l3.xlsx", "xlsx"), ("ssda903.xml", "utf-8")]
    assert {a.encoding for a in again.accounts} == {"utf-8", "iso8859-1", "xlsx"}


def test_a_file_skipped_with_keep_going_has_no_encoding(tmp_path) -> None:
    good = write_csv(tmp_path / "a.csv", [EP, placed("A", "01/05/2024", "U4")])
    bad = write_csv(tmp_path / "b.csv", [EP, placed("B", "01/05/2024", "U4 £")], encoding="cp1252")
    log, _ = ingest(good, bad, keep_going=True, as_at=AS_AT)
    assert [sorted(i) for i in log.inputs] == [["encoding", "path", "sha256"], ["path", "sha256"]]


def test_ingest_json_files_name_their_encoding(tmp_path) -> None:
    path = write_csv(tmp_path / "e.csv", [EP, placed("A", "01/05/2024", "H5")], encoding="cp1252")
    code, stdout, stderr = run_cli("ingest", path, "-o", tmp_path / "log.parquet", "--json",
                                   "--encoding", "cp1252", "--as-at", "2025-01-01")
    assert code == 0, stderr
    (entry,) = json.loads(stdout)["files"]
    assert (entry["encoding"], entry["flags"]) == ("cp1252", {"CODE_WRONG_YEAR": 1})
