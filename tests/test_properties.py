"""Metamorphic properties of the whole pipeline (TST-1, TST-2, T-EP-09, T-FUZ-02).

Hypothesis writes small SSDA903 episode files and Annex A list 3 files (with bad dates,
blank ids, ragged rows, ties and exact duplicates among the rows), then the same data again
with its rows shuffled, exact duplicate rows and blank rows added, a byte order mark, and
headers in another case or spacing. The event log (but for the source row numbers, which
follow the rows), the process map and the variants must not change; the accounts change by
exactly the added duplicates and blanks; the accounting equation always holds.

CI profile: derandomized (fixed examples), bounded ``max_examples``, no deadline.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cscmining.accounting import TableAccount
from cscmining.columns import FILE, ROW
from cscmining.discover import process_map
from cscmining.eventlog import EventLog
from cscmining.ingest import build_event_log
from cscmining.variants import variants

#: CI: fixed examples, bounded time, no shrinking (a failure prints its example as drawn).
#: A longer, random run: CSCMINING_HYPOTHESIS_EXAMPLES=500 CSCMINING_HYPOTHESIS_RANDOM=1
EXAMPLES = int(os.environ.get("CSCMINING_HYPOTHESIS_EXAMPLES", "0")) or None
RANDOM = bool(os.environ.get("CSCMINING_HYPOTHESIS_RANDOM"))


def budget(examples: int) -> settings:
    return settings(max_examples=EXAMPLES or examples, derandomize=not RANDOM, deadline=None,
                    database=None, phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if RANDOM else [])],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

EP = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
      "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]
L3 = ["Child Unique ID", "Gender", "Date of referral", "Referral Source", "Allocated Team"]

children = st.sampled_from(["001", "1", "0042", "A7", "b9", "12345", ""])
days = st.sampled_from(["01/04/2023", "02/04/2023", "03/04/2023", "15/05/2023", "01/06/2023",
                        "31/02/2023", "2023-04-01", "01/04/23", "", "01/04/1985", "01/01/2099"])
end_days = st.sampled_from(["", "", "02/04/2023", "01/06/2023", "31/03/2023", "30/02/2023"])


@st.composite
def episode(draw) -> list[str]:
    return [draw(children), draw(days), draw(st.sampled_from("SPLBU")), draw(st.sampled_from(["V2", "C2"])),
            "N1", draw(st.sampled_from(["U4", "A3", "K2"])), "PR1", draw(end_days),
            draw(st.sampled_from(["", "X1", "E11", "E13", "E45", "Q9"])), "", "", "", ""]


#: each child's sex, written in any of the spellings Annex A exports use (or left blank);
#: a child recorded as both sexes is `test_conflicting_case_attributes_do_not_follow_row_order`
SEX = {"001": "F", "1": "M", "0042": "F", "A7": "M", "b9": "F", "12345": "M", "": "F"}
SPELLINGS = {"F": ["F", "b) Female", "female ", ""], "M": ["M", "a) Male", "MALE", ""]}


@st.composite
def referral(draw) -> list[str]:
    child = draw(children)
    return [child, draw(st.sampled_from(SPELLINGS[SEX[child]])), draw(days),
            draw(st.sampled_from(["g) Police", "1A", ""])), draw(st.sampled_from(["North", "", "see notes"]))]


def ragged(row: list[str]) -> list[str]:
    return row[: len(row) // 2]


@st.composite
def table(draw, rows, header: list[str]) -> dict:
    body = draw(st.lists(rows, min_size=1, max_size=14))
    body += [ragged(r) for r in draw(st.lists(rows, max_size=2))]
    return {"header": header, "rows": body}


@st.composite
def changes(draw, data: dict) -> dict:
    """What to do to one file: every change is drawn, so a failure shrinks to the one that matters."""
    n = len(data["rows"])
    whole = [i for i, r in enumerate(data["rows"]) if len(r) == len(data["header"])]
    return {
        "seed": draw(st.integers(0, 2**16)),
        "duplicates": draw(st.lists(st.sampled_from(whole), max_size=3)) if whole else [],
        "blanks": draw(st.lists(st.integers(1, n), max_size=3)),
        "trailing_blanks": draw(st.integers(0, 2)),
        "bom": draw(st.booleans()),
        "header": draw(st.sampled_from(["same", "lower", "upper", "spaced"])),
    }


def render(data: dict, change: dict | None = None) -> bytes:
    header, rows = list(data["header"]), [list(r) for r in data["rows"]]
    if change:
        rows += [list(rows[i]) for i in change["duplicates"]]
        random.Random(change["seed"]).shuffle(rows)
        width = len(header)
        for position in sorted(change["blanks"], reverse=True):
            rows.insert(min(position, len(rows) - 1), [""] * width if position % 2 else [])
        rows += [[""] * width] * change["trailing_blanks"]
        header = {"same": header, "lower": [h.lower() for h in header],
                  "upper": [h.upper() for h in header],
                  "spaced": [f" {h.replace(' ', '  ')} " for h in header]}[change["header"]]
    text = "\r\n".join(",".join(r) for r in [header, *rows]) + "\r\n"
    return (b"\xef\xbb\xbf" if change and change["bom"] else b"") + text.encode("utf-8")


def ingest(files: dict[str, bytes]) -> EventLog:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, data in files.items():
            path = Path(folder) / name
            path.write_bytes(data)
            paths.append(path)
        log, read = build_event_log(paths)
    assert read.errors == []
    return log


def balanced(log: EventLog) -> None:
    """ACC-2 for every table, and every event accounted to a table."""
    for account in log.accounts:
        account.check()
        assert account.rows_read == account.used + account.rejected_total + account.duplicate + account.blank
    assert sum(a.events for a in log.accounts) == log.events + log.merged


def comparable(log: EventLog) -> pd.DataFrame:
    return log.frame.drop(columns=[c for c in (ROW, FILE) if c in log.frame.columns])


def numbers(account: TableAccount) -> tuple:
    return account.used, dict(account.rejected), dict(account.flags), account.events


@given(data=st.data(), episodes=table(episode(), EP), referrals=table(referral(), L3))
@budget(12)
def test_shuffles_duplicates_blanks_bom_and_header_case_change_nothing(data, episodes, referrals) -> None:
    before = ingest({"episodes.csv": render(episodes), "list_3.csv": render(referrals)})
    edits = {"episodes.csv": data.draw(changes(episodes)), "list_3.csv": data.draw(changes(referrals))}
    after = ingest({"episodes.csv": render(episodes, edits["episodes.csv"]),
                    "list_3.csv": render(referrals, edits["list_3.csv"])})
    balanced(before)
    balanced(after)
    # the event log, but for the row numbers, which follow the rows
    pd.testing.assert_frame_equal(comparable(after), comparable(before))
    assert (after.as_at, after.same_day_ties, after.merged) == (before.as_at, before.same_day_ties, before.merged)
    # maps and variants (a log with no events has no map: that is refused the same way)
    if before.events:
        assert process_map(after).to_dict() == process_map(before).to_dict()
        assert process_map(after, level="summary").to_dict() == process_map(before, level="summary").to_dict()
    assert variants(after).to_dict() == variants(before).to_dict()
    # the accounts differ by exactly the rows added
    for old, new in zip(before.accounts, after.accounts):
        name = Path(new.path).name
        assert numbers(new) == numbers(old), name
        assert new.duplicate - old.duplicate == len(edits[name]["duplicates"]), name
        assert new.rows_read - old.rows_read == (new.duplicate - old.duplicate) + (new.blank - old.blank)


@given(rows=st.lists(episode(), min_size=1, max_size=12), seed=st.integers(0, 2**16),
       copied=st.lists(st.integers(0, 11), max_size=6))
@budget(6)
def test_rows_sent_again_in_a_later_file_change_nothing(rows, seed, copied) -> None:
    """The same rows again in next year's file (shuffled): exact duplicates, same log."""
    again = [rows[i % len(rows)] for i in copied]
    random.Random(seed).shuffle(again)
    once = ingest({"2023.csv": render({"header": EP, "rows": rows})})
    twice = ingest({"2023.csv": render({"header": EP, "rows": rows}),
                    "2024.csv": render({"header": EP, "rows": again})})
    balanced(once)
    balanced(twice)
    pd.testing.assert_frame_equal(comparable(twice), comparable(once))
    later = next(a for a in twice.accounts if a.path.endswith("2024.csv"))
    assert (later.rows_read, later.duplicate, later.events) == (len(again), len(again), 0)


@st.composite
def moving(draw) -> list[str]:
    """An episode with a reason for the move that ended it (REASON_PLACE_CHANGE), which the
    next episode's move carries as ``change_reason`` when this one ended on its start day;
    few children and days, so episodes of one child often begin on the same day and end on
    another's start day."""
    row = draw(episode())
    row[:3] = [draw(st.sampled_from(["1", "1", "1.0", "A7"])), draw(st.sampled_from(["01/04/2023", "01/06/2023"])),
               draw(st.sampled_from("SLPTBU"))]
    row[EP.index("DEC")] = draw(st.sampled_from(["", "01/06/2023", "01/06/2023", "02/06/2023"]))
    row[EP.index("REASON_PLACE_CHANGE")] = draw(st.sampled_from(["", "ALLEG", "carpl", "CREQB", "PLACE"]))
    return row


@given(data=st.data(), episodes=table(moving(), EP))
@budget(10)
def test_reasons_taken_from_previous_episodes_do_not_follow_row_order(data, episodes) -> None:
    """T-EP-09 for values taken from a child's previous record: which episode is a move's
    previous one, among records of one child that began (or ended) on the same day, is
    decided by content, so shuffled, duplicated and blank rows change no ``change_reason``."""
    before = ingest({"episodes.csv": render(episodes)})
    change = data.draw(changes(episodes))
    after = ingest({"episodes.csv": render(episodes, change)})
    balanced(after)
    pd.testing.assert_frame_equal(comparable(after), comparable(before))


@given(episodes=table(episode(), EP), referrals=table(referral(), L3))
@budget(8)
def test_every_row_ends_in_exactly_one_place(episodes, referrals) -> None:
    """T-FUZ-02: the account of each file adds up to its rows, counted independently here."""
    log = ingest({"episodes.csv": render(episodes), "list_3.csv": render(referrals)})
    balanced(log)
    expected = {"episodes.csv": episodes, "list_3.csv": referrals}
    for account in log.accounts:
        rows = expected[Path(account.path).name]["rows"]
        trailing = 0
        for row in reversed(rows):
            if any(cell.strip() for cell in row):
                break
            trailing += 1
        assert account.rows_read == len(rows) - trailing
        width = len(expected[Path(account.path).name]["header"])
        ragged_rows = sum(1 for r in rows if len(r) != width and any(c.strip() for c in r))
        assert account.rejected.get("ROW_SHAPE", 0) == ragged_rows
        assert Counter(log.frame["source"])[f"{account.source}/{account.table}"] <= account.events


def test_conflicting_case_attributes_do_not_follow_row_order() -> None:
    rows = [["001", "F", "01/04/2023", "g) Police", "North"], ["001", "M", "02/04/2023", "g) Police", "North"]]
    first = ingest({"list_3.csv": render({"header": L3, "rows": rows})})
    second = ingest({"list_3.csv": render({"header": L3, "rows": rows[::-1]})})
    pd.testing.assert_frame_equal(comparable(second), comparable(first))


def test_det_01_the_same_inputs_give_the_same_log_under_any_hash_seed(tmp_path: Path) -> None:
    """T-DET-01: `ingest` here (a random hash seed) and in a process with PYTHONHASHSEED=1 (so
    another seed): identical files."""
    import subprocess
    import sys

    from cscmining.eventlog import write_event_log

    fixtures = Path(__file__).parent / "fixtures"
    inputs = [fixtures / "ssda903_csv", fixtures / "cin_small.xml", fixtures / "annex_a_csv"]
    here = write_event_log(build_event_log(inputs)[0], tmp_path / "here.csv")
    there = tmp_path / "there.csv"
    done = subprocess.run(
        [sys.executable, "-m", "cscmining", "-q", "ingest", *map(str, inputs), "-o", str(there)],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert here.read_bytes() == there.read_bytes()
