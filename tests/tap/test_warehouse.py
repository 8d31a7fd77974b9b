"""What keeps a warehouse right over weeks of scheduled runs: provisional days, narrowed
configurations said out loud, the history floor as a setting, and the reasons behind counts."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from tests.helpers import (
    KNOWN_SECRETS,
    Target,
    by_key,
    expected_records,
    midnight,
    run_sync,
    run_sync_until_error,
)
from twitter_engagement_sandbox import Behaviour, Sandbox

METRICS = ["impressions", "favorites"]
NARROWING = "This configuration no longer reads what earlier runs delivered"


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _config(sandbox, **settings: Any) -> dict[str, Any]:
    base = {
        "tweet_selection": "manual",
        "tweet_ids": sandbox.model.owned_ids()[:6],
        "engagement_types": METRICS,
        "days_back_to_start_from": 20,
        "lookback_days": 3,
    }
    return sandbox.tap_config(**{**base, **settings})


def _lines(caplog, level: int, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]


# ---------------------------------------------------------------------------- provisional days


@pytest.mark.parametrize("lookback", [0, 3, 10])
def test_a_day_is_final_once_it_is_past_the_lookback(sandbox, now, lookback):
    result = run_sync(_config(sandbox, lookback_days=lookback, days_back_to_end_at=0))
    today = midnight(now).date()
    provisional = {r["engagement_date"] for r in result.records if not r["is_final"]}
    # Yesterday is the last complete day; it and the lookback_days before it, and today.
    assert provisional == {(today - timedelta(days=d)).isoformat() for d in range(lookback + 2)}


def test_totals_over_a_period_are_final_when_its_last_day_is(sandbox, now):
    old = _config(sandbox, group_by=["engagement.type"], days_back_to_end_at=10)
    recent = _config(sandbox, group_by=["engagement.type"])
    assert {r["is_final"] for r in run_sync(old).records} == {True}
    sandbox.reset()
    assert {r["is_final"] for r in run_sync(recent).records} == {False}


# ---------------------------------------------------------------------------- narrowing


def _two_runs(sandbox, first: dict[str, Any], second: dict[str, Any], caplog) -> Target:
    target = Target()
    one = run_sync(first)
    target.load(one)
    sandbox.reset()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        two = run_sync(second, state=one.final_state)
    target.load(two)
    return target


def test_a_tweet_removed_from_the_list_is_one_warning_and_its_rows_stay(sandbox, now, caplog):
    own = sandbox.model.owned_ids()
    target = _two_runs(sandbox, _config(sandbox), _config(sandbox, tweet_ids=own[:4]), caplog)
    assert _lines(caplog, logging.WARNING, NARROWING) == [
        f"{NARROWING}: 2 tweet(s) (first: {min(own[4:6], key=int)}). Their rows stay in the "
        "target as last "
        "written (targets never delete rows); the tracked stream says what this configuration "
        "tracks (README: Narrowing)."
    ]
    # The promise: rows once extracted stay (20 days x 2 metrics of the 2 removed tweets too).
    assert len(next(iter(target.tables.values()))) == 6 * 20 * 2


def test_a_metric_removed_warns_once(sandbox, now, caplog):
    narrower = _config(sandbox, engagement_types=["impressions"])
    _two_runs(sandbox, _config(sandbox), narrower, caplog)
    assert _lines(caplog, logging.WARNING, NARROWING) == [
        f"{NARROWING}: metric(s) favorites. Their rows stay in the target as last written "
        "(targets never delete rows); the tracked stream says what this configuration tracks "
        "(README: Narrowing)."
    ]
    state = run_sync(narrower).final_state  # a run whose state only knows the narrower config
    sandbox.reset()
    caplog.clear()
    run_sync(narrower, state=state)
    assert not _lines(caplog, logging.WARNING, NARROWING)


def test_a_later_start_warns_but_a_relative_start_moving_on_does_not(sandbox, now, caplog):
    later = _config(sandbox, days_back_to_start_from=15)
    _two_runs(sandbox, _config(sandbox), later, caplog)
    assert _lines(caplog, logging.WARNING, NARROWING) == [
        f"{NARROWING}: 5 day(s) before the configured range. Their rows stay in the target as "
        "last written (targets never delete rows); the tracked stream says what this "
        "configuration tracks (README: Narrowing)."
    ]
    # The same settings a day later: the range moved on by itself, which is no narrowing.
    first = run_sync(later)
    sandbox.reset()
    caplog.clear()
    with time_machine.travel(now + timedelta(days=1), tick=True):
        run_sync(later, state=first.final_state)
    assert not _lines(caplog, logging.WARNING, NARROWING)


def test_fewer_recent_tweets_warn_but_tweets_rolling_out_are_one_info_line(sandbox, now, caplog):
    recent = {"tweet_selection": "recent", "tweet_ids": None}
    ten, five = (
        _config(sandbox, number_of_tweets=10, **recent),
        _config(sandbox, number_of_tweets=5, **recent),
    )
    _two_runs(sandbox, ten, five, caplog)
    (line,) = _lines(caplog, logging.WARNING, NARROWING)
    assert line.startswith(f"{NARROWING}: 5 tweet(s) (first: ")
    # The same setting as the last run, and tweets no longer among the most recent: a roll-out.
    state = run_sync(ten).final_state
    partition = state["bookmarks"]["historical_engagement"]["partitions"][0]
    partition["tracking"]["number_of_tweets"] = 5  # as if run 1 had asked for 5 already
    sandbox.reset()
    caplog.clear()
    with caplog.at_level(logging.INFO):
        run_sync(five, state=state)
    assert not _lines(caplog, logging.WARNING, NARROWING)
    assert _lines(caplog, logging.INFO, "rolled out") == [
        "5 tweet(s) rolled out of the 5 most recent since the last run; their rows stay in the "
        "target as last written (the tracked stream says what is tracked)"
    ]


def test_tracked_follows_the_latest_configuration(sandbox, now):
    own = sandbox.model.owned_ids()
    first = run_sync(_config(sandbox))
    sandbox.reset()
    with time_machine.travel(now + timedelta(hours=1), tick=True):  # the next run
        second = run_sync(_config(sandbox, tweet_ids=own[:2], engagement_types=["favorites"]))
    tracked = Target()
    tracked.load(first, "tracked")
    tracked.load(second, "tracked")
    ((_, rows),) = tracked.tables.items()
    latest = max(r["snapshot_at"] for r in rows.values())
    now_tracked = {
        (r["tweet_id"], r["engagement_type"]) for r in rows.values() if r["snapshot_at"] == latest
    }
    assert now_tracked == {(t, "favorites") for t in own[:2]}
    assert len(rows) == 6 * 2  # every pair ever tracked, each with the last run that did


# ---------------------------------------------------------------------------- history floor


def test_a_range_past_the_history_floor_is_clipped_with_one_warning(sandbox, now, caplog):
    config = _config(sandbox, days_back_to_start_from=400, days_back_to_end_at=360)
    with caplog.at_level(logging.WARNING):
        result = run_sync(config)
    today = midnight(now)
    first = (today - timedelta(days=364)).date()
    assert _lines(caplog, logging.WARNING, "max_history_days") == [
        f"The configured range starts on {(today - timedelta(days=400)).date()}, 36 day(s) before "
        f"the earliest day asked for, {first} (max_history_days 365): those days are not read. "
        "Raise max_history_days if your contract serves older data (X's API reference: since "
        "2014-09-01)."
    ]
    assert min(r["engagement_date"] for r in result.records) == first.isoformat()


@pytest.fixture
def since_2014(sandbox):
    """A sandbox whose /historical serves anything since 2014-09-01 (the API reference)."""
    with Sandbox(
        seed=7,
        tweets=150,
        anchor=sandbox.model.anchor,
        revision_hours=0,
        rate_limit_per_second=0,
        behaviour=Behaviour(history_floor="2014"),
    ) as other:
        KNOWN_SECRETS.update(other.credentials.values())
        yield other


def test_max_history_days_reads_what_an_older_api_serves(since_2014, now):
    ids = since_2014.model.ids_of_kind("older_than_90_days")[:3]
    config = _config(since_2014, tweet_ids=ids, max_history_days=800, days_back_to_start_from=700)
    result = run_sync(config)
    today = midnight(now)
    expected = expected_records(
        since_2014, ids, METRICS, today - timedelta(days=700), today, list(DAILY)
    )
    assert by_key(result.records) == by_key(expected)


DAILY = ("tweet.id", "engagement.type", "engagement.day")


def test_an_api_refusing_the_window_for_its_age_names_the_setting(sandbox, now):
    config = _config(sandbox, max_history_days=800, days_back_to_start_from=380)
    _, error = run_sync_until_error(config)
    assert str(error) == (
        "The API refused the window as older than it serves (400 from POST "
        "/insights/engagement/historical: Historical data is only available for the most recent "
        "365 days.). Lower max_history_days (now 800) to the history your contract serves."
    )


# ---------------------------------------------------------------------------- say why


def test_fewer_tweets_than_asked_say_why(sandbox, now, caplog):
    with caplog.at_level(logging.INFO):
        result = run_sync(
            sandbox.tap_config(number_of_tweets=3200, days_back_to_start_from=2),
            streams=["tracked"],
        )
    found = len({r["tweet_id"] for r in result.by_stream["tracked"]})
    assert found == len(sandbox.model.owned_ids()) < 3200
    assert _lines(caplog, logging.INFO, "number_of_tweets asks for") == [
        f"{found} of the 3200 tweets number_of_tweets asks for: the account's timeline ended "
        "there. X lists at most the 3,200 most recent tweets, and never deleted, withheld or "
        "protected ones; this configuration leaves out retweets (exclude_retweets)."
    ]


def test_progress_counts_the_records_written(sandbox, now, caplog):
    config = _config(sandbox, group_by=["engagement.type", "engagement.day"])
    with caplog.at_level(logging.INFO):
        result = run_sync(config)
    (done,) = _lines(caplog, logging.INFO, "Done: ")
    assert done.startswith(f"Done: 1/1 requests, {len(result.records)} records, ")
    assert len(result.records) == 2 * 20  # not the 6 x 2 x 20 buckets read
