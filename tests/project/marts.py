"""What the dbt-model tests share: the sandbox's clock, the counts its model says the marts must
hold, and the marts read back from DuckDB or PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from tests.helpers import midnight
from tests.project.pipeline import DAILY
from twitter_engagement_sandbox import Sandbox

HOURLY = [*DAILY, "engagement.hour"]
#: (account_id, tweet_id, day, metric) -> count
Counts = dict[tuple[str, str, str, str], int]
#: The first words of the line that stops dbt on a shape the marts cannot read.
STOP = (
    "The marts need tweet.id, engagement.type and engagement.day in group_by; the latest run wrote"
)


class Clock:
    """The sandbox API's "now", moved by the test: counts of recent hours are revised as it
    moves on, as the real API's are."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def model_counts(
    sandbox: Sandbox,
    tweets: int | Mapping[int, Sequence[str]],
    metrics: Sequence[str],
    days: int,
    as_of: datetime | None = None,
) -> Counts:
    """What the API serves at ``as_of`` for each account's ``tweets`` most recent tweets (or the
    ids given per account index), ``days`` days back to yesterday, per tweet, day and metric."""
    today = midnight(datetime.now(UTC))
    out: Counts = {}
    for account, user in enumerate(sandbox.accounts):
        ids = (
            sandbox.model.owned_ids(account=account)[:tweets]
            if isinstance(tweets, int)
            else list(tweets.get(account, []))
        )
        rows = sandbox.model.expected(
            ids, metrics, today - timedelta(days=days), today, DAILY, as_of=as_of
        )
        for row in rows:
            tweet_id, metric, day = row.key
            out[(user.id, str(tweet_id), str(day), str(metric))] = row.count
    return out


def per_account_day(counts: Counts) -> dict[tuple[str, str, str], int]:
    """(account_id, day, metric) -> the sum over the account's tweets."""
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    for (account_id, _, day, metric), count in counts.items():
        sums[(account_id, day, metric)] += count
    return dict(sums)


def tweet_day_counts(rows: Iterable[Mapping[str, Any]], metrics: Sequence[str]) -> Counts:
    """The counts of twitter_engagement__by_tweet_day rows, nulls (not loaded) left out."""
    return {
        (r["account_id"], r["tweet_id"], str(r["engagement_date"]), m): r[m]
        for r in rows
        for m in metrics
        if r[m] is not None
    }


def account_day_counts(
    rows: Iterable[Mapping[str, Any]], metrics: Sequence[str]
) -> dict[tuple[str, str, str], int]:
    """The counts of twitter_engagement__by_account_day(_tracked) rows, nulls left out."""
    return {
        (r["account_id"], str(r["engagement_date"]), m): r[m]
        for r in rows
        for m in metrics
        if r[m] is not None
    }


def provisional_from(lookback_days: int) -> date:
    """The first day a run today marks provisional (``is_final`` false): the days within
    ``lookback_days`` of yesterday, the last complete UTC day."""
    return (midnight(datetime.now(UTC)) - timedelta(days=1 + lookback_days)).date()


def duckdb_tables(path: Path, *tables: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of each table of a DuckDB file, as dicts."""
    with duckdb.connect(str(path), read_only=True) as con:
        out = {}
        for table in tables:
            cursor = con.execute(f"select * from {table}")
            names = [d[0] for d in cursor.description]
            out[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return out


def postgres_tables(port: int, schema: str, *tables: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of each table of a PostgreSQL schema, as dicts."""
    out = {}
    with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres") as conn:
        for table in tables:
            cursor = conn.execute(f"select * from {schema}.{table}")
            assert cursor.description is not None
            names = [d.name for d in cursor.description]
            out[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return out
