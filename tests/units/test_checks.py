"""The checks every response passes before anything in it is used (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from tap_twitter_engagement.checks import (
    MAX_COUNT,
    Asked,
    BadBody,
    Hours,
    Tally,
    check_lookup,
    check_series,
    check_timeline_page,
    check_totals,
    check_user,
    count,
    created_at,
    digit_id,
    window_hours,
)

# A snowflake id created 2026-05-01T12:00:00Z (its top bits are ms since Twitter's epoch).
BORN = datetime(2026, 5, 1, 12, tzinfo=UTC)
YOUNG = str((int(BORN.timestamp() * 1000) - 1288834974657) << 22)
OLD = "1000000000000000000"  # 2017
START = datetime(2026, 4, 30, tzinfo=UTC)
END = datetime(2026, 5, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("007", 7), (12, 12), (str(MAX_COUNT), MAX_COUNT), (MAX_COUNT, MAX_COUNT)],
)
def test_a_count_is_a_whole_number_up_to_2_63_minus_1(value: Any, expected: int) -> None:
    assert count(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        -1,
        "-1",
        2.5,
        3.0,
        True,
        False,
        None,
        "",
        " 1",
        "1e3",
        "\u00b2",
        "12a",
        MAX_COUNT + 1,
        str(MAX_COUNT + 1),
        "9" * 400,
        10**30,
        [],
        {},
    ],
)
def test_anything_else_is_a_bad_body(value: Any) -> None:
    with pytest.raises(
        BadBody, match="is not a non-negative whole number up to 9223372036854775807"
    ):
        count(value, "here")


@pytest.mark.parametrize("value", ["../../etc\n", "", "12 3", "١٢", "-5", 1.0, None, "1" * 21])
def test_an_id_is_digits(value: Any) -> None:
    with pytest.raises(BadBody, match="is not an id"):
        digit_id(value, "data.id")


def test_an_id_given_as_a_number_becomes_its_digits() -> None:
    assert digit_id(1785000000000000001, "x") == "1785000000000000001"


def test_the_creation_time_is_read_from_the_snowflake() -> None:
    assert created_at(YOUNG) == BORN


def test_window_hours_lists_each_day_s_hours_inside_the_window() -> None:
    assert window_hours(START, END) == {
        "2026-04-30": range(24),
        "2026-05-01": range(24),
        "2026-05-02": range(3),
    }


def _daily(ids: tuple[str, ...] = (OLD,), metrics: tuple[str, ...] = ("impressions",)) -> Asked:
    return Asked(ids, metrics, START, END)


def _days(values: dict[str, Any]) -> dict[str, Any]:
    return {"2026-04-30": "1", "2026-05-01": "2", "2026-05-02": "3"} | values


def test_a_complete_answer_is_delivered_whole_with_int_counts() -> None:
    served = check_series({"g": {OLD: {"impressions": _days({})}}}, "g", _daily(), "here")
    assert served.grouping == {
        OLD: {"impressions": {"2026-04-30": 1, "2026-05-01": 2, "2026-05-02": 3}}
    }
    assert served.delivered == {(OLD, "impressions"): ((date(2026, 4, 30), date(2026, 5, 2)),)}
    assert served.missing == []
    assert served.tally == Tally()


def test_what_was_not_asked_is_dropped_and_counted() -> None:
    body = {
        "g": {
            OLD: {"impressions": _days({"2026-05-03": "777"}), "url_clicks": _days({})},
            "999": {"impressions": _days({})},
        }
    }
    served = check_series(body, "g", _daily(), "here")
    assert served.grouping == {
        OLD: {"impressions": {"2026-04-30": 1, "2026-05-01": 2, "2026-05-02": 3}}
    }
    assert dict(served.tally.dropped) == {
        "day(s) outside the requested window": 1,
        "metric(s) not asked for": 1,
        "tweet id(s) not asked for": 1,
    }
    assert served.tally.lines("POST /x") == [
        "POST /x: dropped what no request asked for: 1 day(s) outside the requested window "
        f"(first: '2026-05-03' (tweet {OLD} metric impressions)); 1 metric(s) not asked for "
        f"(first: 'url_clicks' of tweet {OLD}); 1 tweet id(s) not asked for (first: '999'). "
        "None of it became a record."
    ]


def test_what_did_not_arrive_is_not_delivered() -> None:
    days = _days({})
    del days["2026-05-01"]
    body = {"g": {OLD: {"impressions": days}}}
    served = check_series(body, "g", _daily((OLD, "2000000000000000000")), "POST /x")
    assert served.delivered == {
        (OLD, "impressions"): ((date(2026, 4, 30),) * 2, (date(2026, 5, 2),) * 2),
        ("2000000000000000000", "impressions"): (),
    }
    other = "2000000000000000000"
    assert served.missing == [
        (OLD, "impressions", "2026-05-01", None),
        (other, "impressions", "2026-04-30", None),
        (other, "impressions", "2026-05-01", None),
        (other, "impressions", "2026-05-02", None),
    ]
    assert served.tally.lines("POST /x")[0].startswith(
        f"POST /x: 4 requested bucket(s) were not in the responses, and their tweets were not "
        f"named as unavailable (first: tweet {OLD} impressions 2026-05-01 from POST /x)."
    )


def test_a_named_tweet_is_refused_not_missing_and_its_data_dropped() -> None:
    body = {"g": {OLD: {"impressions": _days({})}}, "unavailable_tweet_ids": [OLD, "5"]}
    served = check_series(body, "g", _daily(), "here")
    assert served.unavailable == [OLD]
    assert served.delivered == {}
    assert served.missing == []
    assert dict(served.tally.dropped) == {
        "id(s) in unavailable_tweet_ids not asked for": 1,
        "tweet(s) served although named unavailable": 1,
    }


def test_unsupported_video_views_are_excused_and_never_kept() -> None:
    asked = _daily(metrics=("impressions", "video_views"))
    body = {
        "g": {OLD: {"impressions": _days({}), "video_views": _days({})}},
        "unsupported_for_video_views_tweet_ids": [OLD],
    }
    served = check_series(body, "g", asked, "here")
    assert served.unsupported == {"unsupported_for_video_views_tweet_ids": [OLD]}
    assert list(served.grouping[OLD]) == ["impressions"]
    assert list(served.delivered) == [(OLD, "impressions")]
    assert served.missing == []


def test_days_before_the_tweet_existed_are_zeros_whether_sent_or_not() -> None:
    served = check_series(
        {"g": {YOUNG: {"impressions": {"2026-05-01": "5", "2026-05-02": "1"}}}},
        "g",
        _daily((YOUNG,)),
        "here",
    )
    assert served.grouping[YOUNG]["impressions"] == {
        "2026-05-01": 5,
        "2026-05-02": 1,
        "2026-04-30": 0,
    }
    assert served.missing == []
    hourly = Asked((YOUNG,), ("impressions",), START, END, hourly=True)
    hours = {
        "2026-05-01": {f"{h:02d}": "1" for h in range(12, 24)},
        "2026-05-02": {"00": "1", "01": "1", "02": "1"},
    }
    served = check_series({"g": {YOUNG: {"impressions": hours}}}, "g", hourly, "here")
    assert served.missing == []
    assert served.grouping[YOUNG]["impressions"]["2026-05-01"]["11"] == 0
    assert len(served.grouping[YOUNG]["impressions"]["2026-04-30"]) == 24
    del hours["2026-05-01"]["12"]  # the hour it was created in must arrive
    served = check_series({"g": {YOUNG: {"impressions": hours}}}, "g", hourly, "here")
    assert served.missing == [(YOUNG, "impressions", "2026-05-01", 12)]


def test_hours_outside_the_window_or_repeated_are_dropped() -> None:
    hourly = Asked((OLD,), ("impressions",), START, END, hourly=True)
    hours: dict[str, Any] = {
        day: {f"{h:02d}": "1" for h in r} for day, r in window_hours(START, END).items()
    }
    hours["2026-05-02"] |= {"03": "9", "5": "9"}
    hours["2026-04-30"]["7"] = "9"  # the same hour as "07"
    served = check_series({"g": {OLD: {"impressions": hours}}}, "g", hourly, "here")
    assert served.missing == []
    assert served.tally.dropped == {"hour(s) outside the window or repeated": 3}
    assert served.grouping[OLD]["impressions"]["2026-04-30"]["07"] == 1


def test_a_day_s_hours_are_kept_compactly_and_read_as_the_dict_they_replace() -> None:
    hourly = Asked((OLD,), ("impressions",), START, END, hourly=True)
    hours: dict[str, Any] = {"2026-05-02": {"02": str(MAX_COUNT), "00": "5", "1": 0}}
    served = check_series({"g": {OLD: {"impressions": hours}}}, "g", hourly, "here")
    day = served.grouping[OLD]["impressions"]["2026-05-02"]
    assert type(day) is Hours
    assert day == {"00": 5, "01": 0, "02": MAX_COUNT}
    assert list(day) == ["00", "01", "02"]  # hour order, whatever order the body had
    assert list(day.counts()) == [(0, 5), (1, 0), (2, MAX_COUNT)]
    assert len(day) == 3
    assert "2" not in day  # kept under the two-digit keys only
    with pytest.raises(KeyError):
        day["03"]
    assert "2026-04-30" not in served.grouping[OLD]["impressions"]  # none of its hours came
    assert len(served.missing) == 24 + 24  # 2026-04-30 and 2026-05-01, each hour


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"g": []}, "g: expected a JSON object, got []"),
        ({"g": {OLD: "x"}}, f"tweet {OLD}: expected a JSON object, got 'x'"),
        ({"g": {OLD: {"impressions": [1]}}}, f"tweet {OLD} metric impressions: expected a JSON"),
        (
            {"g": {}, "unavailable_tweet_ids": OLD},
            f"unavailable_tweet_ids: expected a list of ids, got '{OLD}'",
        ),
        ({"g": {}, "unavailable_tweet_ids": ["x"]}, "unavailable_tweet_ids: 'x' is not an id"),
        (
            {"g": {OLD: {"impressions": {"2026-04-30": "-4"}}}},
            f"tweet {OLD} metric impressions day 2026-04-30: count '-4'",
        ),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_bad_body(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BadBody) as caught:
        check_series(body, "g", _daily(), "here")
    assert str(caught.value).startswith(message)


def test_totals_keep_what_was_asked_and_count_what_is_missing() -> None:
    asked = Asked((OLD, "5"), ("favorites", "impressions"))
    body = {
        "g": {OLD: {"favorites": "3", "retweets": "1"}, "5": {"impressions": 7, "favorites": "0"}},
        "unsupported_for_impressions_engagements_tweet_ids": ["5"],
    }
    served = check_totals(body, "g", asked, "here")
    assert served.grouping == {OLD: {"favorites": 3}, "5": {"favorites": 0}}
    assert served.missing == [(OLD, "impressions", "", None)]
    assert served.tally.dropped == {"metric(s) not asked for": 1}


def test_a_user_is_checked_and_normalised() -> None:
    user = check_user(
        {"data": {"id": "42", "username": "b", "public_metrics": {"followers_count": 3}}}
    )
    assert user == {
        "id": "42",
        "username": "b",
        "name": None,
        "public_metrics": {
            "followers_count": 3,
            "following_count": None,
            "tweet_count": None,
            "listed_count": None,
        },
    }


def test_a_timeline_page_and_a_lookup_are_checked() -> None:
    page = check_timeline_page({"data": [{"id": "7", "text": "hi"}], "meta": {"next_token": "t"}})
    assert [t["id"] for t in page.tweets] == ["7"]
    assert page.next_token == "t"
    assert check_timeline_page({"meta": {"result_count": 0}}).tweets == []
    found = check_lookup(
        {
            "data": [{"id": "7"}, {"id": "8"}],
            "errors": [{"resource_id": "9", "title": "Not Found Error"}, {"title": "x"}],
        },
        ["7", "9"],
    )
    assert [t["id"] for t in found.tweets] == ["7"]
    assert found.errors == [{"id": "9", "title": "Not Found Error"}]
    assert found.tally.dropped == {"tweet(s) not asked for": 1}
