"""``engagement_totals``: lifetime totals from ``/totals``, stamped with the extraction hour."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th
from typing_extensions import override

from tap_twitter_engagement.api import (
    GROUPING,
    MAX_IDS,
    TIMESTAMP_FORMAT,
    TOTALS_RECENT_DAYS,
    request_body,
)
from tap_twitter_engagement.backends.engagement import post_refusing
from tap_twitter_engagement.checks import Asked, Served, Tally, check_totals
from tap_twitter_engagement.metrics import PUBLIC_METRICS, TOTALS_METRICS
from tap_twitter_engagement.rollup import COUNT_COLUMN
from tap_twitter_engagement.skips import SkipReason
from tap_twitter_engagement.streams.base import ACCOUNT_ID, COUNT_TYPE, EngagementStream, Record
from tap_twitter_engagement.windows import batches

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun

PER_TWEET = ("tweet.id", "engagement.type")


class EngagementTotalsStream(EngagementStream):
    """Lifetime totals per tweet and metric; ``snapshot_at`` is in the key, so daily runs build a
    history. Batches of 250 ids; tweets older than 90 days are asked only the public metrics
    (the API serves impressions and engagements for younger tweets only), so no batch fails for
    them. With ``bearer_token``, other authors' listed tweets get their public metrics through
    an app-only request. Not selected by default."""

    name = "engagement_totals"
    endpoint = "totals"
    primary_keys = ("tweet_id", "engagement_type", "snapshot_at")
    selected_by_default = False
    schema = th.PropertiesList(
        ACCOUNT_ID,
        th.Property("tweet_id", th.StringType, required=True),
        th.Property("engagement_type", th.StringType, required=True),
        th.Property(
            "snapshot_at",
            th.DateTimeType,
            required=True,
            description="The UTC hour the lifetime total was read.",
        ),
        th.Property(COUNT_COLUMN, COUNT_TYPE, required=True),
    ).to_dict()

    @override
    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Record]:
        now = datetime.now(UTC)
        snapshot = now.replace(minute=0, second=0, microsecond=0).strftime(TIMESTAMP_FORMAT)
        tweet_ids = account.selection().tweet_ids
        metadata = account.tweet_metadata()
        young: list[str] = []
        old: list[str] = []
        for tweet_id in tweet_ids:
            created = metadata.get(tweet_id, {}).get("created_at")
            born = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
            recent = born is not None and now - born < timedelta(days=TOTALS_RECENT_DAYS)
            (young if recent else old).append(tweet_id)
        tally = Tally()
        try:
            for ids, metrics in ((young, TOTALS_METRICS), (old, PUBLIC_METRICS)):
                yield from self._totals(account, ids, metrics, snapshot, tally, bearer=False)
            if self.run.settings.bearer_token:
                refused = {
                    s.tweet_id
                    for s in account.skips.skips()
                    if s.endpoint == self.endpoint and s.reason is SkipReason.OTHER_AUTHOR
                }
                others = [i for i in tweet_ids if i in refused]
                yield from self._totals(
                    account, others, PUBLIC_METRICS, snapshot, tally, bearer=True
                )
        finally:
            self.report(account, tally)

    def _totals(
        self,
        account: AccountRun,
        tweet_ids: Sequence[str],
        metrics: Sequence[str],
        snapshot: str,
        tally: Tally,
        *,
        bearer: bool,
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``/totals`` for the ids, in batches; ``bearer``: app-only (public metrics),
        for tweets of other authors that the user's token may not read."""

        def body(batch: list[str]) -> dict[str, Any]:
            return request_body(batch, metrics, PER_TWEET)

        def check(data: dict[str, Any], batch: list[str]) -> Served:
            return check_totals(data, GROUPING, Asked(tuple(batch), tuple(metrics)), self.where)

        for batch in batches(tweet_ids, MAX_IDS[self.endpoint]):
            for served in post_refusing(account, self.endpoint, batch, body, check, bearer=bearer):
                tally.merge(served.tally)
                yield from _rows(served.grouping, metrics, snapshot)


def _rows(
    grouping: Mapping[str, Mapping[str, int]], metrics: Sequence[str], snapshot: str
) -> Iterator[dict[str, Any]]:
    """One row per (tweet, metric) the checked response holds, tweets in id order."""
    for tweet_id in sorted(grouping, key=int):
        counts = grouping[tweet_id]
        for metric in metrics:
            if metric in counts:
                yield {
                    "tweet_id": tweet_id,
                    "engagement_type": metric,
                    "snapshot_at": snapshot,
                    COUNT_COLUMN: counts[metric],
                }
