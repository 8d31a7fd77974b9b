"""Split a sync into the fewest ``/historical`` requests the API limits allow.

One request takes at most 25 tweet IDs and at most 28 days, so a sync is the cross product of
ID batches and time windows, per group of tweets that need the same days (see ``coverage``).
Planning it as plain data keeps the HTTP code trivial and lets tests check request counts
without a server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from typing import NamedTuple

from tap_twitter_engagement.api import MAX_IDS, MAX_WINDOW_DAYS
from tap_twitter_engagement.coverage import (
    NOTHING,
    Days,
    DayTable,
    Pair,
    Row,
    intersect,
    minus,
    union,
)


def batches(tweet_ids: Sequence[str], size: int = MAX_IDS["historical"]) -> list[tuple[str, ...]]:
    """Cut IDs into consecutive batches of at most ``size``, keeping order."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [tuple(tweet_ids[i : i + size]) for i in range(0, len(tweet_ids), size)]


@dataclass(frozen=True)
class PlannedRequest:
    """One ``/historical`` call: a batch of IDs and metrics over one window.

    ``window_index`` numbers the (tweet group, window) pairs of a plan in order; ``last_batch``
    marks the request after which that window is complete for every tweet of its group, when
    its rows are final and STATE may advance. ``backfill`` marks requests that read days never
    delivered before (not just the lookback or new days).
    """

    tweet_ids: tuple[str, ...]
    start: datetime
    end: datetime
    window_index: int
    batch_index: int
    metrics: tuple[str, ...] = ()
    last_batch: bool = True
    backfill: bool = True


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def day_windows(needed: Days, max_days: int = MAX_WINDOW_DAYS) -> list[tuple[date, date]]:
    """The fewest windows of at most ``max_days`` days that cover every needed day.

    Greedy from the earliest uncovered day, which is optimal on a line; each window is trimmed
    to the last needed day it reaches, so it asks for no day it does not need past that.
    """
    if max_days < 1:
        raise ValueError(f"max_days must be at least 1, got {max_days}")
    out: list[tuple[date, date]] = []
    spans = list(needed)
    i = 0
    while i < len(spans):
        first = spans[i][0]
        reach = first + timedelta(days=max_days - 1)
        last = first
        while i < len(spans) and spans[i][0] <= reach:
            last = min(spans[i][1], reach)
            if spans[i][1] > reach:
                spans[i] = (reach + timedelta(days=1), spans[i][1])
                break
            i += 1
        out.append((first, last))
    return out


class _Kind(NamedTuple):
    """Tweets with the same rows of needed and incremental days: planned alike."""

    needs: Row
    incremental: Row
    #: Every day any of the metrics needs (tweets that need the same days share windows).
    wanted: Days


def plan_needs(
    needs: Mapping[Pair, Days],
    tweet_ids: Sequence[str],
    metrics: Sequence[str],
    period_start: datetime,
    period_end: datetime,
    incremental: Mapping[Pair, Days] | None = None,
    batch_size: int = MAX_IDS["historical"],
    max_days: int = MAX_WINDOW_DAYS,
) -> list[PlannedRequest]:
    """Requests that read every needed (tweet, metric, day), and no more requests than the rule:

    tweets that need the same days share batches and windows; each group's days are covered by
    the fewest windows of at most ``max_days`` days, and each window asks for the metrics some
    of its tweets need there. For a run without state that is ceil(tweets/25) x
    ceil(days/28). Order: group, then window, then batch (STATE advances per window).
    ``period_start``/``period_end`` bound the windows (the end may be the current hour).
    Day sets are looked at once per kind of tweet (same rows in ``needs`` and ``incremental``,
    see ``coverage.DayTable``), not once per tweet: the work per tweet is a lookup.
    """
    needed, recent = DayTable.of(needs), DayTable.of(incremental or {})
    kinds: list[_Kind] = []
    kind_of: dict[tuple[int, int], int] = {}  # ids of the two rows -> index in kinds
    groups: dict[Days, tuple[list[str], list[int]]] = {}  # wanted -> tweets, and their kinds
    for tweet_id in tweet_ids:
        need, new = needed.row(tweet_id), recent.row(tweet_id)
        key = (id(need), id(new))
        if key not in kind_of:
            kind_of[key] = len(kinds)
            wanted = reduce(union, (need.get(m, NOTHING) for m in metrics), NOTHING)
            kinds.append(_Kind(need, new, wanted))
        kind = kind_of[key]
        if kinds[kind].wanted:
            members, of = groups.setdefault(kinds[kind].wanted, ([], []))
            members.append(tweet_id)
            of.append(kind)
    requests: list[PlannedRequest] = []
    window_index = 0
    for wanted, (members, member_kinds) in groups.items():
        id_batches = batches(members, batch_size)
        present = list(dict.fromkeys(member_kinds))
        for first, last in day_windows(wanted, max_days):
            span = ((first, last),)
            start = max(_midnight(first), period_start)
            end = min(_midnight(last) + timedelta(days=1), period_end)
            asked = tuple(
                m
                for m in metrics
                if any(intersect(kinds[k].needs.get(m, NOTHING), span) for k in present)
            )
            # Whether a tweet of the kind reads days never delivered in this window.
            reads_new = {
                k: any(
                    minus(
                        intersect(kinds[k].needs.get(m, NOTHING), span),
                        kinds[k].incremental.get(m, NOTHING),
                    )
                    for m in asked
                )
                for k in present
            }
            for b, batch in enumerate(id_batches):
                of_batch = member_kinds[b * batch_size : (b + 1) * batch_size]
                requests.append(
                    PlannedRequest(
                        tweet_ids=batch,
                        start=start,
                        end=end,
                        window_index=window_index,
                        batch_index=b,
                        metrics=asked,
                        last_batch=b == len(id_batches) - 1,
                        backfill=any(reads_new[k] for k in of_batch),
                    )
                )
            window_index += 1
    return requests


def period_days(period_start: datetime, period_end: datetime) -> Days:
    """The UTC days a period touches, as a day set (the last may be partial)."""
    last = (period_end - timedelta(microseconds=1)).date()
    return ((period_start.date(), last),) if period_end > period_start else ()
