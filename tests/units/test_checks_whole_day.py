"""The hourly check's fast path: a day of the 24 canonical hours, each a count in range, is kept
as it came; anything else goes to the hour-by-hour check (``None``)."""

from __future__ import annotations

from typing import Any

import pytest

from tap_twitter_engagement.checks import HOUR_KEYS, MAX_COUNT, Tally, _buckets, _whole_day

FULL = {key: hour for hour, key in enumerate(HOUR_KEYS)}
REVERSED = dict(reversed(FULL.items()))


def test_a_whole_day_is_kept_as_it_came_in_its_order():
    assert _whole_day(FULL, range(24)) == FULL
    kept = _whole_day(REVERSED, range(24))
    assert kept == REVERSED
    assert list(kept or {}) == list(REVERSED)  # the order the hour-by-hour check keeps
    assert _whole_day({**FULL, "23": MAX_COUNT}, range(24)) == {**FULL, "23": MAX_COUNT}


@pytest.mark.parametrize(
    ("value", "hours"),
    [
        ({**FULL, "05": "5"}, range(24)),  # a string count: count()'s other form
        ({**FULL, "05": True}, range(24)),  # a bool is no count
        ({**FULL, "05": -1}, range(24)),
        ({**FULL, "05": MAX_COUNT + 1}, range(24)),
        ({**FULL, "05": 1.0}, range(24)),
        ({**FULL, "05": None}, range(24)),
        ({k: v for k, v in FULL.items() if k != "05"}, range(24)),  # an hour missing
        ({**{k: v for k, v in FULL.items() if k != "05"}, "5": 5}, range(24)),  # "5", not "05"
        ({**FULL, "24": 0}, range(24)),  # an hour that is none
        (FULL, range(1, 24)),  # a day not asked whole: the hour outside is dropped there
        ([0] * 24, range(24)),
        ("whole", range(24)),
    ],
)
def test_anything_else_is_left_to_the_hour_by_hour_check(value: Any, hours: range):
    assert _whole_day(value, hours) is None


def test_buckets_give_the_same_with_and_without_the_fast_path():
    """The fast path and the hour-by-hour check keep the same for a whole day; a day with one
    string count (slow path) keeps it as an int, the rest as they came."""
    tally = Tally()
    expected = {"2026-01-01": range(24), "2026-01-02": range(24)}
    buckets = {"2026-01-01": REVERSED, "2026-01-02": {**FULL, "05": "5"}}
    kept = _buckets(buckets, expected, True, "tweet 1 metric impressions", tally)
    assert kept == {"2026-01-01": REVERSED, "2026-01-02": FULL}
    assert list(kept["2026-01-01"]) == list(REVERSED)
