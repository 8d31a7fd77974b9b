"""Fault injection and rate limits produce the failures they promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth1

from twitter_engagement_sandbox import Sandbox


def _body(sandbox: Sandbox) -> dict:
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "tweet_ids": sandbox.model.owned_ids()[:5],
        "engagement_types": ["impressions"],
        "start": (end - timedelta(days=7)).date().isoformat(),
        "end": end.date().isoformat(),
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type", "engagement.day"]}},
    }


def _historical(api: requests.Session, sandbox: Sandbox, **kwargs) -> requests.Response:
    return api.post(
        f"{sandbox.base_url}/insights/engagement/historical", json=_body(sandbox), **kwargs
    )


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("500", 500, "internal server error"),
        ("502", 502, "Bad Gateway"),
        ("503", 503, "Service Unavailable"),
    ],
)
def test_injected_server_errors(api, sandbox, kind, status, message):
    sandbox.inject(kind, count=2, route="insights/historical")
    for _ in range(2):
        response = _historical(api, sandbox)
        assert (response.status_code, response.json()) == (status, {"errors": [message]})
    assert _historical(api, sandbox).status_code == 200
    assert [r.fault for r in sandbox.requests("insights/historical")] == [kind, kind, None]


def test_fail_rate_is_a_fraction_of_requests(api, sandbox):
    sandbox.faults.fail_rate = 0.5
    statuses = [_historical(api, sandbox).status_code for _ in range(60)]
    failures = sum(s >= 500 for s in statuses)
    assert set(statuses) <= {200, 500, 502, 503}
    assert 10 <= failures <= 50
    sandbox.faults.fail_rate = 1.0
    assert all(_historical(api, sandbox).status_code >= 500 for _ in range(5))


def test_connection_reset_mid_body(api, sandbox):
    sandbox.inject("reset")
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="Connection reset by peer"):
        _historical(api, sandbox)
    assert _historical(api, sandbox).status_code == 200


def test_truncated_and_garbage_bodies(api, sandbox):
    complete = _historical(api, sandbox)
    sandbox.inject("truncate")
    truncated = _historical(api, sandbox)
    assert truncated.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.text)
    assert 0 < len(truncated.text) < len(complete.text)
    assert complete.text.startswith(truncated.text)
    sandbox.inject("garbage")
    garbage = _historical(api, sandbox)
    assert garbage.status_code == 200
    assert garbage.text == "<html><body>Service temporarily unavailable</body></html>"


def test_stall_trips_a_client_timeout(api, sandbox):
    sandbox.faults.stall_seconds = 1.5
    sandbox.inject("stall")
    with pytest.raises(requests.exceptions.ReadTimeout):
        _historical(api, sandbox, timeout=0.3)


@pytest.mark.parametrize(
    ("style", "header"),
    [
        ("per-minute", "x-per-minute-reset"),
        ("rate-limit", "x-rate-limit-reset"),
        ("retry-after", "Retry-After"),
        ("none", None),
    ],
)
def test_429_bursts_name_their_reset(api, sandbox, style, header):
    sandbox.faults.burst_429_every = 4
    sandbox.faults.burst_429_length = 2
    sandbox.faults.burst_429_header = style
    statuses = []
    for _ in range(8):
        response = _historical(api, sandbox)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json() == {"errors": ["Exceeded rate limit"]}
            resets = {"x-per-minute-reset", "x-rate-limit-reset", "Retry-After"}
            present = {h for h in resets if h in response.headers}
            assert present == ({header} if header else set())
    assert statuses == [200, 200, 200, 429, 429, 200, 200, 429]


def test_per_minute_rate_limit_headers_and_429(api, sandbox):
    sandbox.set_rate_limit(3)
    seen = []
    for _ in range(4):
        response = _historical(api, sandbox)
        seen.append((response.status_code, response.headers["x-per-minute-remaining"]))
    assert seen == [(200, "2"), (200, "1"), (200, "0"), (429, "0")]
    reset = int(response.headers["x-per-minute-reset"])
    assert 0 < reset - time.time() <= 61
    # Limits are per endpoint: /totals still has its budget.
    totals = api.post(
        f"{sandbox.base_url}/insights/engagement/totals",
        json={
            "tweet_ids": sandbox.model.owned_ids()[:1],
            "engagement_types": ["favorites"],
            "groupings": {"g": {"group_by": ["tweet.id"]}},
        },
    )
    assert totals.status_code == 200


def test_latency_is_added(api, sandbox):
    sandbox.faults.latency_ms = 300
    started = time.monotonic()
    _historical(api, sandbox)
    assert time.monotonic() - started >= 0.3  # a lower bound only: a slow machine cannot fail it


def test_unknown_fault_kind():
    with Sandbox() as sandbox, pytest.raises(ValueError, match="unknown fault 'boom'"):
        sandbox.inject("boom")


def test_console_script_prints_url_and_credentials_and_serves(tmp_path: Path):
    config_path = tmp_path / "sandbox.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twitter_engagement_sandbox.cli",
            "--port",
            "0",
            "--seed",
            "9",
            "--config-out",
            str(config_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl+C"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line.rstrip("\n"))
        config = json.loads(config_path.read_text())
        assert lines[0] == f"Engagement API sandbox listening on {config['api_url']}"
        for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            assert f"  {key}: {config[key]}" in lines
        auth = OAuth1(
            config["consumer_key"],
            config["consumer_secret"],
            config["access_token"],
            config["access_token_secret"],
        )
        me = requests.get(f"{config['timeline_api_url']}/2/users/me", auth=auth, timeout=10)
        user_id = me.json()["data"]["id"]
        tweets = requests.get(
            f"{config['timeline_api_url']}/2/users/{user_id}/tweets",
            params={"max_results": "5"},
            auth=auth,
            timeout=10,
        ).json()
        ids = [t["id"] for t in tweets["data"]]
        end = datetime.now(UTC).date()
        response = requests.post(
            f"{config['api_url']}/insights/engagement/historical",
            json={
                "tweet_ids": ids,
                "engagement_types": ["impressions"],
                "start": (end - timedelta(days=3)).isoformat(),
                "end": end.isoformat(),
                "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
            },
            auth=auth,
            timeout=10,
        )
        assert response.status_code == 200
        assert sorted(response.json()["g"]) == sorted(ids)
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
