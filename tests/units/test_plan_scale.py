"""Planning stays linear in the number of tweets (issue: 200k ids took minutes and GBs).

Tweets that share their days share one row of a table, so the day-set work of reading a state,
computing needs and planning is per group of such tweets, not per tweet or per (tweet, metric);
only lookups are per tweet. No timing here (machines are noisy): operations are counted, and
the tables are measured in distinct rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tap_twitter_engagement import coverage, windows
from tap_twitter_engagement.coverage import Coverage, DayTable, Shape, compute_needs
from tap_twitter_engagement.metrics import HISTORICAL_METRICS
from tap_twitter_engagement.windows import plan_needs

END = date(2026, 6, 30)
PERIOD = ((END - timedelta(days=59), END),)  # 60 days: three windows per group
GROUPS = 5  # tweets first delivered on five different days; a tenth never delivered
SHAPES = [
    Shape(("tweet.id", "engagement.type", "engagement.day")),
    Shape(("tweet.id", "engagement.type", "engagement.day"), "wide"),
    Shape(("engagement.type", "engagement.day")),
    Shape(("engagement.type", "engagement.day"), "wide"),
    Shape(("tweet.id", "engagement.day")),
    Shape(("engagement.day",)),
]
_DAY_SET_OPERATIONS = ("days", "union", "intersect", "minus", "lookback")


def _counting(function: Callable[..., Any], name: str, calls: Counter[str]) -> Callable[..., Any]:
    def counted(*args: Any) -> Any:
        calls[name] += 1
        return function(*args)

    return counted


@pytest.fixture
def day_set_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls of the day-set operations from ``coverage`` and ``windows``, by name."""
    calls: Counter[str] = Counter()
    for module in (coverage, windows):
        for name in _DAY_SET_OPERATIONS:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, _counting(getattr(module, name), name, calls))
    return calls


def _state(tweet_ids: list[str], shape: Shape) -> dict[str, Any]:
    """Coverage as STATE holds it: every metric up to three days before the end, for nine
    tenths of the tweets, in GROUPS groups by first day."""
    delivered = tweet_ids[: len(tweet_ids) * 9 // 10]
    return {
        "version": coverage.FORMAT,
        "shape": shape.as_state(),
        "spans": [
            {
                "days": [[(PERIOD[0][0] + timedelta(days=g)).isoformat(), "2026-06-27"]],
                "metrics": list(HISTORICAL_METRICS),
                "tweet_ids": delivered[g::GROUPS],
            }
            for g in range(GROUPS)
        ],
    }


def _plan(n: int, shape: Shape) -> tuple[coverage.Needs, list[windows.PlannedRequest]]:
    tweet_ids = [str(1785000000000000000 + 7919 * i) for i in range(n)]
    previous = Coverage.decode(_state(tweet_ids, shape))
    needs = compute_needs(previous, shape, tweet_ids, HISTORICAL_METRICS, PERIOD, 3)
    start = datetime.combine(PERIOD[0][0], datetime.min.time(), UTC)
    planned = plan_needs(
        needs.days,
        tweet_ids,
        HISTORICAL_METRICS,
        start,
        start + timedelta(days=60),
        needs.incremental,
    )
    return needs, planned


@pytest.mark.parametrize(
    "shape", SHAPES, ids=lambda s: ",".join(s.group_by) + f" {s.metrics_layout}"
)
def test_day_set_work_does_not_grow_with_the_number_of_tweets(
    shape: Shape, day_set_calls: Counter[str]
) -> None:
    _, few = _plan(1_250, shape)
    calls_for_few = day_set_calls.copy()
    day_set_calls.clear()
    _, many = _plan(5_000, shape)
    # Four times the tweets (in groups of whole batches): four times the requests, and the
    # same day-set operations, where work per (tweet, metric) would make four times as many.
    assert len(many) == 4 * len(few)
    assert day_set_calls == calls_for_few
    assert sum(calls_for_few.values()) < 2_000


@pytest.mark.parametrize(
    "shape", SHAPES, ids=lambda s: ",".join(s.group_by) + f" {s.metrics_layout}"
)
def test_needs_hold_a_row_per_group_not_per_tweet_and_metric(shape: Shape) -> None:
    needs, _ = _plan(5_000, shape)
    for table in (needs.days, needs.incremental, needs.base.spans):
        assert len(table.distinct_rows()) <= GROUPS + 1  # the groups and the new tweets


def test_tweets_given_the_same_days_move_to_one_row_together() -> None:
    first, last = date(2026, 6, 1), date(2026, 6, 9)
    table = DayTable.same(["1", "2", "3"], {"impressions": ((first, last),)})
    for tweet_id in ("1", "2"):
        table.add(tweet_id, "favorites", ((first, first),))
    assert len(table.distinct_rows()) == 2
    assert table == {
        **{(t, "impressions"): ((first, last),) for t in "123"},
        **{(t, "favorites"): ((first, first),) for t in "12"},
    }
    assert table.get(("3", "favorites")) is None
    assert DayTable.of(dict(table)) == table
