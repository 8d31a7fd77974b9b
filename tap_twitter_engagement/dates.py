"""The UTC period a sync covers, from Domo-style "Duration" settings.

Users think in calendar days ("from 10 days ago to 5 days ago"); the API thinks in hour-aligned,
end-exclusive UTC instants. This module is the single place where one becomes the other, so
that every off-by-one decision (inclusive end day, the current partial hour, the history
limit) is made once and tested once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tap_twitter_engagement.errors import ConfigError

_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")

#: Domo's Duration choices, and how each date is given. The settings schema takes its allowed
#: values and defaults from here, so they are stated once.
DURATIONS = ("single_date", "date_range")
MODES = ("specific", "relative")
DEFAULTS: dict[str, str | int] = {
    "duration": "date_range",
    "report_date_mode": "relative",
    "days_back": 1,
    "start_date_mode": "relative",
    "days_back_to_start_from": 28,
    "end_date_mode": "relative",
    "days_back_to_end_at": 1,
}


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC, both on the hour, never empty.

    End-exclusive so that consecutive periods and request windows tile without double counting.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value: datetime = getattr(self, name)
            if value.utcoffset() != timedelta(0):
                raise ValueError(f"Period.{name} must be an aware UTC datetime, got {value!r}")
            if value.minute or value.second or value.microsecond:
                raise ValueError(f"Period.{name} must be on the hour, got {value.isoformat()}")
        if self.start >= self.end:
            raise ValueError(f"empty period: {self.start.isoformat()} >= {self.end.isoformat()}")

    @property
    def hours(self) -> int:
        """Number of hour buckets the API will report for this period."""
        return int((self.end - self.start) / _HOUR)


def _utc(dt: datetime) -> datetime:
    """Normalise to UTC; naive datetimes are a programming error, not something to guess."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {dt!r}")
    return dt.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


#: The earliest day X's API reference says ``/historical`` serves (its current overview says
#: the last 365 days instead; ``max_history_days`` chooses between them).
OLDEST_DATA = date(2014, 9, 1)
#: ``max_history_days`` by default: the current overview's limit, the binding one for a
#: contract bought today (README: Settings).
DEFAULT_HISTORY_DAYS = 365


def history_floor(now: datetime, history_days: int = DEFAULT_HISTORY_DAYS) -> datetime:
    """Earliest instant the tap asks for: the first full UTC day inside the last ``history_days``,
    and never before 2014-09-01.

    The API rejects a ``start`` older than its history limit. Rounding up to the next midnight,
    rather than using that exact instant, leaves up to a day of margin for the time that passes
    between planning a request and sending it, and keeps periods day-aligned.
    """
    floor = _midnight((_utc(now) - timedelta(days=history_days)).date()) + _DAY
    return max(floor, _midnight(OLDEST_DATA))


#: Where the Duration settings come from: the typed settings of a run, or a config mapping
#: while it is validated (before it is typed).
Source = Mapping[str, Any] | object


def _setting(settings: Source, key: str, default: Any) -> Any:
    """Read a setting by name; ``None`` means unset because Meltano writes null for cleared
    settings."""
    value = settings.get(key) if isinstance(settings, Mapping) else getattr(settings, key)
    return default if value is None else value


def _choice(settings: Source, key: str, allowed: tuple[str, ...]) -> str:
    value = _setting(settings, key, DEFAULTS[key])
    if value not in allowed:
        options = " or ".join(repr(a) for a in allowed)
        raise ConfigError(key, f"{value!r} is not a valid value; use {options}")
    return str(value)


def _days_back(settings: Source, key: str) -> int:
    value = _setting(settings, key, DEFAULTS[key])
    # bool is a subclass of int, but `true` days back is certainly a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            key, f"{value!r} is not a whole number of days; use e.g. 0 for today, 1 for yesterday"
        )
    if value < 0:
        raise ConfigError(key, f"{value} is negative; use 0 for today, 1 for yesterday, and so on")
    return value


def _parse_day(key: str, value: Any) -> date:
    """Parse ``YYYY-MM-DD``, or an ISO datetime (Meltano's date_iso8601 kind) by its UTC date."""
    hint = "use YYYY-MM-DD, for example 2026-05-01"
    if not isinstance(value, str):
        raise ConfigError(key, f"{value!r} is not a date; {hint}")
    text = value.strip()
    try:
        if _DATE_RE.fullmatch(text):
            return date.fromisoformat(text)
        if _DATETIME_RE.match(text):
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC).date()
    except ValueError:
        pass
    raise ConfigError(key, f"{text} is not a date; {hint}")


def _pick_day(
    settings: Source,
    *,
    mode_key: str,
    date_key: str,
    back_key: str,
    today: date,
) -> tuple[date, str]:
    """Resolve one specific-or-relative day; also return the setting that decided it."""
    mode = _choice(settings, mode_key, MODES)
    if mode == "specific":
        raw = _setting(settings, date_key, None)
        if raw is None or raw == "":
            raise ConfigError(
                date_key,
                f"{mode_key} is 'specific' but {date_key} is not set; "
                f"set {date_key} (YYYY-MM-DD) or use {mode_key} 'relative'",
            )
        day = _parse_day(date_key, raw)
        if day > today:
            raise ConfigError(
                date_key,
                f"{day.isoformat()} is in the future (today is {today.isoformat()} UTC); "
                "use a date on or before today",
            )
        return day, date_key
    return today - timedelta(days=_days_back(settings, back_key)), back_key


def configured_first_day(settings: Source, now: datetime) -> date:
    """The first day the Duration settings ask for, before any clipping to the history floor."""
    today = _utc(now).date()
    if _choice(settings, "duration", DURATIONS) == "single_date":
        keys = ("report_date_mode", "report_date", "days_back")
    else:
        keys = ("start_date_mode", "start_date", "days_back_to_start_from")
    return _pick_day(settings, mode_key=keys[0], date_key=keys[1], back_key=keys[2], today=today)[0]


def resolve_period(settings: Source, now: datetime, floor: datetime) -> Period:
    """Turn Duration settings into the hour-aligned UTC period to sync.

    Both range ends are inclusive calendar days, as users read them. A period reaching today
    stops at the current hour because the current hour is still changing. A start before
    ``floor`` is clipped rather than rejected: "the last 400 days" should still sync what exists
    (the caller says so: :func:`configured_first_day`).
    """
    now = _utc(now)
    floor = _utc(floor)
    today = now.date()
    duration = _choice(settings, "duration", DURATIONS)

    if duration == "single_date":
        first, start_key = _pick_day(
            settings,
            mode_key="report_date_mode",
            date_key="report_date",
            back_key="days_back",
            today=today,
        )
        last, end_key = first, start_key
    else:
        last, end_key = _pick_day(
            settings,
            mode_key="end_date_mode",
            date_key="end_date",
            back_key="days_back_to_end_at",
            today=today,
        )
        first, start_key = _pick_day(
            settings,
            mode_key="start_date_mode",
            date_key="start_date",
            back_key="days_back_to_start_from",
            today=today,
        )
        if first > last:
            raise ConfigError(
                start_key,
                f"the range starts on {first.isoformat()} ({start_key}) but ends earlier, on "
                f"{last.isoformat()} ({end_key}); make the start day on or before the end day",
            )

    this_hour = now.replace(minute=0, second=0, microsecond=0)
    end = min(_midnight(last) + _DAY, this_hour)
    if end <= floor:
        raise ConfigError(
            end_key,
            f"the period ends on {last.isoformat()}, before the earliest day the API is asked "
            f"for, {floor.date().isoformat()} (max_history_days); choose a later end day, or "
            "raise max_history_days if your contract serves older data",
        )
    start = max(_midnight(first), floor)
    if start >= end:
        # Only possible when the period is just today and it is 00:xx UTC.
        earlier = f"{end_key} 1" if end_key.startswith("days_back") else "yesterday's date"
        raise ConfigError(
            end_key,
            f"the period is today, {today.isoformat()}, and no hour of it has completed yet "
            f"(it is {now:%H:%M} UTC); use {earlier}, or wait until 01:00 UTC",
        )
    return Period(start=start, end=end)
