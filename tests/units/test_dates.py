"""Duration settings -> UTC period: every boundary decision, with exact instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tap_twitter_engagement.dates import Period, history_floor, resolve_period
from tap_twitter_engagement.errors import ConfigError

# 2026-06-15 13:27:45 UTC; the 365 days before it contain no 29 February.
NOW = datetime(2026, 6, 15, 13, 27, 45, tzinfo=UTC)
FLOOR = datetime(2025, 6, 16, tzinfo=UTC)
JUST_AFTER_MIDNIGHT = datetime(2026, 6, 15, 0, 40, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- ConfigError ---------------------------------------------------------------------------------


def test_config_error_carries_setting_and_message() -> None:
    err = ConfigError("start_date", "2026-13-01 is not a date; use YYYY-MM-DD")
    assert err.setting == "start_date"
    assert err.reason == "2026-13-01 is not a date; use YYYY-MM-DD"
    assert str(err) == "start_date: 2026-13-01 is not a date; use YYYY-MM-DD"
    assert isinstance(err, ValueError)


# --- history_floor -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "history_days", "expected"),
    [
        (NOW, 365, FLOOR),
        # Exactly midnight: now - 365 d is itself a midnight; the floor is still the next one.
        (utc(2026, 6, 15), 365, utc(2025, 6, 16)),
        (utc(2026, 6, 15, 23, 59), 365, utc(2025, 6, 16)),
        # Leap year: 2024-03-01 minus 365 days is 2023-03-02 because of 2024-02-29.
        (utc(2024, 3, 1, 12), 365, utc(2023, 3, 3)),
        (NOW, 1, utc(2026, 6, 15)),
        # A non-UTC clock is converted first: this is 2026-06-14 23:00 UTC.
        (datetime(2026, 6, 15, 1, tzinfo=timezone(timedelta(hours=2))), 365, utc(2025, 6, 15)),
    ],
)
def test_history_floor(now: datetime, history_days: int, expected: datetime) -> None:
    assert history_floor(now, history_days) == expected


def test_history_floor_never_older_than_the_api_limit() -> None:
    for minute in range(0, 24 * 60, 7):
        now = utc(2026, 6, 15) + timedelta(minutes=minute)
        floor = history_floor(now)
        assert floor > now - timedelta(days=365)
        assert floor - (now - timedelta(days=365)) <= timedelta(days=1)
        assert floor.hour == floor.minute == 0


def test_history_floor_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="naive"):
        history_floor(datetime(2026, 6, 15))


# --- resolve_period: valid settings --------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "start", "end"),
    [
        # Domo's example: 10 days back to 5 days back is six whole days, 06-05 through 06-10.
        (
            {"days_back_to_start_from": 10, "days_back_to_end_at": 5},
            utc(2026, 6, 5),
            utc(2026, 6, 11),
        ),
        # Defaults: date_range, 28 days back through yesterday = 28 days.
        ({}, utc(2026, 5, 18), utc(2026, 6, 15)),
        # Unset settings arrive as null from Meltano and mean "default".
        (
            {"duration": None, "start_date_mode": None, "days_back_to_end_at": None},
            utc(2026, 5, 18),
            utc(2026, 6, 15),
        ),
        (
            {
                "duration": "single_date",
                "report_date_mode": "specific",
                "report_date": "2026-05-01",
            },
            utc(2026, 5, 1),
            utc(2026, 5, 2),
        ),
        # Meltano's date_iso8601 kind may write a full timestamp: its UTC date counts.
        (
            {
                "duration": "single_date",
                "report_date_mode": "specific",
                "report_date": "2026-05-01T00:00:00Z",
            },
            utc(2026, 5, 1),
            utc(2026, 5, 2),
        ),
        (
            {
                "duration": "single_date",
                "report_date_mode": "specific",
                "report_date": "2026-05-01T23:30:00-02:00",
            },
            utc(2026, 5, 2),
            utc(2026, 5, 3),
        ),
        # Single date default: yesterday.
        ({"duration": "single_date"}, utc(2026, 6, 14), utc(2026, 6, 15)),
        ({"duration": "single_date", "days_back": 3}, utc(2026, 6, 12), utc(2026, 6, 13)),
        # Today stops at the current hour (13:27 -> 13:00).
        ({"duration": "single_date", "days_back": 0}, utc(2026, 6, 15), utc(2026, 6, 15, 13)),
        (
            {
                "duration": "single_date",
                "report_date_mode": "specific",
                "report_date": "2026-06-15",
            },
            utc(2026, 6, 15),
            utc(2026, 6, 15, 13),
        ),
        (
            {"days_back_to_start_from": 2, "days_back_to_end_at": 0},
            utc(2026, 6, 13),
            utc(2026, 6, 15, 13),
        ),
        # Specific start, relative end, and the reverse.
        (
            {"start_date_mode": "specific", "start_date": "2026-06-01"},
            utc(2026, 6, 1),
            utc(2026, 6, 15),
        ),
        (
            {
                "days_back_to_start_from": 20,
                "end_date_mode": "specific",
                "end_date": "2026-05-31",
            },
            utc(2026, 5, 26),
            utc(2026, 6, 1),
        ),
        # Start and end on the same day is one day.
        (
            {"days_back_to_start_from": 4, "days_back_to_end_at": 4},
            utc(2026, 6, 11),
            utc(2026, 6, 12),
        ),
        # A start older than the API serves is clipped to the floor.
        (
            {"start_date_mode": "specific", "start_date": "2025-01-01"},
            FLOOR,
            utc(2026, 6, 15),
        ),
        ({"days_back_to_start_from": 400}, FLOOR, utc(2026, 6, 15)),
        # The period ending on the floor's day is the one-day edge that still works.
        (
            {
                "start_date_mode": "specific",
                "start_date": "2025-06-01",
                "end_date_mode": "specific",
                "end_date": "2025-06-16",
            },
            FLOOR,
            utc(2025, 6, 17),
        ),
        # Settings of the other duration or mode are ignored, even if they would be invalid.
        (
            {
                "duration": "single_date",
                "days_back": 2,
                "start_date_mode": "bogus",
                "days_back_to_end_at": -3,
                "report_date": "not a date",
            },
            utc(2026, 6, 13),
            utc(2026, 6, 14),
        ),
    ],
)
def test_resolve_period(settings: dict[str, Any], start: datetime, end: datetime) -> None:
    assert resolve_period(settings, NOW, FLOOR) == Period(start=start, end=end)


def test_domo_example_is_six_days() -> None:
    period = resolve_period({"days_back_to_start_from": 10, "days_back_to_end_at": 5}, NOW, FLOOR)
    assert period.hours == 6 * 24
    assert period.start.tzinfo is UTC


def test_range_ending_yesterday_is_whole_days_even_just_after_midnight() -> None:
    period = resolve_period({"days_back_to_start_from": 1}, JUST_AFTER_MIDNIGHT, FLOOR)
    assert period == Period(utc(2026, 6, 14), utc(2026, 6, 15))
    period = resolve_period(
        {"days_back_to_start_from": 1, "days_back_to_end_at": 0}, JUST_AFTER_MIDNIGHT, FLOOR
    )
    assert period == Period(utc(2026, 6, 14), utc(2026, 6, 15))


def test_resolve_period_accepts_non_utc_now() -> None:
    # 2026-06-16 01:10 at +02:00 is 2026-06-15 23:10 UTC: "today" is the UTC date.
    now = datetime(2026, 6, 16, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    period = resolve_period({"duration": "single_date", "days_back": 0}, now, FLOOR)
    assert period == Period(utc(2026, 6, 15), utc(2026, 6, 15, 23))


# --- resolve_period: mistakes --------------------------------------------------------------------

SPECIFIC_RANGE = {"start_date_mode": "specific", "end_date_mode": "specific"}
SPECIFIC_SINGLE = {"duration": "single_date", "report_date_mode": "specific"}


@pytest.mark.parametrize(
    ("settings", "now", "expected"),
    [
        (
            {**SPECIFIC_RANGE, "end_date": "2026-06-01"},
            NOW,
            "start_date: start_date_mode is 'specific' but start_date is not set; "
            "set start_date (YYYY-MM-DD) or use start_date_mode 'relative'",
        ),
        (
            {**SPECIFIC_RANGE, "start_date": "2026-06-01", "end_date": ""},
            NOW,
            "end_date: end_date_mode is 'specific' but end_date is not set; "
            "set end_date (YYYY-MM-DD) or use end_date_mode 'relative'",
        ),
        (
            SPECIFIC_SINGLE,
            NOW,
            "report_date: report_date_mode is 'specific' but report_date is not set; "
            "set report_date (YYYY-MM-DD) or use report_date_mode 'relative'",
        ),
        (
            {"start_date_mode": "specific", "start_date": "2026-13-01"},
            NOW,
            "start_date: 2026-13-01 is not a date; use YYYY-MM-DD, for example 2026-05-01",
        ),
        (
            {"start_date_mode": "specific", "start_date": "2026-02-30"},
            NOW,
            "start_date: 2026-02-30 is not a date; use YYYY-MM-DD, for example 2026-05-01",
        ),
        (
            {"start_date_mode": "specific", "start_date": "05/01/2026"},
            NOW,
            "start_date: 05/01/2026 is not a date; use YYYY-MM-DD, for example 2026-05-01",
        ),
        (
            {"start_date_mode": "specific", "start_date": "2026-5-1"},
            NOW,
            "start_date: 2026-5-1 is not a date; use YYYY-MM-DD, for example 2026-05-01",
        ),
        (
            {"start_date_mode": "specific", "start_date": "20260501"},
            NOW,
            "start_date: 20260501 is not a date; use YYYY-MM-DD, for example 2026-05-01",
        ),
        (
            {"start_date_mode": "specific", "start_date": 20260501},
            NOW,
            "start_date: 20260501 is not a date; use YYYY-MM-DD, for example 2026-05-01",
        ),
        (
            {**SPECIFIC_SINGLE, "report_date": "2026-05-01T25:00:00Z"},
            NOW,
            "report_date: 2026-05-01T25:00:00Z is not a date; "
            "use YYYY-MM-DD, for example 2026-05-01",
        ),
        (
            {"duration": "weekly"},
            NOW,
            "duration: 'weekly' is not a valid value; use 'single_date' or 'date_range'",
        ),
        (
            {"start_date_mode": "absolute"},
            NOW,
            "start_date_mode: 'absolute' is not a valid value; use 'specific' or 'relative'",
        ),
        (
            {"duration": "single_date", "report_date_mode": "Specific"},
            NOW,
            "report_date_mode: 'Specific' is not a valid value; use 'specific' or 'relative'",
        ),
        (
            {"duration": "single_date", "days_back": -1},
            NOW,
            "days_back: -1 is negative; use 0 for today, 1 for yesterday, and so on",
        ),
        (
            {"days_back_to_start_from": -5},
            NOW,
            "days_back_to_start_from: -5 is negative; use 0 for today, 1 for yesterday, and so on",
        ),
        (
            {"duration": "single_date", "days_back": True},
            NOW,
            "days_back: True is not a whole number of days; use e.g. 0 for today, 1 for yesterday",
        ),
        (
            {"days_back_to_end_at": "3"},
            NOW,
            "days_back_to_end_at: '3' is not a whole number of days; "
            "use e.g. 0 for today, 1 for yesterday",
        ),
        (
            {"days_back_to_end_at": 1.5},
            NOW,
            "days_back_to_end_at: 1.5 is not a whole number of days; "
            "use e.g. 0 for today, 1 for yesterday",
        ),
        (
            {**SPECIFIC_RANGE, "start_date": "2026-06-10", "end_date": "2026-06-05"},
            NOW,
            "start_date: the range starts on 2026-06-10 (start_date) but ends earlier, on "
            "2026-06-05 (end_date); make the start day on or before the end day",
        ),
        (
            {"days_back_to_start_from": 4, "days_back_to_end_at": 5},
            NOW,
            "days_back_to_start_from: the range starts on 2026-06-11 (days_back_to_start_from) "
            "but ends earlier, on 2026-06-10 (days_back_to_end_at); "
            "make the start day on or before the end day",
        ),
        (
            {"days_back_to_start_from": 3, "days_back_to_end_at": 5},
            NOW,
            "days_back_to_start_from: the range starts on 2026-06-12 (days_back_to_start_from) "
            "but ends earlier, on 2026-06-10 (days_back_to_end_at); "
            "make the start day on or before the end day",
        ),
        (
            {"end_date_mode": "specific", "end_date": "2026-06-16"},
            NOW,
            "end_date: 2026-06-16 is in the future (today is 2026-06-15 UTC); "
            "use a date on or before today",
        ),
        (
            {**SPECIFIC_SINGLE, "report_date": "2027-01-01"},
            NOW,
            "report_date: 2027-01-01 is in the future (today is 2026-06-15 UTC); "
            "use a date on or before today",
        ),
        (
            {**SPECIFIC_RANGE, "start_date": "2025-06-01", "end_date": "2025-06-15"},
            NOW,
            "end_date: the period ends on 2025-06-15, before the earliest day the API is asked "
            "for, 2025-06-16 (max_history_days); choose a later end day, or raise "
            "max_history_days if your contract serves older data",
        ),
        (
            {"duration": "single_date", "days_back": 400},
            NOW,
            "days_back: the period ends on 2025-05-11, before the earliest day the API is asked "
            "for, 2025-06-16 (max_history_days); choose a later end day, or raise "
            "max_history_days if your contract serves older data",
        ),
        (
            {"duration": "single_date", "days_back": 0},
            JUST_AFTER_MIDNIGHT,
            "days_back: the period is today, 2026-06-15, and no hour of it has completed yet "
            "(it is 00:40 UTC); use days_back 1, or wait until 01:00 UTC",
        ),
        (
            {"days_back_to_start_from": 0, "days_back_to_end_at": 0},
            JUST_AFTER_MIDNIGHT,
            "days_back_to_end_at: the period is today, 2026-06-15, and no hour of it has "
            "completed yet (it is 00:40 UTC); use days_back_to_end_at 1, "
            "or wait until 01:00 UTC",
        ),
        (
            {**SPECIFIC_SINGLE, "report_date": "2026-06-15"},
            JUST_AFTER_MIDNIGHT,
            "report_date: the period is today, 2026-06-15, and no hour of it has completed yet "
            "(it is 00:40 UTC); use yesterday's date, or wait until 01:00 UTC",
        ),
    ],
)
def test_resolve_period_config_errors(
    settings: dict[str, Any], now: datetime, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_period(settings, now, FLOOR)
    assert str(caught.value) == expected
    assert caught.value.setting == expected.split(":", 1)[0]


# --- Period --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        (datetime(2026, 6, 1), utc(2026, 6, 2), "aware UTC"),
        (utc(2026, 6, 1), datetime(2026, 6, 1, 5, tzinfo=timezone(timedelta(hours=1))), "UTC"),
        (utc(2026, 6, 1, 0, 30), utc(2026, 6, 2), "on the hour"),
        (utc(2026, 6, 2), utc(2026, 6, 2), "empty period"),
        (utc(2026, 6, 3), utc(2026, 6, 2), "empty period"),
    ],
)
def test_period_rejects_invalid_bounds(start: datetime, end: datetime, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Period(start, end)
