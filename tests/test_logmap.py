"""Logmaps and the stage vocabulary: strict validation with errors naming file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscmining.errors import LogMapError
from cscmining.ingest import build_event_log
from cscmining.logmap import load_logmap, normalise_header, shipped_logmaps
from cscmining.vocabulary import load_vocabulary

EXAMPLES = Path(__file__).resolve().parent.parent / "logmaps" / "examples"


def test_shipped_maps_and_vocabulary_load() -> None:
    maps = shipped_logmaps()
    assert set(maps) == {"ssda903", "cin_census", "annex_a"}
    vocab = load_vocabulary()
    assert vocab.order["Referral"] == 40
    assert vocab.group["Placed for adoption"] == "Adoption"
    assert vocab.terminal == {a.name for a in vocab.activities if a.name.startswith("Left care")} | {"Case closed"}
    assert [r.name for r in vocab.timescales] == ["assessment", "icpc", "first_cp_review", "first_cla_review"]


def test_every_shipped_activity_is_in_the_vocabulary() -> None:
    known = set(load_vocabulary().order)
    for logmap in shipped_logmaps().values():
        for table in logmap.tables:
            for rule in table.events:
                if rule.activity:
                    assert rule.activity in known, (logmap.source, table.name, rule.activity)


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source: x\ntables:\n  - name: t\n    columns: {id: []}\n    id: id\n    colour: red\n"
    )
    with pytest.raises(LogMapError) as err:
        load_logmap(bad)
    assert str(err.value) == f"{bad}: tables[0].colour: Extra inputs are not permitted"


def test_rule_naming_an_undefined_column_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source: x\ntables:\n  - name: t\n    columns: {id: []}\n    id: id\n"
        "    events:\n      - {activity: Referral, date: when}\n"
    )
    with pytest.raises(LogMapError, match=r"tables\[0\]: Value error, columns used but not defined under `columns`: when"):
        load_logmap(bad)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: x\ntables: [\n")
    with pytest.raises(LogMapError, match=r"not valid YAML at line 3"):
        load_logmap(bad)


def test_activity_outside_the_vocabulary_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source: x\ntables:\n  - name: t\n    columns: {id: [], d: []}\n    required: [id, d]\n"
        "    id: id\n    events:\n      - {activity: Home visit, date: d}\n"
    )
    data = tmp_path / "data.csv"
    data.write_text("id,d\n1,01/01/2024\n")
    with pytest.raises(LogMapError, match=r"tables\[0\]\.events\[0\]: activity 'Home visit' is not in the stage vocabulary"):
        build_event_log([data], logmaps=[bad])


def test_header_normalisation() -> None:
    assert normalise_header("\ufeffChild Unique ID ") == "child unique id"
    assert normalise_header("Referral NFA?") == "referral nfa"
    assert normalise_header("Child's Legal_Status") == "child s legal status"


def test_worked_example_logmap_reads_its_sample() -> None:
    """The example in logmaps/examples: worked out by hand from its CSV.

    19 rows: 17 name a mapped step; NOTE is listed under `ignore` (used, no event);
    HOME_VISIT is not in the map at all, so that row is rejected with ACTIVITY_UNMAPPED.
    P-0002's referral is written with a time (second date format).
    """
    log, read = build_event_log(
        [EXAMPLES / "case_management_export.csv"], logmaps=[EXAMPLES / "case_management_export.yaml"]
    )
    (account,) = log.accounts
    assert (account.rows_read, account.used, account.rejected_total) == (19, 18, 1)
    assert dict(account.rejected) == {"ACTIVITY_UNMAPPED": 1}
    assert (log.events, log.cases) == (17, 4)
    frame = log.frame
    p1 = frame[frame["case:concept:name"] == "P-0001"]["concept:name"].tolist()
    # same-day pairs ordered by stage order: Contact(10) < Referral(40) on 2 April,
    # Strategy discussion(55, declared by the map) < S47 enquiry(60) on 5 April,
    # ICPC(70) < CP plan start(130) on 24 April
    assert p1 == ["Contact", "Referral", "Assessment start", "Strategy discussion", "S47 enquiry",
                  "ICPC", "CP plan start", "Assessment authorised"]
    referral = frame[(frame["case:concept:name"] == "P-0002") & (frame["concept:name"] == "Referral")]
    assert referral["time:timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-04-11"]
    assert sorted(frame["case:age_band"].unique()) == ["1-4", "10-15", "5-9"]
    assert read.notes == [f"{EXAMPLES / 'case_management_export.csv'}: 2 column(s) not used: Worker, Notes"]
