"""The tap's streams. ``historical_engagement`` is Domo's Historical Engagement report.

The stream asks the API for the canonical grain (tweet, type, day[, hour]) in planned batches and
windows and derives the configured ``group_by`` from it (``rollup``), so totals across batches
and windows are exact. State advances only after a whole window has been emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_twitter_engagement.client import RefusedTweets, TwitterStream, ordered_concurrent
from tap_twitter_engagement.dates import Period, bookmark_start, history_floor, resolve_period
from tap_twitter_engagement.metrics import PUBLIC_METRICS, TOTALS_METRICS
from tap_twitter_engagement.plan import PlannedRequest, batches, format_api_time, plan
from tap_twitter_engagement.progress import Progress
from tap_twitter_engagement.rollup import (
    CANONICAL_DAILY,
    CANONICAL_HOURLY,
    COLUMNS,
    COUNT_COLUMN,
    Rollup,
    canonical_records,
    direct_records,
    flatten,
    needs_hours,
    streams_directly,
    widen,
)
from tap_twitter_engagement.settings import DEFAULT_GROUP_BY

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.tap import TapTwitterEngagement

GROUPING = "canonical"
_COLUMN_TYPES = {
    "tweet_id": th.StringType,
    "engagement_type": th.StringType,
    "engagement_date": th.DateType,
    "engagement_hour": th.IntegerType(minimum=0, maximum=23),
}


def historical_schema(
    group_by: Sequence[str], wide_metrics: Sequence[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Schema and key properties for a ``group_by``: its columns, the period if no day, the
    count (long layout) or one integer column per metric (wide layout, no engagement_type)."""
    keys = [COLUMNS[g] for g in group_by if not (wide_metrics and g == "engagement.type")]
    if "engagement.day" not in group_by:
        keys += ["period_start", "period_end"]
    properties = [
        th.Property(
            k, _COLUMN_TYPES.get(k, th.DateTimeType), required=True, description=_DESCRIPTIONS[k]
        )
        for k in keys
    ]
    if wide_metrics:
        properties += [
            th.Property(
                m,
                th.IntegerType(minimum=0),
                description=f"{m}, summed exactly over the key (null when not served).",
            )
            for m in wide_metrics
        ]
    else:
        properties.append(
            th.Property(
                COUNT_COLUMN,
                th.IntegerType(minimum=0),
                required=True,
                description="The count, summed exactly over the key.",
            )
        )
    return th.PropertiesList(*properties).to_dict(), keys


_DESCRIPTIONS = {
    "tweet_id": "Tweet (post) id.",
    "engagement_type": "Metric name, as the Engagement API calls it.",
    "engagement_date": "UTC day of the engagement.",
    "engagement_hour": "UTC hour of the engagement (0..23).",
    "period_start": "Start of the period the count covers (UTC, inclusive).",
    "period_end": "End of the period the count covers (UTC, exclusive).",
}


def last_complete_day(window_end: datetime) -> date:
    """The last UTC day a window ending at ``window_end`` covered completely."""
    return window_end.date() - timedelta(days=1)


class EngagementStream(TwitterStream):
    """What the three Engagement API streams share: batches the API may refuse in part."""

    _tap: TapTwitterEngagement
    #: The endpoint's name in logs and in the skipped_tweets report.
    endpoint = ""

    def post_refusing(
        self, tweet_ids: Sequence[str], make_body: Callable[[list[str]], dict[str, Any]]
    ) -> Iterator[dict[str, Any]]:
        """POST one batch; yield each successful response's body.

        Ids the API refuses for the whole batch are removed and the rest resubmitted; when the
        refusal names no ids, the batch is bisected until the refused ids are isolated. Every
        id's data comes from exactly one successful response, so nothing is counted twice.
        """
        refused = self._tap.refused_ids
        pending = [[i for i in tweet_ids if i not in refused]]
        while pending:
            batch = [i for i in pending.pop(0) if i not in refused]
            if not batch:
                continue
            try:
                data = self.send("POST", self.get_url(None), json_body=make_body(batch))
            except RefusedTweets as exc:
                named = [i for i in exc.ids if i in batch]
                if named:
                    self._tap.skip(named, self.endpoint, exc.reason, self.logger)
                    pending.insert(0, batch)
                elif len(batch) == 1:
                    self._tap.skip(batch, self.endpoint, exc.reason, self.logger)
                else:
                    middle = len(batch) // 2
                    pending[0:0] = [batch[:middle], batch[middle:]]
                continue
            yield data

    def note_partial(self, data: Mapping[str, Any], metrics: Sequence[str]) -> set[str]:
        """Log ids served only in part (once each); return those without video views."""
        skip = self._tap.skip
        skip(
            [str(i) for i in data.get("unavailable_tweet_ids", [])],
            self.endpoint,
            "unavailable",
            self.logger,
        )
        old = [str(i) for i in data.get("unsupported_for_impressions_engagements_tweet_ids", [])]
        skip(
            old,
            self.endpoint,
            "unsupported_impressions_engagements",
            self.logger,
            keep_querying=True,
        )
        no_video = [str(i) for i in data.get("unsupported_for_video_views_tweet_ids", [])]
        if no_video and "video_views" in metrics:
            skip(
                no_video, self.endpoint, "unsupported_video_views", self.logger, keep_querying=True
            )
        return set(no_video)


class HistoricalEngagementStream(EngagementStream):
    """Engagement per the configured grouping from ``POST /insights/engagement/historical``."""

    name = "historical_engagement"
    path = "/insights/engagement/historical"
    endpoint = "historical"
    #: Records are built with the schema's exact types (str, int, ISO dates), so the SDK's
    #: per-record type conformance has nothing to do; see BENCHMARKS.md for what it would cost.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    _tap: TapTwitterEngagement

    def __init__(self, tap: TapTwitterEngagement) -> None:
        self.group_by = tuple(tap.config.get("group_by") or DEFAULT_GROUP_BY)
        wide = tap.config.get("metrics_layout", "long") == "wide"
        schema, keys = historical_schema(
            self.group_by, tap.config.get("engagement_types") if wide else None
        )
        super().__init__(tap, schema=schema)
        self.primary_keys = keys
        self.replication_key = "engagement_date" if "engagement.day" in self.group_by else None

    # The bookmark advances per completed window in get_records, never per record.
    def _increment_stream_state(
        self,
        latest_record: dict[str, Any],  # noqa: ARG002
        *,
        context: Context | None = None,  # noqa: ARG002
    ) -> None:
        return

    def period(self, now: datetime, context: Context | None) -> Period:
        """The configured period, narrowed by the bookmark and lookback on incremental runs."""
        period = resolve_period(self.config, now, history_floor(now))
        bookmark = self._bookmark(context)
        if bookmark is None:
            return period
        return bookmark_start(
            period, date.fromisoformat(bookmark), int(self.config.get("lookback_days", 3))
        )

    def _bookmark(self, context: Context | None) -> str | None:
        if not self.replication_key:
            return None
        state = self.get_context_state(context)
        if state.get("replication_key") != self.replication_key:
            return None
        value = state.get("replication_key_value")
        return str(value) if value else None

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        now = datetime.now(UTC)
        period = self.period(now, context)
        selection = self._tap.selection(self)
        requests = plan(list(selection.tweet_ids), period.start, period.end)
        self.logger.info(
            "Planned %d requests: %d tweets, %s to %s (UTC)",
            len(requests),
            len(selection.tweet_ids),
            format_api_time(period.start),
            format_api_time(period.end),
        )
        direct = streams_directly(self.group_by)
        per_window = "engagement.day" in self.group_by
        whole_run = None if per_window else Rollup(self.group_by)
        rollup = whole_run if whole_run is not None else Rollup(self.group_by)
        progress = Progress(self.logger, len(requests))
        last_batch = {r.window_index: r.batch_index for r in requests}
        workers = int(self.config.get("max_concurrent_requests", 4))
        # Responses come back in plan order whatever the concurrency, so records and STATE are
        # the same as a sequential run's; a window's STATE follows its last response's records.
        hourly = needs_hours(self.group_by)
        canonical = self.group_by in (CANONICAL_DAILY, CANONICAL_HOURLY)
        fetched = ordered_concurrent(lambda r: (r, list(self._fetch(r))), requests, workers)
        for request, responses in fetched:
            rows_out = 0
            for grouping, no_video in responses:
                if canonical:  # the default grouping: records straight from the response
                    records = self._shape(canonical_records(grouping, hourly, skip_video=no_video))
                    rows_out += len(records)
                    yield from records
                    continue
                # Old videos' views are "not delivered" whether the API omits them or sends 0.
                rows = [
                    r
                    for r in flatten(grouping, hourly)
                    if not (r.engagement_type == "video_views" and r.tweet_id in no_video)
                ]
                rows_out += len(rows)
                if direct:
                    yield from self._shape(direct_records(rows, self.group_by))
                else:
                    rollup.add(rows)
            progress.request_done(rows_out)
            if request.batch_index == last_batch[request.window_index]:
                if per_window and not direct:
                    # Keys with a day are complete once their window is: emit, then forget.
                    yield from self._shape(rollup.records())
                    rollup = Rollup(self.group_by)
                self._advance_bookmark(context, last_complete_day(request.end))
        progress.finish()
        if whole_run is not None:
            bounds = {
                "period_start": format_api_time(period.start),
                "period_end": format_api_time(period.end),
            }
            yield from self._shape({**record, **bounds} for record in whole_run.records())

    def _shape(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Long records as they are, or pivoted to one column per metric (``metrics_layout``).

        Called per response or per window, before that window's STATE, so a wide row is always
        complete (all metrics of a key arrive in the same response or window)."""
        if self.config.get("metrics_layout", "long") != "wide":
            return list(records)
        return widen(records, self.config["engagement_types"])

    def _advance_bookmark(self, context: Context | None, day: date) -> None:
        """Emit STATE for a fully emitted window; the bookmark never moves backwards."""
        if not self.replication_key:
            return
        state = self.get_context_state(context)
        current = self._bookmark(context)
        value = max(day.isoformat(), current) if current else day.isoformat()
        state["replication_key"] = self.replication_key
        state["replication_key_value"] = value
        self.finalize_state_progress_markers(state)

    def request_body(self, tweet_ids: Sequence[str], request: PlannedRequest) -> dict[str, Any]:
        group_by = CANONICAL_HOURLY if needs_hours(self.group_by) else CANONICAL_DAILY
        return {
            "tweet_ids": list(tweet_ids),
            "engagement_types": list(self.config["engagement_types"]),
            "groupings": {GROUPING: {"group_by": list(group_by)}},
            "start": format_api_time(request.start),
            "end": format_api_time(request.end),
        }

    def _fetch(self, request: PlannedRequest) -> Iterator[tuple[Mapping[str, Any], frozenset[str]]]:
        """The canonical grouping of each successful response for one planned request, with
        the ids whose video views the API did not deliver."""
        for data in self.post_refusing(request.tweet_ids, lambda b: self.request_body(b, request)):
            no_video = self.note_partial(data, self.config["engagement_types"])
            yield data.get(GROUPING) or {}, frozenset(no_video)


_PUBLIC_METRICS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "impression_count",
    "bookmark_count",
)


class TweetsStream(TwitterStream):
    """The selected tweets' metadata and public counts, from the X API v2.

    Recent mode reuses the timeline pages the selection already read; manual mode looks the ids
    up with ``GET /2/tweets?ids=``, 100 per call. Not selected by default.
    """

    name = "tweets"
    path = "/2/tweets"
    http_method = "GET"
    primary_keys = ("id",)
    selected_by_default = False
    _tap: TapTwitterEngagement
    schema = th.PropertiesList(
        th.Property("id", th.StringType, required=True, description="Tweet (post) id."),
        th.Property("text", th.StringType),
        th.Property("created_at", th.DateTimeType),
        th.Property("author_id", th.StringType),
        th.Property("conversation_id", th.StringType),
        th.Property("lang", th.StringType),
        *(th.Property(name, th.IntegerType) for name in _PUBLIC_METRICS),
    ).to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:  # noqa: ARG002
        chosen = self._tap.selection(self)
        metadata = self._tap.tweet_metadata(self)
        tweets = [metadata[i] for i in chosen.tweet_ids if i in metadata]
        for tweet in tweets:
            metrics = tweet.get("public_metrics") or {}
            yield {
                "id": str(tweet["id"]),
                "text": tweet.get("text"),
                "created_at": tweet.get("created_at"),
                "author_id": tweet.get("author_id"),
                "conversation_id": tweet.get("conversation_id"),
                "lang": tweet.get("lang"),
                **{name: metrics.get(name) for name in _PUBLIC_METRICS},
            }


class SkippedTweetsStream(Stream):
    """Every id the API refused or could not (fully) serve during this run, with the reason.

    It is synced last, so it reports what the streams before it met. Not selected by default.
    """

    name = "skipped_tweets"
    primary_keys = ("tweet_id", "endpoint", "reason")
    selected_by_default = False
    _tap: TapTwitterEngagement
    schema = th.PropertiesList(
        th.Property("tweet_id", th.StringType, required=True),
        th.Property(
            "endpoint",
            th.StringType,
            required=True,
            description="The API the id was refused by: historical or tweets.",
        ),
        th.Property(
            "reason",
            th.StringType,
            required=True,
            allowed_values=[
                "unavailable",
                "protected",
                "other_author",
                "unsupported_impressions_engagements",
                "unsupported_video_views",
            ],
        ),
        th.Property("detected_at", th.DateTimeType, required=True),
    ).to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:  # noqa: ARG002
        for (tweet_id, endpoint, reason), at in list(self._tap.skipped.items()):
            yield {
                "tweet_id": tweet_id,
                "endpoint": endpoint,
                "reason": reason,
                "detected_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }


def _snapshot_hour(now: datetime) -> str:
    return now.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class EngagementTotalsStream(EngagementStream):
    """Lifetime totals from ``/totals`` per tweet and metric, stamped with the extraction hour.

    ``snapshot_at`` is part of the key, so daily runs build a history. Batches of 250 ids; the
    tweets older than 90 days are asked only the public metrics (the API serves impressions and
    engagements for younger tweets only), so no batch fails for them. Not selected by default.
    """

    name = "engagement_totals"
    path = "/insights/engagement/totals"
    endpoint = "totals"
    primary_keys = ("tweet_id", "engagement_type", "snapshot_at")
    selected_by_default = False
    schema = th.PropertiesList(
        th.Property("tweet_id", th.StringType, required=True),
        th.Property("engagement_type", th.StringType, required=True),
        th.Property(
            "snapshot_at",
            th.DateTimeType,
            required=True,
            description="The UTC hour the lifetime total was read.",
        ),
        th.Property(COUNT_COLUMN, th.IntegerType(minimum=0), required=True),
    ).to_dict()

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:  # noqa: ARG002
        now = datetime.now(UTC)
        snapshot = _snapshot_hour(now)
        chosen = self._tap.selection(self)
        metadata = self._tap.tweet_metadata(self)
        young: list[str] = []
        old: list[str] = []
        for tweet_id in chosen.tweet_ids:
            created = metadata.get(tweet_id, {}).get("created_at")
            born = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
            (young if born and now - born < timedelta(days=90) else old).append(tweet_id)
        for ids, metrics in ((young, TOTALS_METRICS), (old, PUBLIC_METRICS)):
            for batch in batches(ids, 250):
                for data in self.post_refusing(batch, self._body(metrics)):
                    self.note_partial(data, metrics)
                    yield from self._rows(data, metrics, snapshot)
        if self.config.get("bearer_token"):
            yield from self._public_with_bearer(chosen.tweet_ids, snapshot)

    @staticmethod
    def _body(metrics: Sequence[str]) -> Callable[[list[str]], dict[str, Any]]:
        return lambda batch: {
            "tweet_ids": batch,
            "engagement_types": list(metrics),
            "groupings": {GROUPING: {"group_by": ["tweet.id", "engagement.type"]}},
        }

    @staticmethod
    def _rows(
        data: Mapping[str, Any], metrics: Sequence[str], snapshot: str
    ) -> Iterator[dict[str, Any]]:
        grouping = data.get(GROUPING) or {}
        for tweet_id in sorted(grouping, key=int):
            counts = grouping[tweet_id]
            for metric in metrics:
                if metric in counts:
                    yield {
                        "tweet_id": tweet_id,
                        "engagement_type": metric,
                        "snapshot_at": snapshot,
                        COUNT_COLUMN: int(counts[metric]),
                    }

    def _public_with_bearer(
        self, tweet_ids: Sequence[str], snapshot: str
    ) -> Iterator[dict[str, Any]]:
        """Public metrics of the other authors' tweets, app-only (``bearer_token``).

        The user's token may not read them; an app-only bearer token may, for public metrics.
        The request is not OAuth-signed, so it bypasses the stream's authenticator.
        """
        others = {
            tweet_id for (tweet_id, _, reason) in self._tap.skipped if reason == "other_author"
        }
        ids = [i for i in tweet_ids if i in others]
        headers = {**self.http_headers, "Authorization": f"Bearer {self.config['bearer_token']}"}

        def attempt(prepared: requests.PreparedRequest, _: Any) -> requests.Response:
            if self.pacer is not None:
                self.pacer.wait("/insights/engagement/totals")
            response = self.requests_session.send(prepared, timeout=self.timeout)
            self.validate_response(response)
            return response

        for batch in batches(ids, 250):
            prepared = requests.Request(
                "POST",
                self.get_url(None),
                headers=headers,
                json=self._body(PUBLIC_METRICS)(list(batch)),
            ).prepare()
            data = self.request_decorator(attempt)(prepared, None).parsed_json
            self.note_partial(data, PUBLIC_METRICS)
            yield from self._rows(data, PUBLIC_METRICS, snapshot)


class Engagement28hrStream(EngagementStream):
    """The hourly series of the last 28 hours from ``/28hr``, per tweet, metric and hour.

    Batches of 25 ids, one request each; rows carry their day and hour, so re-runs upsert.
    Not selected by default.
    """

    name = "engagement_28hr"
    path = "/insights/engagement/28hr"
    endpoint = "28hr"
    primary_keys = ("tweet_id", "engagement_type", "engagement_date", "engagement_hour")
    selected_by_default = False
    schema = historical_schema(CANONICAL_HOURLY)[0]

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:  # noqa: ARG002
        metrics = list(self.config["engagement_types"])
        for batch in batches(self._tap.selection(self).tweet_ids, 25):
            for data in self.post_refusing(
                batch,
                lambda b: {
                    "tweet_ids": b,
                    "engagement_types": metrics,
                    "groupings": {GROUPING: {"group_by": list(CANONICAL_HOURLY)}},
                },
            ):
                no_video = self.note_partial(data, metrics)
                yield from canonical_records(
                    data.get(GROUPING) or {}, True, skip_video=frozenset(no_video)
                )
