"""The pacer, without HTTP: spacing for known limits, holds, probes, caps, and stopping."""

from __future__ import annotations

import threading

import pytest

from tap_twitter_engagement.errors import Interrupted, WaitTooLong
from tap_twitter_engagement.pacing import SAFETY, Pacer, reset_wait


class FakeTime:
    """A monotonic clock and an epoch clock that only move when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.epoch = 1_800_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def epoch_clock(self) -> float:
        return self.epoch

    def sleep(self, seconds: float) -> bool:
        self.slept.append(round(seconds, 6))
        self.now += seconds
        self.epoch += seconds
        return False


def _pacer(time: FakeTime, **kwargs) -> Pacer:
    return Pacer(clock=time.clock, epoch=time.epoch_clock, sleep=time.sleep, **kwargs)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"x-per-minute-remaining": "0", "x-per-minute-reset": "1030"},
            (30.0, "x-per-minute-reset"),
        ),
        (
            {"x-per-second-remaining": "0", "x-per-second-reset": "1001"},
            (1.0, "x-per-second-reset"),
        ),
        ({"x-rate-limit-reset": "990"}, (0.0, "x-rate-limit-reset")),
        ({"Retry-After": "7"}, (7.0, "Retry-After")),
        ({"Retry-After": "Thu, 01 Jan 1970 00:17:00 GMT"}, (20.0, "Retry-After")),
        # the family that ran out names the reset, whatever else the response carries
        (
            {
                "x-per-minute-remaining": "5",
                "x-per-minute-reset": "1050",
                "x-per-second-remaining": "0",
                "x-per-second-reset": "1001",
            },
            (1.0, "x-per-second-reset"),
        ),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_reset_wait_reads_each_header(headers, expected) -> None:
    assert reset_wait(headers, now=1000.0) == expected


def test_a_configured_limit_spaces_requests_with_margin() -> None:
    time = FakeTime()
    pacer = _pacer(time, per_minute=120)
    pacer.observe("historical", {}, 200)  # limits unknown from headers: the setting alone
    for _ in range(4):
        pacer.wait("historical")
    gap = round(0.5 / SAFETY, 6)
    assert time.slept == [gap, gap, gap]
    pacer.observe("totals", {}, 200)
    pacer.wait("totals")  # another endpoint has its own budget
    assert time.slept == [gap, gap, gap]


def test_limits_learned_from_either_family_pace_at_the_strictest() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    pacer.wait("historical")
    pacer.observe(
        "historical",
        {"x-per-minute-limit": "600", "x-per-second-limit": "2", "x-per-second-remaining": "1"},
        200,
    )
    assert pacer.interval("historical") == pytest.approx(0.5 / SAFETY)
    pacer.observe("totals", {"x-per-minute-limit": "30"}, 200)
    assert pacer.interval("totals") == pytest.approx(2.0 / SAFETY)


def test_missing_headers_are_unknown_never_a_spent_budget() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    for status in (200, 401, 404, 406, 503):
        pacer.observe("historical", {}, status)
        pacer.wait("historical")
    pacer.observe("historical", {"x-per-minute-reset": str(int(time.epoch) + 50)}, 200)
    pacer.wait("historical")
    assert time.slept == []


def test_a_spent_budget_holds_the_endpoint_until_the_reset() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    reset = str(int(time.epoch) + 30)
    pacer.observe("historical", {"x-per-minute-remaining": "0", "x-per-minute-reset": reset}, 200)
    assert pacer.held_for("historical") == (30.0, "x-per-minute-reset")
    pacer.wait("historical")
    assert time.slept == [30.0]
    pacer.observe("historical", {"x-per-minute-remaining": "5", "x-per-minute-reset": reset}, 200)
    pacer.wait("historical")
    assert time.slept == [30.0]


def test_a_429_holds_the_endpoint_for_its_retry_after() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    pacer.observe("historical", {"Retry-After": "4"}, 429)
    pacer.wait("historical")
    assert time.slept == [4.0]
    pacer.observe("historical", {"Retry-After": "4"}, 200)  # only a 429 or a spent budget holds
    pacer.wait("historical")
    assert time.slept == [4.0]


def test_a_wait_longer_than_max_wait_is_refused() -> None:
    time = FakeTime()
    pacer = _pacer(time, max_wait=300)
    pacer.observe("historical", {"Retry-After": "3000"}, 429)
    with pytest.raises(WaitTooLong) as info:
        pacer.wait("historical")
    assert (info.value.seconds, info.value.reason) == (3000.0, "Retry-After")
    assert time.slept == []


def test_a_stopped_run_ends_the_wait() -> None:
    stop = threading.Event()
    stop.set()
    pacer = Pacer(per_minute=60, stop=stop)
    pacer.observe("historical", {}, 200)
    pacer.wait("historical")  # the first one goes at once
    with pytest.raises(Interrupted):
        pacer.wait("historical")


def test_one_request_at_a_time_until_the_first_answer() -> None:
    pacer = Pacer()
    pacer.wait("historical")  # the probe: limits unknown
    second_went = threading.Event()

    def second() -> None:
        pacer.wait("historical")
        second_went.set()

    worker = threading.Thread(target=second)
    worker.start()
    assert not second_went.wait(0.5)  # held back while the probe is out
    pacer.observe("historical", {"x-per-second-limit": "100"}, 200)
    worker.join(timeout=10)
    assert second_went.is_set()


def test_a_limit_learned_from_the_first_answer_spaces_from_the_first_request() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    pacer.wait("historical")  # the probe goes at once, limits unknown
    time.now += 0.01  # its answer: at most 2 per second
    pacer.observe("historical", {"x-per-second-limit": "2", "x-per-second-remaining": "1"}, 200)
    pacer.wait("historical")
    assert time.slept == [round(0.5 / SAFETY - 0.01, 6)]  # not at once: 0.53 s after the probe


def test_a_429_without_a_reset_holds_the_endpoint_rate_limit_wait():
    time = FakeTime()
    pacer = _pacer(time, rate_limit_wait=42.0)
    pacer.wait("/x")
    pacer.observe("/x", {}, 429)
    assert pacer.held_for("/x") == (42.0, "a 429 without a reset")
    pacer.observe("/y", {}, 200)  # no 429: nothing held
    assert pacer.held_for("/y") == (0.0, "")
    pacer.wait("/x")
    assert time.slept == [42.0]


def test_a_documented_budget_paces_from_the_first_request_and_each_user_alike() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    pacer.budget("/2/tweets/analytics", 300, 900.0)
    gap = round(3.0 / SAFETY, 6)
    for _ in range(3):  # known from the start: no probing, paced at once
        pacer.wait("/2/tweets/analytics")
    assert time.slept == [gap, gap]
    assert pacer.interval("/2/tweets/analytics@account 1") == pytest.approx(3.0 / SAFETY)
    assert pacer.interval("/2/tweets/other") == 0.0  # other endpoints keep their own pace


def test_a_users_spent_budget_holds_that_user_alone() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    pacer.budget("/2/tweets/analytics", 300, 900.0)
    reset = str(int(time.epoch) + 600)
    spent = {
        "x-rate-limit-limit": "300",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": reset,
    }
    pacer.observe("/2/tweets/analytics@account 1", spent, 200)
    pacer.observe("/2/tweets/analytics", {}, 200)
    assert pacer.held_for("/2/tweets/analytics@account 1") == (600.0, "x-rate-limit-reset")
    assert pacer.held_for("/2/tweets/analytics@account 2") == (0.0, "")
    assert pacer.held_for("/2/tweets/analytics") == (0.0, "")
