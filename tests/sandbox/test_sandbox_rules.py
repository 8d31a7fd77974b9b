"""The sandbox rejects what the real Engagement API rejects, with the real status and message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tap_twitter_engagement.metrics import HISTORICAL_METRICS, TOTALS_METRICS
from twitter_engagement_sandbox import Sandbox
from twitter_engagement_sandbox.server import basic_auth

DAILY = ["tweet.id", "engagement.type", "engagement.day"]
HOURLY = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]


def _today() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _body(
    ids: list[Any],
    *,
    metrics: list[str] | None = None,
    groupings: dict[str, Any] | None = None,
    days: tuple[int, int] | None = (10, 3),
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tweet_ids": ids,
        "engagement_types": metrics or ["impressions", "engagements"],
        "groupings": groupings or {"g": {"group_by": DAILY}},
    }
    if days is not None:
        body["start"] = (_today() - timedelta(days=days[0])).date().isoformat()
        body["end"] = (_today() - timedelta(days=days[1])).date().isoformat()
    body.update(extra)
    return body


def _post(
    api: requests.Session, sandbox: Sandbox, endpoint: str, body: Any, **kwargs: Any
) -> requests.Response:
    return api.post(f"{sandbox.base_url}/insights/engagement/{endpoint}", json=body, **kwargs)


def _own(sandbox: Sandbox, n: int = 3) -> list[str]:
    return sandbox.model.owned_ids()[:n]


def _errors(response: requests.Response) -> list[str]:
    return response.json()["errors"]


# ------------------------------------------------------------------ tweet_ids
def test_strict_ids_must_be_strings(api, sandbox):
    sandbox.behaviour.accept_numeric_ids = False
    ids = [int(i) for i in _own(sandbox, 2)]
    response = _post(api, sandbox, "historical", _body(ids))
    assert response.status_code == 400
    assert _errors(response) == [f"Tweet IDs must be represented as strings of digits: {ids[0]!r}"]


def test_numeric_ids_accepted_by_default(api, sandbox):
    response = _post(api, sandbox, "historical", _body([int(i) for i in _own(sandbox, 2)]))
    assert response.status_code == 200
    assert sorted(response.json()["g"]) == sorted(_own(sandbox, 2))


@pytest.mark.parametrize(("endpoint", "limit"), [("historical", 25), ("28hr", 25), ("totals", 250)])
def test_id_limit_per_endpoint(api, sandbox, endpoint, limit):
    owned = sandbox.model.owned_ids()
    ids = (owned * 3)[: limit + 1]
    days = (10, 3) if endpoint == "historical" else None
    metrics = ["favorites"]
    response = _post(
        api,
        sandbox,
        endpoint,
        _body(ids, metrics=metrics, days=days, groupings={"g": {"group_by": ["tweet.id"]}}),
    )
    assert response.status_code == 400
    assert _errors(response) == [
        f"A maximum of {limit} Tweet IDs may be requested from the "
        f"{endpoint} endpoint; {limit + 1} were given."
    ]
    ok = _post(
        api,
        sandbox,
        endpoint,
        _body(ids[:limit], metrics=metrics, days=days, groupings={"g": {"group_by": ["tweet.id"]}}),
    )
    assert ok.status_code == 200


def test_empty_tweet_ids(api, sandbox):
    response = _post(api, sandbox, "historical", _body([]))
    assert response.status_code == 400
    assert _errors(response) == ["tweet_ids is required and must be a non-empty array of strings."]


# ------------------------------------------------------------------ engagement_types
@pytest.mark.parametrize(
    ("endpoint", "metric"),
    [
        ("historical", "quote_tweets"),
        ("28hr", "quote_tweets"),
        ("totals", "media_views"),
        ("historical", "media_clicks"),
    ],
)
def test_metric_not_served_by_endpoint(api, sandbox, endpoint, metric):
    days = (10, 3) if endpoint == "historical" else None
    response = _post(
        api,
        sandbox,
        endpoint,
        _body(
            _own(sandbox),
            metrics=["favorites", metric],
            days=days,
            groupings={"g": {"group_by": ["tweet.id", "engagement.type"]}},
        ),
    )
    assert response.status_code == 400
    assert _errors(response) == [
        f"One or more of the engagement types you have specified are "
        f"not supported: ({metric}). Please adjust your request and try "
        "again."
    ]


@pytest.mark.parametrize(
    ("endpoint", "metrics"),
    [("historical", HISTORICAL_METRICS), ("28hr", HISTORICAL_METRICS), ("totals", TOTALS_METRICS)],
)
def test_every_documented_metric_is_served(api, sandbox, endpoint, metrics):
    days = (10, 3) if endpoint == "historical" else None
    ids = _own(sandbox, 2)
    response = _post(
        api,
        sandbox,
        endpoint,
        _body(
            ids,
            metrics=list(metrics),
            days=days,
            groupings={"g": {"group_by": ["tweet.id", "engagement.type"]}},
        ),
    )
    assert response.status_code == 200
    tweet = ids[0]
    assert set(response.json()["g"][tweet]) <= set(metrics)
    assert {"favorites", "retweets", "replies"} <= set(response.json()["g"][tweet])


# ------------------------------------------------------------------ groupings
def test_at_most_three_groupings(api, sandbox):
    groupings = {f"g{i}": {"group_by": ["engagement.type"]} for i in range(4)}
    response = _post(api, sandbox, "historical", _body(_own(sandbox), groupings=groupings))
    assert response.status_code == 400
    assert _errors(response) == ["A maximum of 3 groupings may be requested; 4 were given."]


@pytest.mark.parametrize("value", ["engagement.day", "engagement.hour"])
def test_totals_rejects_time_series_groupings(api, sandbox, value):
    response = _post(
        api,
        sandbox,
        "totals",
        _body(
            _own(sandbox),
            metrics=["favorites"],
            days=None,
            groupings={"g": {"group_by": ["tweet.id", value]}},
        ),
    )
    assert response.status_code == 400
    assert _errors(response) == [
        f"One or more of the groupBys you have specified are not "
        f"supported: ({value}). Please adjust your request and try again."
    ]


def test_group_by_value_is_case_sensitive(api, sandbox):
    response = _post(
        api,
        sandbox,
        "historical",
        _body(_own(sandbox), groupings={"g": {"group_by": ["Tweet.id", "engagement.type"]}}),
    )
    assert response.status_code == 400
    assert "(Tweet.id)" in _errors(response)[0]


@pytest.mark.parametrize(
    ("group_by", "message"),
    [
        ([], "Grouping 'g' needs a non-empty group_by array."),
        (["tweet.id", "tweet.id"], "Grouping 'g' repeats a group_by value."),
        (
            ["engagement.day", "tweet.id", "engagement.type", "engagement.hour"],
            "Grouping 'g' has four group_by values in an unsupported order; use tweet.id, "
            "engagement.type, engagement.day, engagement.hour or engagement.type, tweet.id, "
            "engagement.day, engagement.hour.",
        ),
    ],
)
def test_bad_group_by(api, sandbox, group_by, message):
    response = _post(
        api, sandbox, "historical", _body(_own(sandbox), groupings={"g": {"group_by": group_by}})
    )
    assert response.status_code == 400
    assert _errors(response) == [message]


def test_both_legal_four_entry_orders_but_only_one_per_request(api, sandbox):
    first = ["engagement.type", "tweet.id", "engagement.day", "engagement.hour"]
    for order in (HOURLY, first):
        response = _post(
            api, sandbox, "historical", _body(_own(sandbox), groupings={"g": {"group_by": order}})
        )
        assert response.status_code == 200
    response = _post(
        api,
        sandbox,
        "historical",
        _body(_own(sandbox), groupings={"a": {"group_by": HOURLY}, "b": {"group_by": first}}),
    )
    assert response.status_code == 400
    assert _errors(response) == [
        "Only one grouping with four group_by values is allowed per request."
    ]


# ------------------------------------------------------------------ start / end
def test_start_end_formats_are_floored_and_ceiled_to_the_hour(api, sandbox):
    day = (_today() - timedelta(days=5)).date().isoformat()
    end_day = (_today() - timedelta(days=4)).date().isoformat()
    response = _post(
        api,
        sandbox,
        "historical",
        _body(_own(sandbox), days=None, start=f"{day}T12:24:00Z", end=f"{end_day}T08:37:00Z"),
    )
    assert response.status_code == 200
    assert response.json()["start"] == f"{day}T12:00:00Z"
    assert response.json()["end"] == f"{end_day}T09:00:00Z"
    response = _post(
        api, sandbox, "historical", _body(_own(sandbox), days=None, start=day, end=end_day)
    )
    assert (response.json()["start"], response.json()["end"]) == (
        f"{day}T00:00:00Z",
        f"{end_day}T00:00:00Z",
    )


def test_defaults_to_the_last_four_weeks(api, sandbox):
    before = datetime.now(UTC).replace(microsecond=0)
    response = _post(api, sandbox, "historical", _body(_own(sandbox), days=None))
    after = datetime.now(UTC)
    assert response.status_code == 200
    end = datetime.fromisoformat(response.json()["end"].replace("Z", "+00:00"))
    start = datetime.fromisoformat(response.json()["start"].replace("Z", "+00:00"))
    # start: 28 days before the end of the current hour; end: the request time, un-rounded
    # (exact values under a fixed clock: tests/test_sandbox_contract.py).
    assert before <= end <= after
    assert start == end.replace(minute=0, second=0) + timedelta(hours=1) - timedelta(days=28)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            "2026/01/01",
            None,
            "Invalid start date: '2026/01/01'. Use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC).",
        ),
        (
            None,
            "yesterday",
            "Invalid end date: 'yesterday'. Use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC).",
        ),
        (None, "2026-02-30", "Invalid end date: '2026-02-30'."),
    ],
)
def test_malformed_dates(api, sandbox, start, end, message):
    body = _body(_own(sandbox), days=None)
    if start:
        body["start"] = start
    if end:
        body["end"] = end
    response = _post(api, sandbox, "historical", body)
    assert response.status_code == 400
    assert _errors(response) == [message]


def test_window_of_28_days_passes_29_fails(api, sandbox):
    assert _post(api, sandbox, "historical", _body(_own(sandbox), days=(30, 2))).status_code == 200
    response = _post(api, sandbox, "historical", _body(_own(sandbox), days=(31, 2)))
    assert response.status_code == 400
    assert _errors(response) == [
        "The time range between start and end may be at most 4 weeks (28 days)."
    ]


def test_start_must_precede_end(api, sandbox):
    response = _post(api, sandbox, "historical", _body(_own(sandbox), days=(3, 5)))
    assert response.status_code == 400
    assert _errors(response) == ["The start date must be before the end date."]


def test_end_in_the_future(api, sandbox):
    response = _post(api, sandbox, "historical", _body(_own(sandbox), days=(3, -1)))
    assert response.status_code == 400
    assert _errors(response) == ["The end date cannot be in the future."]


def test_history_floor_365_days_or_2014(api, sandbox):
    body = _body(_own(sandbox), days=(380, 370))
    response = _post(api, sandbox, "historical", body)
    assert response.status_code == 400
    assert _errors(response) == ["Historical data is only available for the most recent 365 days."]
    sandbox.behaviour.history_floor = "2014"
    assert _post(api, sandbox, "historical", body).status_code == 200
    old = _post(
        api,
        sandbox,
        "historical",
        _body(_own(sandbox), days=None, start="2014-08-20", end="2014-09-10"),
    )
    assert old.status_code == 400
    assert _errors(old) == ["Historical data is only available for 2014-09-01 or later."]


def test_28hr_covers_29_hourly_buckets(api, sandbox):
    response = _post(api, sandbox, "28hr", _body(_own(sandbox), days=None))
    assert response.status_code == 200
    start = datetime.fromisoformat(response.json()["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(response.json()["end"].replace("Z", "+00:00"))
    assert end - start == timedelta(hours=29)


# ------------------------------------------------------------------ transport
def test_gzip_is_required(api, sandbox):
    response = _post(
        api, sandbox, "historical", _body(_own(sandbox)), headers={"Accept-Encoding": "identity"}
    )
    assert response.status_code == 406
    assert _errors(response) == [
        "This request requires gzip compression. Retry the request after "
        "setting 'Accept-Encoding' header in the request to 'gzip'."
    ]


def test_responses_are_gzip_json(api, sandbox):
    response = _post(api, sandbox, "historical", _body(_own(sandbox)))
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"].startswith("application/json")


def test_body_must_be_json(api, sandbox, oauth):
    response = api.post(
        f"{sandbox.base_url}/insights/engagement/historical",
        data="not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert _errors(response) == ["Request body is not valid JSON."]


def test_wrong_path_is_code_34(api, sandbox):
    response = api.post(f"{sandbox.base_url}/insights/engagement/lifetime", json={})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"message": "Sorry, that page does not exist", "code": 34}]
    }


# ------------------------------------------------------------------ partial data and refusals
def test_other_authors_tweet_rejects_the_whole_request(api, sandbox):
    other = sandbox.model.ids_of_kind("other_author")[:2]
    response = _post(api, sandbox, "historical", _body([*_own(sandbox), *other]))
    assert response.status_code == 403
    assert _errors(response) == [
        f"Forbidden to access tweets for author id "
        f"{sandbox.model.other_user.id}: {', '.join(other)}"
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [("plain", "Forbidden to access tweets: {ids}"), ("none", "Forbidden to access tweets")],
)
def test_other_author_message_forms(api, sandbox, form, message):
    sandbox.behaviour.forbidden_message = form
    other = sandbox.model.ids_of_kind("other_author")[:2]
    response = _post(api, sandbox, "historical", _body([*_own(sandbox), *other]))
    assert response.status_code == 403
    assert _errors(response) == [message.format(ids=", ".join(other))]


def test_protected_tweet_is_400(api, sandbox):
    protected = sandbox.model.ids_of_kind("protected")[:1]
    response = _post(api, sandbox, "historical", _body([*_own(sandbox), *protected]))
    assert response.status_code == 400
    assert _errors(response) == ["Tweet ID(s) are unavailable"]


def test_deleted_tweets_are_reported_inside_a_200(api, sandbox):
    deleted = sandbox.model.ids_of_kind("deleted")[:2]
    own = _own(sandbox)
    response = _post(api, sandbox, "historical", _body([own[0], deleted[0], own[1], deleted[1]]))
    assert response.status_code == 200
    body = response.json()
    assert body["unavailable_tweet_ids"] == deleted
    assert body["errors"] == ["2 Tweet ID(s) are unavailable"]
    assert sorted(body["g"]) == sorted(own[:2])


def test_totals_refuses_impressions_for_tweets_older_than_90_days(api, sandbox):
    old = sandbox.model.ids_of_kind("older_than_90_days")
    old = [i for i in old if i not in sandbox.model.ids_of_kind("other_author")][:2]
    recent = _own(sandbox, 1)
    response = _post(
        api,
        sandbox,
        "totals",
        _body(
            [*recent, *old],
            metrics=["impressions", "favorites"],
            days=None,
            groupings={"g": {"group_by": ["tweet.id", "engagement.type"]}},
        ),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["unsupported_for_impressions_engagements_tweet_ids"] == old
    assert body["errors"] == [
        f"Impressions & engagements for tweets older than 90 days "
        f"({', '.join(old)}) are not supported"
    ]
    assert set(body["g"][recent[0]]) == {"impressions", "favorites"}
    assert set(body["g"][old[0]]) == {"favorites"}


@pytest.mark.parametrize("form", ["omit", "zero"])
def test_old_video_tweets_get_no_video_views(api, sandbox, form):
    sandbox.behaviour.unsupported_video_views = form
    sandbox.behaviour.history_floor = "2014"
    old_video = sandbox.model.ids_of_kind("old_video")[:1]
    response = _post(
        api,
        sandbox,
        "historical",
        _body(
            old_video,
            metrics=["video_views", "favorites"],
            groupings={"g": {"group_by": ["tweet.id", "engagement.type"]}},
        ),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["unsupported_for_video_views_tweet_ids"] == old_video
    expected = {"favorites": "0"} if form == "omit" else {"favorites": "0", "video_views": "0"}
    assert body["g"][old_video[0]] == expected


# ------------------------------------------------------------------ response shape
def test_response_shape_strings_day_and_hour_keys(api, sandbox):
    tweet = sandbox.model.owned_ids()[0]
    start = _today() - timedelta(days=2)
    body = _body(
        [tweet],
        metrics=["impressions"],
        days=None,
        start=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        end=(start + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        groupings={"h": {"group_by": HOURLY}},
    )
    response = _post(api, sandbox, "historical", body)
    days = response.json()["h"][tweet]["impressions"]
    first, second = start.date().isoformat(), (start + timedelta(days=1)).date().isoformat()
    assert list(days) == [first, second]
    assert list(days[first]) == [f"{h:02d}" for h in range(24)]
    assert list(days[second]) == [f"{h:02d}" for h in range(6)]
    assert all(isinstance(v, str) and v.isdigit() for d in days.values() for v in d.values())
    for day, hours in days.items():
        for hour, value in hours.items():
            moment = datetime.fromisoformat(f"{day}T{hour}:00:00+00:00")
            assert int(value) == sandbox.model.hour_count(tweet, "impressions", moment)


def test_zero_buckets_present_before_the_tweet_exists(api, sandbox):
    newest = sandbox.model.tweet(sandbox.model.owned_ids()[0])
    assert newest is not None
    created_day = newest.created_at.date()
    days = (datetime.now(UTC).date() - created_day).days
    response = _post(
        api,
        sandbox,
        "historical",
        _body([newest.id], metrics=["impressions"], days=(days + 3, days)),
    )
    counts = response.json()["g"][newest.id]["impressions"]
    assert len(counts) == 3
    assert all(value == "0" for value in counts.values())


def test_numeric_counts_flag(api, sandbox):
    sandbox.behaviour.numeric_counts = True
    tweet = _own(sandbox, 1)[0]
    response = _post(api, sandbox, "historical", _body([tweet], metrics=["favorites"]))
    values = response.json()["g"][tweet]["favorites"].values()
    assert all(isinstance(v, int) for v in values)


def test_totals_has_no_start_end(api, sandbox):
    response = _post(
        api,
        sandbox,
        "totals",
        _body(
            _own(sandbox),
            metrics=["favorites"],
            days=None,
            groupings={"g": {"group_by": ["tweet.id"]}},
        ),
    )
    assert response.status_code == 200
    assert "start" not in response.json()


# ------------------------------------------------------------------ bearer
def test_bearer_token_on_totals_public_metrics_only(sandbox):
    headers = {"Authorization": f"Bearer {sandbox.credentials.bearer_token}"}
    other = sandbox.model.ids_of_kind("other_author")[:1]
    url = f"{sandbox.base_url}/insights/engagement/totals"
    ok = requests.post(
        url,
        headers=headers,
        json=_body(
            other,
            metrics=["favorites", "quote_tweets"],
            days=None,
            groupings={"g": {"group_by": ["tweet.id", "engagement.type"]}},
        ),
        timeout=10,
    )
    assert ok.status_code == 200
    assert set(ok.json()["g"][other[0]]) == {"favorites", "quote_tweets"}
    refused = requests.post(
        url,
        headers=headers,
        json=_body(
            other,
            metrics=["impressions", "favorites"],
            days=None,
            groupings={"g": {"group_by": ["tweet.id"]}},
        ),
        timeout=10,
    )
    assert refused.status_code == 403
    assert _errors(refused) == ["Forbidden to access metrics: impressions"]
    historical = requests.post(
        f"{sandbox.base_url}/insights/engagement/historical",
        headers=headers,
        json=_body(other),
        timeout=10,
    )
    assert historical.status_code == 401
    assert _errors(historical) == [
        "Your account could not be authenticated. Reason: Unknown Authorization Type"
    ]


def test_app_only_token_endpoint(sandbox):
    c = sandbox.credentials
    response = requests.post(
        f"{sandbox.base_url}/oauth2/token",
        headers={"Authorization": basic_auth(c.consumer_key, c.consumer_secret)},
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert response.json() == {"token_type": "bearer", "access_token": c.bearer_token}
    wrong = requests.post(
        f"{sandbox.base_url}/oauth2/token",
        headers={"Authorization": basic_auth(c.consumer_key, "nope")},
        timeout=10,
    )
    assert wrong.status_code == 403
