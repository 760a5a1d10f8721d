"""Yearly returns overlap: a record reported again in a later year's file supersedes it."""

from __future__ import annotations

from pathlib import Path

from cscmining.ingest import build_event_log

HEADER = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"


def test_open_episode_closed_in_the_next_years_file(tmp_path: Path) -> None:
    """2024 file: episode from 10/01/2024 still open at 31 March. 2025 file: the same episode
    (CHILD 007, DECOM 10/01/2024) closed on 05/06/2024, returned home (E4A).

    Expected: the 2024 row is rejected SUPERSEDED; the 2025 row gives Looked after start
    and Left care: returned home — one start, not two.
    """
    (tmp_path / "ssda903_2024").mkdir()
    (tmp_path / "ssda903_2025").mkdir()
    (tmp_path / "ssda903_2024" / "episodes.csv").write_text(
        HEADER + "007,10/01/2024,S,V2,N1,U1,PR1,,,,,,\n"
    )
    (tmp_path / "ssda903_2025" / "episodes.csv").write_text(
        HEADER + "007,10/01/2024,S,V2,N1,U1,PR1,05/06/2024,E4A,,,,\n"
    )
    log, _ = build_event_log([tmp_path])
    assert log.frame["concept:name"].tolist() == ["Looked after start", "Left care: returned home"]
    older, newer = log.accounts
    assert older.path.endswith("ssda903_2024/episodes.csv")
    assert (older.rows_read, older.used, dict(older.rejected)) == (1, 0, {"SUPERSEDED": 1})
    assert (newer.rows_read, newer.used, newer.events) == (1, 1, 2)


def test_identical_rows_in_two_years_are_duplicates_not_superseded(tmp_path: Path) -> None:
    row = "007,10/01/2024,S,V2,N1,U1,PR1,05/06/2024,E4A,,,,\n"
    for year in ("2024", "2025"):
        (tmp_path / f"episodes_{year}.csv").write_text(HEADER + row)
    log, _ = build_event_log([tmp_path])
    assert log.events == 2
    assert [(a.used, a.duplicate, a.rejected_total) for a in log.accounts] == [(1, 0, 0), (0, 1, 0)]
