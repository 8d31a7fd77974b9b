"""The plan command: what a sync would do, with no Engagement API call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _plan(config: dict, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_twitter_engagement.dry_run", "--config", str(path)],
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
    assert lines[0] == "Plan for historical_engagement (no Engagement API call was made):"
    assert lines[1] == "  tweets: 60 (recent mode); distinct authors (billed handles): 1"
    assert lines[3] == "  batches of <= 25 ids: 3; windows of <= 28 days: 3"
    assert lines[4] == "  requests: 9 (= 3 x 3, the minimum)"
    assert lines[6] == "  time: 9 requests at 30/min: at least 16 s"
    assert lines[7:] == [
        "Other streams, if selected:",
        "  engagement_totals: 1 to 2 requests (tweets younger and older than 90 days are asked "
        "apart)",
        "  engagement_28hr: 3 requests",
        "  tweets: 0 v2 lookups",
    ]
    assert not sandbox.requests("insights/historical")


def test_manual_mode_counts_distinct_authors(sandbox, tmp_path):
    ids = [*sandbox.model.owned_ids()[:30], *sandbox.model.ids_of_kind("other_author")[:2]]
    result = _plan(sandbox.tap_config(tweet_selection="manual", tweet_ids=ids), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "  tweets: 32 (manual mode); distinct authors (billed handles): 2" in result.stdout
    assert "  requests: 2 (= 2 x 1, the minimum)" in result.stdout
    assert not sandbox.requests("insights/historical")


def test_bad_config_is_one_line(sandbox, tmp_path):
    result = _plan(sandbox.tap_config(group_by=[]), tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "Invalid setting group_by: the list is empty; use one "
        "or more of tweet.id, engagement.type, engagement.day, "
        "engagement.hour"
    )
