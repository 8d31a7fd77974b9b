"""Rate limits as X's clients meet them: per-second and per-minute budgets paced from the
headers, shared by every worker; and the tap only ever asks for the canonical grain."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine

from tap_twitter_engagement.rollup import CANONICAL_DAILY, CANONICAL_HOURLY
from tests.helpers import KNOWN_SECRETS, by_key, expected_records, midnight, run_sync
from twitter_engagement_sandbox import Sandbox

GROUP_BY_VALUES = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
ALL_SUBSETS = [list(c) for n in range(1, 5) for c in itertools.combinations(GROUP_BY_VALUES, n)]


@pytest.fixture(scope="module")
def limited() -> Iterator[Sandbox]:
    """A sandbox whose endpoints take 2 requests a second (and 6,000 a minute)."""
    with Sandbox(seed=13, tweets=200, rate_limit_per_second=2, revision_hours=0) as sandbox:
        KNOWN_SECRETS.update(sandbox.credentials.values())
        yield sandbox


def _config(sandbox: Sandbox, **extra: object) -> dict:
    return sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids(exclude_retweets=False)[:100],  # 4 batches
        engagement_types=["impressions"],
        days_back_to_start_from=40,  # 2 windows: 8 requests
        max_concurrent_requests=8,
        **extra,
    )


def test_a_per_second_limit_is_learned_from_the_headers_and_never_exceeded(limited):
    limited.reset()
    moment = limited.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        result = run_sync(_config(limited))
    log = limited.requests("insights/historical")
    assert [r.status for r in log] == [200] * 8  # not one 429, with 8 workers
    today = midnight(moment)
    expected = expected_records(
        limited,
        limited.model.owned_ids(exclude_retweets=False)[:100],
        ["impressions"],
        today - timedelta(days=40),
        today,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert by_key(result.records) == by_key(expected)


def test_a_per_minute_limit_is_learned_from_the_headers_too(limited):
    limited.reset()
    limited.set_rate_limit_per_second(0)  # no per-second budget, no per-second headers
    limited.set_rate_limit(180)  # 3 a second, in one-minute windows
    try:
        run_sync(_config(limited))
        log = limited.requests("insights/historical")
    finally:
        limited.reset()
    assert [r.status for r in log] == [200] * 8


@pytest.mark.parametrize("group_by", ALL_SUBSETS, ids=["+".join(g) for g in ALL_SUBSETS])
def test_the_tap_only_asks_for_the_canonical_grain(sandbox, group_by):
    """Groupings without engagement.type sum different metrics together in the sandbox (a
    guess: no source documents it); the tap never sends one, whatever group_by it outputs."""
    config = sandbox.tap_config(
        number_of_tweets=3,
        engagement_types=["impressions", "favorites"],
        days_back_to_start_from=2,
        group_by=group_by,
    )
    run_sync(config, streams=["historical_engagement", "engagement_28hr", "engagement_totals"])
    sent = [
        grouping["group_by"]
        for route in ("insights/historical", "insights/28hr", "insights/totals")
        for request in sandbox.requests(route)
        for grouping in request.body["groupings"].values()
    ]
    assert len(sent) >= 3
    allowed = [list(CANONICAL_DAILY), list(CANONICAL_HOURLY), ["tweet.id", "engagement.type"]]
    assert all(g in allowed for g in sent)
    assert all(
        isinstance(i, str) for r in sandbox.requests() if r.body for i in r.body["tweet_ids"]
    )
