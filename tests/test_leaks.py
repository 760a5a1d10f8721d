"""No identifier leaks into what the demo writes (SEC-5, SEC-9, T-SEC-08).

``cscmining demo`` runs on the committed synthetic samples; every shareable file it writes
(SVG, JSON; HTML, DOT and CSV as well if it writes any) and what it prints are scanned for
what the inputs hold about each child: child ids, UPNs and any UPN-shaped string, NHS
numbers (10 digits passing modulus 11), postcodes, placement URNs and dates of birth. The
event log (Parquet) is internal and holds child ids by design: it is left out.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import cscmining.cli as cli_module
from cscmining.dates import parse_dates
from cscmining.demo import sample_inputs
from cscmining.disclosure import NONE, check_text
from cscmining.ingest import _shipped_maps
from cscmining.sources import expand_inputs, read_files

SAMPLES = Path(__file__).parents[1] / "samples"
SHAREABLE = {".html": "html", ".htm": "html", ".svg": "svg", ".dot": "dot", ".gv": "dot",
             ".json": "json", ".csv": "csv"}
INTERNAL = {".parquet"}

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="the committed samples folder is missing")


def _inputs_facts() -> dict[str, set]:
    """Child ids, UPNs, postcodes, URNs and dates of birth, from every sample file."""
    files = expand_inputs([SAMPLES])
    maps = list(_shipped_maps())
    read = read_files(files, maps, None)
    assert not read.errors
    tables = {(m.source, t.name): t for m in maps for t in m.tables}
    facts: dict[str, set] = {"ids": set(), "upn": set(), "postcode": set(), "urn": set(), "dob": set()}
    for raw in read.tables:
        spec = tables[(raw.source, raw.table)]
        frame = raw.frame
        facts["ids"] |= {str(v).strip() for v in frame[spec.id].dropna()} - {""}
        for column in frame.columns:
            name = str(column).lower()
            values = {str(v).strip() for v in frame[column].dropna()} - {""}
            if name == "upn":
                facts["upn"] |= values
            elif name in ("home_post", "pl_post"):
                facts["postcode"] |= values
            elif name == "urn":
                facts["urn"] |= values
            elif "dob" in name or "birth" in name:
                logmap = next(m for m in maps if m.source == raw.source)
                parsed = parse_dates(frame[column], logmap.date_formats).values.dropna()
                facts["dob"] |= {ts.date() for ts in parsed}
    # the CIN reader does not keep UPNs: take them from the XML itself
    for xml in SAMPLES.rglob("*.xml"):
        facts["upn"] |= set(re.findall(r"<UPN>\s*([^<\s]+)\s*</UPN>", xml.read_text(encoding="utf-8")))
    return facts


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("leaks") / "demo"
    runner = CliRunner()
    with runner.isolation() as (stdout, stderr, _):
        try:
            cli_module.main(["demo", "--samples", str(SAMPLES), "-o", str(out)])
            code = 0
        except SystemExit as exc:
            code = exc.code
        printed = stdout.getvalue().decode() + stderr.getvalue().decode()
    assert code == 0, printed
    return {"out": out, "printed": printed, "facts": _inputs_facts()}


def test_the_inputs_hold_what_the_scan_looks_for(demo: dict) -> None:
    """The scan would find something if it leaked: the inputs are full of it."""
    facts = demo["facts"]
    assert len(facts["ids"]) >= 500 and len(facts["dob"]) >= 400
    assert len(facts["upn"]) >= 300 and len(facts["postcode"]) >= 50 and len(facts["urn"]) >= 20
    assert sample_inputs(SAMPLES)  # the demo read these very files


def _shareable(out: Path) -> list[Path]:
    files = sorted(p for p in out.rglob("*") if p.is_file())
    unknown = [p.name for p in files if p.suffix.lower() not in set(SHAREABLE) | INTERNAL]
    assert unknown == [], "a file of a kind this scan does not know"
    return [p for p in files if p.suffix.lower() in SHAREABLE]


def _findings(text: str, kind: str, facts: dict[str, set]) -> list[str]:
    forbidden = facts["ids"] | facts["upn"] | facts["postcode"] | facts["urn"]
    return [f"{f.where}: {f.rule}" for f in check_text(text, NONE, kind=kind, forbidden_ids=forbidden)]


def test_t_sec_08_no_identifier_in_any_shareable_output(demo: dict) -> None:
    files = _shareable(demo["out"])
    assert {p.suffix for p in files} >= {".svg", ".json"} and len(files) >= 9
    leaks = {p.name: found for p in files
             if (found := _findings(p.read_text(encoding="utf-8"), SHAREABLE[p.suffix.lower()], demo["facts"]))}
    assert leaks == {}


def test_t_sec_08_no_identifier_printed(demo: dict) -> None:
    assert _findings(demo["printed"], "csv", demo["facts"]) == []


_ISO = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
_DMY = re.compile(r"(?<![0-9])([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})(?![0-9])")
_MONTHS = "|".join(calendar.month_name[1:] + calendar.month_abbr[1:])
_WORDS = re.compile(rf"(?<![0-9])([0-9]{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})\.?,?\s+([0-9]{{4}})", re.I)


def _dates(text: str) -> set[date]:
    months = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
    months |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
    found = set()
    for y, m, d in _ISO.findall(text):
        found.add((int(y), int(m), int(d)))
    for d, m, y in _DMY.findall(text):
        found.add((int(y), int(m), int(d)))
    for d, m, y in _WORDS.findall(text):
        found.add((int(y), months[m.lower()], int(d)))
    out = set()
    for y, m, d in found:
        try:
            out.add(date(y, m, d))
        except ValueError:
            continue
    return out


def test_t_sec_08_no_date_of_birth_in_any_shareable_output(demo: dict) -> None:
    """No child's date of birth appears as a date, in any common spelling.

    Dates every demo output shows for other reasons are not evidence of a leak when a
    child happens to be born on one: the as-at date, the data period, and the first and
    last days of months (period buckets).
    """
    from cscmining.eventlog import read_event_log

    log = read_event_log(demo["out"] / "event_log.parquet")
    first, last = log.period
    structural = {log.as_at, first, last}
    dobs = demo["facts"]["dob"]
    checked = {d for d in dobs if d not in structural and d.day != 1
               and d.day != calendar.monthrange(d.year, d.month)[1]}
    assert len(checked) >= 0.9 * len(dobs)  # the exclusions leave the test its teeth
    leaks = {p.name: sorted(str(d) for d in _dates(p.read_text(encoding="utf-8")) & checked)
             for p in _shareable(demo["out"])}
    leaks["(printed)"] = sorted(str(d) for d in _dates(demo["printed"]) & checked)
    assert {k: v for k, v in leaks.items() if v} == {}


@pytest.mark.parametrize("text", ["born 2013-04-09", "DOB 09/04/2013", "9th April 2013", "9 Apr 2013"])
def test_the_date_scan_reads_common_spellings(text: str) -> None:
    assert _dates(text) == {date(2013, 4, 9)}


def test_the_scan_finds_a_planted_leak(demo: dict) -> None:
    facts = demo["facts"]
    text = (demo["out"] / "variants.json").read_text(encoding="utf-8")
    for kind, value in (("ids", sorted(facts["ids"])[7]), ("upn", sorted(facts["upn"])[3]),
                        ("postcode", sorted(facts["postcode"])[5]), ("urn", sorted(facts["urn"])[2])):
        planted = text.replace('"cases"', f'"note": "{value}", "cases"', 1)
        assert _findings(planted, "json", facts), kind
    dob = sorted(facts["dob"])[11]
    assert dob in _dates(text.replace('"cases"', f'"d": "{dob:%d/%m/%Y}", "cases"', 1))
    assert _findings(text.replace('"cases"', '"nhs": "943 476 5919", "cases"', 1), "json", facts)


def test_t_sec_11_12_messages_at_debug_name_places_and_codes_never_values(tmp_path: Path) -> None:
    """A run with rejected rows, an unreadable file and --debug: what it prints names files,
    rows, columns and codes, never a cell's value (an id, a name, a date of birth)."""
    secret = "ZQX9931"
    episodes = tmp_path / "episodes.csv"
    episodes.write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\r\n"
        f"{secret},31/02/2024,S,V2,N1,U4,PR1,,,,,,\r\n"
        f"1,01/04/2023,S,V2,N1,U4,PR1,{secret},{secret},{secret},,,\r\n"
        f"2,01/04/2023,S,{secret}\r\n"
        f"{secret}A,07/03/2011,S,V2,N1,U4,PR1,,,,,,\r\n", encoding="utf-8")
    broken = tmp_path / "cin.xml"
    broken.write_text(f"<Message><Children><Child>{secret}</Children></Message>")
    printed = []
    for args in (["--debug", "ingest", episodes, "-o", tmp_path / "a.parquet", "--as-at", "2024-03-31"],
                 ["--debug", "ingest", episodes, broken, "-o", tmp_path / "b.parquet", "--keep-going", "--json"],
                 ["--debug", "ingest", broken, "-o", tmp_path / "c.parquet"]):
        runner = CliRunner()
        with runner.isolation() as (out, err, _):
            try:
                cli_module.main([str(a) for a in args])
            except SystemExit:
                pass
            except Exception as exc:  # --debug re-raises: its message is what the user sees
                printed.append(f"{type(exc).__name__}: {exc}")
            printed += [out.getvalue().decode(), err.getvalue().decode()]
    text = "\n".join(printed)
    assert "DATE_INVALID" in text and "ROW_SHAPE" in text and "BROKEN_XML" in text
    assert secret not in text and "07/03/2011" not in text
