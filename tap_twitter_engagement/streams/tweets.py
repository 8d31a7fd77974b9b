"""``tweets`` (the selected tweets from X API v2) and ``skipped_tweets`` (what was not served)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th

from tap_twitter_engagement.api import TIMESTAMP_FORMAT
from tap_twitter_engagement.run import SkipReason
from tap_twitter_engagement.streams.base import TapStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

#: The v2 ``public_metrics`` fields the tweets stream carries as columns.
V2_PUBLIC_COUNTS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "impression_count",
    "bookmark_count",
)


class TweetsStream(TapStream):
    """The selected tweets' metadata and public counts. Recent mode reuses the timeline pages
    the selection already read; manual mode looks the ids up with ``GET /2/tweets?ids=``, 100
    per call. Not selected by default."""

    name = "tweets"
    primary_keys = ("id",)
    selected_by_default = False
    schema = th.PropertiesList(
        th.Property("id", th.StringType, required=True, description="Tweet (post) id."),
        th.Property("text", th.StringType),
        th.Property("created_at", th.DateTimeType),
        th.Property("author_id", th.StringType),
        th.Property("conversation_id", th.StringType),
        th.Property("lang", th.StringType),
        *(th.Property(name, th.IntegerType) for name in V2_PUBLIC_COUNTS),
    ).to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:  # noqa: ARG002
        metadata = self.run.tweet_metadata()
        for tweet_id in self.run.selection().tweet_ids:
            tweet = metadata.get(tweet_id)
            if tweet is None:
                continue
            counts = tweet.get("public_metrics") or {}
            yield {
                "id": str(tweet["id"]),
                "text": tweet.get("text"),
                "created_at": tweet.get("created_at"),
                "author_id": tweet.get("author_id"),
                "conversation_id": tweet.get("conversation_id"),
                "lang": tweet.get("lang"),
                **{name: counts.get(name) for name in V2_PUBLIC_COUNTS},
            }


class SkippedTweetsStream(TapStream):
    """Every id an endpoint refused or could not (fully) serve during this run, once per endpoint
    and reason. Synced last, so it reports what the streams before it met. Not selected by
    default."""

    name = "skipped_tweets"
    primary_keys = ("tweet_id", "endpoint", "reason")
    selected_by_default = False
    schema = th.PropertiesList(
        th.Property("tweet_id", th.StringType, required=True),
        th.Property(
            "endpoint",
            th.StringType,
            required=True,
            allowed_values=["historical", "totals", "28hr", "tweets"],
            description="What refused the id: an Engagement API endpoint, or the v2 lookup.",
        ),
        th.Property(
            "reason", th.StringType, required=True, allowed_values=[r.value for r in SkipReason]
        ),
        th.Property("detected_at", th.DateTimeType, required=True),
    ).to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:  # noqa: ARG002
        if self.run.is_selected(TweetsStream.name):
            # The tweets stream syncs after this one (streams sync by name); its v2 lookup is
            # shared and cached, so do it now to report what it refuses.
            self.run.tweet_metadata()
        for skip in self.run.skips.skips():
            yield {
                "tweet_id": skip.tweet_id,
                "endpoint": skip.endpoint,
                "reason": skip.reason.value,
                "detected_at": skip.detected_at.strftime(TIMESTAMP_FORMAT),
            }
