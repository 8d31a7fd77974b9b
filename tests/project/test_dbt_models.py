"""The dbt models, built through Meltano over a sandbox load (DuckDB profile), against the
sandbox model's counts: exact after a first load, and after an incremental load that re-read the
lookback days with revised counts (the latest load must win, nothing may count twice)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from scripts.demo import summary
from tests.helpers import KNOWN_SECRETS, midnight
from tests.project.pipeline import DAILY, meltano_env, meltano_run
from twitter_engagement_sandbox import Sandbox

#: Enough to check every mart: the rate's two metrics, and a click metric.
METRICS = ["impressions", "engagements", "favorites", "retweets", "replies", "url_clicks"]
TWEETS = 6
DAYS = 20
STREAMS = ["historical_engagement", "tweets", "accounts", "engagement_totals"]


class Clock:
    """The sandbox API's "now", moved by the test: counts of recent hours are revised as it
    moves on, as the real API's are."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Load:
    """One Meltano run with its dbt build: the marts as Python data, and the sandbox's clock."""

    def __init__(self, marts: Path, as_of: datetime, log: str) -> None:
        self.as_of = as_of
        self.log = log
        with duckdb.connect(str(marts), read_only=True) as con:
            self.tables = {
                name: _rows(con, name)
                for name in (
                    "engagement_by_tweet_day",
                    "engagement_by_account_day",
                    "engagement_by_day",
                    "tweet_lifetime",
                    "twitter_posts_reporting",
                    "stg_historical_engagement",
                )
            }


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    cursor = con.execute(f"select * from {table}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def two_loads(meltano, tmp_path_factory) -> Iterator[tuple[Sandbox, list[Load], Path]]:
    """Two accounts; a first load, then, 12 API hours later, an incremental one."""
    tmp = tmp_path_factory.mktemp("dbt")
    clock = Clock()
    with Sandbox(
        seed=31, tweets=40, accounts=2, revision_hours=72, rate_limit_per_second=0, clock=clock
    ) as sandbox:
        KNOWN_SECRETS.update(sandbox.secret_values())
        env = meltano_env(
            sandbox,
            tmp,
            accounts=True,
            number_of_tweets=TWEETS,
            engagement_types=METRICS,
            days_back_to_start_from=DAYS,
            lookback_days=3,
        )
        env["TAP_TWITTER_ENGAGEMENT__SELECT"] = json.dumps([f"{s}.*" for s in STREAMS])
        env["DBT_DUCKDB_PATH"] = str(tmp / "marts.duckdb")
        loads = []
        for _ in range(2):
            log = meltano_run(meltano, env, "target-jsonl", "dbt-duckdb:build")
            loads.append(Load(tmp / "marts.duckdb", clock.now, log))
            clock.now += timedelta(hours=12)
        yield sandbox, loads, tmp


def _expected(sandbox: Sandbox, as_of: datetime) -> dict[tuple[str, str, str, str], int]:
    """(account_id, tweet_id, day, metric) -> count, as the API serves it at ``as_of``."""
    today = midnight(datetime.now(UTC))
    out = {}
    for account, user in enumerate(sandbox.accounts):
        ids = sandbox.model.owned_ids(account=account)[:TWEETS]
        rows = sandbox.model.expected(
            ids, METRICS, today - timedelta(days=DAYS), today, DAILY, as_of=as_of
        )
        for row in rows:
            tweet_id, metric, day = row.key
            out[(user.id, str(tweet_id), str(day), str(metric))] = row.count
    return out


@pytest.mark.parametrize("load", [0, 1], ids=["first load", "incremental load"])
def test_the_marts_equal_the_model_exactly(two_loads, load):
    sandbox, loads, _ = two_loads
    marts = loads[load]
    # Days before the lookback were final at the first load; the incremental load re-read the
    # lookback days, whose counts had moved on: so every day is as the API served it last.
    expected = _expected(sandbox, marts.as_of)
    by_tweet_day = {
        (r["account_id"], r["tweet_id"], str(r["engagement_date"]), metric): r[metric]
        for r in marts.tables["engagement_by_tweet_day"]
        for metric in METRICS
    }
    assert by_tweet_day == expected
    per_account: dict[tuple[str, str, str], int] = defaultdict(int)
    per_day: dict[tuple[str, str], int] = defaultdict(int)
    for (account_id, _, day, metric), count in expected.items():
        per_account[(account_id, day, metric)] += count
        per_day[(day, metric)] += count
    assert {
        (r["account_id"], str(r["engagement_date"]), metric): r[metric]
        for r in marts.tables["engagement_by_account_day"]
        for metric in METRICS
    } == per_account
    assert {
        (str(r["engagement_date"]), metric): r[metric]
        for r in marts.tables["engagement_by_day"]
        for metric in METRICS
    } == per_day
    for row in marts.tables["engagement_by_account_day"]:
        impressions, engagements = row["impressions"], row["engagements"]
        rate = engagements / impressions if impressions else None
        assert row["engagement_rate"] == pytest.approx(rate)
        assert row["username"] in {u.username for u in sandbox.accounts}


def test_the_incremental_load_re_read_revised_days_and_the_latest_load_won(two_loads):
    sandbox, loads, tmp = two_loads
    first, second = (_expected(sandbox, load.as_of) for load in loads)
    revised = {key for key in first if first[key] != second[key]}
    assert revised  # the lookback days' counts moved on between the loads
    assert {key[2] for key in revised} <= {
        (midnight(datetime.now(UTC)) - timedelta(days=d)).date().isoformat() for d in range(1, 5)
    }
    # Both loads' rows for those days are in the files; the models hold the second's only.
    files = sorted((tmp / "jsonl").glob("historical_engagement-*.jsonl"))
    assert len(files) == 2
    lines = sum(1 for f in files for _ in f.open())
    assert lines > len(loads[1].tables["stg_historical_engagement"])
    assert "Done. PASS=" in loads[1].log
    assert " ERROR=0 " in loads[1].log.split("Done. PASS=")[-1]


def test_tweet_lifetime_sets_the_range_next_to_the_latest_total(two_loads):
    sandbox, loads, _ = two_loads
    last = loads[1]
    expected = _expected(sandbox, last.as_of)
    in_range: dict[tuple[str, str], int] = defaultdict(int)
    for (_, tweet_id, _, metric), count in expected.items():
        in_range[(tweet_id, metric)] += count
    rows = last.tables["tweet_lifetime"]
    assert {
        (r["tweet_id"], r["engagement_type"]): r["count_in_range"]
        for r in rows
        if r["count_in_range"] is not None
    } == in_range
    totals = [r for r in rows if r["lifetime_count"] is not None]
    assert totals  # engagement_totals was loaded
    for row in totals:
        assert row["lifetime_count"] == sandbox.model.lifetime_total(
            row["tweet_id"], row["engagement_type"], last.as_of
        )


def test_the_cross_platform_layout_maps_the_metrics(two_loads):
    _, loads, _ = two_loads
    daily = {
        (r["tweet_id"], r["engagement_date"]): r for r in loads[1].tables["engagement_by_tweet_day"]
    }
    posts = loads[1].tables["twitter_posts_reporting"]
    assert len(posts) == len(daily)
    for post in posts:
        row = daily[(post["post_id"], post["date_day"])]
        assert post["platform"] == "twitter"
        assert post["page_id"] == row["account_id"]
        assert post["post_url"] == f"https://x.com/i/web/status/{row['tweet_id']}"
        assert post["post_message"] == row["text"] is not None
        assert (post["impressions"], post["likes"], post["shares"], post["comments"]) == (
            row["impressions"],
            row["favorites"],
            row["retweets"],
            row["replies"],
        )
        assert post["clicks"] == row["url_clicks"]  # the only click metric loaded


def test_the_demo_summary_and_picture_read_the_marts(two_loads, tmp_path, capsys):
    sandbox, loads, tmp = two_loads
    series = summary(tmp / "marts.duckdb", tmp_path / "engagement.png")
    expected = _expected(sandbox, loads[1].as_of)
    days = sorted({key[2] for key in expected})
    assert series is not None
    assert series.day == days
    for metric in ("impressions", "engagements"):
        assert getattr(series, metric) == [
            sum(c for (_, _, d, m), c in expected.items() if d == day and m == metric)
            for day in days
        ]
    assert (tmp_path / "engagement.png").stat().st_size > 10_000
    assert "@sandbox_brand_2" in capsys.readouterr().out
