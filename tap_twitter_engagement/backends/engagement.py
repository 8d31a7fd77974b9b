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
    bucket = PATHS["historical"]
    #: The contract sets its limits (max_requests_per_minute / _per_second) and its headers.
    budget: tuple[int, float] | None = None

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
    """POST batches of ``tweet_ids`` to an Engagement API endpoint (:func:`refusing`): each
    successful response, checked against the ids it was asked for."""
    url = account.client.settings.api_url + PATHS[endpoint]

    def send(batch: list[str]) -> Served:
        return account.client.post(
            url, make_body(batch), bearer=bearer, check=lambda body: check(body, batch)
        )

    yield from refusing(account, endpoint, tweet_ids, send, app_only=bearer)


def refusing(
    account: AccountRun,
    endpoint: str,
    tweet_ids: Sequence[str],
    send: Callable[[list[str]], Served],
    *,
    app_only: bool = False,
) -> Iterator[Served]:
    """Send one batch (``send``, which checks the response against it); yield each successful
    response, after recording the ids it named unavailable, unsupported or refused.

    Ids the API refuses for the whole batch are removed and the rest resubmitted; when the
    refusal names no ids, the batch is bisected until the refused ids are isolated. Every id's
    data comes from exactly one successful response, so nothing is counted twice, and a refused
    id is in no response, so it is never recorded as delivered. Shared by every backend and
    the Engagement API streams.
    """
    skips = account.skips
    pending = [list(tweet_ids)]
    while pending:
        refused = skips.refused(endpoint, app_only=app_only)
        batch = [i for i in pending.pop(0) if i not in refused]
        if not batch:
            continue
        try:
            served = send(batch)
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
        for reason_name, ids in served.refused.items():
            skips.add(ids, endpoint, SkipReason(reason_name))
        yield served
