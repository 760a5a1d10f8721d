"""Row accounting: every input row ends in exactly one place (SPEC §3).

``rows_read = used + rejected + duplicate + blank`` per file and table, checked by the
program itself. A row that produced events but had a problem with one of its other dates is
*used* and the problem is counted under ``flags``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import AccountingError


@dataclass
class TableAccount:
    """The account of one table of one input file (an xlsx sheet is one table)."""

    path: str
    source: str
    table: str
    sheet: str | None = None
    rows_read: int = 0
    used: int = 0
    duplicate: int = 0
    blank: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    events: int = 0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def where(self) -> str:
        return f"{self.path} [{self.sheet}]" if self.sheet else self.path

    def check(self) -> None:
        """Fail loudly when rows went missing: a row lost here would be lost silently."""
        accounted = self.used + self.rejected_total + self.duplicate + self.blank
        if accounted != self.rows_read:
            raise AccountingError(
                f"{self.where}: table {self.table}: {self.rows_read} rows read but "
                f"{accounted} accounted for (used {self.used}, rejected {self.rejected_total}, "
                f"duplicate {self.duplicate}, blank {self.blank})"
            )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "source": self.source,
            "table": self.table,
            "rows_read": self.rows_read,
            "used": self.used,
            "rejected": self.rejected_total,
            "duplicate": self.duplicate,
            "blank": self.blank,
            "reasons": dict(sorted(self.rejected.items())),
            "flags": dict(sorted(self.flags.items())),
            "events": self.events,
        }
        if self.sheet is not None:
            out["sheet"] = self.sheet
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableAccount:
        return cls(
            path=data["path"],
            source=data["source"],
            table=data["table"],
            sheet=data.get("sheet"),
            rows_read=data["rows_read"],
            used=data["used"],
            duplicate=data["duplicate"],
            blank=data["blank"],
            rejected=Counter(data.get("reasons", {})),
            flags=Counter(data.get("flags", {})),
            events=data.get("events", 0),
        )
