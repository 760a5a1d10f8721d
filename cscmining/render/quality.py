"""The data-quality table: where every input row ended, per file and table, and what each
code of a rejected or flagged row means.

`CODES` is the one place that says a code in plain English, for the analyst at the terminal
(`quality_table`) and for the workshop report's appendix, whose readers never saw the logmap.
The codes are defined where they are detected (`cscmining.codes`, `cscmining.dates`, the
readers, the logmaps' row checks); a code missing here (a flag a local logmap names for its
own check) is still listed, described by `describe` as a check of the logmap.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ..eventlog import EventLog

#: code → what it means, for rows rejected (not used) and rows flagged (used, but worth a look)
CODES: dict[str, str] = {
    # child identifiers
    "ID_MISSING": "no child identifier",
    "ID_CORRUPT": "the child identifier was turned into a number in scientific notation "
                  "(e.g. by a spreadsheet) and cannot be trusted",
    "ID_FROM_NUMBER": "the child identifier was stored as a number and read back as text",
    "ID_NORMALISED": "spaces or invisible characters were trimmed from the child identifier",
    "ID_LEADING_ZERO_COLLISION_RISK": "two identifiers differ only in leading zeros: maybe "
                                      "one child whose zeros were lost on the way",
    # dates
    "DATE_MISSING": "a date the event needs is blank",
    "DATE_FORMAT": "a date is not written in the return's date format",
    "DATE_INVALID": "a date that does not exist (such as the 31st of February)",
    "DATE_OUT_OF_RANGE": "a date far too early or too late for these records",
    "DATE_FUTURE": "a date after the as-at date",
    "DATE_BEFORE_DOB": "a date before the child's date of birth",
    "DATE_FROM_SERIAL": "a spreadsheet date number read as a date",
    "END_BEFORE_START": "an end date before its start date",
    # records
    "SUPERSEDED": "the same record sent again in a later file, which is used instead",
    "ACTIVITY_UNMAPPED": "a code the logmap does not turn into an activity",
    "ROW_SHAPE": "a row with more or fewer cells than the header",
    "CODE_WRONG_YEAR": "a code not valid in the collection year of the record",
    # row checks declared in the logmaps
    "OVERLAP": "a record starts before the child's previous record ends",
    "MULTIPLE_OPEN": "the child has more than one record with no end date",
    "ZERO_DURATION": "a record starts and ends on the same day",
    "INCOMPLETE_PAIR": "one of two fields that go together is filled, the other blank",
    "DEC_REC_MISMATCH": "a care episode with an end date but no reason for ending, or a "
                        "reason but no end date",
}


def describe(code: str) -> str:
    """What ``code`` means; a code this table does not know is a check a logmap declared."""
    return CODES.get(code, "a check declared in the logmap (see its checks)")


def quality_table(log: EventLog) -> Table:
    """Rows read, used, rejected (by reason), duplicate and blank, per file and table; the
    caption says what each code shown means."""
    table = Table(title="Data quality: every input row accounted for", title_justify="left",
                  show_lines=False, expand=False)
    table.add_column("file", overflow="fold")
    table.add_column("table")
    for name in ("rows", "used", "rejected", "dupl.", "blank", "events"):
        table.add_column(name, justify="right")
    table.add_column("reasons / flags", overflow="fold")
    shown: set[str] = set()
    for acc in log.accounts:
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(acc.rejected.items()))
        flags = ", ".join(f"{code} {n}" for code, n in sorted(acc.flags.items()))
        notes = "; ".join(x for x in (reasons, f"flags: {flags}" if flags else "") if x)
        shown |= {*acc.rejected, *acc.flags}
        table.add_row(
            Path(acc.path).name + (f" [{acc.sheet}]" if acc.sheet else ""), acc.table, f"{acc.rows_read:,}", f"{acc.used:,}", f"{acc.rejected_total:,}",
            f"{acc.duplicate:,}", f"{acc.blank:,}", f"{acc.events:,}", notes,
        )
    caption = [
        (f"{log.events:,} events for {log.cases:,} children; {log.same_day_ties:,} same-day "
         f"ties ordered by stage; {log.merged:,} events reported by two sources merged; as at "
         f"{log.as_at}"),
        *(f"{code}: {describe(code)}" for code in sorted(shown)),
    ]
    table.caption = "\n".join(caption)
    table.caption_justify = "left"
    return table
