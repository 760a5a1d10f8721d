"""The reading cases of research/reliability.md §3.1–§3.5 and §3.9 that
`test_reading_cases.py` does not already cover (see tests/CATALOGUE.md for the map).

Cases whose expected behaviour is not built yet are strict xfails with the reason: they turn
into failures (and must lose their mark) the day the behaviour lands.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import socket
import time
import zipfile
from pathlib import Path

import pytest

from cscmining.codes import NORMALISERS
from cscmining.columns import ACTIVITY, CASE
from cscmining.discover import process_map
from cscmining.errors import CscMiningError, UsageError
from cscmining.variants import variants

from reading_support import (
    EP,
    FIXTURES,
    HEADER,
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

# --- §3.1 encodings -----------------------------------------------------------------------


def test_enc_04_utf16_big_endian_and_without_bom(tmp_path: Path) -> None:
    """UTF-16 with a BOM (either byte order) is read; without one it is refused, never read
    as garbage columns."""
    text = f"{EP}\r\n{episode('16', '01/04/2023')}\r\n"
    big = tmp_path / "be.csv"
    big.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    assert events(ingest(big)[0]) == [("16", "Looked after start", "2023-04-01")]
    bare = tmp_path / "le.csv"
    bare.write_bytes(text.encode("utf-16-le"))
    assert file_error(bare)[0] in ("UNKNOWN_TABLE", "ENCODING")


def test_enc_05_mojibake_is_read_as_it_is(tmp_path: Path) -> None:
    """A UTF-8 file that already holds "Â£" and "â€™" is valid UTF-8: read, nothing guessed."""
    path = write_csv(tmp_path / "l3.csv", [L3, "W1,F,02/02/2024,g) Police,Team Â£ Oâ€™Brien"])
    log, _ = ingest(path)
    assert log.frame["team"].tolist() == ["Team Â£ Oâ€™Brien"]


def test_enc_05_mojibake_is_warned_about(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l3.csv", [L3, "W1,F,02/02/2024,g) Police,Team Â£ Oâ€™Brien"])
    _, read = ingest(path)
    assert any("MOJIBAKE_SUSPECTED" in note for note in read.notes)


def test_enc_06_invalid_bytes_in_the_header_and_in_a_named_encoding(tmp_path: Path) -> None:
    header = tmp_path / "h.csv"
    header.write_bytes(b"CHILD,DEC\xc3OM,RNE\r\n1,01/04/2023,S\r\n")
    code, message = file_error(header)
    assert code == "ENCODING" and "at byte offset 9" in message
    undefined = tmp_path / "u.csv"  # 0x81 has no character in cp1252
    undefined.write_bytes(f"{L3}\r\nW1,F,02/02/2024,g) Police,Te\x81am\r\n".encode("latin-1"))
    code, message = file_error(undefined, encoding="cp1252")
    assert code == "ENCODING" and "not valid cp1252 text" in message
    code, message = file_error(undefined, encoding="no-such-codec")
    assert code == "ENCODING" and "unknown encoding name" in message


# --- §3.1 structure ------------------------------------------------------------------------


def test_str_07_the_same_return_as_csv_and_as_xml_is_one_set_of_events(tmp_path: Path) -> None:
    """SPEC §1: ingest takes any mix, so MIXED_FORMATS does not apply: a 903 CSV set and the
    same return as XML are exact duplicates of each other, counted as such."""
    csv_log, _ = ingest(FIXTURES / "ssda903_csv")
    both, _ = ingest(FIXTURES / "ssda903_csv", FIXTURES / "ssda903.xml")
    assert events(both) == events(csv_log)
    assert sum(a.duplicate for a in both.accounts) > 0
    for a in both.accounts:
        a.check()


def test_str_11_a_folder_is_read_file_by_file(tmp_path: Path) -> None:
    """SPEC §2.2: ingest takes folders: their data files are read, hidden ones are not."""
    (tmp_path / "returns" / ".old").mkdir(parents=True)
    write_csv(tmp_path / "returns" / "e.csv", [EP, episode("1", "01/04/2023")])
    write_csv(tmp_path / "returns" / ".old" / "e.csv", [EP, episode("2", "01/04/2023")])
    (tmp_path / "returns" / "notes.docx").write_bytes(b"PK\x03\x04junk")
    log, _ = ingest(tmp_path / "returns")
    assert events(log) == [("1", "Looked after start", "2023-04-01")]


@pytest.mark.skipif(os.name != "posix" or not Path("/dev/zero").exists(), reason="POSIX devices")
def test_str_11_devices_and_pipes_are_not_read(tmp_path: Path) -> None:
    """A symlink to /dev/zero or a named pipe would never end: refused at once, never opened."""
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    for path in (zero, pipe):
        start = time.monotonic()
        with pytest.raises(UsageError, match="not a regular file or folder"):
            ingest(path)
        assert time.monotonic() - start < 5
    # inside a folder they are passed over, and the real files read
    write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2023")])
    log, _ = ingest(tmp_path)
    assert events(log) == [("1", "Looked after start", "2023-04-01")]


def test_str_11_a_url_is_refused_with_no_network_attempt(monkeypatch) -> None:
    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda *a: attempts.append(a))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a))
    for url in ("https://example.org/cin.xml", Path("http://intranet/903.csv")):
        with pytest.raises(UsageError, match="only local files and folders"):
            ingest(url)
    assert attempts == []


# --- §3.2 identifiers -------------------------------------------------------------------------


def test_id_06_the_latest_header_record_wins(tmp_path: Path) -> None:
    for year, sex in (("2023", "1"), ("2024", "2")):
        (tmp_path / year).mkdir()
        write_csv(tmp_path / year / "header.csv", [HEADER, f"7,{sex},01/05/2012,WBRI,,,"])
    write_csv(tmp_path / "2024" / "episodes.csv", [EP, episode("7", "01/04/2023")])
    log, _ = ingest(tmp_path / "2023", tmp_path / "2024")
    assert log.frame["case:sex"].tolist() == ["Female"]
    earlier = next(a for a in log.accounts if a.table == "header" and "2023" in a.path)
    assert earlier.rejected.get("SUPERSEDED", 0) + earlier.duplicate == 1


# --- §3.3 dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("dec", ["31/12/9999", "01/04/2263", "01/04/1023"])
def test_dates_beyond_2262(tmp_path: Path, dec: str) -> None:
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2023", dec, "E11")])
    try:
        log, _ = ingest(path, as_at=dt.date(2024, 3, 31))
    except CscMiningError:  # refusing the file is fine; crashing is not
        return
    assert events(log) == [("1", "Looked after start", "2023-04-01")]
    (acct,) = log.accounts
    assert acct.used == 1 and set(acct.flags) & {"DATE_OUT_OF_RANGE", "DATE_FUTURE", "DATE_INVALID"}


def test_dates_beyond_2262_in_a_workbook(tmp_path: Path) -> None:
    path = build_xlsx(tmp_path / "l3.xlsx", {"L3": [["Child Unique ID", "Date of referral"],
                                                  ["A", dt.datetime(9999, 12, 31)], ["B", dt.datetime(2024, 1, 2)]]})
    try:
        log, _ = ingest(path, as_at=dt.date(2024, 3, 31))
    except CscMiningError:
        return
    assert events(log) == [("B", "Referral", "2024-01-02")]


def test_dt_08_event_before_birth(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l3.csv", ["Child Unique ID,Date of Birth,Date of referral",
                                           "B1,01/05/2020,02/02/2019", "B2,01/05/2020,02/02/2021"])
    log, _ = ingest(path)
    assert events(log) == [("B2", "Referral", "2021-02-02")]
    assert account(log, "list_3")["reasons"] == {"DATE_BEFORE_DOB": 1}


def test_dt_08_work_with_an_unborn_child_is_not_before_birth(tmp_path: Path) -> None:
    """Annex A lists 1-7 allow 280 days (a pregnancy) before the date of birth: a referral
    280 days before birth is kept, 281 days before is DATE_BEFORE_DOB."""
    path = write_csv(tmp_path / "l3.csv", ["Child Unique ID,Date of Birth,Date of referral",
                                           "U1,01/05/2020,26/07/2019", "U2,01/05/2020,25/07/2019"])
    log, _ = ingest(path)
    assert events(log) == [("U1", "Referral", "2019-07-26")]
    assert account(log, "list_3")["reasons"] == {"DATE_BEFORE_DOB": 1}


def test_dt_08_a_row_with_another_event_is_flagged_not_rejected(tmp_path: Path) -> None:
    """903 AD1: a decision dated before birth is dropped and flagged; the match, after birth,
    is the row's event. A review before birth (its required date) rejects the row."""
    ad1 = write_csv(tmp_path / "ad1.csv", [
        "CHILD,DOB,DATE_INT,DATE_MATCH,FOSTER_CARE,NB_ADOPTR,SEX_ADOPTR,LS_ADOPTR",
        "A1,01/05/2020,01/04/2020,01/06/2021,0,1,M1,L0"])
    reviews = write_csv(tmp_path / "reviews.csv", ["CHILD,DOB,REVIEW,REVIEW_CODE",
                                                   "A1,01/05/2020,30/04/2020,PN1", "A1,01/05/2020,01/05/2020,PN1"])
    log, _ = ingest(ad1, reviews)
    assert events(log) == [("A1", "CLA review", "2020-05-01"), ("A1", "Matched with adopters", "2021-06-01")]
    assert account(log, "ad1") == acc(1, 1, events=1, flags={"DATE_BEFORE_DOB": 1})
    assert account(log, "reviews") == acc(2, 1, events=1, rejected={"DATE_BEFORE_DOB": 1})


def test_dt_08_a_date_of_birth_after_the_year_end_rejects_the_record(tmp_path: Path) -> None:
    """903 rule 301: a header whose DOB is after the collection year end (the as-at date
    here) is rejected DATE_FUTURE, so child 7 has no sex; child 8's header is used (U9, from
    Annex A, has none to give). An Annex A referral of an unborn child may carry its expected date of birth, still to come."""
    header = write_csv(tmp_path / "header.csv", [HEADER, "7,1,01/05/2030,WBRI,,,", "8,2,01/05/2012,WBRI,,,"])
    episodes = write_csv(tmp_path / "episodes.csv", [EP, episode("7", "01/04/2024"), episode("8", "01/04/2024")])
    unborn = write_csv(tmp_path / "l3.csv", ["Child Unique ID,Date of Birth,Date of referral",
                                             "U9,01/05/2025,02/02/2025"])
    log, _ = ingest(header, episodes, unborn, as_at=dt.date(2025, 3, 31))
    assert account(log, "header")["reasons"] == {"DATE_FUTURE": 1}
    sexes = log.frame.groupby("case:concept:name", observed=True)["case:sex"].first()
    assert sexes.isna().to_dict() == {"7": True, "8": False, "U9": True} and sexes["8"] == "Female"
    assert account(log, "list_3")["reasons"] == {}


# The date of birth of another table: an SSDA903 episodes file and the CIN census records
# under the child carry no date of birth; the child's header, its CIN <ChildIdentifiers> or
# any other table that has one gives it (chosen as for the log's age band).


def test_dt_08_an_episode_before_the_headers_date_of_birth_is_rejected(tmp_path: Path) -> None:
    """Child 1, born 01/05/2020 (903 header): the episode starting the day before is rejected
    DATE_BEFORE_DOB (903 rule 302), the one starting on the day is used with its end."""
    header = write_csv(tmp_path / "header.csv", [HEADER, "1,1,01/05/2020,WBRI,,,"])
    episodes = write_csv(tmp_path / "episodes.csv", [
        EP, episode("1", "30/04/2020"), episode("1", "01/05/2020", "01/06/2021", "E13")])
    log, _ = ingest(header, episodes)
    assert account(log, "episodes") == acc(2, 1, events=2, rejected={"DATE_BEFORE_DOB": 1})
    assert account(log, "header") == acc(1, 1, events=0)
    assert events(log) == [("1", "Looked after start", "2020-05-01"), ("1", "Left care: returned home", "2021-06-01")]
    assert (log.frame["time:timestamp"] >= "2020-05-01").all()


def test_dt_08_an_episode_ending_before_the_headers_date_of_birth_is_flagged(tmp_path: Path) -> None:
    """As with the row's own date of birth: DECOM is a required date, so an episode starting
    before birth is rejected, its end (after birth) lost with it; an end before birth (after
    a start after birth) is dropped and flagged, the start kept."""
    header = write_csv(tmp_path / "header.csv", [HEADER, "2,2,01/05/2020,WBRI,,,"])
    episodes = write_csv(tmp_path / "episodes.csv", [
        EP, episode("2", "01/04/2020", "01/06/2020", "E13"), episode("2", "01/06/2020", "01/04/2020", "E13")])
    log, _ = ingest(header, episodes)
    assert account(log, "episodes") == acc(2, 1, events=1, rejected={"DATE_BEFORE_DOB": 1},
                                           flags={"DATE_BEFORE_DOB": 1})
    assert events(log) == [("2", "Looked after start", "2020-06-01")]


def test_dt_08_without_a_date_of_birth_nothing_is_checked(tmp_path: Path) -> None:
    """Child 3 has no header, child 4's header has a blank DOB: their episodes of 2000 are
    used as they are; child 1's, before its header's DOB, is not."""
    header = write_csv(tmp_path / "header.csv", [HEADER, "1,1,01/05/2020,WBRI,,,", "4,1,,WBRI,,,"])
    episodes = write_csv(tmp_path / "episodes.csv", [
        EP, episode("1", "01/04/2000"), episode("3", "01/04/2000"), episode("4", "01/04/2000")])
    log, _ = ingest(header, episodes)
    assert account(log, "episodes") == acc(3, 2, events=2, rejected={"DATE_BEFORE_DOB": 1})
    assert events(log) == [("3", "Looked after start", "2000-04-01"), ("4", "Looked after start", "2000-04-01")]


def test_dt_08_the_date_of_birth_checked_is_the_one_the_log_chooses(tmp_path: Path) -> None:
    """Child 5's header rows say 01/05/2020 twice and 01/05/2019 once: 2020 is chosen (the
    most frequent), so the episode of 01/01/2020 is before birth and the one of 01/06/2020
    gives age band under 1. Child 6's header says 01/05/2020 and its review row 01/05/2019:
    a tie, the earlier wins (as for every case attribute), so its episode of 01/01/2020 is
    used, at age 0. A table's own DOB still decides its own rows: the review is not checked
    against the header."""
    header = write_csv(tmp_path / "header.csv", [
        HEADER, "5,1,01/05/2020,WBRI,A1,,", "5,1,01/05/2020,WBRI,A2,,", "5,1,01/05/2019,WBRI,A3,,",
        "6,2,01/05/2020,WBRI,,,"])
    reviews = write_csv(tmp_path / "reviews.csv", ["CHILD,DOB,REVIEW,REVIEW_CODE", "6,01/05/2019,01/02/2020,PN1"])
    episodes = write_csv(tmp_path / "episodes.csv", [
        EP, episode("5", "01/01/2020"), episode("5", "01/06/2020"), episode("6", "01/01/2020")])
    log, _ = ingest(header, reviews, episodes)
    assert account(log, "episodes") == acc(3, 2, events=2, rejected={"DATE_BEFORE_DOB": 1})
    assert account(log, "reviews") == acc(1, 1, events=1)
    assert events(log) == [("5", "Looked after start", "2020-06-01"), ("6", "Looked after start", "2020-01-01"),
                           ("6", "CLA review", "2020-02-01")]
    bands = log.frame.groupby("case:concept:name", observed=True)["case:age_band"].first()
    assert bands.to_dict() == {"5": "under 1", "6": "under 1"}


def _cin(path: Path, child: str, born: str, details: str) -> Path:
    """A CIN census of one child born on ``born`` (its <ChildIdentifiers>), with the given
    <CINdetails> elements."""
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><Message><Header><CollectionDetails><Collection>CIN'
        "</Collection><Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate></CollectionDetails>"
        "</Header><Children><Child><ChildIdentifiers><LAchildID>" + child + "</LAchildID>"
        "<PersonBirthDate>" + born + "</PersonBirthDate><Sex>F</Sex></ChildIdentifiers>"
        "<ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>"
        + details + "</Child></Children></Message>")
    return path


def _cin_details(referral: str, closure: str = "", assessment: str = "") -> str:
    inner = f"<CINreferralDate>{referral}</CINreferralDate><ReferralSource>6</ReferralSource><ReferralNFA>0</ReferralNFA>"
    if closure:
        inner += f"<CINclosureDate>{closure}</CINclosureDate><ReasonForClosure>RC8</ReasonForClosure>"
    if assessment:
        inner += f"<Assessments><AssessmentActualStartDate>{assessment}</AssessmentActualStartDate></Assessments>"
    return f"<CINdetails>{inner}</CINdetails>"


def test_dt_08_a_cin_record_before_the_childs_date_of_birth_is_rejected(tmp_path: Path) -> None:
    """The CIN census gives the date of birth once per child (<ChildIdentifiers>), not on its
    records: K1, born 2024-06-01, has a referral of 2023-01-10 (more than 280 days before
    birth, CIN rule 8606) rejected, though the assessment under it (after birth) is used; a
    later referral and its closure are used."""
    path = _cin(tmp_path / "cin.xml", "K1", "2024-06-01",
                _cin_details("2023-01-10", assessment="2024-07-01") + _cin_details("2024-07-01", "2024-08-01"))
    log, _ = ingest(path)
    assert account(log, "cindetails") == acc(2, 1, events=2, rejected={"DATE_BEFORE_DOB": 1})
    assert account(log, "assessments") == acc(1, 1, events=1)
    assert events(log) == [("K1", "Referral", "2024-07-01"), ("K1", "Assessment start", "2024-07-01"),
                           ("K1", "Case closed", "2024-08-01")]


def test_dt_08_a_cin_referral_of_an_unborn_child_is_kept(tmp_path: Path) -> None:
    """A pre-birth referral (2024-03-01, 92 days before K2's birth) is real work: the CIN
    record tables allow 280 days (CIN rule 8606), as Annex A lists 1-7 do."""
    path = _cin(tmp_path / "cin.xml", "K2", "2024-06-01", _cin_details("2024-03-01"))
    log, _ = ingest(path)
    assert account(log, "cindetails") == acc(1, 1, events=1)


VISITS = """
source: lcs
tables:
  - name: visits
    columns: {ID: [], VISIT: [], REVIEWED: []}
    required: [ID, VISIT, REVIEWED]
    id: ID
    before_birth_days: 31
    events:
      - {activity: Referral, date: VISIT}
      - {activity: CLA review, date: REVIEWED}
"""


def test_dt_08_a_user_table_is_checked_against_a_statutory_date_of_birth(tmp_path: Path) -> None:
    """A user logmap's table without a date of birth, checked against child 9's 903 header
    (01/05/2020) across sources, allowing its own ``before_birth_days`` (31: from 31/03/2020).
    Child 10 has no date of birth anywhere: not checked."""
    logmap = tmp_path / "lcs.yaml"
    logmap.write_text(VISITS)
    header = write_csv(tmp_path / "header.csv", [HEADER, "9,1,01/05/2020,WBRI,,,"])
    visits = write_csv(tmp_path / "visits.csv", [
        "ID,VISIT,REVIEWED", "9,30/03/2020,01/06/2020", "9,31/03/2020,", "9,01/03/2020,", "10,01/03/2020,"])
    log, _ = ingest(header, visits, logmaps=[logmap])
    assert account(log, "visits") == acc(4, 3, events=3, rejected={"DATE_BEFORE_DOB": 1},
                                         flags={"DATE_BEFORE_DOB": 1})
    assert events(log) == [("10", "Referral", "2020-03-01"), ("9", "Referral", "2020-03-31"),
                           ("9", "CLA review", "2020-06-01")]


def test_dt_08_a_spreadsheet_id_typed_as_a_number_finds_its_date_of_birth(tmp_path: Path) -> None:
    """Ids are matched once normalised: the number 9 (or 9.0) in a workbook is child "9" of
    the header, so its visit of 01/03/2020 is before birth; child 10 is not checked."""
    logmap = tmp_path / "lcs.yaml"
    logmap.write_text(VISITS)
    header = write_csv(tmp_path / "header.csv", [HEADER, "9,1,01/05/2020,WBRI,,,"])
    visits = build_xlsx(tmp_path / "visits.xlsx", {"Visits": [
        ["ID", "VISIT", "REVIEWED"], [9, dt.datetime(2020, 3, 1), None], [9.0, dt.datetime(2020, 6, 1), None],
        [10, dt.datetime(2020, 3, 1), None]]})
    log, _ = ingest(header, visits, logmaps=[logmap])
    assert account(log, "visits") == acc(3, 2, events=2, rejected={"DATE_BEFORE_DOB": 1},
                                         flags={"ID_FROM_NUMBER": 2})
    assert events(log) == [("10", "Referral", "2020-03-01"), ("9", "Referral", "2020-06-01")]


def test_dt_10_clock_change_times_stay_on_their_day(tmp_path: Path) -> None:
    """Times are not part of these returns: 01:30 on the night the clocks change (a time that
    does not exist, or exists twice, in Europe/London) is that day, no shift either way."""
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "28/03/2021 01:30"), episode("2", "31/10/2021 01:30:00")])
    xlsx = build_xlsx(tmp_path / "l3.xlsx", {"L3": [["Child Unique ID", "Date of referral"],
                                                  ["3", dt.datetime(2021, 3, 28, 1, 30)],
                                                  ["4", dt.datetime(2021, 10, 31, 1, 30)]]})
    log, _ = ingest(path, xlsx)
    assert events(log) == [("1", "Looked after start", "2021-03-28"), ("2", "Looked after start", "2021-10-31"),
                           ("3", "Referral", "2021-03-28"), ("4", "Referral", "2021-10-31")]
    assert log.frame["time:timestamp"].dt.tz is None


# --- §3.4 episodes -----------------------------------------------------------------------------

OVERLAPPING = [EP, episode("1", "01/04/2023", "01/07/2023", "E13"), episode("1", "01/06/2023", rne="P")]


def test_ep_02_overlapping_episodes_are_both_kept(tmp_path: Path) -> None:
    log, _ = ingest(write_csv(tmp_path / "e.csv", OVERLAPPING))
    assert events(log) == [("1", "Looked after start", "2023-04-01"), ("1", "Placement change", "2023-06-01"),
                           ("1", "Left care: returned home", "2023-07-01")]
    assert account(log, "episodes")["used"] == 2


def test_ep_02_overlapping_episodes_are_flagged(tmp_path: Path) -> None:
    log, _ = ingest(write_csv(tmp_path / "e.csv", OVERLAPPING))
    assert account(log, "episodes")["flags"] == {"OVERLAP": 1}


def _two_open_plans(tmp_path: Path) -> Path:
    text = (FIXTURES / "cin_small.xml").read_text()
    second = "<ChildProtectionPlans><CPPstartDate>2024-05-01</CPPstartDate></ChildProtectionPlans>"
    path = tmp_path / "cin.xml"
    path.write_text(text.replace("</ChildProtectionPlans>", "</ChildProtectionPlans>" + second, 1))
    return path


def test_ep_03_two_open_cp_plans_are_both_kept(tmp_path: Path) -> None:
    log, _ = ingest(_two_open_plans(tmp_path))
    starts = [e for e in events(log) if e[1] == "CP plan start"]
    assert starts == [("C001", "CP plan start", "2024-04-20"), ("C001", "CP plan start", "2024-05-01")]


def test_ep_03_two_open_cp_plans_are_flagged(tmp_path: Path) -> None:
    log, _ = ingest(_two_open_plans(tmp_path))
    assert account(log, "childprotectionplans")["flags"].get("MULTIPLE_OPEN") == 1


def test_ep_07_dec_and_rec_must_come_together(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2023", "01/06/2023", ""),
                                          episode("2", "01/04/2023", "", "E11")])
    log, _ = ingest(path)
    assert account(log, "episodes")["flags"] == {"DEC_REC_MISMATCH": 2}


def test_ep_02_overlaps_are_found_against_every_earlier_episode(tmp_path: Path) -> None:
    """Child 1 (rows out of order): A 01/04-01/12 spans B 01/05-01/06 and C 01/07-01/08, so B
    and C overlap A although C starts after B ended; D starts on A's last day (a hand-over).
    Child 2: an open episode, then another: the second starts before the first has ended.
    Child 3 starts while child 1 is in care: other children never overlap."""
    path = write_csv(tmp_path / "e.csv", [
        EP,
        episode("1", "01/07/2023", "01/08/2023", "X1", rne="P"),
        episode("1", "01/04/2023", "01/12/2023", "X1"),
        episode("1", "01/12/2023", rne="P"),
        episode("1", "01/05/2023", "01/06/2023", "X1", rne="P"),
        episode("2", "01/04/2023"),
        episode("2", "01/09/2023", rne="L"),
        episode("3", "01/06/2023"),
    ])
    log, _ = ingest(path, as_at=dt.date(2024, 3, 31))
    assert account(log, "episodes") == acc(7, 7, events=7, flags={"OVERLAP": 3})


def test_ep_02_overlapping_cp_and_cin_plans_are_flagged(tmp_path: Path) -> None:
    """CIN 4014 and the CP-plan equivalent: a plan starting before the child's previous plan
    ended; a plan starting the day the previous one ended is not an overlap."""
    plans = ("<CINPlanDates><CINPlanStartDate>2024-05-01</CINPlanStartDate><CINPlanEndDate>2024-08-01"
             "</CINPlanEndDate></CINPlanDates><CINPlanDates><CINPlanStartDate>2024-07-01</CINPlanStartDate>"
             "</CINPlanDates><CINPlanDates><CINPlanStartDate>2024-08-01</CINPlanStartDate></CINPlanDates>")
    text = (FIXTURES / "cin_small.xml").read_text().replace("<Section47>", plans + "<Section47>", 1)
    path = tmp_path / "cin.xml"
    path.write_text(text)
    log, _ = ingest(path)
    # the plan of 01/08 starts as the first ends, but while the open plan of 01/07 runs
    assert account(log, "cinplandates")["flags"] == {"OVERLAP": 2}
    assert account(log, "childprotectionplans")["flags"] == {}


def test_ep_03_only_open_plans_after_the_first_are_flagged(tmp_path: Path) -> None:
    """Three open CP plans: two flagged MULTIPLE_OPEN (and OVERLAP: each starts while an
    earlier one is open); a closed plan before them is neither."""
    closed = "<ChildProtectionPlans><CPPstartDate>2024-01-01</CPPstartDate><CPPendDate>2024-02-01</CPPendDate></ChildProtectionPlans>"
    more = "".join(f"<ChildProtectionPlans><CPPstartDate>2024-0{m}-01</CPPstartDate></ChildProtectionPlans>" for m in (5, 6))
    text = (FIXTURES / "cin_small.xml").read_text()
    path = tmp_path / "cin.xml"
    path.write_text(text.replace("</ChildProtectionPlans>", "</ChildProtectionPlans>" + closed + more, 1))
    log, _ = ingest(path)
    assert account(log, "childprotectionplans")["flags"] == {"MULTIPLE_OPEN": 2, "OVERLAP": 2}


def test_ep_07_complete_and_open_episodes_are_not_flagged(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", [EP, episode("1", "01/04/2023", "01/06/2023", "E11"),
                                          episode("2", "01/04/2023")])
    log, _ = ingest(path)
    assert account(log, "episodes")["flags"] == {}


def test_ep_10_zero_duration_steps_are_kept(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l4.csv", [
        "Child Unique ID,Continuous Assessment Start Date,Continuous Assessment Date of Authorisation",
        "Z1,10/01/2024,10/01/2024"])
    log, _ = ingest(path)
    assert events(log) == [("Z1", "Assessment start", "2024-01-10"), ("Z1", "Assessment authorised", "2024-01-10")]
    assert account(log, "list_4") == acc(1, 1, events=2, flags={"ZERO_DURATION": 1})


def test_ep_10_zero_duration_steps_are_flagged(tmp_path: Path) -> None:
    """Only the same-day pair: a day apart is a step, an open assessment has no duration."""
    path = write_csv(tmp_path / "l4.csv", [
        "Child Unique ID,Continuous Assessment Start Date,Continuous Assessment Date of Authorisation",
        "Z1,10/01/2024,10/01/2024", "Z2,10/01/2024,11/01/2024", "Z3,10/01/2024,"])
    log, _ = ingest(path)
    assert account(log, "list_4")["flags"] == {"ZERO_DURATION": 1}


# --- §3.5 codes --------------------------------------------------------------------------------


def test_cd_01_sex_spellings_map_to_one_value() -> None:
    import pandas as pd

    cells = pd.Series(["b) Female", "F", "female ", "FEMALE", "2", "a) Male", "m", "1", "Boy", "x", None])
    assert NORMALISERS["sex"](cells.str.strip()).tolist() == [
        "Female"] * 5 + ["Male"] * 4 + ["Unknown", None]


def test_cd_02_boolean_spellings_map_to_one_value() -> None:
    import pandas as pd

    cells = pd.Series(["True", "TRUE", "1", "1.0", "yes", "false", "0", "0.0", "N", "maybe", None])
    values = NORMALISERS["bool"](cells)
    assert values[:9].tolist() == ["true"] * 5 + ["false"] * 4
    assert values[9:].isna().all()


def test_cd_03_unknown_codes_and_free_text_never_become_activities(tmp_path: Path) -> None:
    """A REC of Q9 or free text is the outcome `other` (SPEC §2.1); free text in any code column
    is never an activity, a map node or a variant step."""
    free = "see notes Mrs Zebedee"
    path = write_csv(tmp_path / "e.csv", [
        EP,
        episode("1", "01/04/2023", "01/06/2023", "Q9"),
        f"2,01/04/2023,{free},V2,N1,{free},PR1,01/06/2023,{free},{free},,,",
        episode("3", "01/04/2023", "01/06/2023", "E11", place=free),
    ])
    l3 = write_csv(tmp_path / "l3.csv", [L3, f"4,F,02/02/2024,{free},{free}"])
    log, _ = ingest(path, l3)
    assert set(log.frame[ACTIVITY]) <= set(log.vocabulary.order)
    assert ("1", "Left care: other", "2023-06-01") in events(log)
    assert ("2", "Left care: other", "2023-06-01") in events(log)
    shown = str(process_map(log).to_dict()) + str(process_map(log, level="summary").to_dict())
    shown += str(variants(log).to_dict())
    assert "Zebedee" not in shown and "Q9" not in shown


# --- §3.9 XML and workbooks that attack the reader -------------------------------------------


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]><Message><Children><Child><ChildIdentifiers><LAchildID>&lol9;</LAchildID></ChildIdentifiers>"
    "</Child></Children></Message>"
)
QUADRATIC = ('<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY a "' + "x" * 50_000 + '">]><Message>'
             + "&a;" * 50_000 + "</Message>")
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY e SYSTEM "http://example.org/x">]>'
            "<Message>&e;</Message>")
PARAMETER = ('<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
             "<Message/>")


@pytest.mark.parametrize("text", [BILLION_LAUGHS, QUADRATIC, EXTERNAL, PARAMETER],
                         ids=["billion-laughs", "quadratic-blowup", "external-entity", "parameter-entity"])
def test_sec_06_xml_entities_are_refused_in_bounded_time(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cin.xml"
    path.write_text(text)
    start = time.monotonic()
    assert file_error(path)[0] == "XML_FORBIDDEN"
    assert time.monotonic() - start < 5


def test_sec_06_an_xml_declaring_another_encoding_than_it_has_is_refused(tmp_path: Path) -> None:
    """ASCII declared as UTF-16, with no byte order mark to read UTF-16 by: the file is
    decoded as it declares, never guessed at."""
    path = tmp_path / "cin.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="utf-16"?><Message/>')
    assert file_error(path) == ("ENCODING", f"{path}: ENCODING: not valid utf-16 text")


def test_xml_declaring_an_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "cin.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="x-no-such"?><Message/>')
    assert file_error(path) == ("ENCODING", f"{path}: ENCODING: the XML declares an unknown text encoding")


CIN_SMALL = FIXTURES / "cin_small.xml"


@pytest.mark.parametrize("encoding", ["windows-1252", "iso-8859-1", "utf-16", "utf-16-le", "utf-16-be",
                                      "utf-8-sig", "utf_8", "mac-roman", "cp437"])
def test_an_xml_in_any_encoding_python_knows_reads_the_same(tmp_path: Path, encoding: str) -> None:
    """The CIN fixture saved in the encoding its declaration names (a UTF-16 file with a BOM,
    or without one as XML allows; names libxml2 does not know, like ``utf_8`` or
    ``mac-roman``), with a pound sign in a child id: the same children, the id intact, and
    the encoding recorded as the file's."""
    text = CIN_SMALL.read_text().replace('encoding="utf-8"', f'encoding="{encoding}"').replace("C001", "C£01")
    path = tmp_path / "cin.xml"
    path.write_bytes(text.encode(encoding))
    log, read = ingest(path)
    assert sorted(log.frame[CASE].unique()) == ["0042", "C£01"]
    assert read.errors == [] and read.encodings == {str(path): codecs.lookup(encoding).name}


def test_a_multibyte_legacy_xml_is_read_too(tmp_path: Path) -> None:
    """Shift JIS, which the standard library's XML parser refuses outright: decoded by Python."""
    text = CIN_SMALL.read_text().replace('encoding="utf-8"', 'encoding="shift_jis"').replace("C001", "C日01")
    path = tmp_path / "cin.xml"
    path.write_bytes(text.encode("shift_jis"))
    log, _ = ingest(path)
    assert sorted(log.frame[CASE].unique()) == ["0042", "C日01"]


def test_a_bad_byte_in_a_declared_encoding_is_found_where_it_is(tmp_path: Path) -> None:
    """Byte 0x81 is undefined in Windows-1252; here it sits past the first 64 KiB chunk the
    reader decodes, and the error gives its offset in the file."""
    data = CIN_SMALL.read_bytes().replace(b'encoding="utf-8"', b'encoding="windows-1252"')
    data = data.replace(b"<Message>", b"<!--" + b"x" * 100_000 + b"--><Message>")
    offset = data.index(b"C001") + 1
    path = tmp_path / "cin.xml"
    path.write_bytes(data[:offset] + b"\x81" + data[offset + 1:])
    assert file_error(path) == ("ENCODING", f"{path}: ENCODING: not valid cp1252 text at byte offset {offset}")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_sec_07_an_xlsx_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    workbook = build_xlsx(tmp_path / "ok.xlsx", {"L3": [["Child Unique ID", "Date of referral"], ["1", "02/02/2024"]]})
    with zipfile.ZipFile(workbook) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["xl/worksheets/sheet2.xml"] = b"<" + b"0" * 20_000_000  # 20 MB packing to ~20 kB
    bomb = _zip(tmp_path / "bomb.xlsx", members)
    assert bomb.stat().st_size < 200_000
    start = time.monotonic()
    code, message = file_error(bomb)
    assert code == "XLSX_UNSAFE" and "zip bomb" in message
    assert time.monotonic() - start < 5


def test_sec_07_a_workbook_with_macros_is_refused(tmp_path: Path) -> None:
    workbook = build_xlsx(tmp_path / "ok.xlsx", {"L3": [["Child Unique ID", "Date of referral"], ["1", "02/02/2024"]]})
    with zipfile.ZipFile(workbook) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 macro"
    code, message = file_error(_zip(tmp_path / "book.xlsm", members))
    assert code == "XLSX_UNSAFE" and "macros" in message


def test_sec_07_external_links_are_not_followed(tmp_path: Path, monkeypatch) -> None:
    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda *a: attempts.append(a))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a))
    workbook = build_xlsx(tmp_path / "ok.xlsx", {"L3": [["Child Unique ID", "Date of referral"], ["1", "02/02/2024"]]})
    with zipfile.ZipFile(workbook) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["xl/externalLinks/externalLink1.xml"] = (
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
        b"</externalLink>")
    members["xl/externalLinks/_rels/externalLink1.xml.rels"] = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
        b'Target="http://example.org/other.xlsx" TargetMode="External"/></Relationships>')
    log, _ = ingest(_zip(tmp_path / "linked.xlsx", members))
    assert events(log) == [("1", "Referral", "2024-02-02")]
    assert attempts == []
