"""X API v2 Post analytics as a backend: ``GET /2/tweets/analytics`` (the ``api`` setting
``post_analytics``; its contract and unknowns: docs/post-analytics.md).

Batches of at most 100 ids over windows of at most ``post_analytics_max_days`` days, asked at
``daily`` or ``hourly`` granularity from a UTC midnight, so every bucket is one day (hour) of
the engine's canonical grain; the answer is read into the same grouping the Engagement API
gives (``checks.check_analytics``), metrics in the records' names. OAuth 1.0a user context with
the account's token. Posts a 200 names in its ``errors`` are recorded as skipped; a 403 naming
posts is resubmitted without them, as for the Engagement API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tap_twitter_engagement.api import format_api_time
from tap_twitter_engagement.backends.engagement import refusing
from tap_twitter_engagement.checks import Asked, Served, check_analytics
from tap_twitter_engagement.client import ANALYTICS_PATH, bucket
from tap_twitter_engagement.engine import Limits
from tap_twitter_engagement.metrics import POST_ANALYTICS_NAMES
from tap_twitter_engagement.rollup import needs_hours

if TYPE_CHECKING:
    from tap_twitter_engagement.run import AccountRun
    from tap_twitter_engagement.settings import Settings
    from tap_twitter_engagement.windows import PlannedRequest

#: Post ids per request (X's description: 1 to 100).
MAX_IDS = 100
#: Hourly windows span at most this many days whatever ``post_analytics_max_days`` says: 100
#: posts x 20 metrics x 28 days x 24 hours is about 30 MB of JSON, half the body the client
#: accepts (``client.MAX_BODY_BYTES``).
HOURLY_MAX_DAYS = 28
#: X's rate-limit table: this many requests per app, and per user, in each window (seconds).
WINDOW_SECONDS = 15 * 60


class PostAnalytics:
    """``GET /2/tweets/analytics`` of X API v2."""

    name = "post_analytics"
    endpoint = "analytics"
    where = f"GET {ANALYTICS_PATH}"
    bucket = bucket(ANALYTICS_PATH)

    def __init__(self, settings: Settings) -> None:
        days = settings.post_analytics_max_days
        if needs_hours(settings.group_by):
            days = min(days, HOURLY_MAX_DAYS)
        self.limits = Limits(max_ids=MAX_IDS, max_days=days)
        self.budget: tuple[int, float] | None = (
            settings.post_analytics_requests_per_15_minutes,
            float(WINDOW_SECONDS),
        )

    def fetch(self, account: AccountRun, request: PlannedRequest, hourly: bool) -> Iterator[Served]:
        url = account.client.settings.timeline_api_url + ANALYTICS_PATH
        fields = [POST_ANALYTICS_NAMES.get(m, m) for m in request.metrics]

        def send(batch: list[str]) -> Served:
            params = {
                "ids": ",".join(batch),
                "start_time": format_api_time(request.start),
                "end_time": format_api_time(request.end),
                "granularity": "hourly" if hourly else "daily",
                "analytics.fields": ",".join(["id", *fields, "timestamped_metrics"]),
            }
            asked = Asked(tuple(batch), request.metrics, request.start, request.end, hourly)
            return account.client.get(
                url,
                params,
                check=lambda body: check_analytics(body, asked, self.where),
                per_user=True,
            )

        yield from refusing(account, self.endpoint, request.tweet_ids, send)
