"""Request planning: fewest batches x windows, exact tiling, window-major order."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tap_twitter_engagement.api import format_api_time
from tap_twitter_engagement.coverage import days
from tap_twitter_engagement.selection import dedupe
from tap_twitter_engagement.windows import (
    PlannedRequest,
    batches,
    day_windows,
    period_days,
    plan_needs,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
MAX = timedelta(days=28)


def ids(n: int) -> list[str]:
    return [str(1785000000000000000 + i) for i in range(n)]


# --- batches -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "sizes"),
    [
        (0, []),
        (1, [1]),
        (25, [25]),
        (26, [25, 1]),
        (100, [25, 25, 25, 25]),
        (101, [25, 25, 25, 25, 1]),
    ],
)
def test_batches(n: int, sizes: list[int]) -> None:
    tweet_ids = ids(n)
    result = batches(tweet_ids)
    assert [len(b) for b in result] == sizes
    assert [t for b in result for t in b] == tweet_ids
    assert all(isinstance(b, tuple) for b in result)


def test_batches_custom_size() -> None:
    assert batches(["a", "b", "c", "d", "e"], size=2) == [("a", "b"), ("c", "d"), ("e",)]
    assert batches(["a", "b"], size=1) == [("a",), ("b",)]


@pytest.mark.parametrize("size", [0, -1])
def test_batches_rejects_size_below_one(size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        batches(["a"], size=size)


# --- a run without state: every tweet over the whole period ---------------------------------------


def plan(
    tweet_ids: list[str],
    start: datetime,
    end: datetime,
    batch_size: int = 25,
    max_days: int = 28,
) -> list[PlannedRequest]:
    """The plan of a run without state: every id, one metric, every day of the period."""
    wanted = period_days(start, end)
    needs = {(t, "impressions"): wanted for t in tweet_ids} if wanted else {}
    return plan_needs(
        needs, tweet_ids, ["impressions"], start, end, batch_size=batch_size, max_days=max_days
    )


def spans(requests: list[PlannedRequest]) -> list[tuple[datetime, datetime]]:
    return list(dict.fromkeys((r.start, r.end) for r in requests))


@pytest.mark.parametrize(
    ("days", "lengths_in_days"),
    [
        (1, [1]),
        (28, [28]),
        (29, [28, 1]),
        (57, [28, 28, 1]),
        (365, [28] * 13 + [1]),
    ],
)
def test_windows_day_edges(days: int, lengths_in_days: list[int]) -> None:
    end = START + days * DAY
    result = spans(plan(ids(1), START, end))
    assert [(e - s) / DAY for s, e in result] == lengths_in_days
    assert result[0][0] == START
    assert result[-1][1] == end
    for (_, prev_end), (next_start, _) in itertools.pairwise(result):
        assert prev_end == next_start
    assert all(e - s <= MAX for s, e in result)
    # Every boundary is a midnight, so no UTC day spans two windows.
    assert all(s.hour == 0 and e.hour == 0 for s, e in result)


def test_windows_stop_at_a_partial_last_hour() -> None:
    end = START + 28 * DAY + timedelta(hours=13)
    assert spans(plan(ids(1), START, end)) == [(START, START + MAX), (START + MAX, end)]


def test_windows_shorter_than_a_day() -> None:
    end = START + timedelta(hours=13)
    assert spans(plan(ids(1), START, end)) == [(START, end)]


def test_windows_max_days() -> None:
    assert len(spans(plan(ids(1), START, START + 28 * DAY, max_days=27))) == 2
    assert len(spans(plan(ids(1), START, START + 3 * DAY, max_days=1))) == 3


def test_an_empty_period_plans_nothing() -> None:
    assert plan(ids(3), START, START) == []
    assert plan(ids(3), START, START - DAY) == []


def test_day_windows_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        day_windows(((START.date(), START.date()),), max_days=0)


# --- plan ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_ids", "days", "expected"),
    [
        (1, 1, 1),
        (25, 28, 1),
        (26, 29, 4),
        (101, 57, 15),
        (100, 365, 56),
        (0, 365, 0),
    ],
)
def test_plan_length_is_batches_times_windows(n_ids: int, days: int, expected: int) -> None:
    assert len(plan(ids(n_ids), START, START + days * DAY)) == expected


def test_plan_is_window_major() -> None:
    tweet_ids = ids(26)
    end = START + 29 * DAY
    mid = START + MAX
    first, second = tuple(tweet_ids[:25]), (tweet_ids[25],)
    asked = ("impressions",)
    assert plan(tweet_ids, START, end) == [
        PlannedRequest(first, START, mid, 0, 0, asked, last_batch=False),
        PlannedRequest(second, START, mid, 0, 1, asked, last_batch=True),
        PlannedRequest(first, mid, end, 1, 0, asked, last_batch=False),
        PlannedRequest(second, mid, end, 1, 1, asked, last_batch=True),
    ]


def test_plan_covers_every_id_in_every_window_once() -> None:
    tweet_ids = ids(101)
    requests = plan(tweet_ids, START, START + 57 * DAY)
    order = [(r.window_index, r.batch_index) for r in requests]
    assert order == sorted(order)
    for w in range(3):
        in_window = [t for r in requests if r.window_index == w for t in r.tweet_ids]
        assert in_window == tweet_ids


def test_plan_honours_custom_limits() -> None:
    requests = plan(["a", "b", "c"], START, START + 3 * DAY, batch_size=2, max_days=2)
    assert [(r.tweet_ids, r.start, r.end) for r in requests] == [
        (("a", "b"), START, START + 2 * DAY),
        (("c",), START, START + 2 * DAY),
        (("a", "b"), START + 2 * DAY, START + 3 * DAY),
        (("c",), START + 2 * DAY, START + 3 * DAY),
    ]


# --- planning from needs ------------------------------------------------------------------------

D0 = START.date()


def span(a: int, b: int) -> tuple:
    return ((D0 + timedelta(days=a), D0 + timedelta(days=b)),)


def _min_windows(needed: set[int], max_days: int) -> int:
    """Brute force over every way to cover the needed days: state = last day covered."""
    states = {-1: 0}  # covered through day k -> fewest windows so far
    for day in sorted(needed):
        covered = {k: w for k, w in states.items() if k >= day}
        uncovered = [w for k, w in states.items() if k < day]
        if uncovered:  # a window must cover this day; starting on it reaches furthest
            reach = day + max_days - 1
            covered[reach] = min(covered.get(reach, len(needed) + 1), min(uncovered) + 1)
        states = covered
    return min(states.values())


def test_day_windows_are_the_fewest_and_cover_every_needed_day() -> None:
    rng = random.Random(7)
    for _ in range(500):
        needed = {rng.randint(0, 120) for _ in range(rng.randint(0, 12))}
        needed |= set(range(rng.randint(0, 60), rng.randint(0, 90)))
        wanted = days((D0 + timedelta(days=n), D0 + timedelta(days=n)) for n in needed)
        max_days = rng.choice([1, 3, 28])
        result = day_windows(wanted, max_days)
        assert len(result) == _min_windows(needed, max_days)
        for first, last in result:
            assert (last - first).days < max_days
            assert (first - D0).days in needed
            assert (last - D0).days in needed
        covered = {(a - D0).days + i for a, b in result for i in range((b - a).days + 1)}
        assert needed <= covered


def test_tweets_with_the_same_needs_share_batches_and_windows() -> None:
    old, new = ids(60), ids(63)[60:]
    end = START + 60 * DAY
    needs = {(t, "impressions"): span(56, 59) for t in old}
    needs |= {(t, "impressions"): span(0, 59) for t in new}
    incremental = {(t, "impressions"): span(56, 59) for t in old}
    requests = plan_needs(needs, old + new, ["impressions"], START, end, incremental)
    # old: 3 batches x 1 window (4 days); new: 1 batch x 3 windows (60 days)
    assert [(len(r.tweet_ids), r.start, r.end, r.backfill) for r in requests] == [
        (25, START + 56 * DAY, end, False),
        (25, START + 56 * DAY, end, False),
        (10, START + 56 * DAY, end, False),
        (3, START, START + 28 * DAY, True),
        (3, START + 28 * DAY, START + 56 * DAY, True),
        (3, START + 56 * DAY, end, True),
    ]
    assert [r.window_index for r in requests] == [0, 0, 0, 1, 2, 3]
    assert [r.last_batch for r in requests] == [False, False, True, True, True, True]


def test_a_window_asks_only_the_metrics_needed_in_it() -> None:
    end = START + 40 * DAY
    needs = {("1", "impressions"): span(37, 39), ("1", "favorites"): span(0, 39)}
    requests = plan_needs(needs, ["1"], ["impressions", "favorites"], START, end)
    assert [(r.start, r.end, r.metrics) for r in requests] == [
        (START, START + 28 * DAY, ("favorites",)),
        (START + 28 * DAY, end, ("impressions", "favorites")),
    ]


def test_windows_end_at_a_partial_last_hour_and_skip_gaps() -> None:
    end = START + 59 * DAY + timedelta(hours=13)
    needs = {("1", "impressions"): ((D0, D0 + timedelta(days=2)), *span(57, 59))}
    requests = plan_needs(needs, ["1"], ["impressions"], START, end)
    assert [(r.start, r.end) for r in requests] == [
        (START, START + 3 * DAY),
        (START + 57 * DAY, end),
    ]


def test_nothing_needed_plans_nothing() -> None:
    assert plan_needs({}, ids(5), ["impressions"], START, START + DAY) == []


def test_period_days() -> None:
    assert period_days(START, START + 3 * DAY) == span(0, 2)
    assert period_days(START, START + 2 * DAY + timedelta(hours=5)) == span(0, 2)
    assert period_days(START, START) == ()


# --- dedupe, format_api_time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], []),
        (["3", "1", "3", "2", "1"], ["3", "1", "2"]),
        (iter(["9", "9", "9"]), ["9"]),
    ],
)
def test_dedupe(given: list[str], expected: list[str]) -> None:
    assert dedupe(given) == expected


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (datetime(2026, 5, 1, tzinfo=UTC), "2026-05-01T00:00:00Z"),
        (datetime(2026, 5, 1, 17, 5, 9, 999999, tzinfo=UTC), "2026-05-01T17:05:09Z"),
        (datetime(2026, 5, 1, 1, tzinfo=timezone(timedelta(hours=2))), "2026-04-30T23:00:00Z"),
    ],
)
def test_format_api_time(dt: datetime, text: str) -> None:
    assert format_api_time(dt) == text


def test_format_api_time_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_api_time(datetime(2026, 5, 1))
