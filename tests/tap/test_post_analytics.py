"""``api: post_analytics`` end to end against the sandbox: the same records as the Engagement API
for every shared metric, across batches and windows, daily and hourly; incremental runs, several
accounts, refusals, and what the sandbox's unknowns change (nothing, when the tap is right)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from tap_twitter_engagement.errors import ConfigError, TapHTTPError
from tap_twitter_engagement.metrics import (
    HISTORICAL_METRICS,
    POST_ANALYTICS_METRICS,
)
from tests.helpers import (
    KNOWN_SECRETS,
    by_key,
    expected_records,
    midnight,
    partition_state,
    run_sync,
    run_sync_until_error,
    unstamped,
)
from twitter_engagement_sandbox import Sandbox

ROUTE = "2/tweets/analytics"
#: The tap paces Post analytics to 300 requests per 15 minutes by default; the session's
#: sandbox has no such limit, so the tests lift the tap's too.
FAST = {"api": "post_analytics", "post_analytics_requests_per_15_minutes": 1_000_000}
SHARED = [m for m in HISTORICAL_METRICS if m in POST_ANALYTICS_METRICS]
DAILY = ["tweet.id", "engagement.type", "engagement.day"]


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    """More than 100 posts of one account, so that Post analytics needs several batches."""
    with Sandbox(
        seed=29, tweets=300, revision_hours=0, rate_limit_per_second=0, analytics_rate_limit=0
    ) as sb:
        KNOWN_SECRETS.update(sb.secret_values())
        yield sb


@pytest.fixture
def sandbox(big: Sandbox) -> Iterator[Sandbox]:
    big.reset()
    yield big
    big.reset()


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _analytics(sandbox) -> list[Any]:
    return [r for r in sandbox.requests(ROUTE) if r.status == 200]


def rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records in a canonical order, without ``read_at``: batches of 25 and of 100 ids order
    rows differently, and each run reads at its own instant."""
    return sorted(unstamped(records), key=lambda r: sorted((k, str(v)) for k, v in r.items()))


def _both(sandbox, config: dict[str, Any]) -> tuple[Any, Any]:
    """The same configuration synced from the Engagement API, then from Post analytics."""
    engagement = run_sync({**config, "engagement_types": SHARED})
    sandbox.reset()
    post = run_sync({**config, **FAST, "engagement_types": SHARED})
    return engagement, post


@pytest.mark.parametrize(
    ("group_by", "layout"),
    [
        (DAILY, "long"),
        (["engagement.type", "engagement.day"], "long"),
        (["tweet.id", "engagement.day", "engagement.type"], "wide"),
        (["engagement.type"], "long"),
    ],
)
def test_daily_records_equal_the_engagement_apis_across_batches_and_windows(
    sandbox, now, group_by, layout
):
    ids = sandbox.model.owned_ids()[:130]  # two Post analytics batches, six of /historical
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        group_by=group_by,
        metrics_layout=layout,
        days_back_to_start_from=45,  # two windows of <= 28 days
    )
    engagement, post = _both(sandbox, config)
    assert len(post.records) > 0
    assert rows(post.records) == rows(engagement.records)
    requests = _analytics(sandbox)
    assert {r.params["granularity"] for r in requests} == {"daily"}
    assert len({r.params["start_time"] for r in requests}) == 2  # two windows
    assert max(len(r.params["ids"].split(",")) for r in requests) == 100  # full batches


@pytest.mark.parametrize(
    ("group_by", "n_ids", "days", "max_days"),
    [
        (["engagement.type", "engagement.day", "engagement.hour"], 120, 5, 2),
        (["tweet.id", "engagement.type", "engagement.day", "engagement.hour"], 6, 3, 28),
        (["engagement.hour"], 101, 3, 1),
        (["engagement.type", "engagement.hour", "engagement.day"], 101, 30, 60),  # 28 hourly
    ],
)
def test_hourly_records_equal_the_engagement_apis(sandbox, now, group_by, n_ids, days, max_days):
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids()[:n_ids],
        group_by=group_by,
        days_back_to_start_from=days,
        post_analytics_max_days=max_days,
    )
    engagement, post = _both(sandbox, config)
    assert len(post.records) > 0
    assert rows(post.records) == rows(engagement.records)
    requests = _analytics(sandbox)
    assert {r.params["granularity"] for r in requests} == {"hourly"}
    windows = {r.params["start_time"] for r in requests}
    assert len(windows) == math.ceil(days / min(max_days, 28))
    assert len(requests) > len(windows) or n_ids <= 100  # more than one batch a window


def test_the_default_metrics_are_all_post_analytics_serves_and_equal_the_model(sandbox, now):
    ids = sandbox.model.owned_ids()[:20]
    config = sandbox.tap_config(tweet_selection="manual", tweet_ids=ids, **FAST)
    result = run_sync(config)
    today = midnight(now)
    expected = expected_records(
        sandbox, ids, list(POST_ANALYTICS_METRICS), today - timedelta(days=28), today, DAILY
    )
    assert by_key(result.records) == by_key(expected)
    assert {r["engagement_type"] for r in result.records} == set(POST_ANALYTICS_METRICS)
    (request,) = _analytics(sandbox)
    assert request.params == {
        "ids": ",".join(ids),
        "start_time": (today - timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": today.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "granularity": "daily",
        "analytics.fields": "id,impressions,engagements,likes,retweets,replies,media_views,"
        "url_clicks,hashtag_clicks,detail_expands,permalink_clicks,app_install_attempts,"
        "app_opens,email_tweet,follows,user_profile_clicks,quote_tweets,bookmarks,shares,"
        "unfollows,unlikes,timestamped_metrics",
    }


def test_omitted_empty_buckets_give_the_same_records_from_the_totals(sandbox, now):
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids()[:8],
        group_by=["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
        engagement_types=["impressions", "favorites", "bookmarks", "unlikes"],
        days_back_to_start_from=2,
        **FAST,
    )
    present = run_sync(config)
    sandbox.behaviour.analytics_empty_buckets = "omitted"
    omitted = run_sync(config)
    assert any(r["engagement_count"] == 0 for r in present.records)  # zeros were left out
    assert unstamped(omitted.records) == unstamped(present.records)
    assert omitted.final_state == present.final_state


def test_incremental_runs_ask_the_minimum_and_end_equal_to_one_run(sandbox, now):
    ids = sandbox.model.owned_ids()[:5]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["impressions", "bookmarks"],
        days_back_to_start_from=40,
        lookback_days=3,
        **FAST,
    )
    first = run_sync(config)
    today = midnight(now)
    assert first.bookmark() == (today - timedelta(days=1)).date().isoformat()
    assert partition_state(first.final_state)["coverage"]["shape"]["api"] == "post_analytics"
    sandbox.reset()
    second = run_sync(config, state=first.final_state)
    (request,) = _analytics(sandbox)
    assert request.params["start_time"] == (today - timedelta(days=4)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    expected = expected_records(
        sandbox, ids, ["impressions", "bookmarks"], today - timedelta(days=4), today, DAILY
    )
    assert by_key(second.records) == by_key(expected)
    # Widened: one more metric is read alone, over the whole range, the rest from the state.
    sandbox.reset()
    wider = {**config, "engagement_types": ["impressions", "bookmarks", "shares"]}
    third = run_sync(wider, state=second.final_state)
    assert by_key(third.records) == {
        **by_key(
            expected_records(sandbox, ids, ["shares"], today - timedelta(days=40), today, DAILY)
        ),
        **by_key(
            expected_records(
                sandbox, ids, ["impressions", "bookmarks"], today - timedelta(days=4), today, DAILY
            )
        ),
    }
    upserted = {**by_key(first.records), **by_key(second.records), **by_key(third.records)}
    assert upserted == by_key(run_sync(wider).records)


def test_a_switch_of_api_reads_the_range_again(sandbox, now, caplog):
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids()[:3],
        engagement_types=["impressions", "favorites"],
    )
    first = run_sync(config)
    sandbox.reset()
    second = run_sync({**config, **FAST}, state=first.final_state)
    assert "api 'engagement_api', not for group_by" in caplog.text
    assert by_key(second.records) == by_key(first.records)


@pytest.fixture(scope="module")
def three() -> Iterator[Sandbox]:
    """Three accounts under one app, recent counts still revised (so both APIs must serve the
    same provisional numbers), no budget unless a test sets one."""
    with Sandbox(
        seed=23,
        tweets=40,
        accounts=3,
        revision_hours=0,
        rate_limit_per_second=0,
        analytics_rate_limit=0,
    ) as sb:
        KNOWN_SECRETS.update(sb.secret_values())
        yield sb


@pytest.fixture
def three_now(three):
    three.reset()
    moment = three.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment
    three.reset()


def test_several_accounts_equal_the_engagement_api_and_each_keeps_its_state(three, three_now):
    config = three.tap_config_accounts(
        number_of_tweets=12, engagement_types=SHARED, days_back_to_start_from=35
    )
    engagement = run_sync(config)
    three.reset()
    post = run_sync({**config, **FAST})
    assert {r["account_id"] for r in post.records} == {u.id for u in three.model.accounts}
    assert rows(post.records) == rows(engagement.records)
    for user in three.model.accounts:
        assert partition_state(post.final_state, account_id=user.id)["replication_key_value"]
    # Each account signs its own requests: the sandbox serves each only its own posts.
    assert not [r for r in three.requests(ROUTE) if r.status != 200]
    concurrent = run_sync({**config, **FAST, "max_concurrent_requests": 8})
    assert unstamped(concurrent.records) == unstamped(post.records)
    assert concurrent.states == post.states


def test_the_apps_budget_is_shared_by_every_account(three, three_now):
    """Two requests per 15 minutes for the app: the second account's request would have to
    wait 474 s, longer than max_wait_seconds, so the run stops before the API says 429."""
    three.set_analytics_rate_limit(2)
    config = three.tap_config_accounts(
        number_of_tweets=5,
        engagement_types=["impressions"],
        api="post_analytics",
        post_analytics_requests_per_15_minutes=2,
        max_concurrent_requests=1,
    )
    _, error = run_sync_until_error(config)
    assert isinstance(error, TapHTTPError)
    assert str(error) == (
        "Gave up on GET /2/tweets/analytics: pacing to the rate limit asks to wait 474 s, "
        "longer than max_wait_seconds (300). Run again later (the state holds what was "
        "delivered), or raise max_wait_seconds."
    )
    assert [r.status for r in three.requests(ROUTE)] == [200]


def test_refused_posts_are_skipped_and_the_others_served(sandbox, now):
    model = sandbox.model
    own = model.owned_ids()[:4]
    other = model.ids_of_kind("other_author")[:1]
    deleted = model.ids_of_kind("deleted")[:1]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=[*own, *other, *deleted],
        engagement_types=["impressions", "unlikes"],
        days_back_to_start_from=40,
        **FAST,
    )
    # One request at a time, so that the second window is planned after the first's refusals.
    config["max_concurrent_requests"] = 1
    result = run_sync(config, streams=["historical_engagement", "skipped_tweets"])
    today = midnight(now)
    expected = expected_records(
        sandbox, own, ["impressions", "unlikes"], today - timedelta(days=40), today, DAILY
    )
    assert by_key(result.records) == by_key(expected)
    skipped = {
        (s["tweet_id"], s["endpoint"], s["reason"]) for s in result.by_stream["skipped_tweets"]
    }
    assert skipped == {
        (other[0], "analytics", "other_author"),
        (deleted[0], "analytics", "unavailable"),
    }
    # The second window leaves the refused ids out.
    second_window = _analytics(sandbox)[-1]
    assert second_window.params["ids"] == ",".join(own)


def test_a_refused_span_names_post_analytics_max_days(sandbox, now):
    sandbox.behaviour.analytics_max_days = 7
    config = sandbox.tap_config(days_back_to_start_from=10, **FAST)
    result, error = run_sync_until_error(config)
    assert isinstance(error, TapHTTPError)
    assert str(error) == (
        "The API refused the time range (400 from GET /2/tweets/analytics: The time range "
        "between start_time and end_time must be at most 7 days.). post_analytics_max_days "
        "(now 28) sets the days one request spans: lower it."
    )
    assert result.records == []
    lowered = run_sync({**config, "post_analytics_max_days": 7})
    assert {r["engagement_date"] for r in lowered.records} == {
        (midnight(now) - timedelta(days=d)).date().isoformat() for d in range(1, 11)
    }


def test_a_refused_history_names_max_history_days(sandbox, now):
    sandbox.behaviour.analytics_history_days = 30
    config = sandbox.tap_config(days_back_to_start_from=40, **FAST)
    _, error = run_sync_until_error(config)
    assert isinstance(error, TapHTTPError)
    message = str(error)
    assert message.startswith(
        "The API refused the time range (400 from GET /2/tweets/analytics: start_time must be "
        "on or after "
    )
    assert message.endswith(
        "max_history_days (now 365) sets how far back the tap asks: lower it to the history "
        "the API serves."
    )
    assert run_sync({**config, "max_history_days": 29}).records


@pytest.mark.parametrize("stream", ["engagement_totals", "engagement_28hr"])
def test_the_engagement_apis_own_streams_are_refused_in_one_line(sandbox, now, stream):
    _, error = run_sync_until_error(
        sandbox.tap_config(**FAST), streams=["historical_engagement", stream]
    )
    assert isinstance(error, ConfigError)
    assert str(error) == (
        f"api: is post_analytics, and the stream {stream} is selected, which only the "
        "Engagement API serves; deselect it (meltano select --rm), or use api engagement_api"
    )
    assert sandbox.requests(ROUTE) == []


def test_tweets_and_accounts_streams_work_as_with_the_engagement_api(sandbox, now):
    config = sandbox.tap_config(number_of_tweets=10, engagement_types=["impressions"])
    streams = ["historical_engagement", "tweets", "accounts"]
    engagement = run_sync(config, streams=streams)
    post = run_sync({**config, **FAST}, streams=streams)
    for name in ("tweets", "accounts"):
        assert [
            {k: v for k, v in r.items() if not k.endswith("_at")} for r in post.by_stream[name]
        ] == [
            {k: v for k, v in r.items() if not k.endswith("_at")}
            for r in engagement.by_stream[name]
        ]


@pytest.mark.parametrize(
    ("kind", "options", "warning"),
    [
        ("drop-bucket", {}, "requested bucket(s) were not in the responses"),
        ("shift-bucket", {"minutes": 30}, "bucket(s) off the requested grid"),
        ("duplicate-bucket", {}, "bucket(s) repeated"),
        ("extra-bucket", {}, "day(s) outside the requested window"),
        ("extra-tweet", {"tweet_id": "1"}, "tweet id(s) not asked for"),
        ("count", {"value": None}, "requested bucket(s) were not in the responses"),
    ],
)
def test_a_tampered_answer_never_becomes_a_record(sandbox, now, caplog, kind, options, warning):
    # Posts older than the window: no bucket of theirs is a zero for being before them.
    start = midnight(now) - timedelta(days=3)
    ids = [i for i in sandbox.model.owned_ids() if sandbox.model.tweet(i).created_at < start][:3]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["impressions"],
        days_back_to_start_from=3,
        **FAST,
    )
    clean = run_sync(config)
    if kind == "drop-bucket":
        day = (midnight(now) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        options = {"timestamp": day}
    sandbox.tamper(kind, count=1, route=ROUTE, **options)
    tampered = run_sync(config)
    assert warning in caplog.text
    # Whatever arrived intact is written exactly; nothing else is.
    assert tampered.records
    assert set(by_key(tampered.records).items()) <= set(by_key(clean.records).items())
