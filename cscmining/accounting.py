"""Row accounting: every input row ends in exactly one place (SPEC §3).

``rows_read = used + rejected + duplicate + blank`` per file and table, checked by the
program itself. A row that produced events but had a problem with one of its other dates is
*used* and the problem is counted under ``flags``.

A table that rejects more than a ceiling share of its rows stops the run (`check_reject_rates`,
``DQ_REJECT_RATE``): a map of the rows that survived a broken extract would look plausible and
be wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import AccountingError, RejectRateError

#: the default reject-rate ceiling (reliability.md ACC-5 proposes 5 %): statutory returns
#: have passed the DfE's validation before they are sent, so their rows are very rarely
#: rejected; one row in twenty refused means a wrong date format, a shifted column or a stale
#: logmap, which the analyst should see before any map is drawn from what is left
MAX_REJECT_RATE = 0.05
#: tables with fewer rows than this are not held to the ceiling: there every rejected row is
#: over one percentage point, so two typos in a short list (Annex A lists 9 and 10 often hold
#: a handful of children) would stop the run. From 100 rows on, 5 % is six or more bad rows,
#: a pattern rather than a slip
MIN_ROWS_FOR_REJECT_RATE = 100
#: how many reasons a ceiling message names (the most frequent first)
_TOP_REASONS = 3


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
    #: how the file's text was decoded (`sources.base.RawTable.encoding`)
    encoding: str | None = None

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

    def rejected_share(self, not_faults: frozenset[str]) -> tuple[int, int]:
        """(rows rejected for a fault, rows that could have been): blank rows are not records,
        and rows rejected for a reason in ``not_faults`` (a record superseded by a later
        file) are neither faults nor this table's rows."""
        ignored = sum(n for code, n in self.rejected.items() if code in not_faults)
        return self.rejected_total - ignored, self.rows_read - self.blank - ignored

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
        if self.encoding is not None:
            out["encoding"] = self.encoding
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
            encoding=data.get("encoding"),
        )


def check_reject_rates(
    accounts: list[TableAccount], ceiling: float, *, not_faults: frozenset[str] = frozenset(),
) -> None:
    """Stop the run (`RejectRateError`) when a table of at least `MIN_ROWS_FOR_REJECT_RATE`
    rows rejected more than ``ceiling`` of them; the message names every such table with its
    rate and most frequent reasons (codes and counts: never a value)."""
    over = []
    for account in accounts:
        bad, rows = account.rejected_share(not_faults)
        if rows >= MIN_ROWS_FOR_REJECT_RATE and bad / rows > ceiling:
            reasons = Counter({c: n for c, n in account.rejected.items() if c not in not_faults})
            top = ", ".join(f"{code} {n}" for code, n in reasons.most_common(_TOP_REASONS))
            over.append(f"{account.where}: table {account.table}: {bad} of {rows} rows rejected "
                        f"({bad / rows:.1%}; most often {top})")
    if over:
        raise RejectRateError(
            f"DQ_REJECT_RATE: more than {ceiling * 100:g}% of a table's rows rejected, no event "
            "log written (fix the extract or the logmap, or raise the ceiling with `cscmining "
            "ingest --max-reject-rate`; 1 turns it off):\n  " + "\n  ".join(over)
        )
