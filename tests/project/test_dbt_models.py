"""The dbt models, built through Meltano over a sandbox load (DuckDB profile), against the
sandbox model's counts: exact after a first load, and after an incremental load that re-read the
lookback days with revised counts (the latest load must win, nothing may count twice); the
provisional days marked, in the marts and in the demo's table and picture."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from scripts.demo import summary
from tests.helpers import KNOWN_SECRETS, midnight
from tests.project.marts import (
    Clock,
    Counts,
    duckdb_tables,
    model_counts,
    per_account_day,
    provisional_from,
)
from tests.project.pipeline import meltano_env, meltano_run
from twitter_engagement_sandbox import Sandbox

#: Enough to check every mart: the rate's two metrics, and a click metric.
METRICS = ["impressions", "engagements", "favorites", "retweets", "replies", "url_clicks"]
TWEETS = 6
DAYS = 20
LOOKBACK = 3
STREAMS = ["historical_engagement", "tracked", "tweets", "accounts", "engagement_totals"]


class Load:
    """One Meltano run with its dbt build: the marts as Python data, and the sandbox's clock."""

    def __init__(self, marts: Path, as_of: datetime, log: str) -> None:
        self.as_of = as_of
        self.log = log
        self.tables = duckdb_tables(
            marts,
            "twitter_engagement__by_tweet_day",
            "twitter_engagement__by_account_day",
            "twitter_engagement__by_account_day_tracked",
            "twitter_engagement__by_day",
            "twitter_engagement__tweet_lifetime",
            "twitter_engagement__posts_reporting",
            "stg_twitter_engagement__historical_engagement",
        )


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
            lookback_days=LOOKBACK,
        )
        env["TAP_TWITTER_ENGAGEMENT__SELECT"] = json.dumps([f"{s}.*" for s in STREAMS])
        env["DBT_DUCKDB_PATH"] = str(tmp / "marts.duckdb")
        loads = []
        for _ in range(2):
            log = meltano_run(meltano, env, "target-jsonl", "dbt-duckdb:build")
            loads.append(Load(tmp / "marts.duckdb", clock.now, log))
            clock.now += timedelta(hours=12)
        yield sandbox, loads, tmp


def _expected(sandbox: Sandbox, as_of: datetime) -> Counts:
    """(account_id, tweet_id, day, metric) -> count, as the API serves it at ``as_of``."""
    return model_counts(sandbox, TWEETS, METRICS, DAYS, as_of)


@pytest.mark.parametrize("load", [0, 1], ids=["first load", "incremental load"])
def test_the_marts_equal_the_model_exactly(two_loads, load):
    sandbox, loads, _ = two_loads
    marts = loads[load]
    # Days before the lookback were final at the first load; the incremental load re-read the
    # lookback days, whose counts had moved on: so every day is as the API served it last.
    expected = _expected(sandbox, marts.as_of)
    by_tweet_day = {
        (r["account_id"], r["tweet_id"], str(r["engagement_date"]), metric): r[metric]
        for r in marts.tables["twitter_engagement__by_tweet_day"]
        for metric in METRICS
    }
    assert by_tweet_day == expected
    per_account = per_account_day(expected)
    per_day: dict[tuple[str, str], int] = defaultdict(int)
    for (_, _, day, metric), count in expected.items():
        per_day[(day, metric)] += count
    for table in ("by_account_day", "by_account_day_tracked"):  # everything is tracked here
        assert {
            (r["account_id"], str(r["engagement_date"]), metric): r[metric]
            for r in marts.tables[f"twitter_engagement__{table}"]
            for metric in METRICS
        } == per_account
    assert {
        (str(r["engagement_date"]), metric): r[metric]
        for r in marts.tables["twitter_engagement__by_day"]
        for metric in METRICS
    } == per_day
    for row in marts.tables["twitter_engagement__by_account_day"]:
        impressions, engagements = row["impressions"], row["engagements"]
        rate = engagements / impressions if impressions else None
        assert row["engagement_rate"] == pytest.approx(rate)
        assert row["username"] in {u.username for u in sandbox.accounts}


@pytest.mark.parametrize("load", [0, 1], ids=["first load", "incremental load"])
def test_provisional_days_are_marked_and_every_row_is_tracked(two_loads, load):
    """A day within the lookback of yesterday may still be revised: is_final false, in every
    mart that has it; the configuration tracks every row (nothing narrowed)."""
    provisional = provisional_from(LOOKBACK)
    tables = two_loads[1][load].tables
    for table in ("by_tweet_day", "by_account_day", "by_account_day_tracked", "by_day"):
        rows = tables[f"twitter_engagement__{table}"]
        assert rows
        assert {r["engagement_date"]: r["is_final"] for r in rows} == {
            r["engagement_date"]: r["engagement_date"] < provisional for r in rows
        }, table
    assert {r["is_tracked"] for r in tables["twitter_engagement__by_tweet_day"]} == {True}


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
    assert lines > len(loads[1].tables["stg_twitter_engagement__historical_engagement"])
    assert "Done. PASS=" in loads[1].log
    assert " ERROR=0 " in loads[1].log.split("Done. PASS=")[-1]


def test_tweet_lifetime_sets_the_range_next_to_the_latest_total(two_loads):
    sandbox, loads, _ = two_loads
    last = loads[1]
    expected = _expected(sandbox, last.as_of)
    in_range: dict[tuple[str, str], int] = defaultdict(int)
    for (_, tweet_id, _, metric), count in expected.items():
        in_range[(tweet_id, metric)] += count
    rows = last.tables["twitter_engagement__tweet_lifetime"]
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
        (r["tweet_id"], r["engagement_date"]): r
        for r in loads[1].tables["twitter_engagement__by_tweet_day"]
    }
    posts = loads[1].tables["twitter_engagement__posts_reporting"]
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
    # the provisional days, shaded in the picture and named in its metadata
    provisional = [d for d in days if d >= provisional_from(LOOKBACK).isoformat()]
    assert len(provisional) == LOOKBACK + 1
    assert series.provisional == provisional
    stored = json.loads(Image.open(tmp_path / "engagement.png").text["Series"])
    assert stored["day"] == days
    assert stored["provisional"] == provisional
    assert stored["impressions"] == series.impressions
    assert (tmp_path / "engagement.png").stat().st_size > 10_000
    # the table marks them and keeps them out of the comparisons, saying why
    out = capsys.readouterr().out
    assert "@sandbox_brand_2" in out
    table = out.split("Per account, last 7 days")[1].split("provisional: X still revises")[0]
    for line in table.splitlines()[2:]:
        if line.strip():
            assert line.endswith("provisional") == (line.split()[1] in provisional), line
    assert "they are left out of the comparisons below" in out
    comparison = out.split("Last final day against")[1].split("Top 5")[0]
    last_final = (datetime.fromisoformat(provisional[0]) - timedelta(days=1)).date().isoformat()
    assert comparison.count(last_final) == 2  # one line per account, on the last final day
