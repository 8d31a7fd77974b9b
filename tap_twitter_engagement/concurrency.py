"""Requests in flight at once, results in plan order: records and STATE as a sequential run's."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


def ordered_concurrent(fn: Callable[[_T], _R], items: Iterable[_T], workers: int) -> Iterator[_R]:
    """``map(fn, items)`` with up to ``workers`` calls in flight, results in input order.

    Bounded look-ahead keeps memory flat; with ``workers`` 1 it is a plain sequential loop. If the
    consumer stops early, calls not yet started are cancelled (the ones running end on their
    own: every wait of the client ends when the run is stopped).
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engagement-fetch")
    pending: deque[Future[_R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
