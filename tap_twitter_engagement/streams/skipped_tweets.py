"""``skipped_tweets``: every id an endpoint refused or could not (fully) serve in a run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from singer_sdk import typing as th
from typing_extensions import override

from tap_twitter_engagement.api import TIMESTAMP_FORMAT
from tap_twitter_engagement.skips import SkipReason
from tap_twitter_engagement.streams.base import ACCOUNT_ID, Record, TapStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun


class SkippedTweetsStream(TapStream):
    """Every id an endpoint refused or could not (fully) serve during this run, once per endpoint
    and reason. Synced last (``TapTwitterEngagement.load_streams``), so it reports what every
    other stream met. Not selected by default."""

    name = "skipped_tweets"
    #: A tweet id listed in two accounts' ``tweet_ids`` may be refused for each of them.
    primary_keys = ("account_id", "tweet_id", "endpoint", "reason")
    selected_by_default = False
    schema = th.PropertiesList(
        ACCOUNT_ID,
        th.Property("tweet_id", th.StringType, required=True),
        th.Property(
            "endpoint",
            th.StringType,
            required=True,
            allowed_values=["historical", "totals", "28hr", "analytics", "tweets"],
            description=(
                "What refused the id: an Engagement API endpoint, Post analytics (analytics), "
                "or the v2 lookup."
            ),
        ),
        th.Property(
            "reason", th.StringType, required=True, allowed_values=[r.value for r in SkipReason]
        ),
        th.Property("detected_at", th.DateTimeType, required=True),
    ).to_dict()

    @override
    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Record]:
        for skip in account.skips.skips():
            yield {
                "tweet_id": skip.tweet_id,
                "endpoint": skip.endpoint,
                "reason": skip.reason.value,
                "detected_at": skip.detected_at.strftime(TIMESTAMP_FORMAT),
            }
