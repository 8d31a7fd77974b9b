"""Engagement API JSON to typed rows, and exact sums at the grain the user asked for.

The API only sums within one request (at most 25 tweets and 28 days), so any output grain
coarser than "per tweet, per day" must be added up by the tap across batches and windows. The
tap therefore always requests the finest grain it needs (tweet, type, day[, hour]) and derives
every output grouping from those canonical rows here, with integer arithmetic only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tap_twitter_engagement import checks
from tap_twitter_engagement.errors import ConfigError
from tap_twitter_engagement.order import metric_order, tweet_order

#: API ``group_by`` value -> record column, in canonical order.
COLUMNS: dict[str, str] = {
    "tweet.id": "tweet_id",
    "engagement.type": "engagement_type",
    "engagement.day": "engagement_date",
    "engagement.hour": "engagement_hour",
}

#: What the tap requests from the API; every output grouping is derived from one of these.
CANONICAL_DAILY: tuple[str, ...] = ("tweet.id", "engagement.type", "engagement.day")
CANONICAL_HOURLY: tuple[str, ...] = (*CANONICAL_DAILY, "engagement.hour")

COUNT_COLUMN = "engagement_count"
#: The parts of a canonical bucket, in the order ``checks`` lists missing ones.
_UNIT_PARTS = ("tweet.id", "engagement.type", "engagement.day", "engagement.hour")

_DAY_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HOUR_KEY = re.compile(r"[0-9]{1,2}")

Record = dict[str, str | int]


@dataclass(frozen=True, slots=True)
class CanonicalRow:
    """One leaf of a canonical response: a count for one tweet, metric, day and maybe hour."""

    tweet_id: str
    engagement_type: str
    day: date
    hour: int | None
    count: int


# --- parsing -------------------------------------------------------------------------------------


def _count(value: Any, *where: object) -> int:
    """A leaf count, by the one rule of ``checks.count``; checked responses already hold ints.

    ``where`` locates the leaf for the error message; it is joined only on error, because this
    runs once per record.
    """
    if type(value) is int and 0 <= value <= checks.MAX_COUNT:
        return value
    return checks.count(value, " ".join(map(str, where)))


def _mapping(value: Any, where: str, expected: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object of {expected}, got {value!r}")
    return value


def _day(key: Any, where: str) -> date:
    if isinstance(key, str) and _DAY_KEY.fullmatch(key):
        try:
            return date.fromisoformat(key)
        except ValueError:
            pass
    raise ValueError(f"{where}: {key!r} is not a YYYY-MM-DD day")


def _hour(key: Any, where: str) -> int:
    if isinstance(key, str) and _HOUR_KEY.fullmatch(key) and int(key) <= 23:
        return int(key)
    raise ValueError(f"{where}: {key!r} is not an hour 00..23")


def _canonical_order(row: CanonicalRow) -> tuple[Any, ...]:
    return (
        tweet_order(row.tweet_id),
        metric_order(row.engagement_type),
        row.day,
        -1 if row.hour is None else row.hour,
    )


def flatten(grouping: Mapping[str, Any], hourly: bool) -> Iterator[CanonicalRow]:
    """Rows of one canonical grouping object (the value under the grouping's name).

    Output is sorted so that reruns emit identical streams regardless of JSON key order.
    Missing day or hour keys simply produce no row; anything that is not a count is an error,
    because silently skipping it would make every sum built from it wrong.
    """
    rows = list(leaves(grouping, hourly))
    rows.sort(key=_canonical_order)
    return iter(rows)


def leaves(grouping: Mapping[str, Any], hourly: bool) -> Iterator[CanonicalRow]:
    """The rows :func:`flatten` gives, one at a time in the grouping's order: for sums, whose
    order does not matter, without holding a response's rows at once (hourly: 285,600)."""
    for tweet_id, metrics in _mapping(grouping, "grouping", "tweet IDs").items():
        by_metric = _mapping(metrics, f"tweet {tweet_id}", "metrics")
        for metric, days in by_metric.items():
            where = f"tweet {tweet_id} metric {metric}"
            for day_key, value in _mapping(days, where, "days").items():
                day = _day(day_key, where)
                day_where = f"{where} day {day_key}"
                if not hourly:
                    yield CanonicalRow(tweet_id, metric, day, None, _count(value, day_where))
                    continue
                if type(value) is checks.Hours:  # checked: hours 0..23, counts
                    for hour, number in value.counts():
                        yield CanonicalRow(tweet_id, metric, day, hour, number)
                    continue
                for hour_key, count in _mapping(value, day_where, "hours").items():
                    hour = _hour(hour_key, day_where)
                    number = _count(count, f"{day_where} hour {hour_key}")
                    yield CanonicalRow(tweet_id, metric, day, hour, number)


# --- output grouping -----------------------------------------------------------------------------


def validate_group_by(group_by: Sequence[str]) -> tuple[str, ...]:
    """Check an output ``group_by`` setting; return it as a tuple."""
    allowed = ", ".join(COLUMNS)
    if isinstance(group_by, str) or not isinstance(group_by, Sequence):
        raise ConfigError(
            "group_by", f"{group_by!r} is not a list; use a list such as ['tweet.id']"
        )
    if not group_by:
        raise ConfigError("group_by", f"the list is empty; use one or more of {allowed}")
    unknown = [g for g in group_by if g not in COLUMNS]
    if unknown:
        raise ConfigError(
            "group_by", f"{unknown[0]!r} is not supported; use one or more of {allowed}"
        )
    if len(set(group_by)) != len(group_by):
        raise ConfigError("group_by", "a value appears twice; list each value at most once")
    return tuple(group_by)


def needs_hours(group_by: Sequence[str]) -> bool:
    """Whether the tap must request the hourly canonical grain."""
    return "engagement.hour" in validate_group_by(group_by)


def streams_directly(group_by: Sequence[str]) -> bool:
    """Whether each response can be emitted on its own, without cross-request state.

    With both tweet and day in the key, all inputs of an output row come from one ID batch
    (IDs are deduplicated) and one window (windows start at midnight), so no other response
    can add to it.
    """
    g = validate_group_by(group_by)
    return "tweet.id" in g and "engagement.day" in g


#: How each part of an output key is read from a canonical row.
_PART = {
    "tweet.id": lambda row: row.tweet_id,
    "engagement.type": lambda row: row.engagement_type,
    "engagement.day": lambda row: row.day,
    "engagement.hour": lambda row: row.hour,
}


def row_key(row: CanonicalRow, group_by: Sequence[str]) -> tuple[Any, ...]:
    """The output key of a canonical row, in ``group_by`` order (a validated ``group_by``,
    hourly rows when it holds ``engagement.hour``)."""
    return tuple(_PART[g](row) for g in group_by)


_ORDER_BY_KIND: dict[str, Callable[[Any], Any]] = {
    "tweet.id": tweet_order,
    "engagement.type": metric_order,
    "engagement.day": lambda day: day,
    "engagement.hour": lambda hour: hour,
}


def _key_order(group_by: Sequence[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    orders = [_ORDER_BY_KIND[g] for g in group_by]

    def order_of(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(order(part) for order, part in zip(orders, key, strict=True))

    return order_of


def to_record(row_key: tuple[Any, ...], columns: Sequence[str], count: int) -> Record:
    """A Singer record for one output key: JSON-ready, so dates become ISO strings."""
    record: Record = {
        column: part.isoformat() if isinstance(part, date) else part
        for column, part in zip(columns, row_key, strict=True)
    }
    record[COUNT_COLUMN] = count
    return record


class Rollup:
    """Exact integer sums per output key across any number of responses.

    Holds one int per distinct output key, never the canonical rows themselves.
    """

    def __init__(self, group_by: Sequence[str]) -> None:
        self.group_by = validate_group_by(group_by)
        self.columns = [COLUMNS[g] for g in self.group_by]
        self._sums: dict[tuple[Any, ...], int] = {}

    def add(self, rows: Iterable[CanonicalRow]) -> None:
        """Add the counts of ``rows`` to their output keys."""
        sums = self._sums
        for row in rows:
            key = row_key(row, self.group_by)
            sums[key] = sums.get(key, 0) + row.count

    def records(self) -> Iterator[Record]:
        """Records in key order (tweets numerically, metrics in table order, time ascending)."""
        for key in sorted(self._sums, key=_key_order(self.group_by)):
            yield to_record(key, self.columns, self._sums[key])


def direct_records(rows: Iterable[CanonicalRow], group_by: Sequence[str]) -> Iterator[Record]:
    """Records for the rows of ONE response, for groupings where ``streams_directly`` holds.

    Sums within the response (when the key drops type or hour) and yields exactly what a
    ``Rollup`` fed only this response would. Refuses other groupings, where emitting per
    response would split one output key into several partial records.
    """
    if not streams_directly(group_by):
        raise ValueError(f"group_by {list(group_by)} needs a Rollup across responses")
    rollup = Rollup(group_by)
    rollup.add(rows)
    return rollup.records()


def canonical_records(
    grouping: Mapping[str, Any], hourly: bool, *, skip_video: frozenset[str] = frozenset()
) -> Iterator[Record]:
    """Records straight from one canonical response when ``group_by`` *is* the canonical grain.

    The common case (the default grouping) needs no summing: one pass over the nested object,
    levels visited in sorted order, gives exactly what ``direct_records(flatten(...))`` gives,
    several times faster. ``skip_video`` drops ``video_views`` of those tweet ids.
    """
    tweets = _mapping(grouping, "grouping", "tweet IDs")
    valid_days: set[str] = set()
    for tweet_id in sorted(tweets, key=tweet_order):
        by_metric = _mapping(tweets[tweet_id], f"tweet {tweet_id}", "metrics")
        for metric in sorted(by_metric, key=metric_order):
            if metric == "video_views" and tweet_id in skip_video:
                continue
            where = f"tweet {tweet_id} metric {metric}"
            days = _mapping(by_metric[metric], where, "days")
            for day_key in sorted(days):
                if day_key not in valid_days:  # the same ~28 days repeat for every metric
                    _day(day_key, where)
                    valid_days.add(day_key)
                value = days[day_key]
                if not hourly:
                    yield {
                        "tweet_id": tweet_id,
                        "engagement_type": metric,
                        "engagement_date": day_key,
                        COUNT_COLUMN: _count(value, where, "day", day_key),
                    }
                    continue
                if type(value) is checks.Hours:  # checked: hours 0..23 in order, counts
                    for hour, number in value.counts():
                        yield {
                            "tweet_id": tweet_id,
                            "engagement_type": metric,
                            "engagement_date": day_key,
                            "engagement_hour": hour,
                            COUNT_COLUMN: number,
                        }
                    continue
                hours = _mapping(value, f"{where} day {day_key}", "hours")
                for hour_key in sorted(hours, key=lambda h: _hour(h, where)):
                    yield {
                        "tweet_id": tweet_id,
                        "engagement_type": metric,
                        "engagement_date": day_key,
                        "engagement_hour": int(hour_key),
                        COUNT_COLUMN: _count(
                            hours[hour_key], where, "day", day_key, "hour", hour_key
                        ),
                    }


def widen(records: Iterable[Record], metrics: Sequence[str]) -> list[Record]:
    """Long records pivoted to one column per metric, keys in first-seen order.

    A metric the response did not serve for a key stays ``None``.
    """
    rows: dict[tuple[Any, ...], Record] = {}
    for record in records:
        key = tuple((k, v) for k, v in record.items() if k not in ("engagement_type", COUNT_COLUMN))
        row = rows.get(key)
        if row is None:
            row = rows[key] = dict(key)
            row.update(dict.fromkeys(metrics))  # type: ignore[arg-type] # None: not served
        row[str(record["engagement_type"])] = record[COUNT_COLUMN]
    return list(rows.values())


# --- one interface for the stream ----------------------------------------------------------------

#: Days to emit per (tweet, metric) of one response; ``None`` means every day it holds.
DayFilter = Mapping[tuple[str, str], frozenset[str]] | None


class Aggregator:
    """Canonical responses in, output records out, exactly, for one ``group_by`` and layout.

    The stream calls :meth:`response` for each successful response, :meth:`window_end` when
    every batch of a window is in, and :meth:`run_end` at the end; each returns the records
    that are complete at that point. The mode is chosen once from ``group_by``:

    - the canonical grain itself (the default): records straight from each response;
    - tweet and day in the key: each response sums on its own (no other response shares a key);
    - day in the key but not tweet: sums across the batches of a window, emitted at its end;
    - no day: sums across the whole run, emitted at the end with the period bounds.

    ``wide_metrics`` pivots records to one column per metric (``metrics_layout: wide``); a row
    is always complete when emitted because all metrics of a key come in the same response, or
    the same window.
    """

    def __init__(self, group_by: Sequence[str], wide_metrics: Sequence[str] | None = None):
        self.group_by = validate_group_by(group_by)
        self.hourly = "engagement.hour" in self.group_by
        self.canonical = self.group_by in (CANONICAL_DAILY, CANONICAL_HOURLY)
        self.direct = streams_directly(self.group_by)
        self.per_window = "engagement.day" in self.group_by
        self.wide_metrics = list(wide_metrics) if wide_metrics else None
        self._sums = Rollup(self.group_by)
        #: What identifies an output row (the grouping, less the metric in the wide layout),
        #: and the rows withheld because a bucket they sum did not arrive.
        self._row_parts = tuple(
            g for g in self.group_by if not (self.wide_metrics and g == "engagement.type")
        )
        self._withheld: set[tuple[Any, ...]] = set()

    def response(
        self,
        grouping: Mapping[str, Any],
        *,
        keep: DayFilter = None,
        missing: Sequence[tuple[str, str, str, int | None]] = (),
    ) -> Iterable[Record]:
        """Records complete after this response (a checked grouping: only what was asked).
        ``keep``: days to emit; ``missing``: buckets that were asked and did not arrive, whose
        output rows are withheld, now and when sums are emitted later (a row missing part of
        what it sums would be wrong; the next run reads it whole again)."""
        for unit in missing:
            self._withheld.add(self._unit_key(unit))
        if self.canonical:
            records: Iterable[Record] = canonical_records(grouping, self.hourly)
            if keep is not None:
                records = (
                    r
                    for r in records
                    if r["engagement_date"]
                    in keep.get((str(r["tweet_id"]), str(r["engagement_type"])), ())
                )
            if self.wide_metrics is None and not self._withheld:
                return records  # streamed: a large response is never held as records too
            return self._shape(records)
        # Summed as they are read (a Rollup orders its keys itself): a response's rows are
        # never held at once.
        rows = (
            r
            for r in leaves(grouping, self.hourly)
            if keep is None or r.day.isoformat() in keep.get((r.tweet_id, r.engagement_type), ())
        )
        if self.direct:
            return self._shape(direct_records(rows, self.group_by))
        self._sums.add(rows)
        return []

    def window_end(self) -> list[Record]:
        """Records whose day lies in the window just completed (day-grained sums)."""
        if self.direct or not self.per_window:
            return []
        records = self._shape(self._sums.records())
        self._sums = Rollup(self.group_by)
        return records

    def run_end(self, bounds: Mapping[str, str]) -> list[Record]:
        """Totals over the whole period (groupings without a day), stamped with ``bounds``."""
        if self.per_window:
            return []
        return self._shape({**record, **bounds} for record in self._sums.records())

    def _unit_key(self, unit: tuple[str, str, str, int | None]) -> tuple[Any, ...]:
        """The output row a canonical bucket ``(tweet, metric, day, hour)`` belongs to."""
        parts = dict(zip(_UNIT_PARTS, unit, strict=True))
        return tuple(parts[g] for g in self._row_parts)

    def _shape(self, records: Iterable[Record]) -> list[Record]:
        shaped = list(records) if self.wide_metrics is None else widen(records, self.wide_metrics)
        if not self._withheld:
            return shaped
        columns = [COLUMNS[g] for g in self._row_parts]
        return [r for r in shaped if tuple(r[c] for c in columns) not in self._withheld]
