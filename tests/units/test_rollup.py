"""Nested API JSON -> canonical rows -> exact sums at every output grain."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tap_twitter_engagement.checks import Asked, check_series
from tap_twitter_engagement.errors import ConfigError
from tap_twitter_engagement.rollup import (
    CANONICAL_DAILY,
    CANONICAL_HOURLY,
    COLUMNS,
    CanonicalRow,
    Rollup,
    canonical_records,
    direct_records,
    flatten,
    needs_hours,
    row_key,
    streams_directly,
    to_record,
)

D1 = date(2026, 5, 2)  # in window 0
D2 = date(2026, 5, 3)  # in window 1
WINDOWS = ((D1,), (D2,))
BATCHES = (("2", "10"), ("1",))

# Ground truth: (tweet_id, engagement_type, day, hour, count). Every response below is built
# from it, and every expected sum is computed from it without the code under test.
TRUTH: list[tuple[str, str, date, int, int]] = [
    ("1", "impressions", D1, 0, 5),
    ("1", "impressions", D1, 23, 7),
    ("1", "impressions", D2, 5, 11),
    ("1", "url_clicks", D2, 5, 2),
    ("2", "impressions", D1, 0, 100),
    ("2", "impressions", D2, 0, 3),
    ("2", "engagements", D1, 5, 4),
    ("2", "engagements", D2, 23, 0),
    ("10", "impressions", D1, 5, 20),
    ("10", "url_clicks", D1, 5, 1),
    ("10", "engagements", D2, 0, 6),
    ("10", "impressions", D2, 23, 9),
]

ALL_GROUP_BY = ("tweet.id", "engagement.type", "engagement.day", "engagement.hour")
SUBSETS = [list(c) for n in range(1, 5) for c in itertools.combinations(ALL_GROUP_BY, n)]

FIELD: dict[str, Callable[[tuple[str, str, date, int, int]], Any]] = {
    "tweet.id": lambda t: t[0],
    "engagement.type": lambda t: t[1],
    "engagement.day": lambda t: t[2].isoformat(),
    "engagement.hour": lambda t: t[3],
}


def encode(count: int) -> str | int:
    """Mix both count encodings the API uses: strings, and the odd bare integer."""
    return count if count % 2 else str(count)


def response(tweet_ids: Sequence[str], days: Sequence[date], hourly: bool) -> dict[str, Any]:
    """The canonical grouping object one request would return, keys in reverse order."""
    grouping: dict[str, Any] = {}
    for tid, metric, day, hour, count in reversed(TRUTH):
        if tid not in tweet_ids or day not in days:
            continue
        by_day = grouping.setdefault(tid, {}).setdefault(metric, {})
        if hourly:
            by_day.setdefault(day.isoformat(), {})[f"{hour:02d}"] = encode(count)
        else:
            total = int(by_day.get(day.isoformat(), 0)) + count
            by_day[day.isoformat()] = encode(total)
    return grouping


def responses(hourly: bool) -> list[dict[str, Any]]:
    return [response(b, w, hourly) for w in WINDOWS for b in BATCHES]


def expected_sums(group_by: Sequence[str]) -> dict[tuple[Any, ...], int]:
    sums: dict[tuple[Any, ...], int] = {}
    for t in TRUTH:
        key = tuple(FIELD[g](t) for g in group_by)
        sums[key] = sums.get(key, 0) + t[4]
    return sums


def as_sums(records: list[dict[str, Any]], group_by: Sequence[str]) -> dict[tuple[Any, ...], int]:
    columns = [COLUMNS[g] for g in group_by]
    return {tuple(r[c] for c in columns): r["engagement_count"] for r in records}


def rolled_up(group_by: Sequence[str]) -> list[dict[str, Any]]:
    rollup = Rollup(group_by)
    for grouping in responses(needs_hours(group_by)):
        rollup.add(flatten(grouping, hourly=needs_hours(group_by)))
    return list(rollup.records())


# --- flatten -------------------------------------------------------------------------------------


def test_flatten_daily_documented_example() -> None:
    grouping = {
        "1785000000000000002": {
            "url_clicks": {"2024-05-01": "0", "2024-05-02": "3"},
            "impressions": {"2024-05-02": "455", "2024-05-01": "0"},
        },
        "1785000000000000001": {"impressions": {"2024-05-01": "812"}},
    }
    a, b = "1785000000000000001", "1785000000000000002"
    assert list(flatten(grouping, hourly=False)) == [
        CanonicalRow(a, "impressions", date(2024, 5, 1), None, 812),
        CanonicalRow(b, "impressions", date(2024, 5, 1), None, 0),
        CanonicalRow(b, "impressions", date(2024, 5, 2), None, 455),
        CanonicalRow(b, "url_clicks", date(2024, 5, 1), None, 0),
        CanonicalRow(b, "url_clicks", date(2024, 5, 2), None, 3),
    ]


def test_flatten_hourly_with_numeric_counts_and_missing_hours() -> None:
    grouping = {
        "7": {
            "engagements": {"2024-05-03": {"01": 2}, "2024-05-02": {"23": "0", "17": 8}},
            "impressions": {"2024-05-02": {"18": "412", "17": 551}},
        }
    }
    assert list(flatten(grouping, hourly=True)) == [
        CanonicalRow("7", "impressions", date(2024, 5, 2), 17, 551),
        CanonicalRow("7", "impressions", date(2024, 5, 2), 18, 412),
        CanonicalRow("7", "engagements", date(2024, 5, 2), 17, 8),
        CanonicalRow("7", "engagements", date(2024, 5, 2), 23, 0),
        CanonicalRow("7", "engagements", date(2024, 5, 3), 1, 2),
    ]


def test_flatten_sort_order() -> None:
    day = "2026-05-01"
    grouping = {
        tid: {m: {day: "1"} for m in ("zzz", "url_clicks", "aaa_custom", "impressions")}
        for tid in ("x1", "10", "9", "100")
    }
    rows = list(flatten(grouping, hourly=False))
    assert [(r.tweet_id, r.engagement_type) for r in rows[:4]] == [
        ("9", "impressions"),
        ("9", "url_clicks"),
        ("9", "aaa_custom"),
        ("9", "zzz"),
    ]
    assert [r.tweet_id for r in rows[::4]] == ["9", "10", "100", "x1"]


def test_flatten_tolerates_missing_keys() -> None:
    grouping = {"1": {}, "2": {"impressions": {}}, "3": {"impressions": {"2026-05-01": {}}}}
    assert list(flatten(grouping, hourly=True)) == []
    assert list(flatten({}, hourly=False)) == []


@pytest.mark.parametrize("bad", [True, False, 1.5, 3.0, -1, "-1", "12a", "", " 12", "1e3", None])
def test_flatten_rejects_bad_daily_counts(bad: Any) -> None:
    grouping = {"7": {"impressions": {"2026-05-01": "4"}, "url_clicks": {"2026-05-01": bad}}}
    expected = f"tweet 7 metric url_clicks day 2026-05-01: count {bad!r} is not a non-negative"
    with pytest.raises(ValueError, match=re.escape(expected)):
        list(flatten(grouping, hourly=False))


def test_flatten_rejects_bad_hourly_count() -> None:
    grouping = {"7": {"impressions": {"2026-05-01": {"05": "x"}}}}
    expected = "tweet 7 metric impressions day 2026-05-01 hour 05: count 'x' is not a non-neg"
    with pytest.raises(ValueError, match=re.escape(expected)):
        list(flatten(grouping, hourly=True))


@pytest.mark.parametrize(
    ("grouping", "hourly", "message"),
    [
        ({"7": {"impressions": {"2026-05-01": {"05": "1"}}}}, False, "count {'05': '1'}"),
        ({"7": {"impressions": {"2026-05-01": "1"}}}, True, "expected an object of hours"),
        ({"7": {"impressions": {"2026-5-1": "1"}}}, False, "'2026-5-1' is not a YYYY-MM-DD day"),
        ({"7": {"impressions": {"2026-02-30": "1"}}}, False, "'2026-02-30' is not a YYYY-MM-DD"),
        ({"7": {"impressions": {"2026-05-01": {"24": "1"}}}}, True, "'24' is not an hour"),
        ({"7": {"impressions": {"2026-05-01": {"5pm": "1"}}}}, True, "'5pm' is not an hour"),
        ({"7": ["impressions"]}, False, "tweet 7: expected an object of metrics"),
        ({"7": {"impressions": "9"}}, False, "tweet 7 metric impressions: expected an object"),
        (["7"], False, "grouping: expected an object of tweet IDs"),
    ],
)
def test_flatten_rejects_bad_shapes(grouping: Any, hourly: bool, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        list(flatten(grouping, hourly=hourly))


# --- output grouping helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group_by", "columns", "hours", "direct"),
    [
        (["tweet.id"], ["tweet_id"], False, False),
        (["engagement.type"], ["engagement_type"], False, False),
        (["engagement.day"], ["engagement_date"], False, False),
        (["engagement.hour"], ["engagement_hour"], True, False),
        (["tweet.id", "engagement.type"], ["tweet_id", "engagement_type"], False, False),
        (["engagement.day", "tweet.id"], ["engagement_date", "tweet_id"], False, True),
        (
            ["tweet.id", "engagement.type", "engagement.day"],
            ["tweet_id", "engagement_type", "engagement_date"],
            False,
            True,
        ),
        (
            ["engagement.hour", "engagement.day", "tweet.id"],
            ["engagement_hour", "engagement_date", "tweet_id"],
            True,
            True,
        ),
        (
            ["tweet.id", "engagement.type", "engagement.hour"],
            ["tweet_id", "engagement_type", "engagement_hour"],
            True,
            False,
        ),
    ],
)
def test_grouping_helpers(
    group_by: list[str], columns: list[str], hours: bool, direct: bool
) -> None:
    assert [COLUMNS[g] for g in group_by] == columns
    assert needs_hours(group_by) is hours
    assert streams_directly(group_by) is direct


def test_four_of_fifteen_subsets_stream_directly() -> None:
    assert len(SUBSETS) == 15
    assert sum(streams_directly(g) for g in SUBSETS) == 4


ALLOWED = "tweet.id, engagement.type, engagement.day, engagement.hour"


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ([], f"group_by: the list is empty; use one or more of {ALLOWED}"),
        (
            ["tweet.id", "engagement.days"],
            f"group_by: 'engagement.days' is not supported; use one or more of {ALLOWED}",
        ),
        (["Tweet.id"], f"group_by: 'Tweet.id' is not supported; use one or more of {ALLOWED}"),
        (
            ["tweet.id", "engagement.day", "tweet.id"],
            "group_by: a value appears twice; list each value at most once",
        ),
        ("tweet.id", "group_by: 'tweet.id' is not a list; use a list such as ['tweet.id']"),
    ],
)
def test_group_by_config_errors(group_by: Any, expected: str) -> None:
    for func in (needs_hours, streams_directly, Rollup):
        with pytest.raises(ConfigError) as caught:
            func(group_by)
        assert str(caught.value) == expected


def test_row_key() -> None:
    hourly = CanonicalRow("7", "impressions", D1, 5, 3)
    assert row_key(hourly, ["engagement.hour", "tweet.id"]) == (5, "7")
    assert row_key(hourly, list(ALL_GROUP_BY)) == ("7", "impressions", D1, 5)
    daily = CanonicalRow("7", "impressions", D1, None, 3)
    assert row_key(daily, ["engagement.day", "engagement.type"]) == (D1, "impressions")


def test_to_record() -> None:
    record = to_record(("7", D1, 5), ["tweet_id", "engagement_date", "engagement_hour"], 12)
    assert record == {
        "tweet_id": "7",
        "engagement_date": "2026-05-02",
        "engagement_hour": 5,
        "engagement_count": 12,
    }
    assert list(record) == ["tweet_id", "engagement_date", "engagement_hour", "engagement_count"]


# --- Rollup --------------------------------------------------------------------------------------


def test_fixture_spans_two_batches_and_two_windows() -> None:
    # Guards the sums test below: it only proves cross-request addition if keys really are split.
    by_type: dict[str, set[str]] = {}
    for grouping in responses(hourly=False):
        for row in flatten(grouping, hourly=False):
            by_type.setdefault(row.engagement_type, set()).add(row.tweet_id)
    assert len(responses(hourly=False)) == 4
    assert by_type["impressions"] == {"1", "2", "10"}


@pytest.mark.parametrize("group_by", SUBSETS, ids="+".join)
def test_rollup_sums_across_batches_and_windows(group_by: list[str]) -> None:
    records = rolled_up(group_by)
    expected = expected_sums(group_by)
    assert len(records) == len(expected)
    assert as_sums(records, group_by) == expected
    for record in records:
        assert list(record) == [*(COLUMNS[g] for g in group_by), "engagement_count"]


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        (
            ["engagement.type"],
            [("impressions", 155), ("engagements", 10), ("url_clicks", 3)],
        ),
        (["tweet.id"], [("1", 25), ("2", 107), ("10", 36)]),
        (["engagement.day"], [("2026-05-02", 137), ("2026-05-03", 31)]),
        (["engagement.hour"], [(0, 114), (5, 38), (23, 16)]),
        (
            ["engagement.day", "tweet.id"],
            [
                ("2026-05-02", "1", 12),
                ("2026-05-02", "2", 104),
                ("2026-05-02", "10", 21),
                ("2026-05-03", "1", 13),
                ("2026-05-03", "2", 3),
                ("2026-05-03", "10", 15),
            ],
        ),
        (
            ["engagement.type", "engagement.day"],
            [
                ("impressions", "2026-05-02", 132),
                ("impressions", "2026-05-03", 23),
                ("engagements", "2026-05-02", 4),
                ("engagements", "2026-05-03", 6),
                ("url_clicks", "2026-05-02", 1),
                ("url_clicks", "2026-05-03", 2),
            ],
        ),
    ],
)
def test_rollup_hand_computed_totals_in_order(
    group_by: list[str], expected: list[tuple[Any, ...]]
) -> None:
    columns = [COLUMNS[g] for g in group_by]
    assert [(*(r[c] for c in columns), r["engagement_count"]) for r in rolled_up(group_by)] == (
        expected
    )


def test_rollup_holds_one_sum_per_distinct_key() -> None:
    rollup = Rollup(["engagement.type"])
    assert list(rollup.records()) == []
    rows = list(flatten(responses(hourly=False)[0], hourly=False))
    rollup.add(rows)
    rollup.add(rows)
    records = list(rollup.records())
    assert len(records) == len({r.engagement_type for r in rows})
    assert sum(r["engagement_count"] for r in records) == 2 * sum(r.count for r in rows)


def test_rollup_sums_large_counts_exactly() -> None:
    big = 2**53 + 1  # not representable as a float
    rollup = Rollup(["engagement.type"])
    rollup.add([CanonicalRow("1", "impressions", D1, None, big)] * 3)
    assert list(rollup.records()) == [
        {"engagement_type": "impressions", "engagement_count": 3 * big}
    ]


# --- direct_records ------------------------------------------------------------------------------

DIRECT = [g for g in SUBSETS if streams_directly(g)] + [
    ["engagement.day", "tweet.id"],
    ["engagement.hour", "engagement.type", "tweet.id", "engagement.day"],
]


@pytest.mark.parametrize("group_by", DIRECT, ids="+".join)
def test_direct_records_equal_rollup(group_by: list[str]) -> None:
    hourly = needs_hours(group_by)
    streamed: list[dict[str, Any]] = []
    for grouping in responses(hourly):
        rows = list(flatten(grouping, hourly=hourly))
        direct = list(direct_records(rows, group_by))
        single = Rollup(group_by)
        single.add(rows)
        assert direct == list(single.records())
        streamed.extend(direct)
    # Each key is emitted by exactly one response, so streaming loses nothing and splits nothing.
    rolled = rolled_up(group_by)
    assert len(streamed) == len(rolled)
    assert sorted(streamed, key=lambda r: sorted(r.items())) == sorted(
        rolled, key=lambda r: sorted(r.items())
    )


def test_direct_records_sum_within_one_response() -> None:
    rows = [
        CanonicalRow("7", "impressions", D1, 1, 10),
        CanonicalRow("7", "impressions", D1, 2, 5),
        CanonicalRow("7", "url_clicks", D1, 2, 1),
        CanonicalRow("7", "impressions", D2, 0, 4),
    ]
    assert list(direct_records(rows, ["tweet.id", "engagement.day"])) == [
        {"tweet_id": "7", "engagement_date": "2026-05-02", "engagement_count": 16},
        {"tweet_id": "7", "engagement_date": "2026-05-03", "engagement_count": 4},
    ]


@pytest.mark.parametrize("group_by", [g for g in SUBSETS if not streams_directly(g)])
def test_direct_records_refuse_groupings_that_span_requests(group_by: list[str]) -> None:
    with pytest.raises(ValueError, match="needs a Rollup"):
        list(direct_records([], group_by))


def test_canonical_records_equal_the_general_path():
    daily = {
        "20": {
            "favorites": {"2026-01-02": "3", "2026-01-01": 4},
            "impressions": {"2026-01-01": "10", "2026-01-02": "0"},
            "video_views": {"2026-01-01": "7"},
        },
        "3": {"impressions": {"2026-01-01": "1"}},
    }
    hourly = {"5": {"url_clicks": {"2026-01-01": {"10": "2", "02": 1, "00": "0"}}}}
    for grouping, is_hourly, group_by in (
        (daily, False, CANONICAL_DAILY),
        (hourly, True, CANONICAL_HOURLY),
    ):
        general = list(direct_records(flatten(grouping, is_hourly), group_by))
        assert list(canonical_records(grouping, is_hourly)) == general
    skipped = list(canonical_records(daily, False, skip_video=frozenset({"20"})))
    assert [r["engagement_type"] for r in skipped if r["tweet_id"] == "20"] == [
        "impressions",
        "impressions",
        "favorites",
        "favorites",
    ]
    assert [r["tweet_id"] for r in canonical_records(daily, False)][:1] == ["3"]


@pytest.mark.parametrize("bad", ["\u00b2", "\u0661\u0662", "-1", "1.5", True, None])
def test_canonical_records_reject_what_flatten_rejects(bad):
    grouping = {"7": {"impressions": {"2026-01-01": bad}}}
    with pytest.raises(ValueError, match="is not a non-negative whole number") as general:
        list(flatten(grouping, False))
    with pytest.raises(ValueError, match="is not a non-negative whole number") as fast:
        list(canonical_records(grouping, False))
    assert str(fast.value) == str(general.value)


def test_checked_hours_give_the_rows_their_dicts_give() -> None:
    """A checked hourly grouping keeps each day's hours compactly (``checks.Hours``): the
    records and canonical rows read from it are the ones the plain nested dicts give."""
    grouping: dict[str, Any] = {}
    for tweet_id, metric, day, hour, value in TRUTH:
        days = grouping.setdefault(tweet_id, {}).setdefault(metric, {})
        days.setdefault(day.isoformat(), {})[f"{hour:02d}"] = value
    ids, metrics = tuple(grouping), ("impressions", "url_clicks", "engagements")
    start = datetime(2026, 5, 2, tzinfo=UTC)
    asked = Asked(ids, metrics, start, start + timedelta(days=2), hourly=True)
    body = {"g": copy.deepcopy(grouping)}
    checked = check_series(body, "g", asked, "here").grouping
    assert body == {"g": {}}  # taken out as it was read: the body is let go as it is checked
    assert checked["1"]["engagements"] == {}  # asked, nothing arrived
    assert {t: {m: d for m, d in ms.items() if d} for t, ms in checked.items()} == grouping
    assert list(canonical_records(checked, True)) == list(canonical_records(grouping, True))
    assert list(flatten(checked, True)) == list(flatten(grouping, True))
    assert len(list(flatten(checked, True))) == len(TRUTH)
