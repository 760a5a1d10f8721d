"""Progress bars: drawn only when asked, for work big enough, and each one reaches its total."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

import cscmining.ingest as ingest_module
from cscmining.ingest import build_event_log
from cscmining.progress import progress

from reading_support import FIXTURES


@contextmanager
def recording(bars: list[dict]):
    """A stand-in for `progress` that records each bar and what was advanced on it."""
    def fake(description: str, total: int | None, *, unit: str = "events", quiet: bool = False,
             show_from: int = 0):
        bar = {"description": description, "total": total, "unit": unit, "quiet": quiet, "done": 0}
        bars.append(bar)

        @contextmanager
        def context():
            def advance(done: int) -> None:
                bar["done"] += done
            yield advance
        return context()
    yield fake


def test_ingest_bars_reach_their_totals(monkeypatch) -> None:
    """Reading counts the files' bytes, turning rows into events counts the rows read: each
    bar ends at its total (files read in threads advance one bar)."""
    bars: list[dict] = []
    with recording(bars) as fake:
        monkeypatch.setattr(ingest_module, "progress_bar", fake)
        _, read = build_event_log([FIXTURES / "ssda903_csv", FIXTURES / "cin_small.xml"], quiet=False)
    reading, turning = bars
    assert (reading["unit"], turning["unit"]) == ("bytes", "rows")
    files = [*(FIXTURES / "ssda903_csv").iterdir(), FIXTURES / "cin_small.xml"]
    assert reading["done"] == reading["total"] == sum(f.stat().st_size for f in files)
    rows = sum(len(t.frame) for t in read.tables)
    assert turning["done"] == turning["total"] == rows
    assert not reading["quiet"] and not turning["quiet"]


def test_quiet_draws_nothing_even_on_a_terminal(monkeypatch, capsys) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich: stderr counts as a terminal
    monkeypatch.setattr(ingest_module, "ROWS_BAR_FROM", 1)
    build_event_log([FIXTURES / "ssda903_csv"], quiet=True)
    assert capsys.readouterr().err == ""


def test_a_bar_is_drawn_for_big_work_on_a_terminal(monkeypatch, capsys) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setattr(ingest_module, "ROWS_BAR_FROM", 1)
    monkeypatch.setattr(ingest_module, "READ_BAR_FROM", 1)
    build_event_log([FIXTURES / "ssda903_csv"], quiet=False)
    err = capsys.readouterr().err
    assert "turning rows into events" in err and "reading" in err and "kB" in err


@pytest.mark.parametrize("total, quiet", [(None, False), (10, False), (10**9, True)])
def test_small_or_quiet_work_gets_a_no_op(total: int | None, quiet: bool, monkeypatch, capsys) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    with progress("work", total, quiet=quiet, show_from=100) as advance:
        advance(5)
    assert capsys.readouterr().err == ""


def test_nothing_is_drawn_off_a_terminal(capsys) -> None:
    """Under pytest stderr is captured, not a terminal: a bar would garble a log file."""
    with progress("work", 10**9, show_from=1) as advance:
        advance(5)
    assert capsys.readouterr().err == ""

