"""Post analytics bodies read against their requests (``checks.check_analytics``): the same
rules as the Engagement API's, and the zero fill its totals allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tap_twitter_engagement.checks import Asked, BadBody, Served, check_analytics

OLD = "1000000000000000000"  # 2017: no bucket is before it existed
OTHER = "1000000000000000001"
START = datetime(2026, 4, 28, tzinfo=UTC)
END = datetime(2026, 4, 30, tzinfo=UTC)
WHERE = "GET /2/tweets/analytics"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def post(tweet_id: str, buckets: list[tuple[datetime, dict[str, Any]]], **totals: Any) -> dict:
    return {
        "id": tweet_id,
        **totals,
        "timestamped_metrics": [{"timestamp": stamp(t), "metrics": m} for t, m in buckets],
    }


def daily(ids: tuple[str, ...] = (OLD,), metrics: tuple[str, ...] = ("favorites",)) -> Asked:
    return Asked(ids, metrics, START, END)


def check(body: dict[str, Any], asked: Asked | None = None) -> Served:
    return check_analytics(body, asked or daily(), WHERE)


def test_buckets_become_the_canonical_grouping_in_record_names() -> None:
    asked = daily(metrics=("favorites", "user_follows", "bookmarks"))
    body = {
        "data": [
            post(
                OLD,
                [
                    (START, {"likes": 3, "follows": "1", "bookmarks": 0}),
                    (START + timedelta(days=1), {"likes": 4, "follows": 0, "bookmarks": 2}),
                ],
            )
        ]
    }
    served = check(body, asked)
    assert served.grouping == {
        OLD: {
            "favorites": {"2026-04-28": 3, "2026-04-29": 4},
            "user_follows": {"2026-04-28": 1, "2026-04-29": 0},
            "bookmarks": {"2026-04-28": 0, "2026-04-29": 2},
        }
    }
    assert served.missing == []
    assert not served.tally.dropped
    assert set(served.delivered) == {(OLD, m) for m in asked.metrics}


def test_hourly_buckets_nest_by_day_and_hour() -> None:
    end = START + timedelta(hours=26)
    asked = Asked((OLD,), ("impressions",), START, end, hourly=True)
    buckets = [(START + timedelta(hours=h), {"impressions": h}) for h in range(26)]
    served = check({"data": [post(OLD, buckets)]}, asked)
    day1 = {f"{h:02d}": h for h in range(24)}
    assert served.grouping == {
        OLD: {"impressions": {"2026-04-28": day1, "2026-04-29": {"00": 24, "01": 25}}}
    }
    assert served.missing == []


def test_a_left_out_bucket_is_missing_without_a_total_and_zero_when_the_total_says_so() -> None:
    second = START + timedelta(days=1)
    without_total = check({"data": [post(OLD, [(START, {"likes": 5})])]})
    assert without_total.missing == [(OLD, "favorites", "2026-04-29", None)]
    assert without_total.tally.missing == 1
    with_total = check({"data": [post(OLD, [(START, {"likes": 5})], likes=5)]})
    assert with_total.grouping[OLD]["favorites"] == {"2026-04-28": 5, "2026-04-29": 0}
    assert with_total.missing == []
    short = check({"data": [post(OLD, [(START, {"likes": 5})], likes=7)]})
    assert short.missing == [(OLD, "favorites", "2026-04-29", None)]
    assert not short.tally.dropped  # 2 may well be in the bucket that did not arrive
    over = check({"data": [post(OLD, [(START, {"likes": 5}), (second, {"likes": 1})], likes=4)]})
    assert over.tally.dropped["totals that are not the sum of their buckets"] == 1
    assert over.grouping[OLD]["favorites"] == {"2026-04-28": 5, "2026-04-29": 1}


@pytest.mark.parametrize("total", [None, 2])
def test_a_null_count_is_not_served_even_when_the_total_would_make_it_a_zero(total) -> None:
    buckets = [(START, {"likes": None}), (START + timedelta(days=1), {"likes": 2})]
    served = check({"data": [post(OLD, buckets, likes=total)]})
    assert served.missing == [(OLD, "favorites", "2026-04-28", None)]
    assert served.grouping[OLD]["favorites"] == {"2026-04-29": 2}


def test_what_no_request_asked_for_is_dropped_and_counted() -> None:
    body = {
        "data": [
            post(
                OLD,
                [
                    (START, {"likes": 1, "shares": 9}),
                    (START + timedelta(days=1), {"likes": 2}),
                    (START + timedelta(days=1), {"likes": 3}),  # repeated
                    (START + timedelta(hours=5), {"likes": 4}),  # off the daily grid
                    (END, {"likes": 5}),  # after the window (end exclusive)
                ],
            ),
            post(OTHER, [(START, {"likes": 6})]),
            post(OLD, [(START, {"likes": 7})]),  # the post again
        ]
    }
    served = check(body)
    assert served.grouping[OLD] == {"favorites": {"2026-04-28": 1, "2026-04-29": 2}}
    assert OTHER not in served.grouping
    assert dict(served.tally.dropped) == {
        "metric(s) not asked for": 1,
        "bucket(s) repeated": 1,
        "bucket(s) off the requested grid": 1,
        "day(s) outside the requested window": 1,
        "tweet id(s) not asked for": 1,
        "post(s) repeated": 1,
    }


def test_posts_the_errors_name_are_refused_and_never_delivered() -> None:
    asked = daily(ids=(OLD, OTHER, "7"))
    body = {
        "data": [post(OLD, [(START, {"likes": 1}), (START + timedelta(days=1), {"likes": 1})])],
        "errors": [
            {
                "resource_id": OTHER,
                "resource_type": "post",
                "title": "Authorization Error",
                "detail": "Sorry, you are not authorized to see the Post with id: [x].",
                "type": "https://api.x.com/2/problems/not-authorized-for-resource",
            },
            {
                "value": "7",
                "title": "Not Found Error",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            },
            {"resource_id": "99", "type": "https://api.x.com/2/problems/resource-not-found"},
            {"title": "Internal Error", "type": "https://api.x.com/2/problems/internal-error"},
        ],
    }
    served = check(body, asked)
    assert served.unavailable == ["7"]
    assert served.refused == {"other_author": [OTHER]}
    assert set(served.delivered) == {(OLD, "favorites")}
    assert served.missing == []
    assert dict(served.tally.dropped) == {"errors about posts not asked for": 1}


def test_a_post_both_served_and_named_in_errors_is_left_out() -> None:
    body = {
        "data": [post(OLD, [(START, {"likes": 1})])],
        "errors": [
            {"resource_id": OLD, "type": "https://api.x.com/2/problems/resource-unavailable"}
        ],
    }
    served = check(body)
    assert served.unavailable == [OLD]
    assert served.delivered == {}
    assert served.tally.dropped["tweet(s) served although named unavailable"] == 1


def test_a_body_with_only_errors_serves_nothing_and_misses_nothing() -> None:
    body = {
        "errors": [{"resource_id": OLD, "type": "https://api.x.com/2/problems/resource-not-found"}]
    }
    served = check(body)
    assert (served.grouping, served.delivered, served.missing) == ({}, {}, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"data": {"id": OLD}}, "data: expected a list of posts"),
        ({"data": [{"id": "12a"}]}, "data[0].id: '12a' is not an id"),
        (
            {"data": [{"id": OLD, "timestamped_metrics": {}}]},
            "timestamped_metrics: expected a list",
        ),
        (
            {
                "data": [
                    {"id": OLD, "timestamped_metrics": [{"timestamp": "2026-04-28", "metrics": {}}]}
                ]
            },
            "is not an ISO 8601 instant with a time zone",
        ),
        (
            {
                "data": [
                    {
                        "id": OLD,
                        "timestamped_metrics": [
                            {"timestamp": "2026-04-28T00:00:00", "metrics": {"likes": 1}}
                        ],
                    }
                ]
            },
            "is not an ISO 8601 instant with a time zone",
        ),
        (
            {"data": [post(OLD, [(START, {"likes": -1})])]},
            "count -1 is not a non-negative whole number",
        ),
        ({"data": [post(OLD, [(START, {"likes": 1.5})], likes=1)]}, "count 1.5 is not"),
        ({"data": [post(OLD, [], likes="x")]}, "count 'x' is not"),
        ({"errors": {"type": "x"}}, "errors: expected a list of problems"),
    ],
)
def test_an_unusable_body_is_refused_whole(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadBody, match=message.replace("[", r"\[").replace("(", r"\(")):
        check(body)


def test_an_offset_timestamp_is_read_in_utc() -> None:
    buckets = [
        {"timestamp": "2026-04-28T02:00:00+02:00", "metrics": {"likes": 1}},
        {"timestamp": "2026-04-29T00:00:00Z", "metrics": {"likes": 2}},
    ]
    served = check({"data": [{"id": OLD, "timestamped_metrics": buckets}]})
    assert served.grouping[OLD]["favorites"] == {"2026-04-28": 1, "2026-04-29": 2}


@pytest.mark.parametrize("hourly", [False, True])
def test_a_repeated_bucket_is_dropped_even_with_the_same_count(hourly: bool) -> None:
    asked = Asked((OLD,), ("favorites",), START, START + timedelta(days=1), hourly=hourly)
    body = {"data": [post(OLD, [(START, {"likes": 0}), (START, {"likes": 0})])]}
    served = check(body, asked)
    assert served.tally.dropped["bucket(s) repeated"] == 1
