"""``engagement_28hr``: the hourly series of the last 28 hours from ``/28hr``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from tap_twitter_engagement.api import GROUPING, MAX_IDS, format_api_time, request_body
from tap_twitter_engagement.backends.engagement import post_refusing
from tap_twitter_engagement.checks import Asked, Served, Tally, check_series
from tap_twitter_engagement.rollup import CANONICAL_HOURLY, canonical_records
from tap_twitter_engagement.streams.base import EngagementStream, Record
from tap_twitter_engagement.streams.historical import historical_schema
from tap_twitter_engagement.windows import batches

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun

#: ``/28hr`` serves the current hour and the 28 before it.
WINDOW_HOURS = 28
_ONE_HOUR = timedelta(hours=1)
#: Clock difference tolerated between the tap and the API around an hour boundary.
_SLACK = timedelta(minutes=5)


class Engagement28hrStream(EngagementStream):
    """Per tweet, metric and hour; batches of 25 ids, one request each. Every bucket the API
    serves (it serves 29: the current hour and the 28 before) is one row with its day and hour,
    so re-runs upsert. Not selected by default."""

    name = "engagement_28hr"
    endpoint = "28hr"
    primary_keys = ("tweet_id", "engagement_type", "engagement_date", "engagement_hour")
    selected_by_default = False
    #: The last 28 hours are always being revised: ``is_final`` is false on every row.
    schema = historical_schema(CANONICAL_HOURLY)[0]

    @override
    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Record]:
        metrics = self.run.settings.engagement_types
        read_at = format_api_time(self.run.started_at)
        tally = Tally()

        def body(batch: list[str]) -> dict[str, Any]:
            return request_body(batch, metrics, CANONICAL_HOURLY)

        def checker(sent_at: datetime) -> Callable[[dict[str, Any], list[str]], Served]:
            def check(data: dict[str, Any], batch: list[str]) -> Served:
                # The API picks the 29 hours from its own clock: every hour it can have meant
                # is accepted, the hours it must have meant are expected.
                sent, received = sent_at - _SLACK, datetime.now(UTC) + _SLACK
                expected = (_hour(received) - WINDOW_HOURS * _ONE_HOUR, _hour(sent) + _ONE_HOUR)
                accepted = (_hour(sent) - WINDOW_HOURS * _ONE_HOUR, _hour(received) + _ONE_HOUR)
                asked = Asked(tuple(batch), metrics, *expected, hourly=True, accepted=accepted)
                return check_series(data, GROUPING, asked, self.where)

            return check

        try:
            for batch in batches(account.selection().tweet_ids, MAX_IDS[self.endpoint]):
                check = checker(datetime.now(UTC))
                for served in post_refusing(account, self.endpoint, batch, body, check):
                    tally.merge(served.tally)
                    # Canonical rows: a bucket that did not arrive has no row to withhold.
                    for record in canonical_records(served.grouping, True):
                        record["is_final"] = False
                        record["read_at"] = read_at
                        yield record
        finally:
            self.report(account, tally)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
