"""Work shared out over the machine's cores, in threads.

Worth it only where the work runs outside Python's lock: Arrow's kernels, the xlsx and
XML parsers, numpy's sorts. Results always come back in the order of the inputs, so what
a run produces never depends on which thread finished first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    """The cores this process may run on (its affinity, where the system reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def map_in_threads(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[function(item) for item in items]``, the items shared out over the cores; an
    exception in any item is raised here, as the plain loop would raise it, and so is an
    interrupt (Ctrl-C): the items not started yet are then dropped, not worked through."""
    work = list(items)
    workers = min(len(work), cores())
    if workers <= 1:
        return [function(item) for item in work]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cscmining")
    try:
        return list(pool.map(function, work))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
