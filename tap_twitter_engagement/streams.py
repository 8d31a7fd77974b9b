"""The tap's streams. ``historical_engagement`` is Domo's Historical Engagement report.

The stream asks the API for the canonical grain (tweet, type, day[, hour]) in planned batches and
windows and derives the configured ``group_by`` from it (``rollup``), so totals across batches
and windows are exact. State advances only after a whole window has been emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import requests
from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_twitter_engagement.client import RefusedTweets, TwitterStream, ordered_concurrent
from tap_twitter_engagement.coverage import (
    Coverage,
    CoverageError,
    Days,
    Needs,
    Shape,
    compute_needs,
    day_strings,
    everything,
    from_state,
    intersect,
)
from tap_twitter_engagement.dates import Period, history_floor, resolve_period
from tap_twitter_engagement.errors import StateError
from tap_twitter_engagement.metrics import PUBLIC_METRICS, TOTALS_METRICS
from tap_twitter_engagement.plan import (
    PlannedRequest,
    batches,
    format_api_time,
    period_days,
    plan_needs,
)
from tap_twitter_engagement.progress import Progress
from tap_twitter_engagement.rollup import (
    CANONICAL_DAILY,
    CANONICAL_HOURLY,
    COLUMNS,
    COUNT_COLUMN,
    Aggregator,
    canonical_records,
    needs_hours,
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


def historical_schema_for(
    config: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str], str | None]:
    """Schema, key properties and replication key of ``historical_engagement`` for a config."""
    group_by = tuple(config.get("group_by") or DEFAULT_GROUP_BY)
    wide = config.get("metrics_layout", "long") == "wide"
    schema, keys = historical_schema(group_by, config.get("engagement_types") if wide else None)
    return schema, keys, "engagement_date" if "engagement.day" in group_by else None


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
    """Engagement per the configured grouping from ``POST /insights/engagement/historical``.

    Day-grained groupings are incremental: the state keeps what was delivered per tweet and
    metric (``coverage``), and each run reads only what the configuration needs beyond it,
    plus the lookback. Other groupings total the whole period on every run.
    """

    name = "historical_engagement"
    path = "/insights/engagement/historical"
    endpoint = "historical"
    #: Records are built with the schema's exact types (str, int, ISO dates), so the SDK's
    #: per-record type conformance has nothing to do; see BENCHMARKS.md for what it would cost.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    _tap: TapTwitterEngagement

    def __init__(self, tap: TapTwitterEngagement) -> None:
        self.group_by = tuple(tap.config.get("group_by") or DEFAULT_GROUP_BY)
        self.shape = Shape(self.group_by, tap.config.get("metrics_layout", "long"))
        schema, keys, replication_key = historical_schema_for(tap.config)
        super().__init__(tap, schema=schema)
        self.primary_keys = keys
        self.replication_key = replication_key

    # Coverage advances per completed window in get_records, never per record.
    def _increment_stream_state(
        self,
        latest_record: dict[str, Any],  # noqa: ARG002
        *,
        context: Context | None = None,  # noqa: ARG002
    ) -> None:
        return

    def period(self, now: datetime) -> Period:
        """The configured period (UTC, hour-aligned, end exclusive)."""
        return resolve_period(self.config, now, history_floor(now))

    def needs(
        self, period: Period, tweet_ids: Sequence[str], context: Context | None, now: datetime
    ) -> Needs:
        """What this run reads: everything, or what the state's coverage leaves (logged)."""
        metrics = list(self.config["engagement_types"])
        wanted = period_days(period.start, period.end)
        state = self.get_context_state(context)
        if not self.shape.incremental:
            if state.pop("coverage", None) is not None or state.pop("replication_key_value", None):
                self.logger.info(
                    "group_by %s has no engagement.day, so every run totals the whole period; "
                    "the state's coverage (another shape) is dropped",
                    list(self.group_by),
                )
            return everything(self.shape, tweet_ids, metrics, wanted)
        try:
            previous = from_state(state, self.shape, now.date() - timedelta(days=1))
        except CoverageError as exc:
            raise StateError(f"historical_engagement: {exc}") from None
        if previous.message:
            log = self.logger.warning if previous.level == "warning" else self.logger.info
            log("Reading the whole period: %s", previous.message)
        needs = compute_needs(
            previous.coverage,
            self.shape,
            tweet_ids,
            metrics,
            wanted,
            int(self.config.get("lookback_days", 3)),
        )
        for reason in needs.reasons:
            self.logger.info("Re-reading: %s", reason)
        return needs

    def run_plan(self, now: datetime, context: Context | None) -> RunPlan:
        """The period, the needs from the state, and the requests that read them."""
        period = self.period(now)
        tweet_ids = self._tap.selection(self).tweet_ids
        needs = self.needs(period, tweet_ids, context, now)
        requests = plan_needs(
            needs.days,
            tweet_ids,
            self.config["engagement_types"],
            period.start,
            period.end,
            needs.incremental,
        )
        return RunPlan(period, tuple(tweet_ids), needs, requests)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        now = datetime.now(UTC)
        period, tweet_ids, needs, requests = self.run_plan(now, context)
        metrics = list(self.config["engagement_types"])
        backfill = sum(r.backfill for r in requests)
        self.logger.info(
            "Planned %d requests (%d backfill, %d incremental): %d tweets, %s to %s (UTC)",
            len(requests),
            backfill,
            len(requests) - backfill,
            len(tweet_ids),
            format_api_time(period.start),
            format_api_time(period.end),
        )
        coverage = needs.base.copy()
        complete = ((date.min, last_complete_day(period.end)),)
        aggregate = Aggregator(
            self.group_by, metrics if self.shape.metrics_layout == "wide" else None
        )
        progress = Progress(self.logger, len(requests))
        workers = int(self.config.get("max_concurrent_requests", 4))
        in_window: list[str] = []
        # Responses come back in plan order whatever the concurrency, so records and STATE are
        # the same as a sequential run's; a window's STATE follows its last response's records.
        fetched = ordered_concurrent(lambda r: (r, list(self._fetch(r))), requests, workers)
        for request, responses in fetched:
            keep = _day_filter(request, needs.days)
            before = aggregate.rows
            for grouping, no_video in responses:
                yield from aggregate.response(grouping, skip_video=no_video, keep=keep)
            progress.request_done(aggregate.rows - before)
            in_window.extend(request.tweet_ids)
            if request.last_batch:
                yield from aggregate.window_end()
                if self.shape.incremental:
                    window = intersect(((request.start.date(), _last_day(request.end)),), complete)
                    for tweet_id in in_window:
                        for metric in request.metrics:
                            need = needs.days.get((tweet_id, metric), ())
                            coverage.add(tweet_id, metric, intersect(need, window))
                    self._write_coverage(context, coverage)
                in_window = []
        progress.finish()
        bounds = {"period_start": period.start, "period_end": period.end}
        yield from aggregate.run_end({k: format_api_time(v) for k, v in bounds.items()})
        if self.shape.incremental:
            self._write_coverage(context, coverage)

    def _write_coverage(self, context: Context | None, coverage: Coverage) -> None:
        """Emit STATE holding what has been delivered (only after its records were written)."""
        state = self.get_context_state(context)
        encoded = coverage.encode()
        last = coverage.last_day()
        if state.get("coverage") == encoded and state.get("replication_key") == (
            self.replication_key
        ):
            return
        state["replication_key"] = self.replication_key
        state["coverage"] = encoded
        if last is None:
            state.pop("replication_key_value", None)
        else:
            state["replication_key_value"] = last.isoformat()
        self.finalize_state_progress_markers(state)

    def request_body(self, tweet_ids: Sequence[str], request: PlannedRequest) -> dict[str, Any]:
        group_by = CANONICAL_HOURLY if needs_hours(self.group_by) else CANONICAL_DAILY
        return {
            "tweet_ids": list(tweet_ids),
            "engagement_types": list(request.metrics or self.config["engagement_types"]),
            "groupings": {GROUPING: {"group_by": list(group_by)}},
            "start": format_api_time(request.start),
            "end": format_api_time(request.end),
        }

    def _fetch(self, request: PlannedRequest) -> Iterator[tuple[Mapping[str, Any], frozenset[str]]]:
        """The canonical grouping of each successful response for one planned request, with
        the ids whose video views the API did not deliver."""
        metrics = request.metrics or self.config["engagement_types"]
        for data in self.post_refusing(request.tweet_ids, lambda b: self.request_body(b, request)):
            no_video = self.note_partial(data, metrics)
            yield data.get(GROUPING) or {}, frozenset(no_video)


class RunPlan(NamedTuple):
    """What one run of ``historical_engagement`` reads, before any Engagement API call."""

    period: Period
    tweet_ids: tuple[str, ...]
    needs: Needs
    requests: list[PlannedRequest]


def _last_day(end: datetime) -> date:
    """The last UTC day a window ending (exclusive) at ``end`` touches."""
    return (end - timedelta(microseconds=1)).date()


def _day_filter(
    request: PlannedRequest, needs: Mapping[tuple[str, str], Days]
) -> dict[tuple[str, str], frozenset[str]] | None:
    """Days to emit per (tweet, metric) of a request, or ``None`` when it needs all it reads."""
    window = ((request.start.date(), _last_day(request.end)),)
    full = True
    keep: dict[tuple[str, str], frozenset[str]] = {}
    for tweet_id in request.tweet_ids:
        for metric in request.metrics:
            need = intersect(needs.get((tweet_id, metric), ()), window)
            full = full and need == window
            keep[(tweet_id, metric)] = day_strings(need)
    return None if full else keep


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
