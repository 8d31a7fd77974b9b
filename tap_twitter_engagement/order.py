"""The one order of tweets and metrics in records and in STATE, so reruns and concurrency give
identical output whatever JSON key order the API sends."""

from __future__ import annotations

from tap_twitter_engagement.metrics import HISTORICAL_METRICS

_METRIC_RANK = {name: i for i, name in enumerate(HISTORICAL_METRICS)}


def tweet_order(tweet_id: str) -> tuple[int, int, str]:
    """Ids by numeric value (so "10" follows "9"); anything not digits afterwards, by text."""
    if tweet_id.isascii() and tweet_id.isdigit():
        return (0, int(tweet_id), tweet_id)
    return (1, 0, tweet_id)


def metric_order(name: str) -> tuple[int, str]:
    """The API's metric-table order, which is how users read these metrics; unknowns last."""
    return (_METRIC_RANK.get(name, len(_METRIC_RANK)), name)
