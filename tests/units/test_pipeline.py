"""The request pipeline across accounts, without HTTP: order, bounds, and failures kept apart."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tap_twitter_engagement.checks import Served, Tally
from tap_twitter_engagement.coverage import Coverage, Needs, Shape
from tap_twitter_engagement.dates import Period
from tap_twitter_engagement.engine import RunPlan
from tap_twitter_engagement.errors import AccessRefused, Interrupted
from tap_twitter_engagement.pipeline import Pipeline
from tap_twitter_engagement.windows import PlannedRequest

START = datetime(2026, 1, 1, tzinfo=UTC)


def _plan(key: str, n: int) -> RunPlan:
    requests = [
        PlannedRequest((f"{key}{i}",), START, START + timedelta(days=1), i, 0, ("impressions",))
        for i in range(n)
    ]
    needs = Needs({}, {}, Coverage(Shape(("tweet.id",))))
    return RunPlan(Period(START, START + timedelta(days=1)), (), needs, requests, {})


def _served(request: PlannedRequest) -> Served:
    return Served({request.tweet_ids[0]: {}}, {}, [], [], {}, Tally())


class Recorder:
    """Fake plan and fetch that log what happens, and track what is in flight."""

    def __init__(self, sizes: dict[str, int], delay: float = 0.0) -> None:
        self.sizes = sizes
        self.delay = delay
        self.events: list[tuple[str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.fail_plan: set[str] = set()
        self.fail_fetch: set[str] = set()

    def plan(self, key: str) -> RunPlan:
        self.events.append(("plan", key))
        if key in self.fail_plan:
            raise AccessRefused(f"{key} refused", 401, "Unauthorized")
        return _plan(key, self.sizes[key])

    def fetch(self, key: str, request: PlannedRequest) -> list[Served]:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if key in self.fail_fetch:
                raise AccessRefused(f"{key} refused", 401, "Unauthorized")
            self.events.append(("fetch", request.tweet_ids[0]))
            return [_served(request)]
        finally:
            with self.lock:
                self.in_flight -= 1


def _pipeline(recorder: Recorder, **kwargs: Any) -> Pipeline[str]:
    options: dict[str, Any] = {
        "workers": 3,
        "budget": 1_000,
        "weight": lambda _r: 1,
        "stop": threading.Event(),
    }
    options.update(kwargs)
    return Pipeline(list(recorder.sizes), recorder.plan, recorder.fetch, **options)


def _consume(pipeline: Pipeline[str], key: str) -> list[str]:
    return [request.tweet_ids[0] for request, _ in pipeline.responses(key)]


def test_each_key_gets_its_responses_in_plan_order():
    recorder = Recorder({"a": 5, "b": 4, "c": 1}, delay=0.002)
    pipeline = _pipeline(recorder)
    for key, n in recorder.sizes.items():
        assert pipeline.plan_of(key).planned[0].tweet_ids == (f"{key}0",)
        assert _consume(pipeline, key) == [f"{key}{i}" for i in range(n)]
    pipeline.close()


def test_the_next_key_is_planned_and_sent_before_the_first_is_consumed():
    recorder = Recorder({"a": 2, "b": 2})
    pipeline = _pipeline(recorder, workers=4)
    deadline = time.monotonic() + 10
    while ("fetch", "b1") not in recorder.events and time.monotonic() < deadline:
        time.sleep(0.01)
    # Nothing of "a" consumed yet, and "b" is planned and fetched: one stream of requests.
    assert ("plan", "b") in recorder.events
    assert ("fetch", "b1") in recorder.events
    assert _consume(pipeline, "a") == ["a0", "a1"]
    assert _consume(pipeline, "b") == ["b0", "b1"]


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_at_most_workers_requests_are_sent_and_not_yet_written(workers):
    recorder = Recorder({"a": 12, "b": 12}, delay=0.002)
    pipeline = _pipeline(recorder, workers=workers)
    written = 0
    for key in ("a", "b"):
        for _request, _served_list in pipeline.responses(key):
            time.sleep(0.01)  # a slow writer: the fetchers would run ahead if they could
            fetched = sum(kind == "fetch" for kind, _ in recorder.events)
            assert fetched - written <= workers
            written += 1
    assert written == 24
    assert 1 <= recorder.most_in_flight <= workers


def test_the_budget_bounds_what_is_held():
    recorder = Recorder({"a": 10}, delay=0.001)
    held: list[int] = []
    weights = {f"a{i}": 40 for i in range(10)}
    pipeline = _pipeline(recorder, workers=8, budget=100, weight=lambda r: weights[r.tweet_ids[0]])
    for _ in pipeline.responses("a"):
        held.append(pipeline._held)
    assert max(held) <= 100  # two requests of 40 at a time, not eight


def test_a_failing_key_fails_alone():
    recorder = Recorder({"a": 3, "b": 3, "c": 3})
    recorder.fail_plan.add("a")
    recorder.fail_fetch.add("b")
    pipeline = _pipeline(recorder)
    with pytest.raises(AccessRefused, match="a refused"):
        pipeline.plan_of("a")
    with pytest.raises(AccessRefused, match="b refused"):
        _consume(pipeline, "b")
    assert _consume(pipeline, "c") == ["c0", "c1", "c2"]  # b's abandoned requests freed room


def test_a_stopped_run_sends_nothing_more_and_ends_every_wait():
    recorder = Recorder({"a": 5, "b": 5}, delay=0.05)
    stop = threading.Event()
    pipeline = _pipeline(recorder, stop=stop, workers=1)
    responses = pipeline.responses("a")
    next(responses)
    stop.set()
    with pytest.raises(Interrupted):
        list(responses)  # the next request was never sent: nothing to wait for but the stop
    with pytest.raises(Interrupted):
        list(pipeline.responses("b"))
    assert [e for e in recorder.events if e[0] == "fetch"] == [("fetch", "a0")]


def test_a_key_abandoned_before_its_first_response_gives_its_budget_back():
    """The stream abandons an account whose sync failed before it asked for a response: the
    requests already sent for it must not keep holding the budget the next account needs."""
    recorder = Recorder({"a": 6, "b": 3})
    pipeline = _pipeline(recorder, workers=2, budget=2)
    pipeline.responses("a").close()  # never started: closing it gives back nothing
    pipeline.abandon("a")
    got: list[str] = []
    consumer = threading.Thread(target=lambda: got.extend(_consume(pipeline, "b")), daemon=True)
    consumer.start()
    consumer.join(timeout=30)  # a guard against a hang, not a measure of speed
    assert got == ["b0", "b1", "b2"]
    pipeline.close()
