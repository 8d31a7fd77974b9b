"""The historical_engagement stream end to end against the sandbox, time frozen mid-day."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import pytest
import time_machine

from tap_twitter_engagement.metrics import HISTORICAL_METRICS
from tap_twitter_engagement.streams.historical import shape_stream_name
from tests.helpers import (
    PROVENANCE,
    by_key,
    expected_records,
    midnight,
    partition_state,
    run_sync,
    unstamped,
)

GROUP_BY_VALUES = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
ALL_SUBSETS = [list(c) for n in range(1, 5) for c in itertools.combinations(GROUP_BY_VALUES, n)]


@pytest.fixture
def now(sandbox):
    """13:37 UTC on the sandbox's anchor day, ticking: relative dates are deterministic."""
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _historical_requests(sandbox):
    return [r for r in sandbox.requests("insights/historical") if r.status == 200]


def test_defaults_recent_100_last_28_complete_days(sandbox, now):
    result = run_sync(sandbox.tap_config())
    ids = sandbox.model.owned_ids()[:100]
    today = midnight(now)
    start, end = today - timedelta(days=28), today
    expected = expected_records(
        sandbox,
        ids,
        list(HISTORICAL_METRICS),
        start,
        end,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert by_key(result.records) == by_key(expected)
    assert result.bookmark() == (today - timedelta(days=1)).date().isoformat()
    assert len(_historical_requests(sandbox)) == math.ceil(len(ids) / 25)
    schema = result.schemas[0]
    assert schema["key_properties"] == ["tweet_id", "engagement_type", "engagement_date"]
    assert schema["bookmark_properties"] == ["engagement_date"]
    assert set(schema["schema"]["properties"]) == {
        "account_id",
        "tweet_id",
        "engagement_type",
        "engagement_date",
        "engagement_count",
        "is_final",
        "read_at",
    }
    # A day is provisional within lookback_days (3) of the last complete day: the 4 last days.
    provisional = {r["engagement_date"] for r in result.records if not r["is_final"]}
    assert provisional == {(today - timedelta(days=d)).date().isoformat() for d in range(1, 5)}
    (read_at,) = {r["read_at"] for r in result.records}  # one run, one instant
    assert read_at.startswith(now.strftime("%Y-%m-%dT%H:%M:"))


def test_recent_mode_filters_and_pages(sandbox, now):
    config = sandbox.tap_config(
        number_of_tweets=7,
        exclude_retweets=False,
        exclude_replies=True,
        engagement_types=["impressions"],
        duration="single_date",
    )
    result = run_sync(config)
    ids = sandbox.model.owned_ids(exclude_retweets=False, exclude_replies=True)[:7]
    assert sorted({r["tweet_id"] for r in result.records}) == sorted(ids)
    timeline = sandbox.requests("2/users/tweets")
    assert len(timeline) == 1  # 7 tweets fit one page of 100
    assert len(sandbox.requests("2/users/me")) == 1


def test_recent_mode_pages_until_n(sandbox, now):
    config = sandbox.tap_config(
        number_of_tweets=105,
        exclude_retweets=False,
        engagement_types=["favorites"],
        duration="single_date",
    )
    result = run_sync(config)
    ids = sandbox.model.owned_ids(exclude_retweets=False)[:105]
    assert len(ids) == 105
    assert {r["tweet_id"] for r in result.records} == set(ids)
    assert len(sandbox.requests("2/users/tweets")) == 2


def test_manual_mode_dedupes_keeping_order(sandbox, now):
    own = sandbox.model.owned_ids()[:3]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=[own[2], own[0], own[2], own[1], own[0]],
        engagement_types=["impressions"],
        duration="single_date",
    )
    run_sync(config)
    (request,) = _historical_requests(sandbox)
    assert request.body["tweet_ids"] == [own[2], own[0], own[1]]
    # The account's user id names its partition: one v2 call, and no timeline in manual mode.
    assert [r.route for r in sandbox.requests() if r.route.startswith("2/")] == ["2/users/me"]


def test_manual_mode_with_refused_ids_keeps_the_rest(sandbox, now):
    model = sandbox.model
    own = model.owned_ids()[:20]
    deleted = model.ids_of_kind("deleted")[:2]
    other = model.ids_of_kind("other_author")[:2]
    protected = model.ids_of_kind("protected")[:1]
    ids = [*own[:10], deleted[0], other[0], *own[10:], protected[0], other[1], deleted[1]]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["impressions", "favorites"],
        start_date_mode="relative",
        days_back_to_start_from=40,
        days_back_to_end_at=1,
        max_concurrent_requests=1,  # so window 2 is planned after window 1's refusals
    )
    result = run_sync(config)
    today = midnight(now)
    expected = expected_records(
        sandbox,
        own,
        ["impressions", "favorites"],
        today - timedelta(days=40),
        today,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert by_key(result.records) == by_key(expected)
    # Refused ids are dropped once and left out of the second window's batch.
    second_window = [
        r
        for r in _historical_requests(sandbox)
        if r.body["start"] != _historical_requests(sandbox)[0].body["start"]
    ]
    assert len(second_window) == 1
    assert second_window[0].body["tweet_ids"] == own


@pytest.mark.parametrize("form", ["author", "plain", "none"])
def test_other_author_forms_all_end_with_the_same_rows(sandbox, now, form):
    sandbox.behaviour.forbidden_message = form
    own = sandbox.model.owned_ids()[:12]
    other = sandbox.model.ids_of_kind("other_author")[:2]
    ids = [*own[:6], other[0], *own[6:], other[1]]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["retweets"],
        duration="single_date",
    )
    result = run_sync(config)
    today = midnight(now)
    expected = expected_records(
        sandbox,
        own,
        ["retweets"],
        today - timedelta(days=1),
        today,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert by_key(result.records) == by_key(expected)


@pytest.mark.parametrize(
    ("settings", "start_days", "end"),
    [
        (
            {"duration": "single_date", "report_date_mode": "relative", "days_back": 1},
            1,
            "midnight",
        ),
        ({"duration": "single_date", "report_date_mode": "relative", "days_back": 0}, 0, "hour"),
        ({"duration": "single_date", "report_date_mode": "specific", "report_date": -5}, 5, -4),
        (
            {
                "start_date_mode": "relative",
                "days_back_to_start_from": 10,
                "end_date_mode": "relative",
                "days_back_to_end_at": 5,
            },
            10,
            -4,
        ),
        (
            {
                "start_date_mode": "specific",
                "start_date": -33,
                "end_date_mode": "specific",
                "end_date": -2,
            },
            33,
            -1,
        ),
        (
            {
                "start_date_mode": "specific",
                "start_date": -3,
                "end_date_mode": "relative",
                "days_back_to_end_at": 0,
            },
            3,
            "hour",
        ),
    ],
)
def test_duration_and_date_modes(sandbox, now, settings, start_days, end):
    today = midnight(now)
    resolved = {
        k: (
            (today + timedelta(days=v)).date().isoformat()
            if k.endswith("_date") and isinstance(v, int)
            else v
        )
        for k, v in settings.items()
    }
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids()[:3],
        engagement_types=["impressions", "url_clicks"],
        **resolved,
    )
    result = run_sync(config)
    start = today - timedelta(days=start_days)
    stop = (
        {"midnight": today, "hour": now.replace(minute=0, second=0, microsecond=0)}.get(end)
        if isinstance(end, str)
        else today + timedelta(days=end)
    )
    expected = expected_records(
        sandbox,
        sandbox.model.owned_ids()[:3],
        ["impressions", "url_clicks"],
        start,
        stop,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert by_key(result.records) == by_key(expected)
    days = {r["engagement_date"] for r in result.records}
    assert len(days) == math.ceil((stop - start) / timedelta(days=1))


def test_domo_example_ten_to_five_days_back_is_six_days(sandbox, now):
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids()[:1],
        engagement_types=["impressions"],
        days_back_to_start_from=10,
        days_back_to_end_at=5,
    )
    result = run_sync(config)
    today = midnight(now).date()
    assert sorted(r["engagement_date"] for r in result.records) == [
        (today - timedelta(days=d)).isoformat() for d in range(10, 4, -1)
    ]


@pytest.mark.parametrize(
    "group_by",
    [*ALL_SUBSETS, ["engagement.type", "tweet.id", "engagement.day", "engagement.hour"]],
    ids=lambda g: "+".join(x.split(".")[1] for x in g),
)
def test_every_group_by_equals_the_model(sandbox, now, group_by):
    ids = sandbox.model.owned_ids()[:26]  # two batches
    metrics = ["impressions", "video_views"]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=metrics,
        group_by=group_by,
        days_back_to_start_from=29,
        days_back_to_end_at=0,
    )  # two windows, ending at this hour
    result = run_sync(config)
    today = midnight(now)
    start, stop = today - timedelta(days=29), now.replace(minute=0, second=0, microsecond=0)
    expected = expected_records(sandbox, ids, metrics, start, stop, group_by)
    assert by_key(result.records) == by_key(expected)
    assert len(_historical_requests(sandbox)) == 4
    schema = result.schemas[0]
    columns = [k for k in expected[0] if k != "engagement_count"]
    # The account is a key only where rows of two accounts could otherwise collide.
    keys = [k for k in columns if k != "account_id" or "tweet.id" not in group_by]
    assert schema["key_properties"] == keys
    assert set(schema["schema"]["properties"]) == {*columns, "engagement_count", *PROVENANCE}
    assert schema["stream"] == shape_stream_name(group_by)
    if "engagement.day" in group_by:
        assert result.bookmark() == (today - timedelta(days=1)).date().isoformat()
    else:
        assert "replication_key_value" not in result.partition()


@pytest.mark.parametrize(
    ("n_ids", "days", "requests"),
    [
        (1, 1, 1),
        (25, 1, 1),
        (26, 1, 2),
        (100, 1, 4),
        (101, 1, 5),
        (1, 28, 1),
        (1, 29, 2),
        (1, 57, 3),
        (1, 364, 13),
    ],
)
def test_batch_and_window_edges_use_the_minimum_requests(sandbox, now, n_ids, days, requests):
    ids = sandbox.model.owned_ids(exclude_retweets=False)[:n_ids]
    assert len(ids) == n_ids
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["favorites"],
        days_back_to_start_from=days,
        days_back_to_end_at=1,
    )
    result = run_sync(config)
    made = _historical_requests(sandbox)
    assert len(made) == requests == math.ceil(n_ids / 25) * math.ceil(days / 28)
    today = midnight(now)
    expected = expected_records(
        sandbox,
        ids,
        ["favorites"],
        today - timedelta(days=days),
        today,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert by_key(result.records) == by_key(expected)
    windows = sorted({(r.body["start"], r.body["end"]) for r in made})
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))  # contiguous, no overlap


def test_second_run_resumes_from_state_with_lookback(sandbox, now):
    ids = sandbox.model.owned_ids()[:5]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["impressions", "replies"],
        start_date_mode="specific",
        start_date=(midnight(now) - timedelta(days=40)).date().isoformat(),
        lookback_days=3,
    )
    first = run_sync(config)
    today = midnight(now)
    assert first.bookmark() == (today - timedelta(days=1)).date().isoformat()
    sandbox.reset()
    second = run_sync(config, state=first.final_state)
    (request,) = _historical_requests(sandbox)
    assert request.body["start"] == (today - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = expected_records(
        sandbox,
        ids,
        ["impressions", "replies"],
        today - timedelta(days=4),
        today,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert by_key(second.records) == by_key(expected)
    assert second.bookmark() == first.bookmark()
    # The re-read rows carry the same keys as the first run's, so a target upserts them.
    assert set(by_key(second.records)) <= set(by_key(first.records))


def test_state_after_each_window_never_ahead(sandbox, now):
    ids = sandbox.model.owned_ids()[:2]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["favorites"],
        days_back_to_start_from=60,
    )
    result = run_sync(config)
    bookmarks = [partition_state(s).get("replication_key_value") for s in result.states]
    bookmarks = list(dict.fromkeys(b for b in bookmarks if b))  # later streams repeat the last
    today = midnight(now)
    first_window_end = today - timedelta(days=60) + timedelta(days=28)
    assert bookmarks == [
        (first_window_end - timedelta(days=1)).date().isoformat(),
        (first_window_end + timedelta(days=27)).date().isoformat(),
        (today - timedelta(days=1)).date().isoformat(),
    ]


@pytest.mark.parametrize(
    "group_by",
    [["tweet.id", "engagement.type", "engagement.day"], ["engagement.type", "engagement.day"]],
)
def test_concurrency_changes_nothing_in_the_output(sandbox, now, group_by):
    sandbox.faults.latency_ms = 15
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids()[:60],
        engagement_types=["impressions", "replies"],
        group_by=group_by,
        days_back_to_start_from=70,
    )
    runs = [run_sync({**config, "max_concurrent_requests": n}) for n in (1, 4, 8)]
    assert len(runs[0].records) > 0
    for other in runs[1:]:
        # Same rows in the same order (read_at says when each run started).
        assert unstamped(other.records) == unstamped(runs[0].records)
        assert other.states == runs[0].states  # same STATE messages at the same points


@pytest.mark.parametrize(
    "group_by",
    [
        ["tweet.id", "engagement.type", "engagement.day"],
        ["engagement.day", "engagement.type"],
        ["engagement.type"],
    ],
)
def test_wide_layout_is_the_long_rows_pivoted(sandbox, now, group_by):
    ids = sandbox.model.owned_ids()[:30]
    metrics = ["impressions", "url_clicks", "video_views"]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=metrics,
        group_by=group_by,
        days_back_to_start_from=30,
    )
    long = run_sync(config)
    sandbox.reset()
    wide = run_sync({**config, "metrics_layout": "wide"})
    pivot: dict[tuple, dict] = {}
    for record in long.records:
        key = tuple(
            (k, v) for k, v in record.items() if k not in ("engagement_type", "engagement_count")
        )
        pivot.setdefault(key, dict.fromkeys(metrics))[record["engagement_type"]] = record[
            "engagement_count"
        ]
    assert {
        tuple((k, v) for k, v in r.items() if k not in metrics): {m: r[m] for m in metrics}
        for r in wide.records
    } == pivot
    assert len(wide.records) == len(pivot)
    schema = wide.schemas[0]
    assert "engagement_type" not in schema["schema"]["properties"]
    assert set(metrics) <= set(schema["schema"]["properties"])
    assert schema["key_properties"] == [
        c for c in long.schemas[0]["key_properties"] if c != "engagement_type"
    ]
