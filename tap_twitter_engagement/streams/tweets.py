"""``tweets``: the selected tweets from X API v2, their metadata and public counts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from singer_sdk import typing as th
from typing_extensions import override

from tap_twitter_engagement.checks import TWEET_COUNTS
from tap_twitter_engagement.streams.base import ACCOUNT_ID, COUNT_TYPE, Record, TapStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun


class TweetsStream(TapStream):
    """The selected tweets' metadata and public counts. Recent mode reuses the timeline pages
    the selection already read; manual mode looks the ids up with ``GET /2/tweets?ids=``, 100
    per call. Not selected by default."""

    name = "tweets"
    primary_keys = ("id",)
    selected_by_default = False
    schema = th.PropertiesList(
        ACCOUNT_ID,
        th.Property("id", th.StringType, required=True, description="Tweet (post) id."),
        th.Property("text", th.StringType),
        th.Property("created_at", th.DateTimeType),
        th.Property("author_id", th.StringType),
        th.Property("conversation_id", th.StringType),
        th.Property("lang", th.StringType),
        *(th.Property(name, COUNT_TYPE) for name in TWEET_COUNTS),
    ).to_dict()

    @override
    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Record]:
        metadata = account.tweet_metadata()
        for tweet_id in account.selection().tweet_ids:
            tweet = metadata.get(tweet_id)
            if tweet is None:
                continue
            counts = tweet["public_metrics"]
            yield {
                "id": tweet["id"],
                "text": tweet.get("text"),
                "created_at": tweet.get("created_at"),
                "author_id": tweet.get("author_id"),
                "conversation_id": tweet.get("conversation_id"),
                "lang": tweet.get("lang"),
                **{name: counts.get(name) for name in TWEET_COUNTS},
            }
