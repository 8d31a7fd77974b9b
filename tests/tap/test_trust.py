"""Trust nothing the API sends: coverage only for what arrived, nothing kept that was not asked.

The sandbox answers with hostile 200s on request (``Sandbox.tamper``); each test then runs the
tap and checks the data itself: what an upserting target holds after the runs, what the state
says was delivered, and the one line a run ends with when a body cannot be used.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tap_twitter_engagement.coverage import Coverage
from tests.helpers import (
    SyncResult,
    Target,
    midnight,
    run_sync,
    run_sync_until_error,
    tap_process,
)
from twitter_engagement_sandbox.v2 import page_token

METRICS = ["impressions", "favorites"]
DAYS = 40
HISTORICAL = "insights/historical"
LIMIT = 9223372036854775807
NOT_A_COUNT = f"is not a non-negative whole number up to {LIMIT}"


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _old(sandbox) -> list[str]:
    """Tweets older than every window here: every bucket of theirs must arrive (the buckets
    before a tweet existed are zeros the tap fills in; see the test for those)."""
    return sandbox.model.ids_of_kind("older_than_90_days")


def _config(sandbox, **settings: Any) -> dict[str, Any]:
    base = {
        "tweet_selection": "manual",
        "tweet_ids": _old(sandbox)[:30],
        "engagement_types": METRICS,
        "days_back_to_start_from": DAYS,
        "days_back_to_end_at": 1,
        "lookback_days": 3,
        "max_concurrent_requests": 2,
        "retry_wait_seconds": 0.01,
    }
    return sandbox.tap_config(**{**base, **settings})


def _sequence(sandbox, runs: list[tuple[dict[str, Any], Any]]) -> tuple[Target, SyncResult]:
    """Run each config with the state of the run before; before each run the sandbox is reset
    and the run's tamper (None, or a function of the sandbox) set."""
    target, state, result = Target(), None, SyncResult()
    for config, tamper in runs:
        sandbox.reset()
        if tamper is not None:
            tamper(sandbox)
        result = run_sync(config, state=state)
        target.load(result)
        state = result.final_state
    return target, result


def _full_run(sandbox, config: dict[str, Any]) -> dict[tuple, dict]:
    sandbox.reset()
    full = run_sync(config)
    target = Target()
    target.load(full)
    ((table,),) = [list(target.tables.values())]
    return table


def _covered(result: SyncResult) -> Coverage:
    return Coverage.decode(result.partition()["coverage"])


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# ---------------------------------------------------------------------------- data loss


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("drop-tweet", 2 * 2 * DAYS),  # the first tweet of each of 2 batches, 2 metrics
        ("drop-metric", 2 * DAYS),  # one metric of one tweet per batch, in each window
        ("drop-day", 2 * 2),  # one day of one (tweet, metric) per response
        ("drop-grouping", 30 * 2 * DAYS),
    ],
)
def test_what_did_not_arrive_is_not_covered_and_is_read_next_run(
    sandbox, now, caplog, kind, missing
):
    config = _config(sandbox)
    with caplog.at_level(logging.WARNING):
        target, first = _sequence(sandbox, [(config, lambda sb: sb.tamper(kind, route=HISTORICAL))])
    (line,) = [w for w in _warnings(caplog) if "were not in the responses" in w]
    assert line.startswith(
        f"POST /insights/engagement/historical: {missing} requested bucket(s) were not in the "
        "responses, and their tweets were not named as unavailable (first: tweet "
    )
    assert line.endswith(
        "Their rows were not written and they are not recorded as delivered: the next run "
        "reads them again."
    )
    table = next(iter(target.tables.values()))
    full = _full_run(sandbox, config)
    assert len(table) == len(full) - missing
    covered = 0 if kind == "drop-grouping" else _covered_units(_covered(first))
    assert covered == len(full) - missing  # the state claims exactly what arrived
    sandbox.reset()
    second = run_sync(config, state=first.final_state)
    target.load(second)
    assert next(iter(target.tables.values())) == full


def _covered_units(coverage: Coverage) -> int:
    return sum(
        (last - first).days + 1 for spans in coverage.spans.values() for first, last in spans
    )


def test_the_issue_s_proxy_drops_the_first_tweet_of_each_batch_and_nothing_is_lost(sandbox, now):
    """30 tweets x 40 days x 2 metrics; the first tweet of each batch never arrives in run 1,
    run 2 is clean: 0 of 2,400 rows missing (the issue's run lost 144 for good)."""
    config = _config(sandbox)
    target, _ = _sequence(
        sandbox, [(config, lambda sb: sb.tamper("drop-tweet", route=HISTORICAL)), (config, None)]
    )
    full = _full_run(sandbox, config)
    assert len(full) == 30 * DAYS * 2
    assert next(iter(target.tables.values())) == full


@pytest.mark.parametrize(
    "refusal",
    [
        {"kind": "unavailable"},
        {"kind": "refuse", "status": 400},
        {"kind": "refuse", "status": 403},
    ],
    ids=["unavailable_tweet_ids", "400-unavailable", "403-forbidden"],
)
def test_a_tweet_refused_for_a_while_is_read_when_it_is_served_again(sandbox, now, refusal):
    """Run 2 moves the start 30 days earlier while tweet X is refused; run 3, X served again,
    reads X's 30 new days (the issue lost 6,053 impressions there)."""
    x = _old(sandbox)[3]
    earlier = _config(sandbox, days_back_to_start_from=DAYS + 30)
    options = {k: v for k, v in refusal.items() if k != "kind"}

    def refuse(sb):
        sb.tamper(refusal["kind"], route=HISTORICAL, tweet_id=x, **options)

    target, second_to_last = _sequence(sandbox, [(_config(sandbox), None), (earlier, refuse)])
    covered = _covered(second_to_last)
    today = midnight(now).date()
    for metric in METRICS:  # X keeps only what run 1 delivered
        assert covered.get(x, metric)[0][0] == today - timedelta(days=DAYS)
    sandbox.reset()
    third = run_sync(earlier, state=second_to_last.final_state)
    target.load(third)
    full = _full_run(sandbox, earlier)
    assert next(iter(target.tables.values())) == full
    assert {r["tweet_id"] for r in third.records} >= {x}
    assert _covered(third).get(x, "impressions") == (
        (today - timedelta(days=DAYS + 30), today - timedelta(days=1)),
    )


def test_days_before_a_tweet_existed_are_zeros_whether_sent_or_not(sandbox, now, caplog):
    born = {t.id: t.created_at for t in map(sandbox.model.tweet, sandbox.model.owned_ids())}
    young = [i for i, at in born.items() if timedelta(days=5) < now - at < timedelta(days=30)][:3]
    assert len(young) == 3

    def leave_out_days_before_birth(body, request):
        for tweet_id, metrics in body["canonical"].items():
            for buckets in metrics.values():
                for day in [d for d in buckets if d < born[tweet_id].date().isoformat()]:
                    del buckets[day]
        return body

    config = _config(sandbox, tweet_ids=young)
    full = _full_run(sandbox, config)
    sandbox.reset()
    sandbox.tamper(leave_out_days_before_birth, route=HISTORICAL)
    with caplog.at_level(logging.WARNING):
        result = run_sync(config)
    assert {r.tamper for r in sandbox.requests(HISTORICAL)} == {"leave_out_days_before_birth"}
    assert not _warnings(caplog)
    target = Target()
    target.load(result)
    assert next(iter(target.tables.values())) == full
    assert sum(r["engagement_count"] == 0 for r in result.records) > 2 * 2 * 3


# ---------------------------------------------------------------------------- wrong data


@pytest.mark.parametrize(
    ("kind", "dropped"),
    [
        ("extra-day", "day(s) outside the requested window"),
        ("extra-tweet", "tweet id(s) not asked for"),
        ("extra-metric", "metric(s) not asked for"),
    ],
)
def test_nothing_outside_the_request_becomes_a_record(sandbox, now, caplog, kind, dropped):
    config = _config(sandbox, max_concurrent_requests=1)
    with caplog.at_level(logging.WARNING):
        target, result = _sequence(
            sandbox, [(config, lambda sb: sb.tamper(kind, route=HISTORICAL))]
        )
    (line,) = [w for w in _warnings(caplog) if "dropped what no request asked for" in w]
    assert line.startswith(
        f"POST /insights/engagement/historical: dropped what no request asked for: 4 {dropped} "
        "(first: "
    )
    assert line.endswith("None of it became a record.")
    # Nothing was overwritten (the issue's injected day put 777 over a true 0), nothing added.
    assert next(iter(target.tables.values())) == _full_run(sandbox, config)
    assert _covered_units(_covered(result)) == 30 * 2 * DAYS


def test_an_hour_outside_the_window_is_dropped_and_a_missing_hour_read_again(sandbox, now):
    config = _config(
        sandbox,
        tweet_ids=_old(sandbox)[:26],  # two batches: one answer per tamper
        days_back_to_start_from=3,
        group_by=["tweet.id", "engagement.type", "engagement.day", "engagement.hour"],
    )
    target, first = _sequence(
        sandbox,
        [
            (
                config,
                lambda sb: (
                    sb.tamper("extra-hour", route=HISTORICAL, count=1),
                    sb.tamper("drop-hour", route=HISTORICAL, count=1),
                ),
            )
        ],
    )
    full = _full_run(sandbox, config)
    assert len(next(iter(target.tables.values()))) == len(full) - 1
    sandbox.reset()
    target.load(run_sync(config, state=first.final_state))
    assert next(iter(target.tables.values())) == full


def test_a_tweet_named_unavailable_but_served_is_not_emitted(sandbox, now):
    config = _config(sandbox, tweet_ids=_old(sandbox)[:5], max_concurrent_requests=1)
    sandbox.tamper("unavailable-and-served", route=HISTORICAL, count=1)
    result = run_sync(config, streams=["historical_engagement", "skipped_tweets"])
    first = _old(sandbox)[0]
    assert first not in {r["tweet_id"] for r in result.records}
    assert [(s["tweet_id"], s["reason"]) for s in result.by_stream["skipped_tweets"]] == [
        (first, "unavailable")
    ]
    assert _covered(result).get(first, "impressions") == ()


@pytest.mark.parametrize(
    "group_by",
    [["engagement.type", "engagement.day"], ["tweet.id", "engagement.day"], ["engagement.type"]],
)
def test_a_row_that_sums_a_missing_bucket_is_withheld(sandbox, now, group_by):
    """A row summing several buckets is written only when all of them arrived; the next run
    reads it whole (the validity and closure rules of coverage)."""
    config = _config(sandbox, tweet_ids=_old(sandbox)[:5], group_by=group_by)
    target, first = _sequence(
        sandbox, [(config, lambda sb: sb.tamper("drop-day", route=HISTORICAL, count=1))]
    )
    table = next(iter(target.tables.values()))
    full = _full_run(sandbox, config)
    assert len(table) == len(full) - 1
    for key, row in table.items():
        assert full[key] == row  # no partial sum was written
    if "engagement.day" in group_by:
        sandbox.reset()
        target.load(run_sync(config, state=first.final_state))
        assert next(iter(target.tables.values())) == full


def test_the_wide_layout_withholds_a_row_missing_a_metric(sandbox, now):
    config = _config(sandbox, tweet_ids=_old(sandbox)[:5], metrics_layout="wide")
    target, first = _sequence(
        sandbox, [(config, lambda sb: sb.tamper("drop-day", route=HISTORICAL, count=1))]
    )
    full = _full_run(sandbox, config)
    table = next(iter(target.tables.values()))
    assert len(table) == len(full) - 1
    assert all(full[key] == row for key, row in table.items())
    sandbox.reset()
    target.load(run_sync(config, state=first.final_state))
    assert next(iter(target.tables.values())) == full


# ---------------------------------------------------------------------------- unusable bodies


def _give_up(sandbox, config, streams=None) -> str:
    _, error = run_sync_until_error(config, streams=streams)
    assert error is not None
    return str(error)


def _line(where: str, problem: str, attempts: int = 2) -> str:
    return (
        f"Gave up on {where} after {attempts} attempts: unusable body from {where}: {problem}. "
        "The API answers with a body the tap cannot use; nothing of it was written, and the "
        "state holds what was delivered: run again later, and report it if it persists."
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("-5", "'-5'"),
        ("abc", "'abc'"),
        (2.5, "2.5"),
        (-5, "-5"),
        (10**30, "1000000000000000000000000000000"),
        ("9" * 400, "'" + "9" * 36 + "..."),
        (True, "True"),
        (None, "None"),
        (LIMIT + 1, str(LIMIT + 1)),
    ],
)
def test_a_count_that_is_not_a_count_names_the_request(sandbox, now, value, shown):
    config = _config(sandbox, tweet_ids=_old(sandbox)[:2], max_retries=1)
    sandbox.tamper("count", route=HISTORICAL, value=value)
    first = _old(sandbox)[0]
    day = (midnight(now) - timedelta(days=DAYS)).date().isoformat()
    where = "POST /insights/engagement/historical"
    problem = (
        f"tweet {first} metric impressions day {day}: count {shown} is not a non-negative "
        f"whole number up to {LIMIT}"
    )
    assert _give_up(sandbox, config) == _line(where, problem)


def test_the_largest_count_passes_and_a_bad_body_once_is_retried(sandbox, now, caplog):
    config = _config(sandbox, tweet_ids=_old(sandbox)[:2])
    sandbox.tamper("count", route=HISTORICAL, value=str(LIMIT), count=1)
    sandbox.tamper("count", route=HISTORICAL, value="-1", count=1)
    with caplog.at_level(logging.WARNING):
        result = run_sync(config)
    assert LIMIT in {r["engagement_count"] for r in result.records}
    (retry,) = [w for w in _warnings(caplog) if w.startswith("Retrying ")]
    assert "unusable body from POST /insights/engagement/historical: tweet" in retry


@pytest.mark.parametrize(
    ("route", "stream", "tamper", "problem"),
    [
        (
            "insights/totals",
            "engagement_totals",
            {"kind": "count", "value": -3},
            "tweet {first} metric favorites: count -3 is not a non-negative whole number "
            f"up to {LIMIT}",
        ),
        (
            "insights/totals",
            "engagement_totals",
            {"kind": "count", "value": 10**30},
            "tweet {first} metric favorites: count 1000000000000000000000000000000 is not a "
            f"non-negative whole number up to {LIMIT}",
        ),
        (
            "insights/historical",
            "historical_engagement",
            {"kind": "unavailable-string"},
            "unavailable_tweet_ids: expected a list of ids, got '{first}'",
        ),
        (
            "insights/28hr",
            "engagement_28hr",
            {"kind": "count", "value": "1.5"},
            "tweet {first} metric impressions day {day28} hour {hour28}: count '1.5' is not a "
            f"non-negative whole number up to {LIMIT}",
        ),
    ],
    ids=["totals-negative", "totals-huge", "unavailable-string", "28hr-fraction"],
)
def test_every_engagement_endpoint_checks_its_counts(sandbox, now, route, stream, tamper, problem):
    ids = _old(sandbox)[:2]
    config = _config(sandbox, tweet_ids=ids, max_retries=1)
    sandbox.tamper(tamper.pop("kind"), route=route, **tamper)
    start28 = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=28)
    text = problem.format(
        first=ids[0], day28=start28.date().isoformat(), hour28=f"{start28.hour:02d}"
    )
    where = f"POST /{route.replace('insights/', 'insights/engagement/')}"
    assert _give_up(sandbox, config, streams=[stream]) == _line(where, text)


@pytest.mark.parametrize(
    ("route", "tamper", "streams", "problem"),
    [
        (
            "2/users/me",
            {"kind": "user-id"},
            None,
            "data.id: '../../etc\\n' is not an id (a string of digits)",
        ),
        ("2/users/me", {"kind": "data-null"}, None, "data: expected a JSON object, got None"),
        (
            "2/users/me",
            {"kind": "public-count", "value": -100},
            ["accounts"],
            "data.public_metrics.followers_count: count -100 " + NOT_A_COUNT,
        ),
        (
            "2/users/tweets",
            {"kind": "data-null"},
            None,
            "data: expected a list of tweets, got None",
        ),
        (
            "2/users/tweets",
            {"kind": "tweet-without-id"},
            None,
            "data[0].id: None is not an id (a string of digits)",
        ),
        (
            "2/users/tweets",
            {"kind": "public-count", "value": "abc"},
            ["tweets"],
            "tweet {first} public_metrics.like_count: count 'abc' " + NOT_A_COUNT,
        ),
        (
            "2/users/tweets",
            {"kind": "public-count", "value": 2.5},
            ["tweets"],
            "tweet {first} public_metrics.like_count: count 2.5 " + NOT_A_COUNT,
        ),
    ],
    ids=[
        "user-id",
        "user-null",
        "followers",
        "timeline-null",
        "no-id",
        "like-abc",
        "like-fraction",
    ],
)
def test_every_v2_answer_is_checked_before_use(sandbox, now, route, tamper, streams, problem):
    config = sandbox.tap_config(number_of_tweets=5, max_retries=1, retry_wait_seconds=0.01)
    sandbox.tamper(tamper.pop("kind"), route=route, **tamper)
    path = {
        "2/users/me": "/2/users/me",
        "2/users/tweets": f"/2/users/{sandbox.model.user.id}/tweets",
    }
    first = sandbox.model.timeline(sandbox.model.user.id)[0].id
    error = _give_up(sandbox, config, streams=streams)
    assert error == _line(f"GET {path[route]}", problem.format(first=first))
    assert all("etc" not in r.path for r in sandbox.requests())  # never in a URL


def test_a_lookup_answering_an_unasked_tweet_keeps_only_what_was_asked(sandbox, now, caplog):
    ids = _old(sandbox)[:3]
    config = _config(sandbox, tweet_ids=ids)
    sandbox.tamper("extra-lookup-tweet", route="2/tweets")
    with caplog.at_level(logging.WARNING):
        result = run_sync(config, streams=["tweets"])
    assert [r["id"] for r in result.by_stream["tweets"]] == ids
    assert any("GET /2/tweets" in w and "1 tweet(s) not asked for" in w for w in _warnings(caplog))


# ---------------------------------------------------------------------------- bounds


def test_a_timeline_repeating_its_next_token_ends(sandbox, now, caplog):
    def repeat(body, request):
        body.setdefault("meta", {})["next_token"] = page_token(5)  # a real token, every page
        return body

    sandbox.tamper(repeat, route="2/users/tweets")
    config = sandbox.tap_config(
        number_of_tweets=3200, engagement_types=["impressions"], days_back_to_start_from=2
    )
    with caplog.at_level(logging.WARNING):
        run_sync(config)
    assert len(sandbox.requests("2/users/tweets")) == 2
    assert any("repeated a next_token" in w for w in _warnings(caplog))


def test_an_empty_page_with_a_next_token_ends_the_timeline(sandbox, now):
    sandbox.tamper("same-next-token", route="2/users/tweets")
    result = run_sync(sandbox.tap_config(number_of_tweets=3200, days_back_to_start_from=2))
    assert len(sandbox.requests("2/users/tweets")) == 1
    assert result.records == []


@pytest.mark.parametrize("kind", ["gzip-bomb", "big-body"])
def test_a_body_past_the_bound_is_refused_in_bounded_memory(sandbox, tmp_path, kind):
    """A 1 MB gzip body that inflates to 1 GiB took the tap to 3.2 GB, once per attempt; a
    300 MB body was read whole. Both stop at 64 MiB now, in a process that stays far below
    what they would inflate to."""
    sandbox.tamper(kind, route="2/users/me")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox.tap_config(max_retries=1, retry_wait_seconds=0.01)))
    process = tap_process(config, logs=True)
    assert process.stderr is not None
    with ThreadPoolExecutor(1) as pool:
        err = pool.submit(process.stderr.read)
        peak = 0  # the high-water mark of the tap's own memory (ru_maxrss would count pytest's)
        while process.poll() is None:
            with contextlib.suppress(OSError, StopIteration):
                status = Path(f"/proc/{process.pid}/status").read_text().splitlines()
                peak = max(peak, int(next(s for s in status if "VmHWM" in s).split()[1]))
            time.sleep(0.02)
    assert process.returncode == 1
    problem = "the response body is larger than 64 MiB, far more than any answer the tap asks for"
    assert err.result().strip().splitlines()[-1].endswith(_line("GET /2/users/me", problem))
    assert 0 < peak * 1024 < 300 * 2**20  # VmHWM is in KiB
