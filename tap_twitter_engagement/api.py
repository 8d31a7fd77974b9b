"""The Engagement API as the tap calls it: paths, limits, the timestamp form, request bodies.

One definition of each, so the streams, the planner and the plan command cannot disagree. (The
sandbox keeps its own copy of these rules on purpose, to catch the tap's mistakes.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

#: Path of each Engagement API endpoint, by the name logs and ``skipped_tweets`` use.
PATHS = {
    "historical": "/insights/engagement/historical",
    "28hr": "/insights/engagement/28hr",
    "totals": "/insights/engagement/totals",
}
#: Tweet ids per request.
MAX_IDS = {"historical": 25, "28hr": 25, "totals": 250}
#: Days per ``/historical`` window.
MAX_WINDOW_DAYS = 28
#: ``GET /2/tweets?ids=`` takes at most this many ids; ``/2/users/:id/tweets`` pages this many.
LOOKUP_MAX_IDS = 100
TIMELINE_PAGE_SIZE = 100
#: X lists at most the 3,200 most recent tweets of a timeline (800 without replies), 32 full
#: pages; twice that allows for pages shortened by filtering, and still ends a timeline that
#: would page forever.
TIMELINE_MAX_PAGES = 2 * 3200 // TIMELINE_PAGE_SIZE
#: ``/totals`` serves impressions and engagements only for tweets younger than this.
TOTALS_RECENT_DAYS = 90
#: The name the tap gives its one grouping; the response nests the data under it.
GROUPING = "canonical"
#: How the API writes instants (and the tap writes its period bounds and snapshots).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_api_time(moment: datetime) -> str:
    """An instant as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, the form the API echoes back.

    Sub-second precision is dropped: the API works in whole hours anyway.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def request_body(
    tweet_ids: Sequence[str],
    metrics: Sequence[str],
    group_by: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """The JSON body of one request to any of the three endpoints (``start``/``end``:
    ``/historical`` only). Ids go as strings: 19-digit numbers lose precision in JSON readers."""
    body: dict[str, Any] = {
        "tweet_ids": [str(i) for i in tweet_ids],
        "engagement_types": list(metrics),
        "groupings": {GROUPING: {"group_by": list(group_by)}},
    }
    if start is not None:
        body["start"] = format_api_time(start)
    if end is not None:
        body["end"] = format_api_time(end)
    return body
