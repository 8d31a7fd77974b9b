"""Every account's historical requests as one stream, so the rate limit is never left idle.

The SDK syncs a stream's partitions (accounts) one after the other. Read that way, each account's
requests drain completely before the next account plans (its timeline first), and with real
latency each switch leaves the shared pacer idle. So one dispatcher plans the accounts ahead, in
partition order, and keeps up to ``workers`` requests in flight whichever accounts they belong
to; the stream still consumes each account's responses in that account's plan order, so records
and STATE are what a sequential run gives.

Memory is bounded by a budget, not by the job: a request counts against it (its expected number
of counts) from the moment it is sent until the stream has written its records, so at most about
the budget's worth of responses is ever held, however many records the run writes. What a held
response weighs is kept small: its body is parsed one at a time (``client``), its hourly counts
kept as machine integers (``checks.Hours``), and the process's allocations share one malloc
arena (:func:`one_malloc_arena`).
"""

from __future__ import annotations

import ctypes
import queue
import sys
import threading
from collections.abc import Callable, Generator, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from tap_twitter_engagement.checks import Served
from tap_twitter_engagement.engine import RunPlan
from tap_twitter_engagement.errors import Interrupted
from tap_twitter_engagement.windows import PlannedRequest

K = TypeVar("K", bound=Hashable)

#: What one count of a response in flight weighs in memory, about: its share of the body until
#: it is parsed (12 bytes for ``/historical`` at hourly grain, 22 for Post analytics), then of
#: the checked grouping (15 bytes as ``checks.Hours``); measured, each hourly ``/historical``
#: response in flight adds about 20 bytes a count to the peak RSS. The parse itself, several
#: times the body, happens for one response at a time (``client``). Daily responses weigh more
#: a count (a dict entry each) but hold 24 times fewer. ``memory_budget_mb`` is turned into
#: counts with it.
BYTES_PER_COUNT = 32
#: glibc's ``mallopt`` parameter for the most malloc arenas (``malloc.h``).
_M_ARENA_MAX = -8


def one_malloc_arena() -> None:
    """Have every thread allocate from one malloc arena (glibc; elsewhere nothing happens).

    Why: glibc gives threads arenas of their own, and each keeps the high-water mark of what was
    parsed in it (the JSON of an hourly response holds dicts larger than Python's small-object
    allocator takes), so with requests in flight the tap's memory grew with the number of
    threads that ever parsed a body, not with what is held (BENCHMARKS.md, 4b). Python's
    threads allocate holding the GIL, so sharing one arena adds next to no contention. Call it
    before any thread starts.
    """
    if not sys.platform.startswith("linux"):
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, 1)


#: How long a wait for budget or work looks up to check the stop signal.
_POLL = 0.25


@dataclass(frozen=True)
class _Sent:
    request: PlannedRequest
    future: Future[list[Served]]
    weight: int


_DONE = object()
_STOPPED = object()


class Pipeline(Generic[K]):
    """Plans and fetches the keys' (accounts') requests ahead; hands them out per key, in order.

    ``plan(key)`` and ``fetch(key, request)`` run in the pipeline's threads; an exception of
    either reaches the consumer of that key only (:meth:`plan_of`, :meth:`responses`), so a
    failing account fails alone.
    """

    def __init__(
        self,
        keys: Sequence[K],
        plan: Callable[[K], RunPlan],
        fetch: Callable[[K, PlannedRequest], list[Served]],
        *,
        workers: int,
        budget: int,
        weight: Callable[[PlannedRequest], int],
        stop: threading.Event,
    ) -> None:
        self._keys = list(keys)
        self._fetch = fetch
        self._workers = max(1, workers)
        self._budget = max(1, budget)
        self._weight = weight
        self.stop = stop
        self._lock = threading.Condition()
        # Accounts are planned ahead, several at once (their timelines are v2 requests, on a
        # budget of their own): the dispatcher finds the next plan ready when it gets there.
        self._planner = ThreadPoolExecutor(self._workers, thread_name_prefix="engagement-plan")
        self._plans: dict[K, Future[RunPlan]] = {
            key: self._planner.submit(plan, key) for key in self._keys
        }
        self._sent: dict[K, queue.Queue[object]] = {key: queue.Queue() for key in self._keys}
        self._closed: set[K] = set()
        self._held = 0
        self._outstanding = 0
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="engagement-fetch")
        self._thread = threading.Thread(target=self._dispatch, name="engagement-plan", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the consumer's side
    def plan_of(self, key: K) -> RunPlan:
        """The key's plan, once made (its planning error, if any, raised here)."""
        return self._wait(self._plans[key])

    def responses(self, key: K) -> Generator[tuple[PlannedRequest, list[Served]], None, None]:
        """The key's responses, request by request in plan order. A response's weight is
        given back when the consumer asks for the next one (its records are written by then);
        if the consumer stops early, the rest of the key's requests are cancelled."""
        sent = self._sent[key]
        try:
            while True:
                item = self._next(sent)
                if item is _STOPPED:
                    raise Interrupted
                if not isinstance(item, _Sent):  # the key's last request was handed out
                    return
                try:
                    yield item.request, self._wait(item.future)
                finally:
                    self._release(item.weight)
        finally:
            self.abandon(key)

    def close(self) -> None:
        """Stop planning and sending (the run ended); threads in flight end with the run."""
        with self._lock:
            self._closed.update(self._keys)
            self._lock.notify_all()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._planner.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ the dispatcher
    def _dispatch(self) -> None:
        for key in self._keys:
            try:
                plan = self._wait(self._plans[key])
            except Interrupted:
                self._sent[key].put(_STOPPED)
                break
            except BaseException:
                self._sent[key].put(_DONE)
                continue
            for request in plan.planned:
                if not self._send(key, request, min(self._weight(request), self._budget)):
                    break
            # Stopped half way, the key's consumer must not take its responses for all of them.
            self._sent[key].put(_STOPPED if self.stop.is_set() else _DONE)

    def _send(self, key: K, request: PlannedRequest, weight: int) -> bool:
        """Send a request once ``weight`` fits the budget and a slot is free (at most
        ``workers`` requests sent and not yet written: with 1, a request goes only after the
        one before is written, as a sequential run); False when the key is abandoned or the
        run stops. Under the lock, so an abandoned key's drain sees it."""
        with self._lock:
            while not (self._held + weight <= self._budget and self._outstanding < self._workers):
                if key in self._closed or self.stop.is_set():
                    return False
                self._lock.wait(_POLL)
            if key in self._closed or self.stop.is_set():
                return False
            self._held += weight
            self._outstanding += 1
            future = self._pool.submit(self._fetch, key, request)
            self._sent[key].put(_Sent(request, future, weight))
            return True

    def _released(self, weight: int, _future: Future[list[Served]]) -> None:
        self._release(weight)

    def _release(self, weight: int) -> None:
        with self._lock:
            self._held -= weight
            self._outstanding -= 1
            self._lock.notify_all()

    def abandon(self, key: K) -> None:
        """No more of ``key``'s requests: cancel those not started, give back their weights
        (those running give theirs back when they end)."""
        with self._lock:
            self._closed.add(key)
            self._lock.notify_all()
            left = []
            while True:
                try:
                    left.append(self._sent[key].get_nowait())
                except queue.Empty:
                    break
        for item in left:
            if isinstance(item, _Sent):
                item.future.cancel()
                item.future.add_done_callback(partial(self._released, item.weight))

    # ------------------------------------------------------------------ waiting, stoppably
    def _next(self, sent: queue.Queue[object]) -> object:
        while True:
            try:
                return sent.get(timeout=_POLL)
            except queue.Empty:
                if self.stop.is_set():
                    raise Interrupted from None

    def _wait(self, future: Future[_T]) -> _T:
        while True:
            try:
                return future.result(timeout=_POLL)
            except TimeoutError:
                if self.stop.is_set():
                    raise Interrupted from None


_T = TypeVar("_T")
