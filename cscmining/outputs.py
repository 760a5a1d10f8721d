"""Writing files safely: a temporary name in the same folder, then an atomic rename.

* A run that is killed half-way never leaves a half-written file under its final name.
* Internal files (the event log: it holds child ids or pseudonyms) are owner-only (0600)
  from the moment they exist; shareable ones get the permissions the user's umask gives.
* A named output that already exists is not replaced unless the user said ``--force``:
  `force_option` adds that flag to a command, refuses before any work is done, and makes
  the final rename refuse too (no other process slipped the file in meanwhile).
* Text cells of CSV exports are defused against formula injection (`csv_safe`).
* Internal files are never written inside the share folder the analyst configured
  (`SHARE_DIR_ENV`, SEC-6): an event log or a table of child ids that lands in the folder
  that is copied to partners would be a breach, so the write is refused (`check_not_shared`).
  Internal means owner-only (``mode`` not None), or written by a command run without
  disclosure control (``--disclosure none``, or a command that has no such option: its
  outputs hold ids or exact figures), which `force_option` records for the run.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ShareFolderError, UsageError

if TYPE_CHECKING:  # pandas costs ~0.25 s to import: only the CSV guard needs it
    import pandas as pd

#: owner read/write only: every file that holds child ids or pseudonyms
PRIVATE = 0o600

F = TypeVar("F", bound=Callable[..., Any])

#: the share folder(s): paths separated by os.pathsep (":" on POSIX, ";" on Windows)
SHARE_DIR_ENV = "CSCMINING_SHARE_DIR"
#: the `--disclosure` level that applies no control (the analyst's own use)
NO_CONTROL = "none"

#: whether the running command writes internal outputs; set by `force_option`
_INTERNAL: contextvars.ContextVar[bool] = contextvars.ContextVar("cscmining_internal", default=False)

#: outputs the running command may not replace (absolute paths); set by `refusing_to_replace`
_NO_REPLACE: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "cscmining_no_replace", default=frozenset()
)


def _key(path: Path) -> str:
    return os.path.abspath(path)


def _umask_mode() -> int:
    """The mode a new file gets from the user's umask (0o644 under the usual 022)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def exists_message(path: Path) -> str:
    return f"{path} exists; use --force to replace it"


@contextlib.contextmanager
def atomic_path(
    path: Path, *, mode: int | None = PRIVATE, overwrite: bool = True,
) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` if the block succeeds.

    ``mode``: the final permissions; owner-only by default, ``None`` for what the umask gives
    (shareable outputs). The temporary file is owner-only throughout (``mkstemp``).
    ``overwrite=False`` (or ``path`` guarded by `refusing_to_replace`) refuses to replace an
    existing file, atomically: the temporary file is hard-linked to the final name.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")
    if mode is not None or _INTERNAL.get():
        check_not_shared(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write here ({_reason(exc)})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    replace = overwrite and _key(path) not in _NO_REPLACE.get()
    try:
        yield tmp
        os.chmod(tmp, _umask_mode() if mode is None else mode)
        if replace:
            os.replace(tmp, path)
        elif not _rename_unless_taken(tmp, path):
            raise UsageError(exists_message(path))
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({_reason(exc)})") from None
    finally:
        tmp.unlink(missing_ok=True)


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def _rename_unless_taken(tmp: Path, path: Path) -> bool:
    """Give ``tmp`` the name ``path`` unless a file of that name exists (then False)."""
    try:
        os.link(tmp, path)  # atomic, and fails if ``path`` exists
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(path):
            return False
        os.replace(tmp, path)
    return True


def write_text(path: Path, text: str, *, mode: int | None = None, overwrite: bool = True) -> Path:
    """Write UTF-8 text atomically (a shareable output unless ``mode`` says otherwise)."""
    with atomic_path(path, mode=mode, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_bytes(
    path: Path, data: bytes, *, mode: int | None = None, overwrite: bool = True,
) -> Path:
    """Write bytes atomically (a shareable output unless ``mode`` says otherwise)."""
    with atomic_path(path, mode=mode, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return path


# --- the share folder --------------------------------------------------------------------


def share_folders() -> list[Path]:
    """The configured share folders (`SHARE_DIR_ENV`), symbolic links resolved."""
    raw = os.environ.get(SHARE_DIR_ENV, "")
    return [Path(os.path.realpath(os.path.expanduser(p.strip())))
            for p in raw.split(os.pathsep) if p.strip()]


def check_not_shared(path: Path) -> Path:
    """Refuse (`ShareFolderError`) to put an internal file inside a share folder.

    The path is resolved as the file system would (``..``, symbolic links), so neither a
    relative name nor a link into the share folder gets past.
    """
    target = Path(os.path.realpath(path))
    for folder in share_folders():
        if target == folder or folder in target.parents:
            raise ShareFolderError(path, folder, SHARE_DIR_ENV)
    return Path(path)


# --- not replacing what exists -------------------------------------------------------------


def check_output(path: Path, *, force: bool = False) -> Path:
    """Refuse, before any work is done, an output name that is taken (unless ``force``)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give a file name")
    if not force and os.path.lexists(path):
        raise UsageError(exists_message(path))
    return path


@contextlib.contextmanager
def refusing_to_replace(paths: Iterable[Path]) -> Iterator[None]:
    """While the block runs, `atomic_path` will not replace any of ``paths``."""
    token = _NO_REPLACE.set(_NO_REPLACE.get() | {_key(Path(p)) for p in paths})
    try:
        yield
    finally:
        _NO_REPLACE.reset(token)


def force_option(*params: str) -> Callable[[F], F]:
    """Add ``--force`` to a click command whose options ``params`` name output files.

    Without ``--force`` an existing output is refused before the command does any work, and
    again at the final rename. A command run without disclosure control (``--disclosure
    none``, or no such option) writes internal outputs: they are refused inside the share
    folder, here before any work and again by `atomic_path`. Put it below
    ``@cli.command()``, among the options::

        @cli.command()
        @force_option("output")
        @click.option("-o", "--output", ...)
    """
    import click

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def guarded(*args: Any, force: bool, **kwargs: Any) -> Any:
            named = [Path(kwargs[p]) for p in params if kwargs.get(p) is not None]
            internal = kwargs.get("disclosure", NO_CONTROL) == NO_CONTROL
            for path in named:
                check_output(path, force=force)
                if internal:
                    check_not_shared(path)
            token = _INTERNAL.set(internal)
            try:
                with refusing_to_replace([] if force else named):
                    return func(*args, **kwargs)
            finally:
                _INTERNAL.reset(token)

        option = click.option("--force", is_flag=True,
                              help="Replace output files that already exist.")
        return option(guarded)  # type: ignore[return-value]

    return decorate


# --- CSV exports -------------------------------------------------------------------------------

#: a spreadsheet treats a cell starting with one of these as a formula (OWASP ASVS 1.2.10)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula prefixed by ``'``.

    Only text (object, string or categorical-of-text) columns are touched; numbers and dates
    are written as they are. Returns a new frame (the caller's is not changed).
    """
    import pandas as pd

    out = frame.copy(deep=False)
    for column in out.columns:
        cells = out[column]
        if isinstance(cells.dtype, pd.CategoricalDtype):
            if not _risky(pd.Series(cells.cat.categories)).any():
                continue
            cells = cells.astype(object)
        elif not (cells.dtype == object or pd.api.types.is_string_dtype(cells.dtype)):
            continue
        risky = _risky(cells)
        if risky.any():
            out[column] = cells.where(~risky, "'" + cells[risky].astype(str))
    return out


def _risky(cells: pd.Series) -> pd.Series:
    """Text cells starting like a formula (False for anything that is not text)."""
    import pandas as pd

    try:
        return cells.str.startswith(FORMULA_START, na=False).astype(bool)
    except AttributeError:  # an object column holding no text
        return pd.Series(False, index=cells.index)
