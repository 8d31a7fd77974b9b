"""Incremental runs under configuration changes: an upserting target ends equal to one full run.

Each sequence runs the tap against the sandbox with the state of the run before, upserts every
run's records in memory on the key properties its SCHEMA announced, and compares the rows of the
final shape with one uninterrupted run of the final configuration; the second run's request
count is compared with the minimum worked out here, by hand, for that change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from tests.helpers import (
    KNOWN_SECRETS,
    SyncResult,
    Target,
    catalog_selecting,
    kill_after,
    parse_messages,
    partitioned,
    run_raw,
    run_sync,
    tap_process,
    unstamped,
)
from twitter_engagement_sandbox import Sandbox

METRICS = ["impressions", "favorites"]
DAYS = 60
FULL_WINDOWS = math.ceil(DAYS / 28)  # 3


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _requests(sandbox) -> int:
    return len([r for r in sandbox.requests("insights/historical") if r.status == 200])


def _config(sandbox, **settings: Any) -> dict[str, Any]:
    base = {
        "tweet_selection": "manual",
        "tweet_ids": sandbox.model.owned_ids()[:30],
        "engagement_types": METRICS,
        "days_back_to_start_from": DAYS,
        "days_back_to_end_at": 1,
        "lookback_days": 3,
        "max_concurrent_requests": 2,
    }
    return sandbox.tap_config(**{**base, **settings})


def _sequence(sandbox, configs: list[dict[str, Any]]) -> tuple[Target, list[int], SyncResult]:
    """Run the configs in order, each with the state of the one before; return the target,
    each run's successful historical requests, and the last run's messages."""
    target, counts, state = Target(), [], None
    result = SyncResult()
    for config in configs:
        sandbox.reset()
        result = run_sync(config, state=state)
        counts.append(_requests(sandbox))
        target.load(result)
        state = result.final_state
    return target, counts, result


def _loaded(result: SyncResult) -> Target:
    target = Target()
    target.load(result)
    return target


def _assert_equals_a_full_run(sandbox, target: Target, config: dict[str, Any]) -> SyncResult:
    """The target's table of the final shape holds exactly one full run's rows."""
    sandbox.reset()
    full = run_sync(config)
    ((shape, expected),) = _loaded(full).tables.items()
    assert len(expected) == len(full.records)
    assert target.tables[shape] == expected
    return full


def test_a_run_that_adds_no_state_still_ends_on_its_state(sandbox, now):
    """The SDK writes a STATE only when it changed, and the second run's last records
    (``tracked``) change none: the run must still end on a STATE, or a target that emits only a
    STATE no record followed (target-jsonl) hands Meltano nothing and the next run starts from
    an older state."""
    config = _config(sandbox, tweet_ids=sandbox.model.owned_ids()[:2], days_back_to_start_from=5)
    first = run_sync(config)
    messages = run_raw(config, state=first.final_state)
    records = [m["stream"] for m in messages if m["type"] == "RECORD"]
    assert records[-1] == "tracked"
    assert messages[-1] == {"type": "STATE", "value": first.final_state}


# ---------------------------------------------------------------------------- sequences


def test_ids_added_in_manual_mode_are_backfilled(sandbox, now):
    own = sandbox.model.owned_ids()
    target, counts, _ = _sequence(
        sandbox, [_config(sandbox, tweet_ids=own[:30]), _config(sandbox, tweet_ids=own[:33])]
    )
    assert counts == [2 * FULL_WINDOWS, 2 * 1 + 1 * FULL_WINDOWS]
    _assert_equals_a_full_run(sandbox, target, _config(sandbox, tweet_ids=own[:33]))


def test_raising_number_of_tweets_backfills_the_extra_tweets(sandbox, now):
    recent = {"tweet_selection": "recent", "tweet_ids": None}
    target, counts, _ = _sequence(
        sandbox,
        [
            _config(sandbox, **recent, number_of_tweets=30),
            _config(sandbox, **recent, number_of_tweets=40),
        ],
    )
    assert counts == [2 * FULL_WINDOWS, 2 * 1 + 1 * FULL_WINDOWS]
    _assert_equals_a_full_run(sandbox, target, _config(sandbox, **recent, number_of_tweets=40))


def test_an_added_metric_is_backfilled(sandbox, now):
    final = _config(sandbox, engagement_types=["impressions", "favorites", "url_clicks"])
    target, counts, _ = _sequence(sandbox, [_config(sandbox), final])
    # the new metric needs the whole range for every tweet: batches x windows
    assert counts == [2 * FULL_WINDOWS, 2 * FULL_WINDOWS]
    asked = [r.body["engagement_types"] for r in sandbox.requests("insights/historical")]
    assert asked.count(["url_clicks"]) == 4  # windows 1 and 2 ask only the new metric
    _assert_equals_a_full_run(sandbox, target, final)


def test_a_metric_removed_and_re_added_reads_only_the_lookback(sandbox, now):
    configs = [
        _config(sandbox),
        _config(sandbox, engagement_types=["impressions"]),
        _config(sandbox),
    ]
    target, counts, _ = _sequence(sandbox, configs)
    assert counts == [2 * FULL_WINDOWS, 2, 2]
    _assert_equals_a_full_run(sandbox, target, _config(sandbox))


def test_an_earlier_start_reads_the_days_before_and_the_lookback(sandbox, now):
    target, counts, _ = _sequence(
        sandbox, [_config(sandbox, days_back_to_start_from=40), _config(sandbox)]
    )
    # 20 earlier days (one window) and the 4 lookback days (another), for 2 batches
    assert counts == [2 * 2, 2 * 2]
    _assert_equals_a_full_run(sandbox, target, _config(sandbox))


def test_a_later_end_reads_from_the_lookback_on(sandbox, now):
    target, counts, _ = _sequence(
        sandbox, [_config(sandbox, days_back_to_end_at=10), _config(sandbox)]
    )
    assert counts == [2 * 2, 2 * 1]  # 51 days, then 3 lookback + 9 new days: one window
    _assert_equals_a_full_run(sandbox, target, _config(sandbox))


def test_long_to_wide_reads_the_range_in_the_new_shape(sandbox, now):
    final = _config(sandbox, metrics_layout="wide")
    target, counts, last = _sequence(sandbox, [_config(sandbox), final])
    assert counts == [2 * FULL_WINDOWS, 2 * FULL_WINDOWS]
    # The new shape has its own stream, table and state: nothing of the other is touched.
    assert last.schemas[0]["stream"] == "historical_engagement_wide"
    assert last.schemas[0]["key_properties"] == ["tweet_id", "engagement_date"]
    assert set(last.final_state["bookmarks"]) >= {
        "historical_engagement",
        "historical_engagement_wide",
    }
    _assert_equals_a_full_run(sandbox, target, final)


def test_a_reordered_group_by_of_the_same_stream_reads_the_range_again(sandbox, now, caplog):
    reordered = _config(sandbox, group_by=["engagement.day", "tweet.id", "engagement.type"])
    target, counts, last = _sequence(sandbox, [_config(sandbox), reordered])
    assert counts == [2 * FULL_WINDOWS, 2 * FULL_WINDOWS]
    assert "metrics_layout 'long' and api 'engagement_api', not for group_by" in caplog.text
    assert last.schemas[0]["stream"] == "historical_engagement"
    _assert_equals_a_full_run(sandbox, target, reordered)


@pytest.mark.parametrize(
    "group_by",
    [
        ["engagement.type", "engagement.day"],
        ["tweet.id", "engagement.day"],
        ["engagement.day"],
        ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
    ],
)
def test_group_by_changed_both_ways(sandbox, now, group_by):
    """Each shape writes its own stream with its own state: switching back reads only the
    default stream's lookback, and both tables are exact."""
    other = _config(sandbox, group_by=group_by)
    target, counts, _ = _sequence(sandbox, [_config(sandbox), other, _config(sandbox)])
    assert counts == [2 * FULL_WINDOWS, 2 * FULL_WINDOWS, 2]
    _assert_equals_a_full_run(sandbox, target, _config(sandbox))
    ((shape, expected),) = _loaded(run_sync(other)).tables.items()
    assert target.tables[shape] == expected


def test_without_tweet_id_added_ids_reread_every_day_for_every_tweet(sandbox, now, caplog):
    own = sandbox.model.owned_ids()
    type_day = {"group_by": ["engagement.type", "engagement.day"]}
    first = _config(sandbox, tweet_ids=own[:30], **type_day)
    second = _config(sandbox, tweet_ids=own[:33], **type_day)
    target, counts, _ = _sequence(sandbox, [first, second, second])
    assert counts == [2 * FULL_WINDOWS, 2 * FULL_WINDOWS, 2 * 1]
    assert "each row sums the selected tweets" in caplog.text
    _assert_equals_a_full_run(sandbox, target, second)


def test_a_grouping_without_day_totals_the_whole_period_every_run(sandbox, now):
    config = _config(sandbox, group_by=["engagement.type"])
    target, counts, last = _sequence(sandbox, [config, config])
    assert counts == [2 * FULL_WINDOWS] * 2
    assert "coverage" not in last.partition()
    full = _assert_equals_a_full_run(sandbox, target, config)
    model = sandbox.model
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    impressions = model.expected_total(
        config["tweet_ids"], ["impressions"], start, start + timedelta(days=DAYS)
    )
    assert (
        next(r["engagement_count"] for r in full.records if r["engagement_type"] == "impressions")
        == impressions
    )


def test_a_range_ending_inside_what_was_delivered_reads_nothing(sandbox, now):
    today = now.date()
    narrower = _config(
        sandbox,
        start_date_mode="specific",
        start_date=(today - timedelta(days=DAYS)).isoformat(),
        end_date_mode="specific",
        end_date=(today - timedelta(days=20)).isoformat(),
    )
    target, counts, _ = _sequence(sandbox, [_config(sandbox), narrower])
    assert counts == [2 * FULL_WINDOWS, 0]
    sandbox.reset()
    full = run_sync(narrower)
    ((shape, rows),) = _loaded(full).tables.items()
    held = target.tables[shape]
    assert {k: held[k] for k in rows} == rows


def test_a_state_in_the_future_is_not_trusted(sandbox, now, caplog):
    first = run_sync(_config(sandbox))
    state = json.loads(
        json.dumps(first.final_state).replace(str(now.date() - timedelta(days=1)), "2099-01-01")
    )
    sandbox.reset()
    run_sync(_config(sandbox), state=state)
    assert _requests(sandbox) == 2 * FULL_WINDOWS
    assert "after the last complete UTC day" in caplog.text


def test_a_single_bookmark_state_is_read_once_in_full(sandbox, now, caplog):
    legacy = partitioned(
        sandbox.model.user.id,
        {
            "replication_key": "engagement_date",
            "replication_key_value": (now.date() - timedelta(days=1)).isoformat(),
        },
    )
    result = run_sync(_config(sandbox), state=legacy)
    assert _requests(sandbox) == 2 * FULL_WINDOWS
    assert "single bookmark" in caplog.text
    coverage = result.partition()["coverage"]
    assert coverage["spans"][0]["days"] == [
        [
            (now.date() - timedelta(days=DAYS)).isoformat(),
            (now.date() - timedelta(days=1)).isoformat(),
        ]
    ]


def test_a_catalog_from_another_group_by_gets_the_configuration_keys(sandbox, now, caplog):
    stale = catalog_selecting(_config(sandbox), ["historical_engagement"])
    config = _config(sandbox, group_by=["engagement.type", "engagement.day"])
    result = run_sync(config, catalog=stale)
    schema = result.schemas[0]
    assert schema["stream"] == "historical_engagement_by_type_day"  # renamed, still selected
    assert schema["key_properties"] == ["account_id", "engagement_type", "engagement_date"]
    assert set(schema["schema"]["properties"]) == {
        "account_id",
        "engagement_type",
        "engagement_date",
        "engagement_count",
        "is_final",
        "read_at",
    }
    assert all(set(r) == set(schema["schema"]["properties"]) for r in result.records)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("discovered under other settings" in w for w in warnings)
    assert len({(r["engagement_type"], r["engagement_date"]) for r in result.records}) == len(
        result.records
    )


# ---------------------------------------------------------------------------- kill -9 mid-backfill


def test_kill_in_the_middle_of_a_backfill_then_resume(sandbox, tmp_path):
    own = sandbox.model.owned_ids()
    first = _config(sandbox, tweet_ids=own[:3], max_concurrent_requests=1)
    second = _config(
        sandbox, tweet_ids=own[:6], max_concurrent_requests=1, days_back_to_start_from=100
    )
    target = Target()
    run1 = run_sync(first)
    target.load(run1)
    sandbox.faults.latency_ms = 80
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(second))
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(run1.final_state))
    # killed after two windows of the backfill were delivered
    partial = kill_after(tap_process(config_path, state_path), '"type":"STATE"', 2)
    target.load(partial)
    state_path.write_text(json.dumps(partial.states[-1]))
    resumed = parse_messages(tap_process(config_path, state_path).communicate(timeout=120)[0])
    target.load(resumed)
    sandbox.faults.latency_ms = 0
    full = run_sync(second)
    ((shape, rows),) = _loaded(full).tables.items()
    assert target.tables[shape] == rows
    assert resumed.final_state == full.final_state


def test_coverage_in_state_is_the_same_at_any_concurrency(sandbox, now):
    own = sandbox.model.owned_ids()
    first = run_sync(_config(sandbox, tweet_ids=own[:20]))
    runs = []
    for workers in (1, 3, 8):
        sandbox.reset()
        runs.append(
            run_sync(
                _config(sandbox, tweet_ids=own[:60], max_concurrent_requests=workers),
                state=first.final_state,
            )
        )
    assert runs[0].states == runs[1].states == runs[2].states
    assert unstamped(runs[0].records) == unstamped(runs[1].records) == unstamped(runs[2].records)


# ------------------------------------------------------------------ a lookback that matters


@pytest.fixture(scope="module")
def revising() -> Iterator[Sandbox]:
    """A sandbox whose counts keep growing for 72 hours after their hour, as the API's do."""
    with Sandbox(seed=11, tweets=60, revision_hours=72, rate_limit_per_second=0) as sandbox:
        KNOWN_SECRETS.update(sandbox.credentials.values())
        yield sandbox


@pytest.mark.parametrize(("lookback_days", "final"), [(3, True), (2, True), (1, False), (0, False)])
def test_daily_runs_end_on_the_final_counts_when_the_lookback_covers_the_horizon(
    revising, lookback_days, final
):
    """Six daily runs, the clock moved a day between them (the tap's and the sandbox's)."""
    revising.reset()
    config = revising.tap_config(
        tweet_selection="manual",
        tweet_ids=revising.model.owned_ids()[:8],
        engagement_types=METRICS,
        days_back_to_start_from=20,
        lookback_days=lookback_days,
    )
    first = revising.model.anchor + timedelta(hours=13, minutes=37)
    target, state = Target(), None
    for day in range(6):
        with time_machine.travel(first + timedelta(days=day), tick=True):
            result = run_sync(config, state=state)
        target.load(result)
        state = result.final_state
    last = first + timedelta(days=5)
    with time_machine.travel(last, tick=True):
        full = run_sync(config)
    ((shape, expected),) = _loaded(full).tables.items()
    held = {k: target.tables[shape][k] for k in expected}
    assert (held == expected) is final
    # what a full run reads at the end is itself final for every day out of the horizon
    model = revising.model
    settled = (last - timedelta(hours=72)).date()
    for record in full.records:
        day_ = date.fromisoformat(record["engagement_date"])
        if day_ < settled:
            start = datetime.combine(day_, datetime.min.time(), UTC)
            (row,) = model.expected(
                [record["tweet_id"]],
                [record["engagement_type"]],
                start,
                start + timedelta(days=1),
                ["engagement.type"],
            )
            assert record["engagement_count"] == row.count
    stale = [k for k in expected if held[k] != expected[k]]
    if not final:  # the stale rows are exactly the days read while still being revised
        assert stale
        assert all(
            date.fromisoformat(expected[k]["engagement_date"]) < last.date() - timedelta(days=1)
            for k in stale
        )
