"""``tracked``: what the configuration tracks, per run, so the warehouse can say which rows it
still keeps up to date.

A target never deletes: rows of a tweet that rolled out of the N most recent, of a metric
removed, or of days before a start moved later, stay as last written. That history is worth
keeping; not knowing which rows the current configuration tracks is not. Each run writes one
row per account, tweet and metric it tracks, with the days it reads and when it ran: the rows of
the latest run are what the configuration tracks now (the dbt models join to them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from singer_sdk import typing as th
from typing_extensions import override

from tap_twitter_engagement.api import format_api_time
from tap_twitter_engagement.streams.base import ACCOUNT_ID, Record, TapStream
from tap_twitter_engagement.streams.historical import shape_stream_name

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun


class TrackedStream(TapStream):
    """One row per account, tweet and metric the configuration reads, per run (upserted on the
    pair, so the table holds every pair ever tracked, each with the last run that tracked it).
    Selected by default: the marts need it to tell tracked rows from history."""

    name = "tracked"
    primary_keys = ("account_id", "tweet_id", "engagement_type")
    schema = th.PropertiesList(
        ACCOUNT_ID,
        th.Property("tweet_id", th.StringType, required=True, description="Tweet (post) id."),
        th.Property("engagement_type", th.StringType, required=True, description="Metric name."),
        th.Property(
            "first_date",
            th.DateType,
            required=True,
            description="First UTC day the run read (after clipping to max_history_days).",
        ),
        th.Property(
            "last_date",
            th.DateType,
            required=True,
            description="Last UTC day the run read (today's is partial, up to the current hour).",
        ),
        th.Property(
            "stream",
            th.StringType,
            required=True,
            description="The historical stream (table) the run wrote: its group_by and layout.",
        ),
        th.Property(
            "snapshot_at",
            th.DateTimeType,
            required=True,
            description="When the run started (UTC): the rows of the latest run are what the "
            "configuration tracks now.",
        ),
    ).to_dict()

    @override
    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Record]:
        run = self.run
        period = run.period()
        first = period.start.date().isoformat()
        last = (period.end - timedelta(microseconds=1)).date().isoformat()
        snapshot = format_api_time(run.started_at)
        stream = shape_stream_name(run.settings.group_by, run.settings.metrics_layout)
        for tweet_id in account.selection().tweet_ids:
            for metric in run.settings.engagement_types:
                yield {
                    "tweet_id": tweet_id,
                    "engagement_type": metric,
                    "first_date": first,
                    "last_date": last,
                    "stream": stream,
                    "snapshot_at": snapshot,
                }
