"""The plan command: what a sync would do, with no call to the API it reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_sync

ROOT = Path(__file__).resolve().parents[2]


def _plan(
    config: dict, tmp_path: Path, state: dict | None = None
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    extra = []
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        extra = ["--state", str(tmp_path / "state.json")]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_twitter_engagement.commands.plan",
            "--config",
            str(path),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_recent_mode_plan(sandbox, tmp_path):
    result = _plan(
        sandbox.tap_config(
            number_of_tweets=60, days_back_to_start_from=57, max_requests_per_minute=30
        ),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Plan for historical_engagement (api engagement_api; no call to the Engagement API "
        "was made):"
    )
    assert lines[3:] == [
        "  account @sandbox_brand: 60 tweets (recent mode)",
        "    groups of tweets that need the same days: 1; their windows of <= 28 days: 3; "
        "batches of <= 25 ids per window",
        "    requests: 9: 9 backfill (days never delivered), 0 incremental (lookback and new days)",
        "  accounts: 1; billed handles (the accounts and the distinct authors of their tweets): 1",
        "  time: 9 requests at 30/min (paced at 95% of it): at least 17 s (0 min 17 s) for the "
        "whole run",
        "Other streams, if selected:",
        "  engagement_totals: 1 to 2 requests (tweets younger and older than 90 days are asked "
        "apart)",
        "  engagement_28hr: 3 requests",
        "  tweets: 0 v2 lookups",
        "  accounts: no more requests (GET /2/users/me, read once per account)",
    ]
    assert not sandbox.requests("insights/historical")


def test_post_analytics_plan_counts_its_requests_and_time_at_the_apps_budget(sandbox, tmp_path):
    result = _plan(
        sandbox.tap_config(api="post_analytics", number_of_tweets=60, days_back_to_start_from=57),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Plan for historical_engagement (api post_analytics; no call to Post analytics was made):"
    )
    assert lines[2] == "  metrics: 20; group_by: tweet.id, engagement.type, engagement.day"
    assert lines[3:] == [
        "  account @sandbox_brand: 60 tweets (recent mode)",
        "    groups of tweets that need the same days: 1; their windows of <= 28 days: 3; "
        "batches of <= 100 ids per window",
        "    requests: 3: 3 backfill (days never delivered), 0 incremental (lookback and new days)",
        "  accounts: 1",
        "  time: 3 requests at 300/15 min per app (paced at 95% of it): at least 7 s (0 min 07 s) "
        "for the whole run",
        "Other streams, if selected:",
        "  engagement_totals, engagement_28hr: not served by Post analytics (refused)",
        "  tweets: 0 v2 lookups",
        "  accounts: no more requests (GET /2/users/me, read once per account)",
    ]
    assert not sandbox.requests("2/tweets/analytics")


def test_manual_mode_counts_distinct_authors(sandbox, tmp_path):
    ids = [*sandbox.model.owned_ids()[:30], *sandbox.model.ids_of_kind("other_author")[:2]]
    result = _plan(sandbox.tap_config(tweet_selection="manual", tweet_ids=ids), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  account @sandbox_brand: 32 tweets (manual mode)" in result.stdout
    assert "    requests: 2: 2 backfill (days never delivered), 0 incremental" in result.stdout
    assert (
        "  accounts: 1; billed handles (the accounts and the distinct authors of their tweets): 2"
    ) in result.stdout
    assert not sandbox.requests("insights/historical")


def test_bad_config_is_one_line(sandbox, tmp_path):
    result = _plan(sandbox.tap_config(group_by=[]), tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "Invalid setting group_by: the list is empty; use one "
        "or more of tweet.id, engagement.type, engagement.day, "
        "engagement.hour"
    )


def test_plan_from_a_state_shows_backfill_and_incremental_apart(sandbox, tmp_path):
    own = sandbox.model.owned_ids()
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=own[:30],
        engagement_types=["impressions"],
        days_back_to_start_from=60,
    )
    first = run_sync(config)
    sandbox.reset()
    # Meltano's `state get` wraps the Singer state; both forms are read.
    result = _plan({**config, "tweet_ids": own[:33]}, tmp_path, {"singer_state": first.final_state})
    assert result.returncode == 0, result.stderr
    assert (
        "    groups of tweets that need the same days: 2; their windows of <= 28 days: 4; "
        "batches of <= 25 ids per window"
    ) in result.stdout
    assert (
        "    requests: 5: 3 backfill (days never delivered), 2 incremental (lookback and new days)"
    ) in result.stdout
    assert not sandbox.requests("insights/historical")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        pytest.param([], "Missing option '--config'.", id="no config"),
        pytest.param(
            ["--confg", "c.json"], "No such option '--confg'. Did you mean '--config'?", id="typo"
        ),
        pytest.param(
            ["--config", "c.json", "s3cr3tVALUE42"],
            "Got an unexpected argument (not shown: it may be a secret).",
            id="stray value",
        ),
    ],
)
def test_a_bad_command_line_is_one_line_that_shows_no_value(args, line):
    result = subprocess.run(
        [sys.executable, "-m", "tap_twitter_engagement.commands.plan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"ERROR {line} See tap-twitter-engagement-plan --help."]
