"""The tap's command line: --about, --discover, --test, a sync, --config ENV, config errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tap_twitter_engagement.metrics import HISTORICAL_METRICS
from tap_twitter_engagement.settings import CONFIG_SCHEMA
from tap_twitter_engagement.tap import TapTwitterEngagement
from tests.helpers import by_key, expected_records, midnight, parse_messages

ROOT = Path(__file__).resolve().parents[2]


def tap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tap_twitter_engagement", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _config_file(tmp_path: Path, config: dict) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def test_about_lists_every_setting():
    result = tap("--about", "--format", "json")
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "tap-twitter-engagement"
    assert set(CONFIG_SCHEMA["properties"]) <= set(about["settings"]["properties"])
    for secret in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
        assert about["settings"]["properties"][secret]["secret"] is True
    for name in (
        "historical_engagement",
        "engagement_totals",
        "engagement_28hr",
        "tweets",
        "skipped_tweets",
        "tap-twitter-engagement-auth",
        "tap-twitter-engagement-plan",
    ):
        assert name in about["description"]
    markdown = tap("--about", "--format", "markdown")
    assert markdown.returncode == 0
    assert markdown.stdout.startswith("# `tap-twitter-engagement`\n")
    for name in CONFIG_SCHEMA["properties"]:
        assert f"| {name} " in markdown.stdout


def test_discover_prints_the_catalog_for_the_configured_grouping(tmp_path, sandbox):
    config = sandbox.tap_config(group_by=["engagement.type", "engagement.hour"])
    result = tap("--config", _config_file(tmp_path, config), "--discover")
    assert result.returncode == 0, result.stderr
    streams = {s["tap_stream_id"]: s for s in json.loads(result.stdout)["streams"]}
    assert set(streams) == {
        "historical_engagement_by_type_hour",  # the shape's own stream (and table)
        "engagement_totals",
        "engagement_28hr",
        "tweets",
        "skipped_tweets",
        "accounts",
        "tracked",
    }
    stream = streams["historical_engagement_by_type_hour"]
    assert stream["tap_stream_id"] == "historical_engagement_by_type_hour"
    assert stream["key_properties"] == [
        "account_id",
        "engagement_type",
        "engagement_hour",
        "period_start",
        "period_end",
    ]
    assert stream.get("replication_key") is None


def test_sync_with_the_sandbox_config_emits_schema_records_state(tmp_path, sandbox):
    config = sandbox.tap_config(duration="single_date", number_of_tweets=10)
    result = tap("--config", _config_file(tmp_path, config))
    assert result.returncode == 0, result.stderr
    messages = parse_messages(result.stdout)
    today = midnight(datetime.now(UTC))
    expected = expected_records(
        sandbox,
        sandbox.model.owned_ids()[:10],
        list(HISTORICAL_METRICS),
        today - timedelta(days=1),
        today,
        ["tweet.id", "engagement.type", "engagement.day"],
    )
    assert [s["stream"] for s in messages.schemas] == ["historical_engagement", "tracked"]
    assert by_key(messages.records) == by_key(expected)
    assert messages.bookmark() == (today - timedelta(days=1)).date().isoformat()


def test_config_from_environment(sandbox):
    config = sandbox.tap_config()
    env = {f"TAP_TWITTER_ENGAGEMENT_{k.upper()}": v for k, v in config.items()}
    env["TAP_TWITTER_ENGAGEMENT_NUMBER_OF_TWEETS"] = "2"
    env["TAP_TWITTER_ENGAGEMENT_ENGAGEMENT_TYPES"] = '["favorites"]'
    env["TAP_TWITTER_ENGAGEMENT_DURATION"] = "single_date"
    result = tap("--config", "ENV", env=env)
    assert result.returncode == 0, result.stderr
    records = parse_messages(result.stdout).records
    assert {r["tweet_id"] for r in records} == set(sandbox.model.owned_ids()[:2])
    assert {r["engagement_type"] for r in records} == {"favorites"}


def test_test_flag_syncs_one_record(tmp_path, sandbox):
    result = tap("--config", _config_file(tmp_path, sandbox.tap_config()), "--test")
    assert result.returncode == 0, result.stderr
    assert len(parse_messages(result.stdout).records) == 1


@pytest.mark.parametrize("mode", [[], ["--discover"], ["--test"]])
def test_config_error_is_one_line_without_traceback_or_secret(tmp_path, sandbox, mode):
    config = sandbox.tap_config(engagement_types=["impressions", "quote_tweets"])
    result = tap(
        "--config",
        _config_file(tmp_path, config),
        *mode,
        env={"TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "WARNING"},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].endswith(
        "Invalid setting engagement_types: quote_tweets is not served by the Engagement API's "
        "/historical (api engagement_api); only by Post analytics' GET /2/tweets/analytics (api "
        "post_analytics) and by the engagement_totals stream (the Engagement API's /totals). "
        "Remove it, or change api"
    )
    for value in sandbox.credentials.values():
        assert value not in result.stderr


def test_wrong_credentials_give_the_401_line(tmp_path, sandbox):
    config = sandbox.tap_config(consumer_secret="not-the-secret")
    result = tap(
        "--config",
        _config_file(tmp_path, config),
        env={"TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "WARNING"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "The API refused the credentials (401: Unauthorized). Check consumer_key, "
        "consumer_secret, access_token and access_token_secret, and that the app is approved "
        "for the Engagement API."
    ) in result.stderr
    for value in sandbox.credentials.values():
        assert value not in result.stderr


def test_sample_config_is_valid():
    config = json.loads((ROOT / "sample_config.json").read_text())
    tap_ = TapTwitterEngagement(config=config, parse_env_config=False)
    assert [s.name for s in tap_.streams.values()] == [
        "accounts",
        "engagement_28hr",
        "engagement_totals",
        "historical_engagement",
        "tracked",
        "tweets",
        "skipped_tweets",  # last: it reports what the other streams met
    ]


def test_debug_logging_never_shows_credentials(tmp_path, sandbox):
    config = sandbox.tap_config(
        number_of_tweets=2, engagement_types=["favorites"], duration="single_date"
    )
    result = tap(
        "--config", _config_file(tmp_path, config), env={"TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "DEBUG"}
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG" in result.stderr
    for value in sandbox.credentials.values():
        assert value not in result.stderr
        assert value not in result.stdout
