"""Row checks declared in a logmap (`checks:`): flags per child over a pair of columns, for
user logmaps as for the shipped ones; and their strict validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cscmining.errors import LogMapError
from cscmining.logmap import load_logmap

from reading_support import acc, account, events, ingest, write_csv

MAP = """\
source: plans
date_formats: ["%d/%m/%Y"]
tables:
  - name: plans
    columns: {person: [], start: [], end: [], reason: []}
    required: [person, start, end, reason]
    id: person
    required_dates: [start]
    events:
      - {activity: CIN plan start, date: start}
      - {activity: CIN plan end, date: end, starts: start}
    checks:
{checks}
"""


def write_map(tmp_path: Path, checks: str) -> Path:
    path = tmp_path / "plans.yaml"
    path.write_text(MAP.replace("{checks}", checks))
    return path


def test_a_user_logmap_declares_its_own_checks(tmp_path: Path) -> None:
    """P1: plans 01/01-01/03 and 01/02 (open) overlap; the second has a reason but no end.
    P2: a same-day plan, then a plan starting the day it ended. Ids ``7`` and ``7.0`` are
    one child (P3's two open plans), as they are everywhere else."""
    logmap = write_map(tmp_path, "      - {kind: overlap, columns: [start, end]}\n"
                                 "      - {kind: multiple_open, columns: [start, end], flag: TWO_OPEN}\n"
                                 "      - {kind: zero_duration, columns: [start, end]}\n"
                                 "      - {kind: together, columns: [end, reason]}\n")
    data = write_csv(tmp_path / "plans.csv", [
        "person,start,end,reason",
        "P1,01/01/2024,01/03/2024,done", "P1,01/02/2024,,done",
        "P2,05/01/2024,05/01/2024,done", "P2,05/01/2024,,",
        "7,01/01/2024,,", "7.0,01/02/2024,,",
    ])
    log, _ = ingest(data, logmaps=[logmap])
    assert account(log, "plans") == acc(6, 6, events=8, flags={
        "OVERLAP": 2, "TWO_OPEN": 1, "ZERO_DURATION": 1, "INCOMPLETE_PAIR": 1, "ID_FROM_NUMBER": 1})
    assert ("P1", "CIN plan start", "2024-02-01") in events(log)


@pytest.mark.parametrize(("checks", "message"), [
    ("      - {kind: overlaps, columns: [start, end]}\n", "kind"),
    ("      - {kind: overlap, columns: [start, finish]}\n", "columns used but not defined under `columns`: finish"),
    ("      - {kind: overlap, columns: [start]}\n", "columns"),
    ("      - {kind: overlap, columns: [start, end], by: person}\n", "by"),
    ("      - {kind: overlap, columns: [start, end], flag: overlap!}\n", "flag"),
])
def test_a_bad_check_is_refused_naming_its_key(tmp_path: Path, checks: str, message: str) -> None:
    with pytest.raises(LogMapError, match=message) as info:
        load_logmap(write_map(tmp_path, checks))
    assert "plans.yaml: tables[0]" in str(info.value)


def test_before_birth_days_is_bounded(tmp_path: Path) -> None:
    path = write_map(tmp_path, "      - {kind: overlap, columns: [start, end]}\n")
    path.write_text(path.read_text().replace("    id: person\n", "    id: person\n    before_birth_days: 400\n"))
    with pytest.raises(LogMapError, match="before_birth_days"):
        load_logmap(path)
