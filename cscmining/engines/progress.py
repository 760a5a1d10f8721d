"""Progress on stderr for work over many events (rich), silent under ``--quiet``.

A bar appears only for logs big enough to take more than a moment (`SHOW_FROM` events) and is
transient: it is drawn while the work runs, then erased, so stdout (``--json``) and the final
terminal output are never mixed with it. On a non-terminal stderr rich draws nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

#: logs with fewer events than this get no bar (their analysis takes well under a second)
SHOW_FROM = 2_000_000


class Advance(Protocol):
    def __call__(self, events: int) -> None: ...


def _nothing(events: int) -> None:
    return None


@contextmanager
def progress(description: str, total: int | None, *, quiet: bool = False) -> Iterator[Advance]:
    """A bar counting events (``advance(n)`` after each chunk of n events)."""
    if quiet or not total or total < SHOW_FROM:
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield _nothing
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("events"), TimeElapsedColumn(), console=console, transient=True)
    with bar:
        task = bar.add_task(description, total=total)

        def advance(events: int) -> None:
            bar.advance(task, events)

        yield advance
