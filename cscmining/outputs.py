"""Writing files safely: a temporary name in the same folder, then an atomic rename.

A run that is killed half-way never leaves a half-written file under its final name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import UsageError


@contextlib.contextmanager
def atomic_path(path: Path, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` if the block succeeds."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write here ({exc.strerror or exc.__class__.__name__})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str, *, mode: int = 0o644) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> Path:
    """Write bytes atomically."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(data)
    return path
