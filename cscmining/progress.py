"""Progress bars on stderr (rich) for work that takes more than a moment, silent under ``--quiet``.

A bar appears only for work big enough to take a few seconds (``show_from`` units: events
of a log, rows of the inputs, bytes of the files) and is transient: it is drawn while the
work runs, then erased, so stdout (``--json``) and the final terminal output are never mixed
with it. On a non-terminal stderr rich draws nothing. Advancing is thread-safe (rich locks),
so files read side by side can advance one bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

#: logs with fewer events than this get no bar (their analysis takes well under a second)
SHOW_FROM = 2_000_000


class Advance(Protocol):
    def __call__(self, done: int) -> None: ...


def _nothing(done: int) -> None:
    return None


@contextmanager
def progress(
    description: str, total: int | None, *, unit: str = "events", quiet: bool = False,
    show_from: int = SHOW_FROM,
) -> Iterator[Advance]:
    """A bar counting ``unit`` (``advance(n)`` after each piece of n of them is done)."""
    if quiet or not total or total < show_from:
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    if not console.is_terminal:
        yield _nothing
        return
    # bytes as sizes ("12.3/150.0 MB"), anything else as a count and its unit
    amount: list[ProgressColumn] = [DownloadColumn()] if unit == "bytes" else [MofNCompleteColumn(), TextColumn(unit)]
    bar = Progress(TextColumn("{task.description}"), BarColumn(), *amount, TimeElapsedColumn(),
                   console=console, transient=True)
    with bar:
        task = bar.add_task(description, total=total)

        def advance(done: int) -> None:
            bar.advance(task, done)

        yield advance
