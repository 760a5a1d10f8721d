"""`_threads.map_in_threads`: the plain loop's results and errors, whichever thread is faster."""

from __future__ import annotations

import threading
import time

import pytest

from cscmining._threads import cores, map_in_threads


def test_results_come_back_in_the_order_of_the_items() -> None:
    """Later items finish first (they sleep less); the results are still in item order."""
    def slow_first(item: int) -> int:
        time.sleep(0.002 * (10 - item))
        return item * item

    assert map_in_threads(slow_first, range(10)) == [i * i for i in range(10)]
    assert map_in_threads(slow_first, []) == []


def test_an_error_is_raised_and_the_items_not_started_are_dropped() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(item: int) -> int:
        with lock:
            started.append(item)
        if item == 0:
            raise ValueError("item 0 is bad")
        time.sleep(0.05)
        return item

    with pytest.raises(ValueError, match="item 0 is bad"):
        map_in_threads(work, range(40))
    # each core took at most an item or two before the error was seen: not all forty
    assert 0 in started and len(started) <= 2 * cores() + 1


def test_work_is_shared_out_over_the_cores() -> None:
    """With two cores or more, items run in threads other than the caller's."""
    names = map_in_threads(lambda _item: threading.current_thread().name, range(4))
    if cores() > 1:
        assert all(name.startswith("cscmining") for name in names)
    else:
        assert set(names) == {threading.current_thread().name}
