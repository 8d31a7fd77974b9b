"""A change of group_by or metrics_layout between scheduled runs never breaks the models: each
shape lands in its own table, the marts read every table that has the per-tweet, per-metric,
per-day grain and keep the latest read of each day, and a shape without that grain stops dbt in
one line naming group_by. Through Meltano into a real PostgreSQL (dbt-postgres) and into JSONL
files (dbt-duckdb), against the sandbox model; the column types target-postgres creates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.helpers import KNOWN_SECRETS
from tests.project.marts import (
    HOURLY,
    STOP,
    Clock,
    duckdb_tables,
    model_counts,
    per_account_day,
    postgres_tables,
    provisional_from,
    tweet_day_counts,
)
from tests.project.pipeline import DAILY, METRICS, meltano_command, meltano_env, meltano_run
from twitter_engagement_sandbox import Sandbox

TWEETS = 3
DAYS = 6
LOOKBACK = 1
MARTS = ("twitter_engagement__by_tweet_day", "twitter_engagement__by_account_day")
Tables = dict[str, list[dict[str, Any]]]


def _switches(
    meltano: str,
    env: dict[str, str],
    clock: Clock,
    sandbox: Sandbox,
    shapes: list[tuple[list[str], str]],
    loader: str,
    dbt: str,
    read: Callable[[], Tables],
) -> None:
    """One run per shape, each followed by ``dbt build``; after each, the marts hold for every
    day what the API served the latest run that read it, whatever table that run wrote: a
    switch to a new shape reads the whole range, a switch back to a shape with state reads its
    lookback and new days only."""
    read_at: dict[str, datetime] = {}  # day -> the sandbox's clock at the latest read of it
    for group_by, layout in shapes:
        env["TAP_TWITTER_ENGAGEMENT_GROUP_BY"] = json.dumps(group_by)
        env["TAP_TWITTER_ENGAGEMENT_METRICS_LAYOUT"] = layout
        sandbox.reset()
        log = meltano_run(meltano, env, loader, f"{dbt}:build")
        assert " ERROR=0 " in log.split("Done. PASS=")[-1], log[-3000:]
        for request in sandbox.requests("insights/historical"):
            if request.status == 200:
                read_at |= dict.fromkeys(_days(request.body), clock.now)
        expected = {
            key: count
            for as_of in set(read_at.values())
            for key, count in model_counts(sandbox, TWEETS, METRICS, DAYS, as_of).items()
            if read_at[key[2]] == as_of
        }
        marts = read()
        by_tweet_day = marts["twitter_engagement__by_tweet_day"]
        assert tweet_day_counts(by_tweet_day, METRICS) == expected, (group_by, layout)
        assert {
            (r["account_id"], str(r["engagement_date"]), m): r[m]
            for r in marts["twitter_engagement__by_account_day"]
            for m in METRICS
        } == per_account_day(expected)
        provisional = provisional_from(LOOKBACK)
        assert {(r["engagement_date"], r["is_final"]) for r in by_tweet_day} == {
            (r["engagement_date"], r["engagement_date"] < provisional) for r in by_tweet_day
        }
        clock.now += timedelta(hours=12)  # the API revises the recent days before the next run


def _days(body: dict[str, Any]) -> list[str]:
    """The UTC days of a historical request's window (end exclusive)."""
    start, end = (datetime.fromisoformat(body[k]).date() for k in ("start", "end"))
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days)]


def _stops(meltano: str, env: dict[str, str], loader: str, dbt: str, group_by: list[str]) -> str:
    """A run in a shape the marts cannot read: the tap and loader succeed, dbt stops; its
    output."""
    env["TAP_TWITTER_ENGAGEMENT_GROUP_BY"] = json.dumps(group_by)
    env["TAP_TWITTER_ENGAGEMENT_METRICS_LAYOUT"] = "long"
    result = meltano_command(meltano, env, "run", "tap-twitter-engagement", loader, f"{dbt}:build")
    assert result.returncode != 0
    return result.stdout + result.stderr


def _env(sandbox: Sandbox, tmp: Path) -> dict[str, str]:
    env = meltano_env(
        sandbox,
        tmp,
        number_of_tweets=TWEETS,
        engagement_types=METRICS,
        days_back_to_start_from=DAYS,
        lookback_days=LOOKBACK,
    )
    streams = ["historical_engagement*", "tracked", "engagement_28hr"]
    env["TAP_TWITTER_ENGAGEMENT__SELECT"] = json.dumps([f"{s}.*" for s in streams])
    return env


@pytest.fixture
def clocked_sandbox() -> Any:
    clock = Clock()
    with Sandbox(
        seed=37, tweets=20, revision_hours=72, rate_limit_per_second=0, clock=clock
    ) as sandbox:
        KNOWN_SECRETS.update(sandbox.secret_values())
        yield sandbox, clock


def test_postgres_group_by_switches_keep_the_marts_exact(
    meltano, postgres, clocked_sandbox, tmp_path
):
    sandbox, clock = clocked_sandbox
    env = _env(sandbox, tmp_path)
    env["TARGET_POSTGRES_PORT"] = env["DBT_POSTGRES_PORT"] = str(postgres)
    env["TARGET_POSTGRES_PASSWORD"] = "any-password-with-trust-auth"
    env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = "shapes"
    env["DBT_POSTGRES_SCHEMA"] = "shapes_marts"
    shapes = [(DAILY, "long"), (HOURLY, "long"), (DAILY, "wide")]
    _switches(
        meltano,
        env,
        clock,
        sandbox,
        shapes,
        "target-postgres",
        "dbt-postgres",
        lambda: postgres_tables(postgres, "shapes_marts", *MARTS),
    )
    output = _stops(meltano, env, "target-postgres", "dbt-postgres", ["tweet.id", "engagement.day"])
    line = (
        f"{STOP} historical_engagement_by_tweet_day (group_by without engagement.type). "
        "Put them back in group_by"
    )
    assert line in output, output[-3000:]

    # What target-postgres created from the tap's schemas (README: For analysts, Types).
    with psycopg.connect(
        host="127.0.0.1", port=postgres, user="postgres", dbname="postgres"
    ) as conn:
        types = {
            (table, column): data_type
            for table, column, data_type in conn.execute(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_schema = 'shapes'"
            ).fetchall()
        }
    counts = ["engagement_count"]
    expected = {
        "historical_engagement": counts,
        "historical_engagement_by_tweet_type_day_hour": counts,
        "historical_engagement_wide": METRICS,
        "historical_engagement_by_tweet_day": counts,
        "engagement_28hr": counts,
    }
    for table, count_columns in expected.items():
        for column in count_columns:
            assert types[(table, column)] == "bigint", (table, column)
        assert types[(table, "engagement_date")] == "date", table
        assert types[(table, "is_final")] == "boolean", table
        assert types[(table, "read_at")].startswith("timestamp"), table
    for column in ("first_date", "last_date"):
        assert types[("tracked", column)] == "date"
    assert types[("tracked", "snapshot_at")].startswith("timestamp")
    # Observed with meltanolabs-target-postgres 0.8.1: date-times land without the time zone
    # (the tap writes UTC); the hour, bounded 0..23, as smallint.
    assert types[("historical_engagement", "read_at")] == "timestamp without time zone"
    assert types[("engagement_28hr", "engagement_hour")] == "smallint"


def test_duckdb_group_by_switches_keep_the_marts_exact(meltano, clocked_sandbox, tmp_path):
    sandbox, clock = clocked_sandbox
    env = _env(sandbox, tmp_path)
    env["DBT_DUCKDB_PATH"] = str(tmp_path / "marts.duckdb")
    shapes = [(DAILY, "long"), (HOURLY, "wide"), (DAILY, "long")]
    _switches(
        meltano,
        env,
        clock,
        sandbox,
        shapes,
        "target-jsonl",
        "dbt-duckdb",
        lambda: duckdb_tables(tmp_path / "marts.duckdb", *MARTS),
    )
    output = _stops(
        meltano, env, "target-jsonl", "dbt-duckdb", ["engagement.type", "engagement.day"]
    )
    assert f"{STOP} historical_engagement_by_type_day (group_by without tweet.id). " in output, (
        output[-3000:]
    )
    files = {p.name.split("-")[0] for p in (tmp_path / "jsonl").glob("historical_engagement*")}
    assert files == {
        "historical_engagement",
        "historical_engagement_by_tweet_type_day_hour_wide",
        "historical_engagement_by_type_day",
    }
