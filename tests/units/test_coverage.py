"""Coverage in STATE and what a run needs: pure functions against brute-force models."""

from __future__ import annotations

import itertools
import json
import random
from datetime import date, timedelta

import pytest

from tap_twitter_engagement.coverage import (
    Coverage,
    CoverageError,
    Shape,
    compute_needs,
    count,
    day_strings,
    days,
    from_state,
    intersect,
    lookback,
    minus,
    union,
)
from tap_twitter_engagement.metrics import HISTORICAL_METRICS

D0 = date(2026, 6, 1)
DAILY = Shape(("tweet.id", "engagement.type", "engagement.day"))
TYPE_DAY = Shape(("engagement.type", "engagement.day"))
TWEET_DAY = Shape(("tweet.id", "engagement.day"))
DAY_ONLY = Shape(("engagement.day",))
WIDE = Shape(("tweet.id", "engagement.type", "engagement.day"), "wide")
WIDE_TYPE_DAY = Shape(("engagement.type", "engagement.day"), "wide")


def d(n: int) -> date:
    return D0 + timedelta(days=n)


def span(a: int, b: int) -> tuple[tuple[date, date], ...]:
    return ((d(a), d(b)),)


def as_set(value) -> set[date]:
    return {
        first + timedelta(days=i) for first, last in value for i in range((last - first).days + 1)
    }


# --- day sets against Python sets ----------------------------------------------------------------


def _random_days(rng: random.Random) -> tuple:
    spans = []
    for _ in range(rng.randint(0, 4)):
        a = rng.randint(0, 40)
        spans.append((d(a), d(a + rng.randint(0, 8))))
    return days(spans)


def test_day_set_algebra_matches_python_sets() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        a, b = _random_days(rng), _random_days(rng)
        for result in (a, b, union(a, b), intersect(a, b), minus(a, b)):
            # normalised: sorted, disjoint, not touching
            assert all(x[1] + timedelta(days=1) < y[0] for x, y in itertools.pairwise(result))
            assert all(first <= last for first, last in result)
        assert as_set(union(a, b)) == as_set(a) | as_set(b)
        assert as_set(intersect(a, b)) == as_set(a) & as_set(b)
        assert as_set(minus(a, b)) == as_set(a) - as_set(b)
        assert count(a) == len(as_set(a))
        assert day_strings(a) == {x.isoformat() for x in as_set(a)}


def test_days_merges_touching_and_overlapping_spans() -> None:
    assert days([(d(5), d(6)), (d(0), d(2)), (d(3), d(4)), (d(8), d(9))]) == (
        (d(0), d(6)),
        (d(8), d(9)),
    )
    with pytest.raises(ValueError, match="ends before it starts"):
        days([(d(2), d(1))])


@pytest.mark.parametrize(
    ("covered", "n", "expected"),
    [
        (span(0, 9), 3, span(6, 9)),
        (span(0, 9), 0, span(9, 9)),
        (span(0, 1), 3, span(0, 1)),
        (((d(0), d(9)), (d(20), d(29))), 3, ((d(6), d(9)), (d(26), d(29)))),
        ((), 3, ()),
    ],
)
def test_lookback_is_n_days_before_each_covered_end(covered, n, expected) -> None:
    assert lookback(covered, n) == expected


# --- encoding ------------------------------------------------------------------------------------


def _coverage(shape: Shape, pairs: dict) -> Coverage:
    coverage = Coverage(shape)
    for (tweet_id, metric), covered in pairs.items():
        coverage.add(tweet_id, metric, covered)
    return coverage


def test_encoding_lists_tweets_with_the_same_metrics_and_days_together() -> None:
    tweets = [str(1785000000000000000 + i) for i in range(40)]
    pairs = {(t, m): span(0, 29) for t in tweets for m in ("impressions", "favorites")}
    pairs[(tweets[3], "url_clicks")] = span(10, 29)
    coverage = _coverage(DAILY, pairs)
    encoded = coverage.encode()
    assert encoded["version"] == 1
    assert encoded["shape"] == {
        "group_by": ["tweet.id", "engagement.type", "engagement.day"],
        "metrics_layout": "long",
    }
    assert encoded["spans"] == [
        {
            "days": [["2026-06-01", "2026-06-30"]],
            "metrics": ["impressions", "favorites"],
            "tweet_ids": tweets,
        },
        {
            "days": [["2026-06-11", "2026-06-30"]],
            "metrics": ["url_clicks"],
            "tweet_ids": [tweets[3]],
        },
    ]
    decoded = Coverage.decode(json.loads(json.dumps(encoded)))
    assert decoded == coverage
    assert decoded.last_day() == d(29)


def test_encoding_is_the_same_whatever_the_order_things_were_added() -> None:
    rng = random.Random(5)
    tweets = [str(1785000000000000000 + i) for i in range(30)]
    pairs = {(t, m): _random_days(rng) for t in tweets for m in ("impressions", "retweets")}
    items = list(pairs.items())
    first = _coverage(DAILY, dict(items)).encode()
    rng.shuffle(items)
    assert _coverage(DAILY, dict(items)).encode() == first


def test_state_for_3200_tweets_17_metrics_365_days_is_small() -> None:
    tweets = [str(1785000000000000000 + 7919 * i) for i in range(3200)]
    coverage = _coverage(DAILY, {(t, m): span(0, 364) for t in tweets for m in HISTORICAL_METRICS})
    text = json.dumps(coverage.encode(), separators=(",", ":"))
    assert len(coverage.encode()["spans"]) == 1
    # 3,200 ids of 19 digits dominate: about 22 bytes each, nothing per metric or per day.
    assert len(text) < 3200 * 23 + 1000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "coverage is not an object"),
        ({"version": 2}, "coverage version 2 is not 1"),
        ({"version": 1}, "coverage has no shape"),
        ({"version": 1, "shape": {"group_by": "x"}}, "coverage shape is not group_by"),
        (
            {"version": 1, "shape": {"group_by": ["engagement.day"], "metrics_layout": "long"}},
            "coverage spans are not a list",
        ),
        (
            {
                "version": 1,
                "shape": {"group_by": ["engagement.day"], "metrics_layout": "long"},
                "spans": [{"tweet_ids": ["1"], "metrics": ["impressions"], "days": [["x", "y"]]}],
            },
            "['x', 'y'] is not a pair of YYYY-MM-DD days",
        ),
        (
            {
                "version": 1,
                "shape": {"group_by": ["engagement.day"], "metrics_layout": "long"},
                "spans": [
                    {
                        "tweet_ids": ["1"],
                        "metrics": ["impressions"],
                        "days": [["2026-06-05", "2026-06-01"]],
                    }
                ],
            },
            "is not a [first, last] pair of YYYY-MM-DD days",
        ),
        (
            {
                "version": 1,
                "shape": {"group_by": ["engagement.day"], "metrics_layout": "long"},
                "spans": [{"tweet_ids": [], "metrics": ["impressions"], "days": []}],
            },
            "a coverage span has no days",
        ),
    ],
)
def test_malformed_coverage_says_what_is_wrong(value, message) -> None:
    with pytest.raises(CoverageError) as info:
        Coverage.decode(value)
    assert message in str(info.value)


# --- from_state ----------------------------------------------------------------------------------


def test_from_state_uses_coverage_of_the_same_shape() -> None:
    coverage = _coverage(DAILY, {("1", "impressions"): span(0, 9)})
    previous = from_state({"coverage": coverage.encode()}, DAILY, d(20))
    assert previous.coverage == coverage
    assert previous.message == ""


def test_from_state_ignores_another_shape_with_one_info_line() -> None:
    coverage = _coverage(DAILY, {("1", "impressions"): span(0, 9)})
    previous = from_state({"coverage": coverage.encode()}, TYPE_DAY, d(20))
    assert previous.coverage is None
    assert previous.level == "info"
    assert previous.message == (
        "the state was written for group_by ['tweet.id', 'engagement.type', 'engagement.day'], "
        "metrics_layout 'long' and api 'engagement_api', not for group_by ['engagement.type', "
        "'engagement.day'], metrics_layout 'long' and api 'engagement_api': this run reads the "
        "configured range"
    )


def test_coverage_of_another_api_is_not_used_and_the_default_api_is_not_written() -> None:
    coverage = _coverage(DAILY, {("1", "impressions"): span(0, 9)})
    encoded = coverage.encode()
    assert "api" not in encoded["shape"]  # states written before the setting stay the same
    post = Shape(DAILY.group_by, DAILY.metrics_layout, "post_analytics")
    previous = from_state({"coverage": encoded}, post, d(20))
    assert previous.coverage is None
    assert "api 'engagement_api', not for group_by" in previous.message
    assert "api 'post_analytics': this run reads" in previous.message
    again = Coverage.decode(_coverage(post, {("1", "impressions"): span(0, 9)}).encode())
    assert again.shape == post
    assert from_state({"coverage": again.encode()}, post, d(20)).coverage == again


def test_from_state_reads_everything_once_after_a_single_bookmark() -> None:
    previous = from_state(
        {"replication_key": "engagement_date", "replication_key_value": "2026-06-10"}, DAILY, d(20)
    )
    assert previous.coverage is None
    assert "single bookmark" in previous.message


def test_from_state_never_trusts_days_in_the_future() -> None:
    coverage = _coverage(DAILY, {("1", "impressions"): ((d(0), date(2099, 1, 1)),)})
    previous = from_state({"coverage": coverage.encode()}, DAILY, d(20))
    assert previous.coverage is None
    assert previous.level == "warning"
    assert "2099-01-01, after the last complete UTC day (2026-06-21)" in previous.message


# --- needs ---------------------------------------------------------------------------------------

PERIOD = span(0, 59)  # 60 days


def _needs(shape, covered, tweets, metrics, period=PERIOD, lookback_days=3):
    previous = _coverage(shape, covered) if covered is not None else None
    return compute_needs(previous, shape, tweets, metrics, period, lookback_days)


def test_no_coverage_needs_everything() -> None:
    needs = _needs(DAILY, None, ["1", "2"], ["impressions"])
    assert needs.days == {("1", "impressions"): PERIOD, ("2", "impressions"): PERIOD}
    assert needs.incremental == {}


def test_steady_state_needs_the_lookback_and_the_new_days() -> None:
    covered = {(t, "impressions"): span(0, 50) for t in ("1", "2")}
    needs = _needs(DAILY, covered, ["1", "2"], ["impressions"])
    assert needs.days == {("1", "impressions"): span(47, 59), ("2", "impressions"): span(47, 59)}
    assert needs.incremental == needs.days
    assert needs.reasons == ()


def test_a_new_tweet_is_backfilled_the_others_read_incrementally() -> None:
    covered = {("1", "impressions"): span(0, 59)}
    needs = _needs(DAILY, covered, ["1", "2"], ["impressions"])
    assert needs.days == {("1", "impressions"): span(56, 59), ("2", "impressions"): PERIOD}
    assert needs.incremental == {("1", "impressions"): span(56, 59)}
    assert needs.reasons == (
        "1 selected tweet(s) have no delivered days yet (first: 2): reading them over the "
        "configured range",
    )


def test_a_new_metric_is_backfilled() -> None:
    covered = {("1", "impressions"): span(0, 59)}
    needs = _needs(DAILY, covered, ["1"], ["impressions", "favorites"])
    assert needs.days == {("1", "impressions"): span(56, 59), ("1", "favorites"): PERIOD}
    assert needs.reasons == (
        "metric(s) favorites have no delivered days yet: reading them over the configured range",
    )


def test_an_earlier_start_and_a_later_end_are_read() -> None:
    covered = {("1", "impressions"): span(10, 40)}
    needs = _needs(DAILY, covered, ["1"], ["impressions"])
    assert needs.days == {("1", "impressions"): ((d(0), d(9)), (d(37), d(59)))}
    assert needs.incremental == {("1", "impressions"): span(37, 59)}
    assert (
        "now starts on 2026-06-01, before the first delivered day 2026-06-11" in (needs.reasons[0])
    )


def test_a_range_ending_inside_coverage_reads_nothing_beyond_the_lookback() -> None:
    covered = {("1", "impressions"): span(0, 59)}
    assert _needs(DAILY, covered, ["1"], ["impressions"], period=span(0, 30)).days == {}
    assert _needs(DAILY, covered, ["1"], ["impressions"], period=span(0, 57)).days == {
        ("1", "impressions"): span(56, 57)
    }


def test_a_removed_metric_keeps_its_coverage_for_a_later_re_add() -> None:
    covered = {("1", m): span(0, 50) for m in ("impressions", "favorites")}
    without = _needs(DAILY, covered, ["1"], ["impressions"])
    assert without.base.get("1", "favorites") == span(0, 50)
    readded = _needs(DAILY, without.base.spans, ["1"], ["impressions", "favorites"])
    assert readded.days == {("1", m): span(47, 59) for m in ("impressions", "favorites")}


def test_coverage_is_kept_for_the_selection_and_from_the_period_start() -> None:
    covered = {("1", "impressions"): span(-30, 50), ("9", "impressions"): span(0, 50)}
    needs = _needs(DAILY, covered, ["1"], ["impressions"])
    assert needs.base.spans == {("1", "impressions"): span(0, 50)}


def test_without_tweet_id_a_selection_change_rereads_every_day_for_every_tweet() -> None:
    covered = {(t, m): span(0, 50) for t in ("1", "2") for m in ("impressions", "favorites")}
    added = _needs(TYPE_DAY, covered, ["1", "2", "3"], ["impressions", "favorites"])
    assert added.days == {(t, m): PERIOD for t in "123" for m in ("impressions", "favorites")}
    assert any("each row sums the selected tweets" in r for r in added.reasons)
    removed = _needs(TYPE_DAY, covered, ["1"], ["impressions", "favorites"])
    assert removed.days == {("1", m): PERIOD for m in ("impressions", "favorites")}
    same = _needs(TYPE_DAY, covered, ["1", "2"], ["impressions", "favorites"])
    assert same.days == {(t, m): span(47, 59) for t in "12" for m in ("impressions", "favorites")}


def test_without_tweet_id_a_new_metric_reads_only_that_metric_for_every_tweet() -> None:
    covered = {(t, "impressions"): span(0, 59) for t in ("1", "2")}
    needs = _needs(TYPE_DAY, covered, ["1", "2"], ["impressions", "favorites"])
    assert needs.days == {
        ("1", "impressions"): span(56, 59),
        ("2", "impressions"): span(56, 59),
        ("1", "favorites"): PERIOD,
        ("2", "favorites"): PERIOD,
    }


def test_without_engagement_type_a_metric_change_rereads_that_tweets_days() -> None:
    covered = {("1", m): span(0, 59) for m in ("impressions", "favorites")}
    covered |= {("2", m): span(0, 59) for m in ("impressions", "favorites")}
    removed = _needs(TWEET_DAY, covered, ["1", "2"], ["impressions"])
    assert removed.days == {("1", "impressions"): PERIOD, ("2", "impressions"): PERIOD}
    assert any("each row sums the selected metrics" in r for r in removed.reasons)


def test_a_wide_row_is_read_whole() -> None:
    covered = {("1", "impressions"): span(0, 59)}
    needs = _needs(WIDE, covered, ["1"], ["impressions", "favorites"])
    assert needs.days == {("1", "impressions"): PERIOD, ("1", "favorites"): PERIOD}
    covered = {("1", m): span(0, 59) for m in ("impressions", "favorites")}
    covered[("2", "impressions")] = span(0, 59)
    needs = _needs(WIDE_TYPE_DAY, covered, ["1", "2"], ["impressions", "favorites"])
    assert needs.days == {(t, m): PERIOD for t in "12" for m in ("impressions", "favorites")}


def test_day_only_rows_need_exactly_the_same_tweets_and_metrics() -> None:
    covered = {(t, m): span(0, 59) for t in "12" for m in ("impressions", "favorites")}
    same = _needs(DAY_ONLY, covered, ["1", "2"], ["impressions", "favorites"])
    assert same.days == {(t, m): span(56, 59) for t in "12" for m in ("impressions", "favorites")}
    fewer = _needs(DAY_ONLY, covered, ["1", "2"], ["impressions"])
    assert fewer.days == {(t, "impressions"): PERIOD for t in "12"}


def test_needs_match_a_brute_force_model_of_rows() -> None:
    """Random coverage and selections, every shape: the rows a run re-emits are exactly the
    rows that are new, stale (lookback) or summed from another selection."""
    rng = random.Random(3)
    all_tweets, all_metrics = ["1", "2", "3"], ["impressions", "favorites", "retweets"]
    shapes = [DAILY, TYPE_DAY, TWEET_DAY, DAY_ONLY, WIDE, WIDE_TYPE_DAY]
    period = span(0, 19)
    for _ in range(600):
        shape = rng.choice(shapes)
        covered = {}
        base_days = _random_days(rng)
        for t in all_tweets:
            for m in all_metrics:
                if rng.random() < 0.8:
                    covered[(t, m)] = base_days if rng.random() < 0.7 else _random_days(rng)
        tweets = [t for t in all_tweets if rng.random() < 0.8] or ["1"]
        metrics = [m for m in all_metrics if rng.random() < 0.8] or ["impressions"]
        needs = _needs(shape, covered, tweets, metrics, period=period, lookback_days=2)
        assert needs.days == _brute_needs(shape, covered, tweets, metrics, period, 2)


def _brute_needs(shape, covered, tweets, metrics, period, n):
    units = {(t, m): as_set(c) for (t, m), c in covered.items()}
    recent = {p: as_set(lookback(c, n)) for p, c in covered.items()}
    period_days = as_set(period)

    def row(t, m, day):
        return (
            t if shape.per_tweet else None,
            m if shape.whole_row_per_metric else None,
            day,
        )

    def cell(t, m, day):  # what one count sums over
        return (t if shape.per_tweet else None, m if shape.per_metric_sum else None, day)

    # a cell is valid when the covered units in it are exactly the selected ones
    all_pairs = set(units) | {(t, m) for t in tweets for m in metrics}
    valid_cells = set()
    cells = {cell(t, m, x) for (t, m) in all_pairs for x in period_days}
    for c in cells:
        wanted = {
            (t, m)
            for t in (tweets if c[0] is None else [c[0]])
            for m in (metrics if c[1] is None else [c[1]])
        }
        have = {p for p in all_pairs if c[2] in units.get(p, set()) and cell(*p, c[2]) == c}
        if have == wanted and all(t in tweets for t, _ in wanted):
            valid_cells.add(c)
    raw = set()
    for t in tweets:
        for m in metrics:
            for x in period_days:
                if cell(t, m, x) not in valid_cells or x in recent.get((t, m), set()):
                    raw.add((t, m, x))
    rows = {row(*u) for u in raw}
    out = {}
    for t in tweets:
        for m in metrics:
            need = {x for x in period_days if row(t, m, x) in rows}
            if need:
                out[(t, m)] = days((x, x) for x in need)
    return out
