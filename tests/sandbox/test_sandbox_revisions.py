"""Late revisions: recent hours' counts grow until ``revision_hours`` after the hour, then stay.

The model answers for any as-of instant; the HTTP API answers at its clock. Both must agree at
every instant, for every endpoint that serves counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from twitter_engagement_sandbox import Sandbox, SandboxModel
from twitter_engagement_sandbox import model as model_module
from twitter_engagement_sandbox.model import floor_hour, visible_count

MIDNIGHT = datetime(2026, 5, 14, tzinfo=UTC)
T0 = datetime(2026, 5, 14, 19, 43, 27, tzinfo=UTC)
HOUR = timedelta(hours=1)
HOURLY = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
DAILY = ["tweet.id", "engagement.type", "engagement.day"]
METRICS = ["impressions", "favorites", "url_clicks"]


# ------------------------------------------------------------------ the formula
@pytest.mark.parametrize(
    ("final", "elapsed", "horizon", "visible"),
    [
        (100, 0, 72, 50),  # the current hour shows final - final // 2
        (101, 0, 72, 51),
        (100, -5, 72, 50),  # an hour not yet begun counts as current
        (100, 36, 72, 75),  # 100 - 50 * 36 // 72
        (100, 70, 72, 99),  # 100 - 50 * 2 // 72
        (100, 71, 72, 100),  # 100 - 50 * 1 // 72
        (100, 72, 72, 100),  # final once the horizon is reached
        (100, 10_000, 72, 100),
        (9, 1, 4, 6),  # 9 - 4 * 3 // 4
        (1, 0, 72, 1),
        (0, 0, 72, 0),
        (100, 0, 0, 100),  # 0 = final at once
    ],
)
def test_visible_count(final, elapsed, horizon, visible):
    assert visible_count(final, elapsed, horizon) == visible


# ------------------------------------------------------------------ the model
def _model(horizon: int) -> SandboxModel:
    return SandboxModel(seed=3, tweet_count=60, anchor=MIDNIGHT, revision_hours=horizon)


@pytest.mark.parametrize("horizon", [72, 5, 0])
def test_hour_counts_grow_monotonically_and_settle_at_the_horizon(horizon):
    model = _model(horizon)
    hours = [T0.replace(minute=0, second=0) - n * HOUR for n in range(0, 80, 7)]
    checked = revised = 0
    for tweet in model.owned_ids()[:6]:
        for metric in METRICS:
            for hour in hours:
                final = model.hour_count(tweet, metric, hour)
                seen = [
                    model.hour_count(
                        tweet, metric, hour, as_of=hour + k * HOUR + timedelta(minutes=59)
                    )
                    for k in range(horizon + 2)
                ]
                assert seen == sorted(seen)  # never decreases
                assert seen[horizon:] == [final, final]  # final from hour + horizon on
                assert seen[0] == final - (final // 2 if horizon else 0)
                checked += final
                revised += seen[0] != final
    assert checked > 0
    assert bool(revised) == bool(horizon)


@pytest.mark.parametrize(
    "as_of",
    [T0.replace(minute=0, second=0), T0, T0.replace(minute=59, second=59, microsecond=999999)],
)
def test_answers_are_stable_within_the_hour(as_of):
    model = _model(72)
    ids = model.owned_ids()[:5]
    start = MIDNIGHT - timedelta(days=5)
    end = floor_hour(T0) + HOUR
    at_the_hour = model.expected(ids, METRICS, start, end, HOURLY, as_of=floor_hour(T0))
    assert model.expected(ids, METRICS, start, end, HOURLY, as_of=as_of) == at_the_hour
    assert model.lifetime_total(ids[0], "favorites", as_of) == model.lifetime_total(
        ids[0], "favorites", floor_hour(T0)
    )


@pytest.mark.parametrize("horizon", [72, 30, 0])
@pytest.mark.parametrize("offset_hours", [0, 1, 29, 73, 200])
def test_every_path_agrees_at_any_as_of(horizon, offset_hours):
    """Day sums, hour sums, the per-hour counts and lifetime totals are one function."""
    model = _model(horizon)
    as_of = T0 + offset_hours * HOUR
    ids = model.owned_ids()[:8]
    end = floor_hour(as_of) + HOUR
    start = end - timedelta(days=9, hours=5)
    daily = model.expected(ids, METRICS, start, end, DAILY, as_of=as_of)
    hourly = model.expected(ids, METRICS, start, end, HOURLY, as_of=as_of)
    summed: dict[tuple, int] = {}
    for row in hourly:
        summed[row.key[:3]] = summed.get(row.key[:3], 0) + row.count
    assert summed == {row.key: row.count for row in daily}
    moments = {
        (
            row.key[0],
            row.key[1],
            datetime.fromisoformat(f"{row.key[2]}T00:00+00:00") + row.key[3] * HOUR,
        )
        for row in hourly
    }
    assert {(t, m, h): model.hour_count(t, m, h, as_of=as_of) for t, m, h in moments} == {
        (
            r.key[0],
            r.key[1],
            datetime.fromisoformat(f"{r.key[2]}T00:00+00:00") + r.key[3] * HOUR,
        ): r.count
        for r in hourly
    }
    final = model.expected(ids, METRICS, start, end, HOURLY)
    if horizon:
        assert sum(r.count for r in hourly) < sum(r.count for r in final)
    else:
        assert hourly == final
    for tweet in ids[:3]:
        created = model.tweet(tweet).created_hour
        for metric in ("favorites", "impressions", "retweets"):
            assert model.lifetime_total(tweet, metric, as_of) == model.expected_total(
                [tweet], [metric], created, end, as_of=as_of
            )


def test_only_the_last_days_pay_for_per_hour_work():
    model = _model(72)
    ids = model.owned_ids()[:10]
    end = floor_hour(T0) + HOUR
    cache = model_module._visible_hour_counts

    def calls() -> int:
        info = cache.cache_info()
        return info.hits + info.misses

    before = calls()
    old_end = MIDNIGHT - timedelta(days=4)  # every hour before it is final at T0
    model.expected(ids, METRICS, old_end - timedelta(days=20), old_end, DAILY, as_of=T0)
    assert calls() == before
    model.expected(ids, METRICS, end - timedelta(days=28), end, DAILY, as_of=T0)
    # 72 hours back from 19:00 reach into 2026-05-11: four days per (tweet, metric).
    assert calls() - before == len(ids) * len(METRICS) * 4


# ------------------------------------------------------------------ over HTTP
class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module", params=[72, 0], ids=["revisions-72h", "final-at-once"])
def revising(request: pytest.FixtureRequest) -> Iterator[tuple[Sandbox, Clock]]:
    clock = Clock()
    with Sandbox(
        seed=17,
        tweets=80,
        anchor=MIDNIGHT,
        clock=clock,
        revision_hours=request.param,
        rate_limit_per_second=0,
    ) as sandbox:
        yield sandbox, clock


@pytest.fixture
def session(revising: tuple[Sandbox, Clock]) -> Iterator[requests.Session]:
    sandbox, _ = revising
    sandbox.reset()
    c = sandbox.credentials
    with requests.Session() as s:
        s.auth = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        yield s


def _flatten(node: dict[str, Any], key: tuple = ()) -> dict[tuple, int]:
    flat: dict[tuple, int] = {}
    for k, v in node.items():
        part = int(k) if len(k) == 2 and k.isdigit() else k  # hour keys as numbers
        if isinstance(v, dict):
            flat |= _flatten(v, (*key, part))
        else:
            flat[(*key, part)] = int(v)
    return flat


def _rows(rows: list) -> dict[tuple, int]:
    return {row.key: row.count for row in rows}


OFFSETS = [0, 1, 24, 71, 72, 100]


@pytest.mark.parametrize("offset_hours", OFFSETS)
def test_historical_serves_what_expected_says_at_that_time(revising, session, offset_hours):
    sandbox, clock = revising
    clock.now = T0 + offset_hours * HOUR
    model = sandbox.model
    ids = model.owned_ids()[:12]
    start = floor_hour(clock.now) - timedelta(days=6, hours=3)
    end = floor_hour(clock.now) + HOUR  # the data of an omitted end: through the current hour
    groupings = {"hourly": HOURLY, "daily": DAILY, "grand": ["engagement.type"]}
    response = session.post(
        f"{sandbox.base_url}/insights/engagement/historical",
        json={
            "tweet_ids": ids,
            "engagement_types": METRICS,
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "groupings": {name: {"group_by": g} for name, g in groupings.items()},
        },
    )
    assert response.status_code == 200
    data = response.json()
    for name, group_by in groupings.items():
        expected = model.expected(ids, METRICS, start, end, group_by, as_of=clock.now)
        assert _flatten(data[name]) == _rows(expected)
    final = model.expected(ids, METRICS, start, end, HOURLY)
    served = _flatten(data["hourly"])
    if model.revision_hours:
        assert served != _rows(final)
        # Hours at least the horizon old are final; the newer ones are revised down.
        settled = end - (model.revision_hours + 1) * HOUR
        for row in final:
            moment = datetime.fromisoformat(f"{row.key[2]}T00:00+00:00") + row.key[3] * HOUR
            if moment <= settled:
                assert served[row.key] == row.count
            else:
                assert served[row.key] <= row.count
    else:
        assert served == _rows(final)


def test_a_window_read_again_later_grows_then_stays_final(revising, session):
    sandbox, clock = revising
    model = sandbox.model
    ids = model.owned_ids()[:10]
    start, end = MIDNIGHT - timedelta(days=2), MIDNIGHT + 19 * HOUR
    body = {
        "tweet_ids": ids,
        "engagement_types": METRICS,
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "groupings": {"h": {"group_by": HOURLY}},
    }
    url = f"{sandbox.base_url}/insights/engagement/historical"
    reads = []
    for offset_hours in (0, 5, 30, 60, 90, 91, 400):
        clock.now = T0 + offset_hours * HOUR
        reads.append(_flatten(session.post(url, json=body).json()["h"]))
    for earlier, later in itertools.pairwise(reads):
        assert all(earlier[k] <= later[k] for k in earlier)
    final = _rows(model.expected(ids, METRICS, start, end, HOURLY))
    assert reads[-3:] == [final] * 3  # 90 h after T0 every hour of the window is 72 h old
    assert (reads[0] == final) == (model.revision_hours == 0)


@pytest.mark.parametrize("offset_hours", OFFSETS)
def test_28hr_serves_what_expected_says(revising, session, offset_hours):
    sandbox, clock = revising
    clock.now = T0 + offset_hours * HOUR
    ids = sandbox.model.owned_ids()[:10]
    response = session.post(
        f"{sandbox.base_url}/insights/engagement/28hr",
        json={
            "tweet_ids": ids,
            "engagement_types": METRICS,
            "groupings": {"h": {"group_by": HOURLY}},
        },
    )
    current = floor_hour(clock.now)
    expected = sandbox.model.expected(
        ids, METRICS, current - 28 * HOUR, current + HOUR, HOURLY, as_of=clock.now
    )
    assert _flatten(response.json()["h"]) == _rows(expected)
    assert len(expected) == len(ids) * len(METRICS) * 29


@pytest.mark.parametrize("offset_hours", OFFSETS)
def test_totals_and_v2_public_metrics_serve_revised_lifetime_totals(
    revising, session, offset_hours
):
    sandbox, clock = revising
    clock.now = T0 + offset_hours * HOUR
    model = sandbox.model
    ids = model.owned_ids()[:6]  # the newest: every one younger than 90 days
    metrics = ["impressions", "favorites", "retweets", "replies", "quote_tweets"]
    response = session.post(
        f"{sandbox.base_url}/insights/engagement/totals",
        json={
            "tweet_ids": ids,
            "engagement_types": metrics,
            "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
        },
    )
    assert _flatten(response.json()["g"]) == {
        (i, m): model.lifetime_total(i, m, clock.now) for i in ids for m in metrics
    }
    end = floor_hour(clock.now) + HOUR
    for tweet in ids:
        created = model.tweet(tweet).created_hour
        for metric in ("impressions", "favorites"):
            assert model.lifetime_total(tweet, metric, clock.now) == model.expected_total(
                [tweet], [metric], created, end, as_of=clock.now
            )
    lookup = session.get(
        f"{sandbox.base_url}/2/tweets",
        params={"ids": ",".join(ids), "tweet.fields": "public_metrics"},
    ).json()
    total = model.lifetime_total
    assert {t["id"]: t["public_metrics"] for t in lookup["data"]} == {
        i: {
            "retweet_count": total(i, "retweets", clock.now),
            "reply_count": total(i, "replies", clock.now),
            "like_count": total(i, "favorites", clock.now),
            "quote_count": total(i, "quote_tweets", clock.now),
            "bookmark_count": total(i, "favorites", clock.now) // 7,
            "impression_count": total(i, "impressions", clock.now),
        }
        for i in ids
    }
    final_now = sum(
        model.expected_total([i], ["impressions"], model.tweet(i).created_hour, end) for i in ids
    )
    served = sum(total(i, "impressions", clock.now) for i in ids)
    assert (served == final_now) == (model.revision_hours == 0)
