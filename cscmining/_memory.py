"""Allocators for building a log: no transparent huge pages for short-lived arrays.

Building an event log from a few million rows allocates and frees hundreds of arrays of a
few to tens of MiB, numpy's and Arrow's alike. Where transparent huge pages are enabled
only on request (Linux's ``madvise`` mode, the usual default) two allocators ask for them:
numpy for every large array, and mimalloc, Arrow's default memory pool on Linux wheels. The
kernel then zeroes each fresh 2 MiB page, and on the 3 M-row SSDA903 input that zeroing
cost more time than all of Arrow's work on the log (2-3 s of system time; a few hundred
MiB with ordinary pages cost a fraction of that).

`ordinary_pages` turns both off for the duration: numpy's advice through its switch, and
Arrow's default pool swapped for jemalloc (which does not ask for huge pages and, keeping
freed memory for a second, reuses it without new page faults), or the system allocator
where pyarrow was built without jemalloc. Every Arrow buffer remembers the pool it came
from, so restoring the previous pool afterwards is safe while arrays made inside live on.
An analyst who chose Arrow's pool with ``ARROW_DEFAULT_MEMORY_POOL`` keeps that choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

#: the environment variable through which Arrow lets the user choose its default pool
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


@contextmanager
def ordinary_pages() -> Iterator[None]:
    """numpy's huge-page advice off and Arrow's default pool without huge pages, for the
    duration (both restored after)."""
    previous_pool = pa.default_memory_pool()
    pa.set_memory_pool(_pool_without_huge_pages())
    previous_advice = _set_numpy_huge_pages(False)
    try:
        yield
    finally:
        _set_numpy_huge_pages(previous_advice)
        pa.set_memory_pool(previous_pool)


def _pool_without_huge_pages() -> pa.MemoryPool:
    """jemalloc, else the system allocator; the default pool when the user chose it."""
    if os.environ.get(ARROW_POOL_ENV):
        return pa.default_memory_pool()
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc (e.g. on Windows)
        return pa.system_memory_pool()


def _set_numpy_huge_pages(enabled: bool | None) -> bool | None:
    """Set numpy's huge-page advice and return the previous setting; None (and a no-op)
    where numpy lacks the switch (numpy < 2) or nothing is to be restored."""
    if enabled is None:
        return None
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        return None
    return bool(_set_madvise_hugepage(enabled))
