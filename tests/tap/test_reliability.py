"""Reliability against the sandbox's faults: retries, rate limits, resume, failure, pacing."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from tap_twitter_engagement.client import refused_ids
from tap_twitter_engagement.errors import TapHTTPError
from tests.helpers import (
    by_key,
    expected_records,
    kill_after,
    midnight,
    parse_messages,
    run_sync,
    run_sync_until_error,
    tap_process,
)
from twitter_engagement_sandbox import Sandbox

DAILY = ["tweet.id", "engagement.type", "engagement.day"]
ROOT = Path(__file__).resolve().parents[2]
FAST = {"retry_wait_seconds": 0.01, "rate_limit_wait_seconds": 0.2}


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _config(sandbox, ids, metrics, days, **extra):
    return sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=metrics,
        days_back_to_start_from=days,
        **FAST,
        **extra,
    )


def _expected(sandbox, ids, metrics, days, now):
    today = midnight(now)
    return expected_records(sandbox, ids, metrics, today - timedelta(days=days), today, DAILY)


@pytest.mark.parametrize("kind", ["500", "502", "503", "reset", "truncate", "garbage", "stall"])
def test_transient_failures_are_retried_with_warnings(sandbox, now, caplog, kind):
    if kind == "stall":
        # A stalled answer outlives the test; keep it away from the shared sandbox's log.
        sandbox = Sandbox(
            seed=7,
            tweets=150,
            anchor=sandbox.model.anchor,
            revision_hours=0,
            rate_limit_per_second=0,
        ).start()
    sandbox.faults.stall_seconds = 2.0
    sandbox.inject(kind, count=2, route="insights/historical")
    ids = sandbox.model.owned_ids()[:3]
    with caplog.at_level(logging.WARNING):
        result = run_sync(_config(sandbox, ids, ["impressions"], 5, request_timeout=1))
    assert by_key(result.records) == by_key(_expected(sandbox, ids, ["impressions"], 5, now))
    faults = [r.fault for r in sandbox.requests("insights/historical")]
    if kind == "stall":  # a stalled request is logged only when its late answer goes out
        assert faults.count(None) == 1
    else:
        assert faults == [kind, kind, None]
    retries = [r for r in caplog.records if r.getMessage().startswith("Retrying ")]
    assert len(retries) == 2
    assert {r.levelname for r in retries} == {"WARNING"}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    if kind == "stall":
        sandbox.stop()


@pytest.mark.parametrize("header", ["per-minute", "rate-limit", "retry-after", "none"])
def test_429_waits_for_the_named_reset_then_retries(sandbox, now, caplog, header):
    sandbox.faults.burst_429_header = header
    sandbox.faults.burst_429_seconds = 0.2
    sandbox.inject("429", count=2, route="insights/historical")
    ids = sandbox.model.owned_ids()[:2]
    with caplog.at_level(logging.WARNING):
        result = run_sync(_config(sandbox, ids, ["favorites"], 3))
    assert by_key(result.records) == by_key(_expected(sandbox, ids, ["favorites"], 3, now))
    statuses = [r.status for r in sandbox.requests("insights/historical")]
    assert statuses == [429, 429, 200]
    waits = [
        float(r.getMessage().split(" in ")[1].split(" s ")[0])
        for r in caplog.records
        if r.getMessage().startswith("Retrying ")
    ]
    assert len(waits) == 2
    if header == "none":
        assert waits == [0.2, 0.2]  # rate_limit_wait_seconds


@pytest.mark.parametrize(
    ("api_path", "message"),
    [
        (
            "/nope",
            "POST /nope/insights/engagement/historical does not exist (404). Check api_url and "
            "timeline_api_url.",
        ),
    ],
)
def test_client_errors_are_not_retried(sandbox, now, api_path, message):
    config = _config(sandbox, sandbox.model.owned_ids()[:1], ["favorites"], 2)
    config["api_url"] = sandbox.base_url + api_path
    result, error = run_sync_until_error(config)
    assert isinstance(error, TapHTTPError)
    assert str(error) == message
    # The account's user, then one attempt of the request that does not exist.
    assert [r.route for r in sandbox.requests()] == ["2/users/me", "unknown"]
    assert result.records == []


def test_retry_budget_exhausted_fails_clearly_and_state_covers_only_delivered(sandbox, now):
    ids = sandbox.model.owned_ids()[:30]  # 2 batches per window
    sandbox.faults.outage_after = 4  # window 1 (2 requests) completes, window 2 fails midway
    # Sequential, so "the first 4 requests succeed" means GET /2/users/me, window 1 and window
    # 2's first batch.
    config = _config(sandbox, ids, ["impressions"], 60, max_retries=2, max_concurrent_requests=1)
    result, error = run_sync_until_error(config)
    assert isinstance(error, TapHTTPError)
    assert str(error).startswith(
        "Gave up on POST /insights/engagement/historical after 3 "
        "attempts: HTTP 503 from POST /insights/engagement/historical."
    )
    today = midnight(now)
    first_window_last_day = (today - timedelta(days=60) + timedelta(days=27)).date().isoformat()
    assert result.bookmark() == first_window_last_day
    delivered = {r["engagement_date"] for r in result.records}
    expected = [
        r
        for r in _expected(sandbox, ids, ["impressions"], 60, now)
        if r["engagement_date"] <= first_window_last_day
    ]
    assert by_key(
        [r for r in result.records if r["engagement_date"] <= first_window_last_day]
    ) == by_key(expected)
    assert max(delivered) > first_window_last_day  # window 2's first batch was written...
    # ...but the state does not claim it: a resume re-reads window 2 whole.
    sandbox.reset()
    resumed = run_sync(config, state=result.final_state)
    merged = {**by_key(result.records), **by_key(resumed.records)}
    assert merged == by_key(_expected(sandbox, ids, ["impressions"], 60, now))


def test_fault_matrix_100_tweets_90_days_exact(sandbox, now):
    faults = sandbox.faults
    faults.fail_rate, faults.reset_rate, faults.truncate_rate = 0.2, 0.05, 0.05
    faults.burst_429_every, faults.burst_429_length, faults.burst_429_seconds = 7, 2, 0.3
    faults.latency_ms = 20
    for kind in ("reset", "truncate", "garbage"):  # at least one of each, whatever the dice say
        sandbox.inject(kind, route="insights/historical")
    ids = sandbox.model.owned_ids(exclude_retweets=False)[:100]
    metrics = ["impressions", "engagements", "video_views"]
    result = run_sync(_config(sandbox, ids, metrics, 90, max_retries=12))
    assert by_key(result.records) == by_key(_expected(sandbox, ids, metrics, 90, now))
    log = sandbox.requests("insights/historical")
    assert len([r for r in log if r.status == 200 and r.fault is None]) == 16
    assert {"429-burst", "reset", "truncate"} <= {r.fault for r in log}
    assert {500, 502, 503} & {r.status for r in log}


# ---------------------------------------------------------------------------- resume after kill
@pytest.mark.parametrize("kill_after_records", [1, 150, 420, 700])
def test_sigkill_and_resume_equals_an_uninterrupted_run(sandbox, tmp_path, kill_after_records):
    sandbox.faults.latency_ms = 60
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=sandbox.model.owned_ids()[:4],
        engagement_types=["impressions", "favorites"],
        days_back_to_start_from=100,
        lookback_days=0,
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    full = parse_messages(tap_process(config_path).communicate(timeout=120)[0])
    delivered = kill_after(tap_process(config_path), '"type":"RECORD"', kill_after_records)
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(delivered.states[-1] if delivered.states else {}))
    resumed = parse_messages(
        tap_process(state_path=state_path, config_path=config_path).communicate(timeout=120)[0]
    )
    upserted = {**by_key(delivered.records), **by_key(resumed.records)}
    assert upserted == by_key(full.records)
    assert resumed.final_state == full.final_state


# ---------------------------------------------------------------------------- pure pieces
def test_refused_ids_from_every_message_form():
    assert refused_ids(
        [
            "Forbidden to access tweets for author id 99: 11, 12",
            "Forbidden to access tweets for author id 98: 13",
        ]
    ) == ["11", "12", "13"]
    assert refused_ids(["Forbidden to access tweets: 21,22"]) == ["21", "22"]
    assert refused_ids(["Forbidden to access tweets"]) == []
