"""``tweets`` (the selected tweets from X API v2), ``skipped_tweets`` (what was not served) and
``accounts`` (who the accounts are, and their audience)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th
from typing_extensions import override

from tap_twitter_engagement.api import TIMESTAMP_FORMAT
from tap_twitter_engagement.checks import TWEET_COUNTS, USER_COUNTS
from tap_twitter_engagement.skips import SkipReason
from tap_twitter_engagement.streams.base import ACCOUNT_ID, COUNT_TYPE, TapStream

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
    def account_records(
        self,
        account: AccountRun,
        context: Context | None,
    ) -> Iterable[dict[str, Any]]:
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


class SkippedTweetsStream(TapStream):
    """Every id an endpoint refused or could not (fully) serve during this run, once per endpoint
    and reason. Synced last, so it reports what the streams before it met. Not selected by
    default."""

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
            allowed_values=["historical", "totals", "28hr", "tweets"],
            description="What refused the id: an Engagement API endpoint, or the v2 lookup.",
        ),
        th.Property(
            "reason", th.StringType, required=True, allowed_values=[r.value for r in SkipReason]
        ),
        th.Property("detected_at", th.DateTimeType, required=True),
    ).to_dict()

    @override
    def account_records(
        self,
        account: AccountRun,
        context: Context | None,
    ) -> Iterable[dict[str, Any]]:
        if self.run.is_selected(TweetsStream.name):
            # The tweets stream syncs after this one (streams sync by name); its v2 lookup is
            # shared and cached, so do it now to report what it refuses.
            account.tweet_metadata()
        for skip in account.skips.skips():
            yield {
                "tweet_id": skip.tweet_id,
                "endpoint": skip.endpoint,
                "reason": skip.reason.value,
                "detected_at": skip.detected_at.strftime(TIMESTAMP_FORMAT),
            }


class AccountsStream(TapStream):
    """One row per account per run: its handle, display name and audience counts from
    ``GET /2/users/me`` (read once per run for the partitions anyway), stamped with when they
    were read, so analysts can name handles and chart audience growth. Not selected by
    default."""

    name = "accounts"
    primary_keys = ("account_id", "snapshot_at")
    selected_by_default = False
    schema = th.PropertiesList(
        ACCOUNT_ID,
        th.Property("username", th.StringType, description="The handle, without @."),
        th.Property("name", th.StringType, description="The display name."),
        *(th.Property(name, COUNT_TYPE) for name in USER_COUNTS),
        th.Property(
            "snapshot_at",
            th.DateTimeType,
            required=True,
            description="When this run read the account (UTC, to the second).",
        ),
    ).to_dict()

    @override
    def account_records(
        self,
        account: AccountRun,
        context: Context | None,
    ) -> Iterable[dict[str, Any]]:
        user = account.user
        counts = user["public_metrics"]
        read_at = account.read_at or datetime.now(UTC)
        yield {
            "account_id": account.user_id,
            "username": user.get("username"),
            "name": user.get("name"),
            **{name: counts.get(name) for name in USER_COUNTS},
            "snapshot_at": read_at.strftime(TIMESTAMP_FORMAT),
        }
