"""Post analytics, ``GET /2/tweets/analytics``, sandbox side: the query rules, the buckets, the
problems, the two rate budgets, faults and tampers.

The key property: for every metric both APIs have, a bucket is exactly what the model and the
Engagement API's ``/historical`` give for the same post and hours, asked of the same sandbox at
the same instant (recent hours still revised: ``revision_hours`` is the default 72). One
two-account sandbox for the module, with a fixed API clock and a hand-driven rate-limit clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from tap_twitter_engagement.metrics import (
    HISTORICAL_METRICS,
    POST_ANALYTICS_FIELDS,
    POST_ANALYTICS_NAMES,
)
from tests.helpers import KNOWN_SECRETS
from tests.sandbox.clock import EPOCH, EpochClock
from twitter_engagement_sandbox import Behaviour, Sandbox
from twitter_engagement_sandbox.cli import build_sandbox, parse_args
from twitter_engagement_sandbox.model import DAY, HOUR, ceil_hour

#: The API's "now": un-rounded, so the history floor shows its milliseconds.
NOW = datetime(2026, 5, 14, 19, 43, 27, 654321, tzinfo=UTC)
MIDNIGHT = datetime(2026, 5, 14, tzinfo=UTC)
ROUTE = "2/tweets/analytics"
PROBLEMS = "https://api.x.com/2/problems/"
#: The metrics both APIs serve, in the Engagement API's names.
SHARED = [m for m in HISTORICAL_METRICS if POST_ANALYTICS_NAMES.get(m, m) in POST_ANALYTICS_FIELDS]
ONLY_HERE = ["quote_tweets", "bookmarks", "shares", "unfollows", "unlikes"]
#: ``analytics.fields``' enum as X's description lists it.
ENUM = (
    "app_install_attempts,app_opens,bookmarks,detail_expands,email_tweet,engagements,follows,"
    "hashtag_clicks,id,impressions,likes,media_views,permalink_clicks,quote_tweets,replies,"
    "retweets,shares,timestamp,timestamped_metrics,unfollows,unlikes,url_clicks,"
    "user_profile_clicks"
)
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}

RATE_CLOCK = EpochClock()
Body = dict[str, Any]


def _name(metric: str) -> str:
    """Post analytics' name of an Engagement API metric."""
    return POST_ANALYTICS_NAMES.get(metric, metric)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def analytics_sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=13,
        tweets=40,
        accounts=2,
        anchor=MIDNIGHT,
        clock=lambda: NOW,
        rate_clock=RATE_CLOCK,
        rate_limit_per_second=0,
    ) as sandbox:
        KNOWN_SECRETS.update(sandbox.secret_values())
        yield sandbox


@pytest.fixture
def sb(analytics_sandbox: Sandbox) -> Iterator[Sandbox]:
    RATE_CLOCK.rewind()
    analytics_sandbox.reset()
    yield analytics_sandbox
    analytics_sandbox.reset()


def _session(sb: Sandbox, account: int) -> requests.Session:
    c = sb.account_credentials(account)
    session = requests.Session()
    session.auth = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
    return session


@pytest.fixture
def session(sb: Sandbox) -> Iterator[requests.Session]:
    with _session(sb, 0) as s:
        yield s


@pytest.fixture
def second(sb: Sandbox) -> Iterator[requests.Session]:
    """Account 1's token, under the same app."""
    with _session(sb, 1) as s:
        yield s


def _params(
    ids: Sequence[str],
    start: datetime | str,
    end: datetime | str,
    granularity: str | None = None,
    fields: Sequence[str] | None = None,
) -> dict[str, str]:
    params = {
        "ids": ",".join(ids),
        "start_time": start if isinstance(start, str) else _z(start),
        "end_time": end if isinstance(end, str) else _z(end),
    }
    if granularity is not None:
        params["granularity"] = granularity
    if fields is not None:
        params["analytics.fields"] = ",".join(fields)
    return params


def _get(session: requests.Session, sb: Sandbox, params: Mapping[str, Any]) -> requests.Response:
    return session.get(f"{sb.base_url}/2/tweets/analytics", params=params)


def _ok(session: requests.Session, sb: Sandbox, params: Mapping[str, Any]) -> Body:
    response = _get(session, sb, params)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


def _limits(response: requests.Response) -> tuple[str, str, str] | None:
    names = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
    if names[0] not in response.headers:
        return None
    limit, remaining, reset = (response.headers[name] for name in names)
    return limit, remaining, reset


def _historical(
    session: requests.Session,
    sb: Sandbox,
    ids: Sequence[str],
    start: datetime,
    end: datetime,
    group_by: list[str],
) -> dict[tuple[str, ...], int]:
    """What ``/historical`` serves for the shared metrics, flat: key per level -> count."""
    response = session.post(
        f"{sb.base_url}/insights/engagement/historical",
        json={
            "tweet_ids": list(ids),
            "engagement_types": SHARED,
            "start": _z(start),
            "end": _z(end),
            "groupings": {"g": {"group_by": group_by}},
        },
    )
    assert response.status_code == 200, response.text
    flat: dict[tuple[str, ...], int] = {}

    def walk(node: Any, key: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*key, k))
        else:
            flat[key] = int(node)

    walk(response.json()["g"], ())
    return flat


def _model_sum(sb: Sandbox, post: str, metric: str, first: datetime, end: datetime) -> int:
    """The model's hours from ``first`` up to ``end`` (on the hour), as served at NOW."""
    return sum(c for *_, c in sb.model.window_counts(post, metric, first, end, as_of=NOW))


def _buckets(post: Body) -> list[tuple[str, dict[str, int]]]:
    return [(entry["timestamp"], entry["metrics"]) for entry in post["timestamped_metrics"]]


# ------------------------------------------------------------------ one model, two APIs
def test_daily_buckets_are_the_models_days_and_what_historical_serves(
    session: requests.Session, sb: Sandbox
) -> None:
    ids = sb.model.owned_ids()[:4]
    # Six whole days and today up to 19:00: the recent hours are still being revised.
    start, end = MIDNIGHT - 6 * DAY, MIDNIGHT + 19 * HOUR
    fields = ["id", *(_name(m) for m in SHARED), "timestamped_metrics"]
    body = _ok(session, sb, _params(ids, start, end, "daily", fields))
    daily = _historical(
        session, sb, ids, start, end, ["tweet.id", "engagement.type", "engagement.day"]
    )
    totals = _historical(session, sb, ids, start, end, ["tweet.id", "engagement.type"])
    assert [post["id"] for post in body["data"]] == ids
    starts = [MIDNIGHT - n * DAY for n in range(6, -1, -1)]
    for post in body["data"]:
        assert [t for t, _ in _buckets(post)] == [_ms(s) for s in starts]
        for (_, metrics), bucket_start in zip(_buckets(post), starts, strict=True):
            bucket_end = min(bucket_start + DAY, end)
            assert set(metrics) == {_name(m) for m in SHARED}
            for metric in SHARED:
                served = metrics[_name(metric)]
                assert served == daily[(post["id"], metric, bucket_start.date().isoformat())]
                assert served == _model_sum(sb, post["id"], metric, bucket_start, bucket_end)
                if bucket_end - bucket_start == DAY:
                    assert served == sb.model.day_count(
                        post["id"], metric, bucket_start.date(), NOW
                    )
        for metric in SHARED:
            total = post[_name(metric)]
            assert total == totals[(post["id"], metric)]
            assert total == sum(m[_name(metric)] for _, m in _buckets(post))
    served = sum(post["impressions"] for post in body["data"])
    assert served > 0
    # As served at NOW (revised), not the final counts.
    assert served < sb.model.expected_total(ids, ["impressions"], start, end)
    assert served == sb.model.expected_total(ids, ["impressions"], start, end, as_of=NOW)


def test_hourly_buckets_are_the_models_hours_and_what_historical_serves(
    session: requests.Session, sb: Sandbox
) -> None:
    ids = sb.model.owned_ids()[:3]
    start, end = MIDNIGHT - 7 * HOUR, MIDNIGHT + 19 * HOUR
    fields = ["timestamped_metrics", *(_name(m) for m in SHARED), "id"]
    body = _ok(session, sb, _params(ids, start, end, "hourly", fields))
    hourly = _historical(
        session,
        sb,
        ids,
        start,
        end,
        ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
    )
    hours = [start + n * HOUR for n in range(26)]
    for post in body["data"]:
        assert [t for t, _ in _buckets(post)] == [_ms(h) for h in hours]
        for (_, metrics), hour in zip(_buckets(post), hours, strict=True):
            for metric in SHARED:
                served = metrics[_name(metric)]
                key = (post["id"], metric, hour.date().isoformat(), f"{hour.hour:02d}")
                assert served == hourly[key]
                assert served == sb.model.hour_count(post["id"], metric, hour, NOW)
        for metric in SHARED:
            assert post[_name(metric)] == sum(m[_name(metric)] for _, m in _buckets(post))


def test_weekly_and_total_cut_the_same_hours(session: requests.Session, sb: Sandbox) -> None:
    ids = sb.model.owned_ids()[:2]
    start, end = MIDNIGHT - 20 * DAY, MIDNIGHT
    fields = ["id", "likes", "impressions", "bookmarks", "timestamp", "timestamped_metrics"]
    daily = _ok(session, sb, _params(ids, start, end, "daily", fields))["data"]
    weekly = _ok(session, sb, _params(ids, start, end, "weekly", fields))["data"]
    total = _ok(session, sb, _params(ids, start, end, "total", fields))["data"]
    default = _ok(session, sb, _params(ids, start, end, None, fields))["data"]
    assert default == total  # granularity defaults to total
    for by_day, by_week, whole in zip(daily, weekly, total, strict=True):
        weeks = [start, start + 7 * DAY, start + 14 * DAY]  # the last one clipped to 6 days
        assert [t for t, _ in _buckets(by_week)] == [_ms(w) for w in weeks]
        assert [t for t, _ in _buckets(whole)] == [_ms(start)]
        for metric in ("likes", "impressions", "bookmarks"):
            days = [m[metric] for _, m in _buckets(by_day)]
            assert [m[metric] for _, m in _buckets(by_week)] == [
                sum(days[0:7]),
                sum(days[7:14]),
                sum(days[14:20]),
            ]
            assert _buckets(whole)[0][1][metric] == sum(days)
            assert by_day[metric] == by_week[metric] == whole[metric] == sum(days)
        assert by_day["timestamp"] == whole["timestamp"] == _ms(start)


def test_metrics_only_post_analytics_has_are_hourly_series_of_the_model(
    session: requests.Session, sb: Sandbox
) -> None:
    post = sb.model.owned_ids()[0]
    start, end = MIDNIGHT - 3 * DAY, MIDNIGHT
    body = _ok(
        session, sb, _params([post], start, end, "daily", [*ONLY_HERE, "timestamped_metrics"])
    )
    (served,) = body["data"]
    for metric in ONLY_HERE:
        assert served[metric] == _model_sum(sb, post, metric, start, end)
        assert [m[metric] for _, m in _buckets(served)] == [
            _model_sum(sb, post, metric, start + n * DAY, start + (n + 1) * DAY) for n in range(3)
        ]
    assert sum(served[m] for m in ("bookmarks", "quote_tweets", "shares")) > 0


# ------------------------------------------------------------------ the bucket grid
def test_a_grid_from_an_unaligned_start_counts_each_hour_where_it_starts(
    session: requests.Session, sb: Sandbox
) -> None:
    post = sb.model.owned_ids()[1]
    start = datetime(2026, 5, 10, 6, 30, tzinfo=UTC)
    end = datetime(2026, 5, 12, 18, 15, 0, 500000, tzinfo=UTC)
    body = _ok(
        session,
        sb,
        _params(
            [post], start, "2026-05-12T18:15:00.500Z", "daily", ["likes", "timestamped_metrics"]
        ),
    )
    (served,) = body["data"]
    assert [t for t, _ in _buckets(served)] == [
        "2026-05-10T06:30:00.000Z",
        "2026-05-11T06:30:00.000Z",
        "2026-05-12T06:30:00.000Z",  # clipped at end_time
    ]
    # Hours 07:00..06:00 of the next day, and 07:00..18:00 (18:00 starts before 18:15:00.5).
    edges = [datetime(2026, 5, d, 7, tzinfo=UTC) for d in (10, 11, 12)] + [ceil_hour(end)]
    assert edges[-1] == datetime(2026, 5, 12, 19, tzinfo=UTC)
    assert [m["likes"] for _, m in _buckets(served)] == [
        _model_sum(sb, post, "favorites", a, b) for a, b in itertools.pairwise(edges)
    ]
    assert served["likes"] == _model_sum(sb, post, "favorites", edges[0], edges[-1])


def test_end_time_is_exclusive(session: requests.Session, sb: Sandbox) -> None:
    post = sb.model.owned_ids()[0]
    fields = ["impressions", "timestamped_metrics"]
    start = "2026-05-12T10:30:00.250+00:00"
    hour = {
        h: sb.model.hour_count(post, "impressions", datetime(2026, 5, 12, h, tzinfo=UTC), NOW)
        for h in (11, 12)
    }
    assert hour[11]
    assert hour[12]
    on_the_hour = _ok(session, sb, _params([post], start, "2026-05-12T12:00:00Z", "hourly", fields))
    assert _buckets(on_the_hour["data"][0]) == [
        ("2026-05-12T10:30:00.250Z", {"impressions": hour[11]}),
        ("2026-05-12T11:30:00.250Z", {"impressions": 0}),  # 12:00 is not before end_time
    ]
    past_it = _ok(session, sb, _params([post], start, "2026-05-12T12:00:00.001Z", "hourly", fields))
    assert _buckets(past_it["data"][0]) == [
        ("2026-05-12T10:30:00.250Z", {"impressions": hour[11]}),
        ("2026-05-12T11:30:00.250Z", {"impressions": hour[12]}),
    ]
    assert past_it["data"][0]["impressions"] == hour[11] + hour[12]


def test_date_time_forms_and_offsets(session: requests.Session, sb: Sandbox) -> None:
    ids = sb.model.owned_ids()[:1]
    fields = ["id", "likes", "timestamp", "timestamped_metrics"]
    plain = _ok(
        session, sb, _params(ids, "2026-05-12T00:00:00Z", "2026-05-13T00:00:00Z", "daily", fields)
    )
    for start, end in [
        ("2026-05-12T00:00:00+00:00", "2026-05-13T00:00:00.000Z"),
        ("2026-05-12T02:00:00+02:00", "2026-05-12T19:00:00-05:00"),
        ("2026-05-12T00:00:00.000000000Z", "2026-05-13T00:00:00.0+00:00"),
    ]:
        assert _ok(session, sb, _params(ids, start, end, "daily", fields)) == plain


def test_empty_buckets_present_by_default_or_omitted(
    session: requests.Session, sb: Sandbox
) -> None:
    model = sb.model
    tweet = next(
        t
        for t in (model.tweet(i) for i in model.owned_ids())
        if t and t.created_at <= MIDNIGHT - 5 * DAY
    )
    day = tweet.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = day - 3 * DAY, day + 4 * DAY
    params = _params(
        [tweet.id], start, end, "daily", ["impressions", "likes", "timestamped_metrics"]
    )
    present = _buckets(_ok(session, sb, params)["data"][0])
    assert len(present) == 7
    # Buckets before the post existed are there, with zeros.
    assert present[:3] == [(_ms(start + n * DAY), {"impressions": 0, "likes": 0}) for n in range(3)]
    sb.behaviour.analytics_empty_buckets = "omitted"
    omitted = _ok(session, sb, params)["data"][0]
    assert _buckets(omitted) == [(t, m) for t, m in present if any(m.values())]
    assert len(_buckets(omitted)) < len(present)
    assert omitted["impressions"] == sum(m["impressions"] for _, m in present)


def test_objects_carry_only_the_fields_asked(session: requests.Session, sb: Sandbox) -> None:
    ids = sb.model.owned_ids()[:2]
    start, end = MIDNIGHT - 2 * DAY, MIDNIGHT
    assert _ok(session, sb, _params(ids, start, end)) == {"data": [{"id": i} for i in ids]}
    likes = _ok(session, sb, _params(ids, start, end, "daily", ["likes"]))["data"]
    assert [set(post) for post in likes] == [{"likes"}, {"likes"}]
    assert all(isinstance(post["likes"], int) for post in likes)
    stamped = _ok(session, sb, _params(ids, start, end, "hourly", ["timestamp"]))
    assert stamped == {"data": [{"timestamp": _ms(start)}] * 2}
    buckets = _ok(session, sb, _params(ids[:1], start, end, "daily", ["timestamped_metrics"]))
    assert buckets == {
        "data": [
            {
                "timestamped_metrics": [
                    {"timestamp": _ms(start), "metrics": {}},
                    {"timestamp": _ms(start + DAY), "metrics": {}},
                ]
            }
        ]
    }


# ------------------------------------------------------------------ posts not served
def _not_found(post: str) -> Body:
    return {
        "value": post,
        "detail": f"Could not find post with ids: [{post}].",
        "title": "Not Found Error",
        "resource_type": "post",
        "parameter": "ids",
        "resource_id": post,
        "type": f"{PROBLEMS}resource-not-found",
    }


def _not_authorized(post: str) -> Body:
    return {
        "resource_id": post,
        "resource_type": "post",
        "parameter": "ids",
        "value": post,
        "title": "Authorization Error",
        "detail": f"Sorry, you are not authorized to see the Post with id: [{post}].",
        "type": f"{PROBLEMS}not-authorized-for-resource",
    }


def test_only_the_users_own_posts_are_served_the_others_are_problems(
    session: requests.Session, second: requests.Session, sb: Sandbox
) -> None:
    model = sb.model
    own = model.owned_ids()[:2]
    other_author = model.ids_of_kind("other_author")[0]
    protected = model.ids_of_kind("protected")[0]  # @private_brand's: another user's post
    deleted = model.ids_of_kind("deleted")[0]
    second_account = model.owned_ids(account=1)[0]
    ids = [own[0], other_author, "1", deleted, own[1], protected, second_account]
    start, end = MIDNIGHT - 2 * DAY, MIDNIGHT
    body = _ok(session, sb, _params(ids, start, end, "daily", ["id", "likes"]))
    assert [post["id"] for post in body["data"]] == own
    assert body["errors"] == [
        _not_authorized(other_author),
        _not_found("1"),
        _not_found(deleted),
        _not_authorized(protected),
        _not_authorized(second_account),
    ]
    # The same ids for account 1: its own post is served, account 0's are another user's.
    theirs = _ok(second, sb, _params([own[0], second_account], start, end, "daily", ["id"]))
    assert theirs == {"data": [{"id": second_account}], "errors": [_not_authorized(own[0])]}
    # Nothing served: errors alone.
    none = _ok(session, sb, _params([deleted, other_author], start, end))
    assert none == {"errors": [_not_found(deleted), _not_authorized(other_author)]}


def test_a_repeated_id_is_served_each_time_it_is_asked(
    session: requests.Session, sb: Sandbox
) -> None:
    post = sb.model.owned_ids()[0]
    body = _ok(session, sb, _params([post, post], MIDNIGHT - DAY, MIDNIGHT, None, ["id", "likes"]))
    assert len(body["data"]) == 2
    assert body["data"][0] == body["data"][1]


# ------------------------------------------------------------------ invalid requests
def _invalid(parameters: Mapping[str, list[str]], message: str) -> Body:
    return {
        "errors": [{"parameters": dict(parameters), "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": f"{PROBLEMS}invalid-request",
    }


GOOD = {"ids": "1", "start_time": "2026-05-12T00:00:00Z", "end_time": "2026-05-13T00:00:00Z"}
FORMAT = "must be an ISO 8601 date-time (YYYY-MM-DDTHH:mm:ssZ)"


@pytest.mark.parametrize(
    ("change", "parameters", "message"),
    [
        (
            {"foo": "1"},
            {"foo": ["1"]},
            "The query parameter [foo] is not one of "
            "[ids,start_time,end_time,granularity,analytics.fields]",
        ),
        (
            {"ids": ["1", "2"]},
            {"ids": ["1", "2"]},
            "Duplicate parameters are not allowed: the `ids` query parameter",
        ),
        ({"ids": None}, {"ids": []}, "The `ids` query parameter can not be empty"),
        ({"ids": ""}, {"ids": [""]}, "The `ids` query parameter can not be empty"),
        (
            {"ids": ",".join(["1"] * 101)},
            {"ids": [",".join(["1"] * 101)]},
            "The number of values in the `ids` query parameter list [101] is not between 1 and 100",
        ),
        (
            {"ids": "1,12a"},
            {"ids": ["12a"]},
            "The `ids` query parameter value [12a] does not match ^[0-9]{1,19}$",
        ),
        (
            {"ids": "1,,2"},
            {"ids": [""]},
            "The `ids` query parameter value [] does not match ^[0-9]{1,19}$",
        ),
        (
            {"ids": "1" * 20},
            {"ids": ["1" * 20]},
            f"The `ids` query parameter value [{'1' * 20}] does not match ^[0-9]{{1,19}}$",
        ),
        (
            {"start_time": None},
            {"start_time": []},
            "The `start_time` query parameter can not be empty",
        ),
        ({"end_time": ""}, {"end_time": [""]}, "The `end_time` query parameter can not be empty"),
        (
            {"start_time": "2026-05-12"},
            {"start_time": ["2026-05-12"]},
            f"Invalid 'start_time':'2026-05-12'. 'start_time' {FORMAT}",
        ),
        (
            {"start_time": "2026-05-12T00:00Z"},
            {"start_time": ["2026-05-12T00:00Z"]},
            f"Invalid 'start_time':'2026-05-12T00:00Z'. 'start_time' {FORMAT}",
        ),
        (
            {"start_time": "2026-05-12T00:00:00"},
            {"start_time": ["2026-05-12T00:00:00"]},
            f"Invalid 'start_time':'2026-05-12T00:00:00'. 'start_time' {FORMAT}",
        ),
        (
            {"end_time": "2026-13-01T00:00:00Z"},
            {"end_time": ["2026-13-01T00:00:00Z"]},
            f"Invalid 'end_time':'2026-13-01T00:00:00Z'. 'end_time' {FORMAT}",
        ),
        (
            {"granularity": "monthly"},
            {"granularity": ["monthly"]},
            "The `granularity` query parameter value [monthly] is not one of "
            "[hourly,weekly,daily,total]",
        ),
        (
            {"analytics.fields": "likes,favorites"},
            {"analytics.fields": ["likes,favorites"]},
            f"The `analytics.fields` query parameter value [favorites] is not one of [{ENUM}]",
        ),
        (
            {"analytics.fields": ""},
            {"analytics.fields": [""]},
            "The `analytics.fields` query parameter can not be empty",
        ),
        (
            {"analytics.fields": "likes,id,likes"},
            {"analytics.fields": ["likes,id,likes"]},
            "The `analytics.fields` query parameter value [likes] is repeated: "
            "the values must be unique",
        ),
        (
            {"end_time": "2026-05-12T00:00:00Z"},
            {"start_time": ["2026-05-12T00:00:00Z"]},
            "Invalid 'start_time':'2026-05-12T00:00:00Z'. 'start_time' must be before "
            "'end_time':'2026-05-12T00:00:00Z'",
        ),
        (
            {"end_time": "2026-05-11T00:00:00Z"},
            {"start_time": ["2026-05-12T00:00:00Z"]},
            "Invalid 'start_time':'2026-05-12T00:00:00Z'. 'start_time' must be before "
            "'end_time':'2026-05-11T00:00:00Z'",
        ),
        (
            {"end_time": "2026-05-14T19:43:28Z"},
            {"end_time": ["2026-05-14T19:43:28Z"]},
            "Invalid 'end_time':'2026-05-14T19:43:28Z'. 'end_time' cannot be in the future",
        ),
        (
            {"start_time": "2026-04-16T19:00:00Z", "end_time": "2026-05-14T19:00:00.001Z"},
            {"start_time": ["2026-04-16T19:00:00Z"], "end_time": ["2026-05-14T19:00:00.001Z"]},
            "The time range between start_time and end_time must be at most 28 days.",
        ),
        (
            {"start_time": "2025-05-14T19:43:27.654Z", "end_time": "2025-05-15T00:00:00Z"},
            {"start_time": ["2025-05-14T19:43:27.654Z"]},
            "start_time must be on or after 2025-05-14T19:43:27.655Z",
        ),
    ],
)
def test_each_invalid_request_is_v2s_400(
    session: requests.Session,
    sb: Sandbox,
    change: dict[str, Any],
    parameters: dict[str, list[str]],
    message: str,
) -> None:
    params = {k: v for k, v in (GOOD | change).items() if v is not None}
    response = _get(session, sb, params)
    assert (response.status_code, response.json()) == (400, _invalid(parameters, message))
    assert _limits(response) == ("300", "299", str(EPOCH + 901))  # a 400 spends the budget


def test_the_window_limits_and_their_flags(session: requests.Session, sb: Sandbox) -> None:
    ids = sb.model.owned_ids()[:1]
    # 28 days exactly, and a start on the floor to the millisecond (NOW - 365 days, rounded up).
    assert (
        _get(session, sb, _params(ids, "2026-04-16T19:00:00Z", "2026-05-14T19:00:00Z")).status_code
        == 200
    )
    assert (
        _get(
            session, sb, _params(ids, "2025-05-14T19:43:27.655Z", "2025-05-15T00:00:00Z")
        ).status_code
        == 200
    )
    assert (
        _get(
            session, sb, _params(ids, "2026-05-14T00:00:00Z", "2026-05-14T19:43:27.654321Z")
        ).status_code
        == 200
    )
    sb.behaviour.analytics_max_days = 7
    sb.behaviour.analytics_history_days = 30
    wide = _get(session, sb, _params(ids, "2026-05-01T00:00:00Z", "2026-05-08T00:00:01Z"))
    assert wide.json() == _invalid(
        {"start_time": ["2026-05-01T00:00:00Z"], "end_time": ["2026-05-08T00:00:01Z"]},
        "The time range between start_time and end_time must be at most 7 days.",
    )
    old = _get(session, sb, _params(ids, "2026-04-14T00:00:00Z", "2026-04-15T00:00:00Z"))
    assert old.json() == _invalid(
        {"start_time": ["2026-04-14T00:00:00Z"]},
        "start_time must be on or after 2026-04-14T19:43:27.655Z",
    )


# ------------------------------------------------------------------ authentication
def test_an_app_only_token_is_refused_and_a_bad_signature_is_v2s_401(
    session: requests.Session, sb: Sandbox
) -> None:
    c = sb.credentials
    params = _params(sb.model.owned_ids()[:1], MIDNIGHT - DAY, MIDNIGHT)
    bearer = requests.get(
        f"{sb.base_url}/2/tweets/analytics",
        params=params,
        headers={"Authorization": f"Bearer {c.bearer_token}"},
        timeout=10,
    )
    assert (bearer.status_code, bearer.json()) == (
        403,
        {
            "title": "Unsupported Authentication",
            "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
            "endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 "
            "User Context].",
            "type": f"{PROBLEMS}unsupported-authentication",
            "status": 403,
        },
    )
    wrong = OAuth1(c.consumer_key, "wrong", c.access_token, c.access_token_secret)
    unsigned = requests.get(
        f"{sb.base_url}/2/tweets/analytics", params=params, auth=wrong, timeout=10
    )
    assert (unsigned.status_code, unsigned.json()) == (
        401,
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    assert _limits(bearer) is None
    assert _limits(unsigned) is None
    # Neither spent a budget.
    assert _limits(_get(session, sb, params)) == ("300", "299", str(EPOCH + 901))
    assert [r.status for r in sb.requests(ROUTE)] == [403, 401, 200]


# ------------------------------------------------------------------ rate limits
def test_a_budget_per_app_and_one_per_user_headers_of_the_users(
    session: requests.Session, second: requests.Session, sb: Sandbox
) -> None:
    sb.set_analytics_rate_limit(2)
    params = _params(sb.model.owned_ids()[:1], MIDNIGHT - DAY, MIDNIGHT)
    params_1 = _params(sb.model.owned_ids(account=1)[:1], MIDNIGHT - DAY, MIDNIGHT)
    t0 = EPOCH + 0.25

    def ask(who: requests.Session, what: dict[str, str]) -> tuple[int, tuple[str, str, str] | None]:
        response = _get(who, sb, what)
        if response.status_code == 429:
            assert response.json() == TOO_MANY
        return response.status_code, _limits(response)

    assert ask(second, params_1) == (200, ("2", "1", str(EPOCH + 901)))  # app 1/2, user 1 1/2
    RATE_CLOCK.now = t0 + 800
    assert ask(session, params) == (200, ("2", "1", str(EPOCH + 1701)))  # app 2/2, user 0 1/2
    # The app's budget is spent: its reset, though user 0 has one left (and keeps it).
    assert ask(session, params) == (429, ("2", "0", str(EPOCH + 901)))
    RATE_CLOCK.now = t0 + 900  # the app's next window; user 0's runs to t0 + 1700
    assert ask(session, params) == (200, ("2", "0", str(EPOCH + 1701)))  # app 1/2, user 0 2/2
    # User 0's budget is spent: its reset, though the app has one left.
    assert ask(session, params) == (429, ("2", "0", str(EPOCH + 1701)))
    # User 1's window (from t0) is over: a new one, the app's last request.
    assert ask(second, params_1) == (200, ("2", "1", str(EPOCH + 1801)))
    assert ask(second, params_1) == (429, ("2", "0", str(EPOCH + 1801)))  # the app's
    RATE_CLOCK.now = t0 + 1800  # both of user 0's budgets and the app's are new again
    assert ask(session, params) == (200, ("2", "1", str(EPOCH + 2701)))
    assert [r.status for r in sb.requests(ROUTE)] == [200, 200, 429, 200, 429, 200, 429, 200]


def test_the_default_budget_and_its_own_window(session: requests.Session, sb: Sandbox) -> None:
    params = _params(sb.model.owned_ids()[:1], MIDNIGHT - DAY, MIDNIGHT)
    seen = [_limits(_get(session, sb, params)) for _ in range(3)]
    assert seen == [("300", str(300 - n), str(EPOCH + 901)) for n in (1, 2, 3)]
    # Other v2 routes keep their per-minute budget.
    me = session.get(f"{sb.base_url}/2/users/me")
    assert (me.headers["x-rate-limit-limit"], me.headers["x-rate-limit-remaining"]) == (
        "900",
        "899",
    )


# ------------------------------------------------------------------ faults and tampers
def test_faults_apply_to_the_route_and_only_when_they_name_it(
    session: requests.Session, sb: Sandbox
) -> None:
    params = _params(sb.model.owned_ids()[:1], MIDNIGHT - DAY, MIDNIGHT)
    sb.inject("503", route=ROUTE)
    failed = _get(session, sb, params)
    assert failed.status_code == 503
    assert _limits(failed) == ("300", "299", str(EPOCH + 901))
    assert _get(session, sb, params).status_code == 200
    sb.inject("503", route="2/tweets")  # the lookup route, not this one
    assert _get(session, sb, params).status_code == 200
    lookup = session.get(f"{sb.base_url}/2/tweets", params={"ids": params["ids"]})
    assert lookup.status_code == 503
    assert [r.fault for r in sb.requests(ROUTE)] == ["503", None, None]


def _before_after(
    session: requests.Session, sb: Sandbox, params: dict[str, str], kind: str, **options: Any
) -> tuple[Body, Body]:
    plain = _ok(session, sb, params)
    sb.tamper(kind, count=1, route=ROUTE, **options)
    tampered = _ok(session, sb, params)
    assert _ok(session, sb, params) == plain  # one answer only
    assert [r.tamper for r in sb.requests(ROUTE)][-2:] == [kind, None]
    return plain, tampered


@pytest.fixture
def asked(sb: Sandbox) -> dict[str, str]:
    """Two posts, two metrics, three days up to yesterday noon (2.5 days: the last clipped)."""
    ids = sb.model.owned_ids()[:2]
    return _params(
        ids,
        MIDNIGHT - 3 * DAY,
        MIDNIGHT - DAY + 12 * HOUR,
        "daily",
        ["id", "likes", "impressions", "timestamped_metrics"],
    )


def test_bucket_tampers(session: requests.Session, sb: Sandbox, asked: dict[str, str]) -> None:
    plain, dropped = _before_after(session, sb, asked, "drop-bucket")
    assert dropped["data"][0]["timestamped_metrics"] == plain["data"][0]["timestamped_metrics"][1:]
    assert dropped["data"][1] == plain["data"][1]

    plain, extra = _before_after(session, sb, asked, "extra-bucket")
    # The grid's next start at or after end_time: outside the window.
    assert extra["data"][0]["timestamped_metrics"] == [
        *plain["data"][0]["timestamped_metrics"],
        {"timestamp": _ms(MIDNIGHT), "metrics": {"likes": 777, "impressions": 777}},
    ]

    plain, doubled = _before_after(session, sb, asked, "duplicate-bucket", index=1)
    buckets = plain["data"][0]["timestamped_metrics"]
    assert doubled["data"][0]["timestamped_metrics"] == [
        buckets[0],
        buckets[1],
        buckets[1],
        buckets[2],
    ]

    plain, shifted = _before_after(session, sb, asked, "shift-bucket")
    first = plain["data"][0]["timestamped_metrics"][0]
    assert shifted["data"][0]["timestamped_metrics"][0] == {
        **first,
        "timestamp": _ms(MIDNIGHT - 3 * DAY + timedelta(minutes=30)),
    }


@pytest.mark.parametrize("value", [None, 1.5, "12", -1])
def test_count_tamper_puts_what_no_count_is(
    session: requests.Session, sb: Sandbox, asked: dict[str, str], value: Any
) -> None:
    plain, tampered = _before_after(session, sb, asked, "count", value=value)
    expected = plain["data"][0]["timestamped_metrics"][0]["metrics"] | {"likes": value}
    assert tampered["data"][0]["timestamped_metrics"][0]["metrics"] == expected
    assert tampered["data"][0]["likes"] == plain["data"][0]["likes"]


def test_post_and_metric_tampers(
    session: requests.Session, sb: Sandbox, asked: dict[str, str]
) -> None:
    ids = asked["ids"].split(",")
    plain, dropped = _before_after(session, sb, asked, "drop-tweet", index=1)
    assert dropped == {"data": plain["data"][:1]}

    plain, extra = _before_after(session, sb, asked, "extra-tweet")
    assert extra["data"] == [*plain["data"], {**plain["data"][0], "id": "999999999999999999"}]
    assert ids[0] != "999999999999999999"

    plain, less = _before_after(session, sb, asked, "drop-metric", metric="impressions")
    first = plain["data"][0]
    assert less["data"][0] == {
        "id": first["id"],
        "likes": first["likes"],
        "timestamped_metrics": [
            {"timestamp": b["timestamp"], "metrics": {"likes": b["metrics"]["likes"]}}
            for b in first["timestamped_metrics"]
        ],
    }

    plain, more = _before_after(session, sb, asked, "extra-metric")  # the first not asked
    first = plain["data"][0]
    assert more["data"][0]["engagements"] == first["likes"]
    assert [b["metrics"]["engagements"] for b in more["data"][0]["timestamped_metrics"]] == [
        b["metrics"]["likes"] for b in first["timestamped_metrics"]
    ]

    _, null = _before_after(session, sb, asked, "data-null")
    assert null == {"data": None}


def test_tampers_are_checked_against_the_route(sb: Sandbox) -> None:
    with pytest.raises(
        ValueError, match="drop-bucket applies to 2/tweets/analytics, not insights/historical"
    ):
        sb.tamper("drop-bucket", route="insights/historical")
    with pytest.raises(ValueError, match="user-id applies to 2/users/me"):
        sb.tamper("user-id", route=ROUTE)


def test_a_tamper_that_finds_no_bucket_is_a_500(session: requests.Session, sb: Sandbox) -> None:
    sb.tamper("drop-bucket", count=1, route=ROUTE)
    response = _get(
        session, sb, _params(sb.model.owned_ids()[:1], MIDNIGHT - DAY, MIDNIGHT, None, ["likes"])
    )
    assert (response.status_code, response.json()) == (
        500,
        {
            "errors": [
                "sandbox tamper drop-bucket failed: "
                "the first post has no bucket in timestamped_metrics"
            ]
        },
    )


# ------------------------------------------------------------------ the command line
def test_the_flags_set_the_choices_and_tampers_from_the_command_line() -> None:
    options = parse_args(
        [
            *("--tweets", "12", "--revision-hours", "0"),
            *("--analytics-max-days", "7", "--analytics-history-days", "90"),
            *("--analytics-empty-buckets", "omitted", "--analytics-rate-limit", "5"),
            *("--tamper", "shift-bucket@2/tweets/analytics:minutes=15"),
        ]
    )
    with build_sandbox(options) as cli_sandbox:
        KNOWN_SECRETS.update(cli_sandbox.secret_values())
        behaviour = cli_sandbox.behaviour
        assert (
            behaviour.analytics_max_days,
            behaviour.analytics_history_days,
            behaviour.analytics_empty_buckets,
        ) == (7, 90, "omitted")
        c = cli_sandbox.credentials
        auth = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        model = cli_sandbox.model
        post = next(  # a post with impressions on each of the two days
            t.id for t in model.timeline(model.user.id) if t.created_at < today - 3 * DAY
        )
        response = requests.get(
            f"{cli_sandbox.base_url}/2/tweets/analytics",
            params=_params(
                [post], today - 2 * DAY, today, "daily", ["impressions", "timestamped_metrics"]
            ),
            auth=auth,
            timeout=10,
        )
        assert response.headers["x-rate-limit-limit"] == "5"
        stamps = [b["timestamp"] for b in response.json()["data"][0]["timestamped_metrics"]]
        assert stamps == [_ms(today - 2 * DAY + timedelta(minutes=15)), _ms(today - DAY)]


def test_the_defaults_are_behaviours() -> None:
    options = parse_args([])
    defaults = Behaviour()
    assert (
        (
            options.analytics_max_days,
            options.analytics_history_days,
            options.analytics_empty_buckets,
            options.analytics_rate_limit,
        )
        == (
            defaults.analytics_max_days,
            defaults.analytics_history_days,
            defaults.analytics_empty_buckets,
            300,
        )
        == (28, 365, "present", 300)
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--analytics-max-days", "0"],
            "Invalid value for '--analytics-max-days': 0 is not 1 or more",
        ),
        (
            ["--analytics-history-days", "-1"],
            "Invalid value for '--analytics-history-days': -1 is not 1 or more",
        ),
        (
            ["--analytics-rate-limit", "-1"],
            "Invalid value for '--analytics-rate-limit': -1 is negative",
        ),
        (["--analytics-empty-buckets", "maybe"], "Invalid value for '--analytics-empty-buckets'"),
    ],
)
def test_bad_flag_values_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert f"Error: {message}" in capsys.readouterr().err
