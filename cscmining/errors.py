"""Typed errors. The CLI turns any `CscMiningError` into one line on stderr and exit code 2.

Messages name files, sheets, rows and columns, never a cell's value: a value may identify a
child, and error messages end up in tickets, e-mails and screenshots.
"""

from __future__ import annotations

from pathlib import Path


class CscMiningError(Exception):
    """Base class of every error cscmining raises on purpose."""

    exit_code = 2


class LogMapError(CscMiningError):
    """A logmap or the stage vocabulary is not valid."""


class InputFileError(CscMiningError):
    """A file could not be read at all (not a known return, empty, broken, unsafe...)."""

    def __init__(self, path: Path | str, code: str, detail: str) -> None:
        self.path = str(path)
        self.code = code
        self.detail = detail
        super().__init__(f"{self.path}: {code}: {detail}")


class InputFilesError(CscMiningError):
    """Several input files could not be read; the run stops before writing anything."""

    def __init__(self, errors: list[InputFileError]) -> None:
        self.errors = errors
        lines = [str(e) for e in errors]
        noun = "file" if len(errors) == 1 else "files"
        super().__init__(
            f"{len(errors)} input {noun} could not be read "
            "(use --keep-going to build the log from the others):\n  " + "\n  ".join(lines)
        )


class AccountingError(CscMiningError):
    """Rows went missing between reading and the event log: a bug, never ignored."""


class EventLogError(CscMiningError):
    """An event log file is missing, unreadable or not made by cscmining."""


class UsageError(CscMiningError):
    """Options that do not fit together or values out of range."""


class KeyFileError(CscMiningError):
    """A pseudonymisation key file is missing, weak, or readable by others."""


class ShareFolderError(CscMiningError):
    """An internal artefact (child ids, pseudonyms, figures without disclosure control, a key)
    was to be written inside a folder the analyst configured as the share folder."""

    code = "INTERNAL_IN_SHARE_DIR"

    def __init__(self, path: Path | str, folder: Path | str, variable: str) -> None:
        self.path = str(path)
        super().__init__(
            f"{self.code}: {path} is inside the share folder {folder} ({variable}) but holds "
            "child ids, pseudonyms, a key or figures without disclosure control; write it "
            "outside the share folder"
        )


class RejectRateError(CscMiningError):
    """Too large a share of a table's rows was rejected: the extract (or the logmap) is
    broken, and maps drawn from what is left would mislead (reliability.md ACC-5)."""
