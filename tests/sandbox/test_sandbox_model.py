"""The sandbox's counts are one consistent, deterministic function of (tweet, metric, hour)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tap_twitter_engagement.metrics import HISTORICAL_METRICS
from twitter_engagement_sandbox import SandboxModel

DAY = ["tweet.id", "engagement.type", "engagement.day"]
HOUR = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]


def _window(days_back: int, length_days: int) -> tuple[datetime, datetime]:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=days_back)
    return start, start + timedelta(days=length_days)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_same_seed_same_model_other_seed_other_counts():
    anchor = datetime(2026, 6, 1, tzinfo=UTC)
    a, b = SandboxModel(seed=3, anchor=anchor), SandboxModel(seed=3, anchor=anchor)
    c = SandboxModel(seed=4, anchor=anchor)
    assert [t.id for t in a.tweets] == [t.id for t in b.tweets]
    start, end = anchor - timedelta(days=20), anchor
    ids = a.owned_ids()[:5]
    assert a.expected(ids, ["impressions"], start, end, DAY) == b.expected(
        ids, ["impressions"], start, end, DAY
    )
    assert a.expected_total(ids, ["impressions"], start, end) != c.expected_total(
        c.owned_ids()[:5], ["impressions"], start, end
    )


def test_counts_are_zero_before_the_tweet_exists():
    model = SandboxModel(seed=5, anchor=datetime(2026, 6, 1, tzinfo=UTC))
    tweet = model.tweets[0]
    created = tweet.created_at.replace(minute=0, second=0, microsecond=0)
    for metric in HISTORICAL_METRICS:
        assert model.hour_count(tweet.id, metric, created - timedelta(hours=1)) == 0
        assert model.day_count(tweet.id, metric, created.date() - timedelta(days=1)) == 0
    assert model.hour_count(tweet.id, "impressions", created) > 0


def test_hourly_sums_equal_daily_sums_equal_window_totals(api, sandbox):
    ids = sandbox.model.owned_ids()[:25]
    start, end = _window(12, 9)
    start += timedelta(hours=5)
    body = {
        "tweet_ids": ids,
        "engagement_types": list(HISTORICAL_METRICS),
        "start": _iso(start),
        "end": _iso(end),
        "groupings": {
            "hourly": {"group_by": HOUR},
            "daily": {"group_by": DAY},
            "window": {"group_by": ["tweet.id", "engagement.type"]},
        },
    }
    response = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=body)
    assert response.status_code == 200
    data = response.json()
    checked = 0
    for tweet in ids:
        for metric in HISTORICAL_METRICS:
            hourly = data["hourly"][tweet][metric]
            daily = data["daily"][tweet][metric]
            assert set(hourly) == set(daily)
            for day, hours in hourly.items():
                assert sum(int(v) for v in hours.values()) == int(daily[day])
            total = int(data["window"][tweet][metric])
            assert sum(int(v) for v in daily.values()) == total
            assert total == sandbox.model.expected_total([tweet], [metric], start, end)
            checked += total
    assert checked > 0


@pytest.mark.parametrize(
    "group_by",
    [
        ["engagement.type"],
        ["engagement.day"],
        ["engagement.type", "engagement.day"],
        ["engagement.day", "tweet.id"],
    ],
)
def test_server_side_sums_equal_the_model(api, sandbox, group_by):
    ids = sandbox.model.owned_ids()[:20]
    start, end = _window(20, 14)
    metrics = ["impressions", "favorites", "url_clicks"]
    body = {
        "tweet_ids": ids,
        "engagement_types": metrics,
        "start": _iso(start),
        "end": _iso(end),
        "groupings": {"g": {"group_by": group_by}},
    }
    data = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=body).json()["g"]
    expected = sandbox.model.expected(ids, metrics, start, end, group_by)
    flat: dict[tuple, int] = {}

    def walk(node, key):
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v, (*key, k))
            else:
                flat[(*key, k)] = int(v)

    walk(data, ())
    assert flat == {row.key: row.count for row in expected}


def test_totals_across_two_batches_equal_one_request_over_the_union(api, sandbox):
    ids = sandbox.model.owned_ids()[:24]
    start, end = _window(27, 27)
    url = f"{sandbox.base_url}/insights/engagement/historical"

    def grand(batch):
        body = {
            "tweet_ids": batch,
            "engagement_types": list(HISTORICAL_METRICS),
            "start": _iso(start),
            "end": _iso(end),
            "groupings": {"g": {"group_by": ["engagement.type"]}},
        }
        return {k: int(v) for k, v in api.post(url, json=body).json()["g"].items()}

    first, second, union = grand(ids[:10]), grand(ids[10:]), grand(ids)
    assert {m: first[m] + second[m] for m in union} == union
    assert union["impressions"] == sandbox.model.expected_total(ids, ["impressions"], start, end)


def test_lifetime_totals_are_the_sum_of_every_hour(api, sandbox):
    model = sandbox.model
    tweet = model.tweet(model.owned_ids()[4])
    assert tweet is not None
    now = datetime.now(UTC)
    response = api.post(
        f"{sandbox.base_url}/insights/engagement/totals",
        json={
            "tweet_ids": [tweet.id],
            "engagement_types": ["favorites", "retweets"],
            "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
        },
    )
    counted = model.expected_total(
        [tweet.id],
        ["favorites"],
        tweet.created_hour,
        now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1),
    )
    assert int(response.json()["g"][tweet.id]["favorites"]) == counted


def test_hour_without_day_forms(api, sandbox):
    ids = sandbox.model.owned_ids()[:3]
    start, end = _window(5, 3)
    body = {
        "tweet_ids": ids,
        "engagement_types": ["impressions"],
        "start": _iso(start),
        "end": _iso(end),
        "groupings": {"g": {"group_by": ["engagement.type", "engagement.hour"]}},
    }
    url = f"{sandbox.base_url}/insights/engagement/historical"
    profile = api.post(url, json=body).json()["g"]["impressions"]
    assert list(profile) == [f"{h:02d}" for h in range(24)]
    expected = sandbox.model.expected(
        ids, ["impressions"], start, end, ["engagement.type", "engagement.hour"]
    )
    assert {int(h): int(v) for h, v in profile.items()} == {r.key[1]: r.count for r in expected}
    sandbox.behaviour.hour_without_day = "dated"
    dated = api.post(url, json=body).json()["g"]["impressions"]
    assert len(dated) == 3
    assert all(len(hours) == 24 for hours in dated.values())
