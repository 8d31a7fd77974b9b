"""Request planning: fewest batches x windows, exact tiling, window-major order."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tap_twitter_engagement.plan import (
    PlannedRequest,
    batches,
    dedupe,
    format_api_time,
    plan,
    windows,
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


# --- windows -------------------------------------------------------------------------------------


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
    result = windows(START, end)
    assert [(e - s) / DAY for s, e in result] == lengths_in_days
    assert result[0][0] == START
    assert result[-1][1] == end
    for (_, prev_end), (next_start, _) in itertools.pairwise(result):
        assert prev_end == next_start
    assert sum(((e - s) for s, e in result), timedelta()) == end - START
    assert all(e - s <= MAX for s, e in result)
    # Every boundary is a midnight, so no UTC day spans two windows.
    assert all(s.hour == 0 and e.hour == 0 for s, e in result)


def test_windows_stop_at_a_partial_last_hour() -> None:
    end = START + 28 * DAY + timedelta(hours=13)
    assert windows(START, end) == [(START, START + MAX), (START + MAX, end)]


def test_windows_shorter_than_a_day() -> None:
    end = START + timedelta(hours=13)
    assert windows(START, end) == [(START, end)]


def test_windows_keep_a_non_midnight_start() -> None:
    start = START + timedelta(hours=5)
    end = start + 30 * DAY
    assert windows(start, end, max_days=10) == [
        (start, start + 10 * DAY),
        (start + 10 * DAY, start + 20 * DAY),
        (start + 20 * DAY, end),
    ]


def test_windows_max_days() -> None:
    assert len(windows(START, START + 28 * DAY, max_days=27)) == 2
    assert len(windows(START, START + 3 * DAY, max_days=1)) == 3


@pytest.mark.parametrize("end", [START, START - DAY])
def test_windows_empty_period(end: datetime) -> None:
    assert windows(START, end) == []


def test_windows_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        windows(START, START + DAY, max_days=0)
    with pytest.raises(ValueError, match="naive"):
        windows(datetime(2026, 1, 1), START + DAY)


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
    assert plan(tweet_ids, START, end) == [
        PlannedRequest(first, START, mid, window_index=0, batch_index=0),
        PlannedRequest(second, START, mid, window_index=0, batch_index=1),
        PlannedRequest(first, mid, end, window_index=1, batch_index=0),
        PlannedRequest(second, mid, end, window_index=1, batch_index=1),
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
