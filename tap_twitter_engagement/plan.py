"""Split a sync into the fewest ``/historical`` requests the API limits allow.

One request takes at most 25 tweet IDs and at most 28 days, so a sync is the cross product of
ID batches and time windows. Planning it as plain data keeps the HTTP code trivial and lets
tests check request counts without a server.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def dedupe(tweet_ids: Iterable[str]) -> list[str]:
    """Drop repeated IDs, keeping first-seen order.

    Batches must be disjoint: an ID in two batches would be counted twice once batch results
    are summed.
    """
    return list(dict.fromkeys(tweet_ids))


def batches(tweet_ids: Sequence[str], size: int = 25) -> list[tuple[str, ...]]:
    """Cut IDs into consecutive batches of at most ``size``, keeping order."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    return [tuple(tweet_ids[i : i + size]) for i in range(0, len(tweet_ids), size)]


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {dt!r}")


def windows(
    period_start: datetime, period_end: datetime, max_days: int = 28
) -> list[tuple[datetime, datetime]]:
    """Tile ``[period_start, period_end)`` with end-exclusive windows of at most ``max_days``.

    Windows are full length from the start and only the last one is short. With a midnight
    ``period_start`` every window boundary is a midnight too, so no UTC day spans two windows
    and per-day rows never need merging across windows.
    """
    if max_days < 1:
        raise ValueError(f"max_days must be at least 1, got {max_days}")
    _require_aware(period_start)
    _require_aware(period_end)
    if period_start >= period_end:
        return []
    step = timedelta(days=max_days)
    count = math.ceil((period_end - period_start) / step)
    return [
        (period_start + i * step, min(period_start + (i + 1) * step, period_end))
        for i in range(count)
    ]


@dataclass(frozen=True)
class PlannedRequest:
    """One ``/historical`` call: a batch of IDs over one window."""

    tweet_ids: tuple[str, ...]
    start: datetime
    end: datetime
    window_index: int
    batch_index: int


def plan(
    tweet_ids: Sequence[str],
    period_start: datetime,
    period_end: datetime,
    batch_size: int = 25,
    max_days: int = 28,
) -> list[PlannedRequest]:
    """All requests for a sync, window-major.

    Every batch of window 0 comes before any batch of window 1 because the bookmark can only
    advance once a window is complete for all tweets; an interrupted run then resumes from the
    last finished window instead of re-reading the whole period.
    """
    id_batches = batches(tweet_ids, batch_size)
    return [
        PlannedRequest(tweet_ids=batch, start=start, end=end, window_index=w, batch_index=b)
        for w, (start, end) in enumerate(windows(period_start, period_end, max_days))
        for b, batch in enumerate(id_batches)
    ]


def format_api_time(dt: datetime) -> str:
    """Render an instant as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, the form the API echoes back.

    Sub-second precision is dropped: the API works in whole hours anyway.
    """
    _require_aware(dt)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
