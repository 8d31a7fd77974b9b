"""``engagement_28hr``: the hourly series of the last 28 hours from ``/28hr``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tap_twitter_engagement.api import GROUPING, MAX_IDS, request_body
from tap_twitter_engagement.plan import batches
from tap_twitter_engagement.rollup import CANONICAL_HOURLY, canonical_records
from tap_twitter_engagement.streams.base import EngagementStream
from tap_twitter_engagement.streams.historical import historical_schema

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun


class Engagement28hrStream(EngagementStream):
    """Per tweet, metric and hour; batches of 25 ids, one request each. Every bucket the API
    serves (it serves 29: the current hour and the 28 before) is one row with its day and hour,
    so re-runs upsert. Not selected by default."""

    name = "engagement_28hr"
    endpoint = "28hr"
    primary_keys = ("tweet_id", "engagement_type", "engagement_date", "engagement_hour")
    selected_by_default = False
    schema = historical_schema(CANONICAL_HOURLY)[0]

    def account_records(
        self,
        account: AccountRun,
        context: Context | None,  # noqa: ARG002
    ) -> Iterable[dict[str, Any]]:
        metrics = self.run.settings.engagement_types

        def body(batch: list[str]) -> dict[str, Any]:
            return request_body(batch, metrics, CANONICAL_HOURLY)

        for batch in batches(account.selection().tweet_ids, MAX_IDS[self.endpoint]):
            for data in self.post_refusing(account, batch, body):
                no_video = self.note_partial(account, data, metrics)
                yield from canonical_records(data.get(GROUPING) or {}, True, skip_video=no_video)
