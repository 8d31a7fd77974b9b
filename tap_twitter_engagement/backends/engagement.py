"""The Enterprise Engagement API as a backend: ``POST /insights/engagement/historical``.

Batches of at most 25 ids over windows of at most 28 days, the canonical grouping in one named
grouping, OAuth 1.0a user context. A batch the API refuses because of some of its ids (other
authors' tweets: 403 naming them; protected ones: 400 naming none) is resubmitted without them,
bisecting when none are named (:func:`post_refusing`, shared with ``/totals`` and ``/28hr``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tap_twitter_engagement.api import (
    GROUPING,
    MAX_IDS,
    MAX_WINDOW_DAYS,
    PATHS,
    request_body,
)
from tap_twitter_engagement.checks import Asked, Served, check_series
from tap_twitter_engagement.engine import Limits
from tap_twitter_engagement.errors import RefusedTweets
from tap_twitter_engagement.rollup import CANONICAL_DAILY, CANONICAL_HOURLY
from tap_twitter_engagement.skips import SkipReason

if TYPE_CHECKING:
    from tap_twitter_engagement.run import AccountRun
    from tap_twitter_engagement.windows import PlannedRequest

_UNSUPPORTED_REASON = {
    "unsupported_for_video_views_tweet_ids": SkipReason.UNSUPPORTED_VIDEO_VIEWS,
    "unsupported_for_impressions_engagements_tweet_ids": (
        SkipReason.UNSUPPORTED_IMPRESSIONS_ENGAGEMENTS
    ),
}


class EngagementApi:
    """``/historical`` of the Enterprise Engagement API (the ``api`` setting
    ``engagement_api``)."""

    name = "engagement_api"
    endpoint = "historical"
    where = f"POST {PATHS['historical']}"
    limits = Limits(max_ids=MAX_IDS["historical"], max_days=MAX_WINDOW_DAYS)

    def fetch(self, account: AccountRun, request: PlannedRequest, hourly: bool) -> Iterator[Served]:
        group_by = CANONICAL_HOURLY if hourly else CANONICAL_DAILY

        def body(batch: list[str]) -> dict[str, Any]:
            return request_body(batch, request.metrics, group_by, request.start, request.end)

        def check(data: dict[str, Any], batch: list[str]) -> Served:
            asked = Asked(tuple(batch), request.metrics, request.start, request.end, hourly)
            return check_series(data, GROUPING, asked, self.where)

        yield from post_refusing(account, self.endpoint, request.tweet_ids, body, check)


def post_refusing(
    account: AccountRun,
    endpoint: str,
    tweet_ids: Sequence[str],
    make_body: Callable[[list[str]], dict[str, Any]],
    check: Callable[[dict[str, Any], list[str]], Served],
    *,
    bearer: bool = False,
) -> Iterator[Served]:
    """POST one batch to an Engagement API endpoint; yield each successful response, checked
    against the ids it was asked for, after recording the ids it named unavailable or
    unsupported.

    Ids the API refuses for the whole batch are removed and the rest resubmitted; when the
    refusal names no ids, the batch is bisected until the refused ids are isolated. Every id's
    data comes from exactly one successful response, so nothing is counted twice, and a refused
    id is in no response, so it is never recorded as delivered.
    """
    skips = account.skips
    url = account.client.settings.api_url + PATHS[endpoint]
    pending = [list(tweet_ids)]
    while pending:
        refused = skips.refused(endpoint, app_only=bearer)
        batch = [i for i in pending.pop(0) if i not in refused]
        if not batch:
            continue

        def checked(body: dict[str, Any], batch: list[str] = batch) -> Served:
            return check(body, batch)

        try:
            served = account.client.post(url, make_body(batch), bearer=bearer, check=checked)
        except RefusedTweets as exc:
            reason = SkipReason(exc.reason)
            named = [i for i in exc.ids if i in batch]
            if named:
                skips.add(named, endpoint, reason)
                pending.insert(0, batch)
            elif len(batch) == 1:
                skips.add(batch, endpoint, reason)
            else:
                middle = len(batch) // 2
                pending[0:0] = [batch[:middle], batch[middle:]]
            continue
        skips.add(served.unavailable, endpoint, SkipReason.UNAVAILABLE)
        for key, ids in served.unsupported.items():
            skips.add(ids, endpoint, _UNSUPPORTED_REASON[key])
        yield served
