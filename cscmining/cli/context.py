"""State shared by every command: the consoles and the global flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console


@dataclass
class AppContext:
    debug: bool = False
    quiet: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=False))
    # notes are lines for a person: never wrapped mid-path when stderr is piped
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True))

    def note(self, message: str) -> None:
        """A line for the person at the terminal (stderr), silenced by --quiet."""
        if not self.quiet:
            self.err.print(message, markup=False, highlight=False)
