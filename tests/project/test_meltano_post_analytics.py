"""``api: post_analytics`` end to end through Meltano and dbt (DuckDB), in a copy of the project:
a run on the Engagement API, then a switch to Post analytics into the same wide table, then
``dbt build``. Post analytics lands the Engagement API's records for every shared metric and its
own metric beside them; the marts hold the sandbox model's counts of both, keep the Engagement
API's own metric as last read (no longer tracked), and the demo's summary reads them; the demo
passes its API to the tap and says what a run reads from the state Meltano stored."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts import demo
from tests.helpers import KNOWN_SECRETS
from tests.project.conftest import MeltanoProject
from tests.project.marts import (
    account_day_counts,
    duckdb_tables,
    model_counts,
    per_account_day,
    tweet_day_counts,
)
from tests.project.pipeline import METRICS, ROOT, day, meltano_command, meltano_env, meltano_run
from twitter_engagement_sandbox import Sandbox

TWEETS = 3
DAYS = 5
#: A metric only the Engagement API serves, and one only Post analytics serves; METRICS are
#: served by both.
ENGAGEMENT_ONLY = "video_views"
POST_ONLY = "bookmarks"
ROUTE = "2/tweets/analytics"
#: Where Meltano keeps the runs' state: the demo's, since the tests run the demo environment.
STATE_ID = "demo:tap-twitter-engagement-to-target-jsonl"
MARTS = (
    "twitter_engagement__by_tweet_day",
    "twitter_engagement__by_account_day",
    "twitter_engagement__by_account_day_tracked",
    "twitter_engagement__by_day",
    "int_twitter_engagement__tweet_metric_days",
)


class Switch:
    """What the two runs landed (wide rows per run, by tweet and day) and the state Meltano
    stored after each, the marts after the second, the sandbox's log of the second run, and
    dbt's log."""

    def __init__(
        self, sandbox: Sandbox, tmp: Path, landed: list[dict], states: list[str], log: str
    ) -> None:
        self.sandbox = sandbox
        self.tmp = tmp
        self.engagement_api, self.post_analytics = landed
        self.states = states
        self.log = log
        self.requests = list(sandbox.requests())
        self.marts = duckdb_tables(tmp / "marts.duckdb", *MARTS)


def _landed(tmp: Path, before: set[Path]) -> dict[tuple[str, str], dict[str, Any]]:
    """The rows of the wide file one run wrote, by (tweet, day)."""
    (path,) = set((tmp / "jsonl").glob("historical_engagement_wide-*.jsonl")) - before
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {(r["tweet_id"], r["engagement_date"]): r for r in rows}


@pytest.fixture(scope="module")
def switch(meltano: str, tmp_path_factory) -> Iterator[Switch]:
    tmp = tmp_path_factory.mktemp("post-analytics")
    with Sandbox(
        seed=37, tweets=12, revision_hours=0, rate_limit_per_second=0, analytics_rate_limit=0
    ) as sandbox:
        KNOWN_SECRETS.update(sandbox.secret_values())
        env = meltano_env(
            sandbox,
            tmp,
            number_of_tweets=TWEETS,
            days_back_to_start_from=DAYS,
            metrics_layout="wide",
            # the sandbox has no budget here: do not pace to X's 300 per 15 minutes
            post_analytics_requests_per_15_minutes=1_000_000,
        )
        env["DBT_DUCKDB_PATH"] = str(tmp / "marts.duckdb")
        landed, states = [], []
        # The second run keeps fewer days provisional: days the first run left provisional are
        # final now for what is tracked, while the untracked metric keeps its provisional rows.
        for api, extra, lookback, blocks in (
            ("engagement_api", ENGAGEMENT_ONLY, 3, ["target-jsonl"]),
            ("post_analytics", POST_ONLY, 1, ["target-jsonl", "dbt-duckdb:build"]),
        ):
            env["TAP_TWITTER_ENGAGEMENT_API"] = api
            env["TAP_TWITTER_ENGAGEMENT_LOOKBACK_DAYS"] = str(lookback)
            env["TAP_TWITTER_ENGAGEMENT_ENGAGEMENT_TYPES"] = json.dumps([*METRICS, extra])
            before = set((tmp / "jsonl").glob("*.jsonl"))
            sandbox.reset()
            log = meltano_run(meltano, env, *blocks)
            landed.append(_landed(tmp, before))
            stored = meltano_command(meltano, env, "state", "get", STATE_ID)
            assert stored.returncode == 0, stored.stderr[-3000:]
            states.append(stored.stdout)
        yield Switch(sandbox, tmp, landed, states, log)


def test_post_analytics_lands_the_engagement_apis_counts_and_its_own_metric(switch):
    expected = model_counts(switch.sandbox, TWEETS, [*METRICS, ENGAGEMENT_ONLY, POST_ONLY], DAYS)
    assert len(switch.post_analytics) == TWEETS * DAYS
    assert switch.post_analytics.keys() == switch.engagement_api.keys()
    for key, row in switch.post_analytics.items():
        before = switch.engagement_api[key]
        assert {m: row[m] for m in METRICS} == {m: before[m] for m in METRICS}
        # provisional: the days within lookback_days of yesterday, and the one before them
        assert before["is_final"] == (key[1] <= day(5))
        assert row["is_final"] == (key[1] <= day(3))
        assert ENGAGEMENT_ONLY not in row
        assert POST_ONLY not in before
        for metric, source in [(POST_ONLY, row), (ENGAGEMENT_ONLY, before)] + [
            (m, row) for m in METRICS
        ]:
            assert source[metric] == expected[(row["account_id"], *key, metric)], (key, metric)
    # the second run asked Post analytics only, the whole range again (coverage is per API)
    asked = [r.params or {} for r in switch.requests if r.route == ROUTE and r.status == 200]
    assert asked
    assert not [r for r in switch.requests if r.route == "insights/historical"]
    assert min(p["start_time"] for p in asked) == f"{day(DAYS)}T00:00:00Z"
    assert {f for p in asked for f in p["analytics.fields"].split(",")} >= {
        "likes",  # favorites, in Post analytics' name
        POST_ONLY,
    }


def test_the_marts_hold_both_apis_counts_and_track_the_latest_configuration(switch):
    assert " ERROR=0 " in switch.log.split("Done. PASS=")[-1], switch.log[-3000:]
    metrics = [*METRICS, ENGAGEMENT_ONLY, POST_ONLY]
    expected = model_counts(switch.sandbox, TWEETS, metrics, DAYS)
    marts = switch.marts
    assert tweet_day_counts(marts["twitter_engagement__by_tweet_day"], metrics) == expected
    assert {r["is_tracked"] for r in marts["twitter_engagement__by_tweet_day"]} == {True}
    per_account = per_account_day(expected)
    assert account_day_counts(marts["twitter_engagement__by_account_day"], metrics) == per_account
    # the Engagement API's own metric stays as last read, and is no longer tracked
    tracked = marts["twitter_engagement__by_account_day_tracked"]
    assert {r[ENGAGEMENT_ONLY] for r in tracked} == {None}
    assert account_day_counts(tracked, metrics) == {
        key: count for key, count in per_account.items() if key[2] != ENGAGEMENT_ONLY
    }
    rows = marts["int_twitter_engagement__tweet_metric_days"]
    # A day is final when what the configuration tracks is: the untracked metric's rows keep
    # the provisional flag of its last read (days 3 and 4 back), and are never read again.
    final = {
        (r["account_id"], str(r["engagement_date"])): r["is_final"]
        for r in marts["twitter_engagement__by_account_day"]
    }
    assert final == {
        (account_id, day(back)): back >= 3
        for account_id in {r["account_id"] for r in rows}
        for back in range(1, DAYS + 1)
    }
    assert {
        str(r["engagement_date"])
        for r in rows
        if r["engagement_type"] == ENGAGEMENT_ONLY and not r["is_final"]
    } >= {day(3), day(4)}
    assert {
        (str(r["engagement_date"]), r["is_final"]) for r in marts["twitter_engagement__by_day"]
    } == {(day(back), back >= 3) for back in range(1, DAYS + 1)}
    assert {r["stream"] for r in rows} == {"historical_engagement_wide"}
    assert {(r["engagement_type"], r["is_tracked"]) for r in rows} == {
        *((m, True) for m in [*METRICS, POST_ONLY]),
        (ENGAGEMENT_ONLY, False),
    }


def test_the_demo_summary_reads_the_post_analytics_marts(switch, tmp_path, capsys):
    expected = model_counts(switch.sandbox, TWEETS, ["impressions", "engagements"], DAYS)
    series = demo.summary(switch.tmp / "marts.duckdb", tmp_path / "engagement.png")
    assert series is not None
    days = sorted({key[2] for key in expected})
    assert series.day == days
    for metric in ("impressions", "engagements"):
        assert getattr(series, metric) == [
            sum(c for (_, _, d, m), c in expected.items() if d == each and m == metric)
            for each in days
        ]
    assert "@sandbox_brand" in capsys.readouterr().out


def test_the_demo_says_what_a_run_reads_from_the_stored_state(switch):
    after_engagement_api, after_post_analytics = switch.states
    post = "Running the pipeline on Post analytics (api: post_analytics, 20 metrics): "
    assert demo.first_step("", "post_analytics") == f"{post}first run, the configured period"
    assert demo.first_step(after_engagement_api, "post_analytics") == (
        f"{post}the stored coverage is another API's, so this run reads the whole period again"
    )
    assert demo.first_step(after_post_analytics, "post_analytics") == (
        "Running the pipeline again on Post analytics (api: post_analytics, 20 metrics): "
        "incremental from Meltano's stored coverage"
    )
    assert demo.first_step(after_post_analytics, "engagement_api").startswith(
        "Running the pipeline on the Engagement API (api: engagement_api, 17 metrics): the "
        "stored coverage is another API's"
    )
    account = switch.sandbox.accounts[0].id
    span = f"account {account}: {TWEETS} tweets x {len(METRICS) + 1} metrics over"
    assert demo.describe_state(after_engagement_api) == (
        f"{span} {day(DAYS)} to {day(1)} (the Engagement API)"
    )
    assert demo.describe_state(after_post_analytics) == (
        f"{span} {day(DAYS)} to {day(1)} (Post analytics)"
    )


def test_make_demo_api_reaches_the_tap(switch, project_copy: MeltanoProject):
    """``make demo API=...`` runs the demo with ``--api``; the demo hands it to the tap through
    Meltano's demo environment (``TAP_TWITTER_ENGAGEMENT_API``)."""
    for args, api in (([], "engagement_api"), (["API=post_analytics"], "post_analytics")):
        dry = subprocess.run(
            ["make", "--no-print-directory", "-n", "demo", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert dry.stdout.splitlines()[-1] == f".venv/bin/python -m scripts.demo --api {api}"
    env = demo.meltano_env(switch.sandbox.tap_config_accounts(), "post_analytics")
    dumped = project_copy.run("invoke", "--dump=config", "tap-twitter-engagement", env=env)
    assert dumped.returncode == 0, dumped.stderr[-3000:]
    config = json.loads(dumped.stdout)
    assert (config["api"], config["api_url"]) == ("post_analytics", f"{switch.sandbox.base_url}/")
    with pytest.raises(SystemExit) as refused:
        demo.main(["--api", "likes"])
    assert refused.value.code == 2  # argparse's usage error, before any sandbox starts
