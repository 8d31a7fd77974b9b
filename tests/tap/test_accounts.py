"""Many accounts under one app: a partition and a state each, exact rows each, one shared rate
budget, and a failed account that stops nobody else, against a sandbox with three accounts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tap_twitter_engagement.errors import AccountsFailed
from tests.helpers import (
    KNOWN_SECRETS,
    ROOT,
    SyncResult,
    by_key,
    expected_records,
    midnight,
    parse_messages,
    pin_flow,
    run_sync,
    run_sync_until_error,
    unstamped,
)
from twitter_engagement_sandbox import Sandbox

METRICS = ["impressions", "favorites"]
DAILY = ["tweet.id", "engagement.type", "engagement.day"]
DAYS = 35  # two windows
TWEETS = 10
HANDLES = ["sandbox_brand", "sandbox_brand_2", "sandbox_brand_3"]


@pytest.fixture(scope="module")
def three() -> Iterator[Sandbox]:
    """Three accounts under one app, counts final at once, no per-second budget."""
    with Sandbox(seed=17, tweets=40, accounts=3, revision_hours=0, rate_limit_per_second=0) as sb:
        KNOWN_SECRETS.update(sb.secret_values())
        yield sb


@pytest.fixture
def now(three):
    three.reset()
    moment = three.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _config(sandbox: Sandbox, accounts: list[int] | None = None, **extra: Any) -> dict[str, Any]:
    config = sandbox.tap_config_accounts(
        number_of_tweets=TWEETS,
        engagement_types=METRICS,
        days_back_to_start_from=DAYS,
        lookback_days=3,
        **extra,
    )
    if accounts is not None:
        config["accounts"] = [config["accounts"][i] for i in accounts]
    return config


def _ids(sandbox: Sandbox, account: int) -> list[str]:
    return sandbox.model.owned_ids(account=account)[:TWEETS]


def _expected(sandbox: Sandbox, account: int, now, group_by=DAILY) -> dict[tuple, int]:
    today = midnight(now)
    return by_key(
        expected_records(
            sandbox,
            _ids(sandbox, account),
            METRICS,
            today - timedelta(days=DAYS),
            today,
            group_by,
            account=account,
        )
    )


def _of(result: SyncResult, sandbox: Sandbox, account: int, stream="historical_engagement"):
    """The records of one account (``historical_engagement``: whichever shape's stream)."""
    user_id = sandbox.accounts[account].id
    records = (
        result.records if stream == "historical_engagement" else result.by_stream.get(stream, [])
    )
    return [r for r in records if r["account_id"] == user_id]


def _failure(account: int, status_text: str = "401: Unauthorized") -> str:
    """The line of an account whose token the API refused (v2's 401 says only Unauthorized)."""
    handle = HANDLES[account]
    return (
        f"Account '{handle}' (accounts item {account + 1}): the API refused its credentials "
        f"({status_text}). Authorize it again (tap-twitter-engagement-auth --account {handle}) "
        "or remove it from accounts; if every account fails, check consumer_key and "
        "consumer_secret."
    )


def _starts(sandbox: Sandbox) -> dict[str, set[str]]:
    """The start day of every successful historical request, per tweet id."""
    starts: dict[str, set[str]] = {}
    for request in sandbox.requests("insights/historical"):
        if request.status == 200:
            for tweet_id in request.body["tweet_ids"]:
                starts.setdefault(tweet_id, set()).add(request.body["start"][:10])
    return starts


# ---------------------------------------------------------------------------- exact, per account


def test_every_account_gets_its_own_exact_rows_state_and_audience(three, now):
    streams = ["historical_engagement", "accounts", "tweets"]
    result = run_sync(_config(three), streams=streams)
    for account in range(3):
        assert by_key(_of(result, three, account)) == _expected(three, account, now)
        partition = result.partition(account_id=three.accounts[account].id)
        assert partition["replication_key_value"] == (now.date() - timedelta(days=1)).isoformat()
        (span,) = partition["coverage"]["spans"]
        assert sorted(span["tweet_ids"]) == sorted(_ids(three, account))
        assert [t["id"] for t in _of(result, three, account, "tweets")] == _ids(three, account)
    assert result.by_stream["accounts"] == [
        {
            "account_id": user.id,
            "username": user.username,
            "name": user.name,
            **three.model.user_public_metrics(user.id, now.date()),
            "snapshot_at": result.by_stream["accounts"][index]["snapshot_at"],
        }
        for index, user in enumerate(three.accounts)
    ]
    snapshot = result.by_stream["accounts"][0]["snapshot_at"]
    assert snapshot.startswith(now.strftime("%Y-%m-%dT%H:"))
    # One GET /2/users/me per account for the whole run, whatever the streams.
    assert len(three.requests("2/users/me")) == 3


@pytest.mark.parametrize(
    "group_by",
    [["engagement.type", "engagement.day"], ["engagement.type"], ["engagement.day"]],
    ids=lambda g: "+".join(x.split(".")[1] for x in g),
)
def test_groupings_without_the_tweet_key_on_the_account(three, now, group_by):
    result = run_sync(_config(three, group_by=group_by))
    schema = result.schemas[0]
    assert schema["key_properties"][0] == "account_id"
    for account in range(3):
        rows = _of(result, three, account)
        expected = _expected(three, account, now, group_by)
        if "engagement.day" not in group_by:
            today = midnight(now)
            period = {
                "period_start": (today - timedelta(days=DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "period_end": today.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            assert all(r["period_start"] == period["period_start"] for r in rows)
        assert by_key(rows) == expected
    # Totals across accounts are the sums of each account's: nothing counted twice.
    keys = [tuple(r[k] for k in schema["key_properties"]) for r in result.records]
    assert len(keys) == len(set(keys))


# ---------------------------------------------------------------------------- one account fails


def test_a_revoked_account_fails_alone_and_keeps_its_state(three, now):
    first = run_sync(_config(three))
    three.reset()
    three.revoke("sandbox_brand_2")
    result, error = run_sync_until_error(
        _config(three), state=first.final_state, streams=["historical_engagement", "accounts"]
    )
    assert isinstance(error, AccountsFailed)
    assert error.lines == [
        _failure(1),
        "1 of 3 accounts failed; 2 completed with their state. The failed accounts keep their "
        "previous state.",
    ]
    # The others completed: their lookback read, their state advanced as a full run's.
    revoked_id = three.accounts[1].id
    assert {r["account_id"] for r in result.records} == {
        three.accounts[0].id,
        three.accounts[2].id,
    }
    assert [r["username"] for r in result.by_stream["accounts"]] == [
        "sandbox_brand",
        "sandbox_brand_3",
    ]
    for account in (0, 2):
        user_id = three.accounts[account].id
        assert result.partition(account_id=user_id) == first.partition(account_id=user_id)
    # The revoked account's state is the one it had.
    assert result.partition(account_id=revoked_id) == first.partition(account_id=revoked_id)
    assert not [
        r
        for r in three.requests("insights/historical")
        if set(r.body["tweet_ids"]) & set(_ids(three, 1))
    ]


@pytest.mark.parametrize(
    ("fault", "refused"),
    [
        (
            "401",
            "its credentials (401: Your account could not be authenticated. Reason: Access "
            "token not found)",
        ),
        ("403", "its access (403: Your application id is not authorized.)"),
    ],
)
def test_an_account_refused_in_the_middle_of_a_run_keeps_what_it_delivered(
    three, now, fault, refused
):
    # A day later, the first account's first request is refused (revoked, or no longer approved).
    config = _config(three, max_concurrent_requests=1)
    first = run_sync(config)
    three.reset()
    three.inject(fault, route="insights/historical")
    later = now + timedelta(days=1)  # one new day: each account reads its lookback and it
    with time_machine.travel(later, tick=True):
        result, error = run_sync_until_error(config, state=first.final_state)
    assert isinstance(error, AccountsFailed)
    assert error.lines[0] == (
        f"Account 'sandbox_brand' (accounts item 1) @sandbox_brand: the API refused {refused}. "
        "Authorize it again (tap-twitter-engagement-auth --account sandbox_brand) or remove it "
        "from accounts; if every account fails, check consumer_key and consumer_secret."
    )
    assert _of(result, three, 0) == []
    owner = three.accounts[0].id
    assert result.partition(account_id=owner) == first.partition(account_id=owner)
    for account in (1, 2):
        user_id = three.accounts[account].id
        assert (
            result.partition(account_id=user_id)["replication_key_value"] == now.date().isoformat()
        )
        assert {r["engagement_date"] for r in _of(result, three, account)} == {
            (now.date() - timedelta(days=d)).isoformat() for d in range(5)
        }  # 3 days before the bookmark (yesterday then), through the new yesterday


def test_the_single_account_form_fails_with_the_credentials_line(three, now):
    three.revoke("sandbox_brand")
    result, error = run_sync_until_error(three.tap_config(number_of_tweets=2))
    assert isinstance(error, AccountsFailed)
    assert error.lines == [
        "The API refused the credentials (401: Unauthorized). Check consumer_key, "
        "consumer_secret, access_token and access_token_secret, and that the app is approved "
        "for the Engagement API."
    ]
    assert result.records == []


def test_a_second_token_of_the_same_handle_is_refused(three, now):
    config = _config(three, accounts=[0, 2])
    again = pin_flow(three, "sandbox_brand")  # the owner authorizes the app a second time
    config["accounts"].append(
        {
            "name": "again",
            "access_token": again["oauth_token"],
            "access_token_secret": again["oauth_token_secret"],
        }
    )
    result, error = run_sync_until_error(config)
    assert isinstance(error, AccountsFailed)
    assert error.lines[0] == (
        "Account 'again' (accounts item 3) @sandbox_brand: its token is a second one of the "
        "handle 'sandbox_brand' (accounts item 1) @sandbox_brand already lists; remove one of "
        "them from accounts."
    )
    assert by_key(_of(result, three, 0)) == _expected(three, 0, now)


# ---------------------------------------------------------------------------- change between runs


def test_an_account_added_later_is_backfilled_while_the_others_read_their_lookback(three, now):
    first = run_sync(_config(three, accounts=[0, 2]))
    three.reset()
    second = run_sync(_config(three), state=first.final_state)
    starts = _starts(three)
    today = now.date()
    lookback = {(today - timedelta(days=4)).isoformat()}  # 3 days before the bookmark
    for account in (0, 2):
        assert {d for i in _ids(three, account) for d in starts[i]} == lookback
    backfill = {(today - timedelta(days=DAYS)).isoformat(), (today - timedelta(days=7)).isoformat()}
    assert {d for i in _ids(three, 1) for d in starts[i]} == backfill
    assert by_key(_of(second, three, 1)) == _expected(three, 1, now)
    # An upserting target now holds what one full run would give.
    held = {**by_key(first.records), **by_key(second.records)}
    three.reset()
    assert held == by_key(run_sync(_config(three)).records)
    # Removing an account leaves the others' state as it was, and keeps its own.
    three.reset()
    third = run_sync(_config(three, accounts=[0, 2]), state=second.final_state)
    for account in range(3):
        user_id = three.accounts[account].id
        assert third.partition(account_id=user_id) == second.partition(account_id=user_id)


def test_accounts_may_select_their_tweets_each_their_way(three, now):
    config = _config(three)
    manual_ids = _ids(three, 1)[:3]
    config["accounts"][1] |= {"tweet_selection": "manual", "tweet_ids": manual_ids}
    config["accounts"][2] |= {"number_of_tweets": 4}
    result = run_sync(config)
    today = midnight(now)
    for account, ids in ((0, _ids(three, 0)), (1, manual_ids), (2, _ids(three, 2)[:4])):
        expected = expected_records(
            three, ids, METRICS, today - timedelta(days=DAYS), today, DAILY, account=account
        )
        assert by_key(_of(result, three, account)) == by_key(expected)


def test_a_state_from_before_accounts_is_read_once_in_full(three, now, caplog):
    single = three.tap_config(
        number_of_tweets=TWEETS, engagement_types=METRICS, days_back_to_start_from=DAYS
    )
    first = run_sync(single)
    partition = first.partition()
    legacy = {
        "bookmarks": {
            "historical_engagement": {k: v for k, v in partition.items() if k != "context"}
        }
    }
    three.reset()
    again = run_sync(single, state=legacy)
    assert "written before per-account state" in caplog.text
    assert by_key(again.records) == _expected(three, 0, now)
    assert again.final_state["bookmarks"]["historical_engagement"] == {"partitions": [partition]}


# ---------------------------------------------------------------------------- one budget


def test_records_and_state_are_the_same_at_any_concurrency(three, now):
    runs = []
    for workers in (1, 8):
        three.reset()
        runs.append(run_sync(_config(three, max_concurrent_requests=workers)))
    assert unstamped(runs[0].records) == unstamped(runs[1].records)
    assert runs[0].states == runs[1].states


def test_three_accounts_share_one_pacer_without_a_429():
    with Sandbox(seed=19, tweets=60, accounts=3, rate_limit_per_second=2, revision_hours=0) as sb:
        KNOWN_SECRETS.update(sb.secret_values())
        moment = sb.model.anchor + timedelta(hours=13, minutes=37)
        config = sb.tap_config_accounts(
            tweet_selection="manual",
            engagement_types=["impressions"],
            days_back_to_start_from=40,  # 2 windows
            max_concurrent_requests=8,
        )
        for account, entry in enumerate(config["accounts"]):
            entry["tweet_ids"] = sb.model.owned_ids(account=account, exclude_retweets=False)[:50]
        with time_machine.travel(moment, tick=True):
            result = run_sync(config)
        log = sb.requests("insights/historical")
        assert [r.status for r in log] == [200] * 12  # 3 accounts x 2 batches x 2 windows
        today = midnight(moment)
        for account, entry in enumerate(config["accounts"]):
            expected = expected_records(
                sb,
                entry["tweet_ids"],
                ["impressions"],
                today - timedelta(days=40),
                today,
                DAILY,
                account=account,
            )
            assert by_key(_of(result, sb, account)) == by_key(expected)


# ---------------------------------------------------------------------------- the command line


def _command(module: str, config: dict[str, Any], tmp: Path) -> subprocess.CompletedProcess[str]:
    """``python -m module --config <config>``, output captured."""
    path = tmp / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", module, "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture
def real_time(three):
    """For tests of a tap process: it signs with the real clock, so the sandbox keeps it too."""
    three.reset()
    return datetime.now(UTC)


def test_the_command_line_reports_each_failed_account_and_exits_1(three, real_time, tmp_path):
    three.revoke("sandbox_brand_3")
    result = _command("tap_twitter_engagement", _config(three), tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [line.split(" | ")[-1] for line in result.stderr.strip().splitlines()[-2:]] == [
        _failure(2),
        "1 of 3 accounts failed; 2 completed with their state. The failed accounts keep their "
        "previous state.",
    ]
    # Logged once when it failed, once in the summary: never per stream or request.
    assert result.stderr.count("Account 'sandbox_brand_3'") == 2
    for value in three.secret_values():
        assert value not in result.stdout
        assert value not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {m["record"]["account_id"] for m in records if m["type"] == "RECORD"} == {
        three.accounts[0].id,
        three.accounts[1].id,
    }


def test_the_plan_shows_each_account_and_the_whole_run(three, real_time, tmp_path):
    config = _config(three, max_requests_per_minute=60)
    config["accounts"][1] |= {
        "tweet_selection": "manual",
        "tweet_ids": [*_ids(three, 1)[:3], *three.model.ids_of_kind("other_author", 1)[:1]],
    }
    three.revoke("sandbox_brand_3")
    result = _command("tap_twitter_engagement.commands.plan", config, tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[3:13] == [
        "  account 'sandbox_brand' (accounts item 1) @sandbox_brand: 10 tweets (recent mode)",
        "    groups of tweets that need the same days: 1; their windows of <= 28 days: 2; "
        "batches of <= 25 ids per window",
        "    requests: 2: 2 backfill (days never delivered), 0 incremental (lookback and new days)",
        "  account 'sandbox_brand_2' (accounts item 2) @sandbox_brand_2: 4 tweets (manual mode)",
        "    groups of tweets that need the same days: 1; their windows of <= 28 days: 2; "
        "batches of <= 25 ids per window",
        "    requests: 2: 2 backfill (days never delivered), 0 incremental (lookback and new days)",
        # the accounts, and the other author of the listed tweet
        "  accounts: 2; billed handles (the accounts and the distinct authors of their tweets): 3",
        "  time: 4 requests at 60/min (paced at 95% of it): at least 4 s (0 min 04 s) for the "
        "whole run",
        "Other streams, if selected:",
        "  engagement_totals: 1 to 2 requests (tweets younger and older than 90 days are asked "
        "apart)",
    ]
    assert result.stderr.strip().splitlines()[-2].endswith(_failure(2))
    assert not three.requests("insights/historical")
    for value in three.secret_values():
        assert value not in result.stdout + result.stderr


def test_accounts_from_the_environment_as_meltano_passes_them(three, real_time, tmp_path):
    config = _config(three, accounts=[0, 1])
    env = {
        "TAP_TWITTER_ENGAGEMENT_ACCOUNTS": json.dumps(config.pop("accounts")),
        **{f"TAP_TWITTER_ENGAGEMENT_{k.upper()}": _env_value(v) for k, v in config.items()},
    }
    result = subprocess.run(
        [sys.executable, "-m", "tap_twitter_engagement", "--config", "ENV"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = parse_messages(result.stdout).records
    for account in (0, 1):
        user_id = three.accounts[account].id
        rows = [r for r in records if r["account_id"] == user_id]
        assert by_key(rows) == _expected(three, account, real_time)


def _env_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def test_no_state_partition_for_an_account_that_never_ran(three, now):
    three.revoke("sandbox_brand")
    result, error = run_sync_until_error(_config(three, accounts=[0, 1]))
    assert isinstance(error, AccountsFailed)
    assert result.partition(account_id=three.accounts[0].id) == {}
    assert by_key(_of(result, three, 1)) == _expected(three, 1, now)
