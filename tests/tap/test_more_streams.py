"""The tweets and skipped_tweets streams, against the sandbox model."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.helpers import midnight, run_sync
from twitter_engagement_sandbox.v2 import public_metrics

ALL_STREAMS = ["historical_engagement", "tweets", "skipped_tweets"]
HOURLY = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _expected_tweet(sandbox, tweet_id, now):
    tweet = sandbox.model.tweet(tweet_id)
    return {
        "account_id": sandbox.model.user.id,
        "id": tweet.id,
        "text": tweet.text,
        "created_at": tweet.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "author_id": tweet.author_id,
        "conversation_id": tweet.conversation_id,
        "lang": tweet.lang,
        **public_metrics(tweet, sandbox.model, now),
    }


def test_only_historical_and_tracked_are_selected_by_default(sandbox, now):
    result = run_sync(
        sandbox.tap_config(
            number_of_tweets=3, engagement_types=["favorites"], duration="single_date"
        )
    )
    assert set(result.by_stream) == {"historical_engagement", "tracked"}


def test_tracked_says_what_this_configuration_reads(sandbox, now):
    config = sandbox.tap_config(
        number_of_tweets=3,
        engagement_types=["impressions", "favorites"],
        days_back_to_start_from=5,
        days_back_to_end_at=0,
        group_by=["engagement.type", "engagement.day"],
    )
    result = run_sync(config)
    yesterday, today = midnight(now) - timedelta(days=1), midnight(now)
    (snapshot,) = {r["snapshot_at"] for r in result.by_stream["tracked"]}
    assert snapshot.startswith(now.strftime("%Y-%m-%dT%H:%M:"))
    assert result.by_stream["tracked"] == [
        {
            "account_id": sandbox.model.user.id,
            "tweet_id": tweet_id,
            "engagement_type": metric,
            "first_date": (yesterday - timedelta(days=4)).date().isoformat(),
            "last_date": today.date().isoformat(),
            "stream": "historical_engagement_by_type_day",
            "snapshot_at": snapshot,
        }
        for tweet_id in sandbox.model.owned_ids()[:3]
        for metric in ("impressions", "favorites")
    ]


def test_tweets_stream_in_recent_mode_reuses_the_timeline(sandbox, now):
    result = run_sync(
        sandbox.tap_config(number_of_tweets=12, duration="single_date"), streams=["tweets"]
    )
    ids = sandbox.model.owned_ids()[:12]
    assert result.by_stream["tweets"] == [_expected_tweet(sandbox, i, now) for i in ids]
    assert not sandbox.requests("2/tweets")
    assert not sandbox.requests("insights/historical")


def test_manual_mode_lookup_and_skipped_tweets(sandbox, now):
    model = sandbox.model
    own = model.owned_ids()[:4]
    deleted, other = model.ids_of_kind("deleted")[0], model.ids_of_kind("other_author")[0]
    protected = model.ids_of_kind("protected")[0]
    old_video = model.ids_of_kind("old_video")[0]
    ids = [own[0], deleted, other, own[1], protected, own[2], old_video, own[3]]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["video_views", "favorites"],
        duration="single_date",
    )
    result = run_sync(config, streams=ALL_STREAMS)
    served = [own[0], other, own[1], own[2], old_video, own[3]]
    assert result.by_stream["tweets"] == [_expected_tweet(sandbox, i, now) for i in served]
    assert len(sandbox.requests("2/tweets")) == 1
    skipped = {
        (r["tweet_id"], r["endpoint"], r["reason"]) for r in result.by_stream["skipped_tweets"]
    }
    assert skipped == {
        (deleted, "historical", "unavailable"),
        (other, "historical", "other_author"),
        (protected, "historical", "protected"),
        (old_video, "historical", "unsupported_video_views"),
        (deleted, "tweets", "unavailable"),
        (protected, "tweets", "protected"),
    }
    assert {r["tweet_id"] for r in result.records} == {*own, old_video}


def test_engagement_totals_snapshots_and_the_90_day_rule(sandbox, now):
    model = sandbox.model
    young = model.owned_ids()[:5]
    old = [
        i
        for i in model.ids_of_kind("older_than_90_days")
        if i not in model.ids_of_kind("old_video")
    ][:3]
    old_video = model.ids_of_kind("old_video")[:1]
    ids = [*young, *old, *old_video]
    config = sandbox.tap_config(tweet_selection="manual", tweet_ids=ids)
    result = run_sync(config, streams=["engagement_totals"])
    snapshot = now.strftime("%Y-%m-%dT%H:00:00Z")
    public = ["favorites", "retweets", "replies", "quote_tweets", "video_views"]
    everything = [
        "impressions",
        "engagements",
        "favorites",
        "retweets",
        "replies",
        "quote_tweets",
        "video_views",
    ]
    expected = {
        (i, m, snapshot): model.lifetime_total(i, m, now)
        for group, metrics in ((young, everything), (old, public), (old_video, public))
        for i in group
        for m in metrics
        if not (i in old_video and m == "video_views")
    }
    got = {
        (r["tweet_id"], r["engagement_type"], r["snapshot_at"]): r["engagement_count"]
        for r in result.by_stream["engagement_totals"]
    }
    assert got == expected
    requests = sandbox.requests("insights/totals")
    assert [(len(r.body["tweet_ids"]), len(r.body["engagement_types"])) for r in requests] == [
        (5, 7),
        (4, 5),
    ]
    assert all(
        "unsupported_for_impressions_engagements_tweet_ids" not in str(r.body) for r in requests
    )


def test_engagement_28hr_hourly_series(sandbox, now):
    ids = sandbox.model.owned_ids()[:27]  # two batches
    config = sandbox.tap_config(
        tweet_selection="manual", tweet_ids=ids, engagement_types=["impressions", "favorites"]
    )
    result = run_sync(config, streams=["engagement_28hr"])
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    expected = sandbox.model.expected(
        ids, ["impressions", "favorites"], end - timedelta(hours=29), end, HOURLY
    )
    got = {
        (r["tweet_id"], r["engagement_type"], r["engagement_date"], r["engagement_hour"]): r[
            "engagement_count"
        ]
        for r in result.by_stream["engagement_28hr"]
    }
    assert got == {row.key: row.count for row in expected}
    assert len(got) == 27 * 2 * 29  # 29 hourly buckets, as in the docs' 28hr example
    assert len(sandbox.requests("insights/28hr")) == 2
    # The last 28 hours are still being revised: no row of them is final.
    assert {r["is_final"] for r in result.by_stream["engagement_28hr"]} == {False}


def test_bearer_token_reads_public_totals_of_other_authors(sandbox, now):
    model = sandbox.model
    own = model.owned_ids()[:3]
    others = model.ids_of_kind("other_author")[:2]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=[*own, *others],
        bearer_token=sandbox.credentials.bearer_token,
    )
    result = run_sync(config, streams=["engagement_totals", "skipped_tweets"])
    public = ["favorites", "retweets", "replies", "quote_tweets", "video_views"]
    got = {
        (r["tweet_id"], r["engagement_type"]): r["engagement_count"]
        for r in result.by_stream["engagement_totals"]
        if r["tweet_id"] in others
    }
    assert got == {(i, m): model.lifetime_total(i, m, now) for i in others for m in public}
    assert {r["tweet_id"] for r in result.by_stream["engagement_totals"]} == {*own, *others}
    assert {(r["tweet_id"], r["reason"]) for r in result.by_stream["skipped_tweets"]} == {
        (i, "other_author") for i in others
    }
    bearer = [r for r in sandbox.requests("insights/totals") if r.body["tweet_ids"] == others]
    assert [r.status for r in bearer] == [200]
