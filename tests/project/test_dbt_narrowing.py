"""A narrowed configuration (fewer tweets, a metric removed) through Meltano and dbt-duckdb: the
marts keep every row ever extracted, ``is_tracked`` says exactly which ones the configuration
still keeps up to date, and twitter_engagement__by_account_day_tracked sums only those, against
the sandbox model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import KNOWN_SECRETS
from tests.project.marts import (
    account_day_counts,
    duckdb_tables,
    model_counts,
    per_account_day,
    tweet_day_counts,
)
from tests.project.pipeline import METRICS, meltano_env, meltano_run
from twitter_engagement_sandbox import Sandbox

DAYS = 8
BEFORE, AFTER = 6, 3
KEPT = [m for m in METRICS if m != "url_clicks"]
Tables = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def narrowed(meltano, tmp_path_factory) -> Iterator[tuple[Sandbox, Tables]]:
    """Two accounts, 6 tweets and 4 metrics, then 3 tweets and 3 metrics (no revisions, so the
    counts do not depend on when they were read)."""
    tmp: Path = tmp_path_factory.mktemp("narrowing")
    with Sandbox(seed=41, tweets=30, accounts=2, revision_hours=0, rate_limit_per_second=0) as box:
        KNOWN_SECRETS.update(box.secret_values())
        env = meltano_env(
            box,
            tmp,
            accounts=True,
            number_of_tweets=BEFORE,
            engagement_types=METRICS,
            days_back_to_start_from=DAYS,
        )
        env["TAP_TWITTER_ENGAGEMENT__SELECT"] = json.dumps(["historical_engagement.*", "tracked.*"])
        env["DBT_DUCKDB_PATH"] = str(tmp / "marts.duckdb")
        meltano_run(meltano, env, "target-jsonl", "dbt-duckdb:build")
        env["TAP_TWITTER_ENGAGEMENT_NUMBER_OF_TWEETS"] = str(AFTER)
        env["TAP_TWITTER_ENGAGEMENT_ENGAGEMENT_TYPES"] = json.dumps(KEPT)
        log = meltano_run(meltano, env, "target-jsonl", "dbt-duckdb:build")
        assert "This configuration no longer reads what earlier runs delivered" in log
        yield (
            box,
            duckdb_tables(
                tmp / "marts.duckdb",
                "twitter_engagement__by_tweet_day",
                "twitter_engagement__by_account_day",
                "twitter_engagement__by_account_day_tracked",
                "int_twitter_engagement__tweet_metric_days",
            ),
        )


def _tracked_ids(sandbox: Sandbox) -> set[str]:
    return {
        tweet_id
        for account in range(len(sandbox.accounts))
        for tweet_id in sandbox.model.owned_ids(account=account)[:AFTER]
    }


def test_the_marts_keep_the_history(narrowed):
    sandbox, tables = narrowed
    everything = model_counts(sandbox, BEFORE, METRICS, DAYS)
    assert tweet_day_counts(tables["twitter_engagement__by_tweet_day"], METRICS) == everything
    assert account_day_counts(
        tables["twitter_engagement__by_account_day"], METRICS
    ) == per_account_day(everything)


def test_is_tracked_says_exactly_what_the_configuration_tracks(narrowed):
    sandbox, tables = narrowed
    tracked = _tracked_ids(sandbox)
    by_tweet_day = tables["twitter_engagement__by_tweet_day"]
    assert len({r["tweet_id"] for r in by_tweet_day}) == 2 * BEFORE
    assert {r["tweet_id"]: r["is_tracked"] for r in by_tweet_day} == {
        r["tweet_id"]: r["tweet_id"] in tracked for r in by_tweet_day
    }
    # per metric: the removed one is history even for the tweets still tracked
    rows = tables["int_twitter_engagement__tweet_metric_days"]
    assert {(r["tweet_id"], r["engagement_type"]) for r in rows if r["is_tracked"]} == {
        (t, m) for t in tracked for m in KEPT
    }


def test_the_tracked_numbers_sum_only_what_is_tracked(narrowed):
    sandbox, tables = narrowed
    ids = {a: sandbox.model.owned_ids(account=a)[:AFTER] for a in range(len(sandbox.accounts))}
    now = model_counts(sandbox, ids, KEPT, DAYS)
    rows = tables["twitter_engagement__by_account_day_tracked"]
    assert account_day_counts(rows, METRICS) == per_account_day(now)
    assert all(r["url_clicks"] is None and r["tweets"] == AFTER for r in rows)
