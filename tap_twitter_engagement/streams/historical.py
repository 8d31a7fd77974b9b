"""``historical_engagement``: Domo's Historical Engagement report, exact under any grouping.

The stream asks the API for the canonical grain (tweet, type, day[, hour]) in planned batches and
windows and derives the configured ``group_by`` from it (``rollup``), so totals across batches
and windows are exact. Day-grained groupings are incremental: the state keeps what was
delivered per tweet and metric (``coverage``), and a run reads only what the configuration
needs beyond it, plus the lookback; STATE advances only after a whole window was emitted.
Other groupings total the whole period on every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_twitter_engagement.api import GROUPING, format_api_time, request_body
from tap_twitter_engagement.checks import Asked, Served, Tally, check_series
from tap_twitter_engagement.concurrency import ordered_concurrent
from tap_twitter_engagement.coverage import (
    Coverage,
    CoverageError,
    Days,
    Narrowed,
    Needs,
    Shape,
    compute_needs,
    day_strings,
    everything,
    from_state,
    intersect,
    narrowed,
    union,
)
from tap_twitter_engagement.dates import Period, configured_first_day
from tap_twitter_engagement.errors import StateError
from tap_twitter_engagement.plan import PlannedRequest, period_days, plan_needs
from tap_twitter_engagement.progress import Progress
from tap_twitter_engagement.rollup import (
    CANONICAL_DAILY,
    CANONICAL_HOURLY,
    COLUMNS,
    COUNT_COLUMN,
    Aggregator,
    needs_hours,
)
from tap_twitter_engagement.streams.base import ACCOUNT_ID, COUNT_TYPE, EngagementStream

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun, Run
    from tap_twitter_engagement.settings import Settings

_COLUMN_TYPES: dict[str, Any] = {
    "tweet_id": th.StringType,
    "engagement_type": th.StringType,
    "engagement_date": th.DateType,
    "engagement_hour": th.IntegerType(minimum=0, maximum=23),
    "period_start": th.DateTimeType,
    "period_end": th.DateTimeType,
}
_DESCRIPTIONS = {
    "tweet_id": "Tweet (post) id.",
    "engagement_type": "Metric name, as the Engagement API calls it.",
    "engagement_date": "UTC day of the engagement.",
    "engagement_hour": "UTC hour of the engagement (0..23).",
    "period_start": "Start of the period the count covers (UTC, inclusive).",
    "period_end": "End of the period the count covers (UTC, exclusive).",
}


#: Every row of the time series says whether its count may still change, and when it was read.
PROVENANCE = (
    th.Property(
        "is_final",
        th.BooleanType,
        required=True,
        description="False while the count may still change: its day is within lookback_days "
        "of the last complete UTC day when it was read, so the next run reads it again (README: "
        "Provisional days).",
    ),
    th.Property(
        "read_at",
        th.DateTimeType,
        required=True,
        description="When the run that wrote this row started (UTC, to the second).",
    ),
)
#: The default shape's stream; other shapes write to their own (:func:`shape_stream_name`).
DEFAULT_STREAM = "historical_engagement"
_SHORT = {"tweet.id": "tweet", "engagement.type": "type", "engagement.day": "day"}
_SHORT["engagement.hour"] = "hour"


def shape_stream_name(group_by: Sequence[str], metrics_layout: str = "long") -> str:
    """The stream (and so the table) of a shape: ``historical_engagement`` for the default
    ``group_by`` (tweet, type, day) in the long layout; otherwise named after the shape, e.g.
    ``historical_engagement_by_type_day``, ``historical_engagement_wide``. Rows of different key
    properties never share a table, so switching ``group_by`` never breaks a target."""
    name = DEFAULT_STREAM
    if set(group_by) != set(CANONICAL_DAILY):
        name += "_by_" + "_".join(_SHORT[g] for g in COLUMNS if g in group_by)
    return name + ("_wide" if metrics_layout == "wide" else "")


def historical_schema(
    group_by: Sequence[str], wide_metrics: Sequence[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Schema and key properties for a ``group_by``: the account, its columns, the period if
    no day, the count (long layout) or one integer column per metric (wide layout, no
    engagement_type), then whether the row is final and when it was read. The account is a key
    where rows of two accounts could share the other columns: groupings without the tweet (a
    tweet belongs to one account)."""
    columns = [COLUMNS[g] for g in group_by if not (wide_metrics and g == "engagement.type")]
    if "engagement.day" not in group_by:
        columns += ["period_start", "period_end"]
    properties: list[th.Property[Any]] = [
        ACCOUNT_ID,
        *(
            th.Property(k, _COLUMN_TYPES[k], required=True, description=_DESCRIPTIONS[k])
            for k in columns
        ),
    ]
    keys = columns if "tweet.id" in group_by else [ACCOUNT_ID.name, *columns]
    if wide_metrics:
        properties += [
            th.Property(
                m,
                COUNT_TYPE,
                description=f"{m}, summed exactly over the key (null when not served).",
            )
            for m in wide_metrics
        ]
    else:
        properties.append(
            th.Property(
                COUNT_COLUMN,
                COUNT_TYPE,
                required=True,
                description="The count, summed exactly over the key.",
            )
        )
    properties += PROVENANCE
    return th.PropertiesList(*properties).to_dict(), keys


def historical_schema_for(
    settings: Settings,
) -> tuple[str, dict[str, Any], list[str], str | None]:
    """Stream name, schema, key properties and replication key of the historical stream for
    settings (its name and keys follow the shape: ``group_by`` and ``metrics_layout``)."""
    wide = settings.engagement_types if settings.wide else None
    schema, keys = historical_schema(settings.group_by, wide)
    replication_key = "engagement_date" if "engagement.day" in settings.group_by else None
    name = shape_stream_name(settings.group_by, settings.metrics_layout)
    return name, schema, keys, replication_key


def last_complete_day(window_end: datetime) -> date:
    """The last UTC day a window ending at ``window_end`` covered completely."""
    return window_end.date() - timedelta(days=1)


class RunPlan(NamedTuple):
    """What one run of ``historical_engagement`` reads, before any Engagement API call."""

    period: Period
    tweet_ids: tuple[str, ...]
    needs: Needs
    planned: list[PlannedRequest]


class HistoricalEngagementStream(EngagementStream):
    """Engagement per the configured grouping from ``POST /insights/engagement/historical``."""

    name = DEFAULT_STREAM
    endpoint = "historical"
    #: Records are built with the schema's exact types (str, int, ISO dates), so the SDK's
    #: per-record type conformance has nothing to do; see BENCHMARKS.md for what it would cost.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, run: Run) -> None:
        settings = run.settings
        self.shape = Shape(settings.group_by, settings.metrics_layout)
        name, schema, keys, replication_key = historical_schema_for(settings)
        super().__init__(tap, run, schema=schema, name=name)
        self.primary_keys = keys
        self.replication_key = replication_key
        self._clip_logged = False

    # Private, but the only way: the SDK would advance the bookmark per record; coverage
    # advances per completed window in account_records instead (see DEVELOPERS.md).
    def _increment_stream_state(
        self,
        latest_record: dict[str, Any],  # noqa: ARG002
        *,
        context: Context | None = None,  # noqa: ARG002
    ) -> None:
        return

    def period(self, now: datetime) -> Period:
        """The configured period (UTC, hour-aligned, end exclusive), clipped to the history
        ``max_history_days`` allows (one WARNING per run naming the days left out)."""
        settings = self.run.settings
        period = self.run.period_at(now)
        first = configured_first_day(settings.as_mapping(), now)
        lost = (period.start.date() - first).days
        if lost > 0 and not self._clip_logged:
            self._clip_logged = True
            self.logger.warning(
                "The configured range starts on %s, %d day(s) before the earliest day asked for, "
                "%s (max_history_days %d): those days are not read. Raise max_history_days if "
                "your contract serves older data (X's API reference: since 2014-09-01).",
                first.isoformat(),
                lost,
                period.start.date().isoformat(),
                settings.max_history_days,
            )
        return period

    def needs(
        self,
        period: Period,
        tweet_ids: Sequence[str],
        context: Context | None,
        now: datetime,
        account: AccountRun | None = None,
    ) -> Needs:
        """What this run reads: everything, or what the state's coverage leaves (logged, and
        what the state covers that this configuration no longer reads)."""
        settings = self.run.settings
        wanted = period_days(period.start, period.end)
        self._drop_stream_level_state(now.date() - timedelta(days=1))
        state = self.get_context_state(context)
        if not self.shape.incremental:
            if state.pop("coverage", None) is not None or state.pop("replication_key_value", None):
                self.logger.info(
                    "group_by %s has no engagement.day, so every run totals the whole period; "
                    "the state's coverage (another shape) is dropped",
                    list(self.shape.group_by),
                )
            return everything(self.shape, tweet_ids, settings.engagement_types, wanted)
        try:
            previous = from_state(state, self.shape, now.date() - timedelta(days=1))
        except CoverageError as exc:
            raise StateError(f"historical_engagement: {exc}") from None
        if previous.message:
            log = self.logger.warning if previous.level == "warning" else self.logger.info
            log("Reading the whole period: %s", previous.message)
        if previous.coverage is not None and account is not None:
            self._log_narrowing(
                account,
                narrowed(previous.coverage, tweet_ids, settings.engagement_types, wanted),
                state.get("tracking"),
            )
        needs = compute_needs(
            previous.coverage,
            self.shape,
            tweet_ids,
            settings.engagement_types,
            wanted,
            settings.lookback_days,
        )
        for reason in needs.reasons:
            self.logger.info("Re-reading: %s", reason)
        return needs

    def _log_narrowing(
        self, account: AccountRun, narrow: Narrowed, previous: Mapping[str, Any] | None
    ) -> None:
        """One line when the state covers what this configuration no longer reads.

        Rows once written stay in a target (targets never delete), so a narrowed configuration
        (tweets, metrics or days removed) is a WARNING with counts. What a run cannot help
        (the oldest tweets rolling out of the N most recent, a relative start moving on a
        day) is expected: the roll-out is one INFO line, the moving start nothing.
        """
        tracking = self.tracking(account)
        previous = previous if isinstance(previous, Mapping) else tracking
        same_selection = all(previous.get(k) == tracking[k] for k in _SELECTION_KEYS)
        rolled_out = same_selection and tracking["tweet_selection"] == "recent"
        parts = []
        if narrow.tweets and not rolled_out:
            parts.append(f"{len(narrow.tweets)} tweet(s) (first: {narrow.tweets[0]})")
        if narrow.metrics:
            parts.append(f"metric(s) {', '.join(narrow.metrics)}")
        if narrow.days_before and any(
            previous.get(k) != tracking[k] for k in ("start", "max_history_days")
        ):
            parts.append(f"{narrow.days_before} day(s) before the configured range")
        if narrow.days_after and previous.get("end") != tracking["end"]:
            parts.append(f"{narrow.days_after} day(s) after the configured range")
        who = f" of {account.label}" if len(self.run.accounts) > 1 else ""
        if parts:
            self.logger.warning(
                "This configuration no longer reads what earlier runs delivered%s: %s. Their rows "
                "stay in the target as last written (targets never delete rows); the tracked "
                "stream says what this configuration tracks (README: Narrowing).",
                who,
                "; ".join(parts),
            )
        elif narrow.tweets:
            self.logger.info(
                "%d tweet(s)%s rolled out of the %d most recent since the last run; their rows "
                "stay in the target as last written (the tracked stream says what is tracked)",
                len(narrow.tweets),
                who,
                tracking["number_of_tweets"],
            )

    def tracking(self, account: AccountRun) -> dict[str, Any]:
        """The settings that decide what an account's runs read, as the state keeps them: a
        change between runs tells a narrowed configuration from tweets rolling out."""
        chosen, settings = account.account, self.run.settings
        if settings.duration == "single_date":
            start = end = _date_setting(
                settings.report_date_mode, settings.report_date, settings.days_back
            )
        else:
            start = _date_setting(
                settings.start_date_mode, settings.start_date, settings.days_back_to_start_from
            )
            end = _date_setting(
                settings.end_date_mode, settings.end_date, settings.days_back_to_end_at
            )
        return {
            "tweet_selection": chosen.tweet_selection,
            "number_of_tweets": chosen.number_of_tweets,
            "exclude_retweets": chosen.exclude_retweets,
            "exclude_replies": chosen.exclude_replies,
            "start": start,
            "end": end,
            "max_history_days": settings.max_history_days,
        }

    def _drop_stream_level_state(self, last_complete: date) -> None:
        """A state from before accounts has its coverage at the stream level, for rows without
        ``account_id``: drop it, so every account reads its whole period once (logged; a
        WARNING when it claims days after the last complete one, as any such state gets)."""
        stream_state = self.stream_state
        legacy = [k for k in ("coverage", "replication_key_value") if k in stream_state]
        if not legacy:
            return
        claimed = _claimed_last_day(stream_state)
        for key in (*legacy, "replication_key", "starting_replication_value", "tracking"):
            stream_state.pop(key, None)
        if claimed is not None and claimed > last_complete:
            self.logger.warning(
                "Reading the whole period: the state (written before per-account state) claims "
                "days delivered up to %s, after the last complete UTC day (%s): not trusting it",
                claimed.isoformat(),
                last_complete.isoformat(),
            )
            return
        self.logger.info(
            "Reading the whole period: the state was written before per-account state, "
            "and every row now carries account_id"
        )

    def run_plan(self, now: datetime, account: AccountRun, context: Context | None) -> RunPlan:
        """The period, the needs from the account's state, and the requests that read them."""
        period = self.period(now)
        tweet_ids = account.selection().tweet_ids
        needs = self.needs(period, tweet_ids, context, now, account)
        planned = plan_needs(
            needs.days,
            tweet_ids,
            self.run.settings.engagement_types,
            period.start,
            period.end,
            needs.incremental,
        )
        return RunPlan(period, tuple(tweet_ids), needs, planned)

    def account_records(
        self, account: AccountRun, context: Context | None
    ) -> Iterable[dict[str, Any]]:
        settings = self.run.settings
        period, tweet_ids, needs, planned = self.run_plan(self.run.started_at, account, context)
        backfill = sum(r.backfill for r in planned)
        self.logger.info(
            "Planned %d requests for %s (%d backfill, %d incremental): %d tweets, %s to %s (UTC)",
            len(planned),
            account.label,
            backfill,
            len(planned) - backfill,
            len(tweet_ids),
            format_api_time(period.start),
            format_api_time(period.end),
        )
        coverage = needs.base.copy()
        complete = ((date.min, last_complete_day(period.end)),)
        # With BATCH messages a window's records may sit in a batch file not announced yet:
        # the state then changes once, at the end, and the SDK writes it after the last batch.
        batch_mode = self.get_batch_config(self.config) is not None
        aggregate = Aggregator(
            self.shape.group_by, settings.engagement_types if settings.wide else None
        )
        stamp = Stamp(self.run.started_at, settings.lookback_days, _last_day(period.end))
        tracking = self.tracking(account)
        progress = Progress(self.logger, len(planned))
        tally = Tally()
        arrived: dict[tuple[str, str], Days] = {}
        # Responses come back in plan order whatever the concurrency, so records and STATE are
        # the same as a sequential run's; a window's STATE follows its last response's records.
        fetched = ordered_concurrent(
            lambda r: (r, list(self._fetch(account, r))), planned, settings.max_concurrent_requests
        )
        try:
            for request, responses in fetched:
                keep = _day_filter(request, needs.days)
                emitted = 0
                for served in responses:
                    tally.merge(served.tally)
                    records = aggregate.response(served.grouping, keep=keep, missing=served.missing)
                    emitted += len(records)
                    yield from stamp(records)
                    for pair, got in served.delivered.items():
                        arrived[pair] = union(arrived.get(pair, ()), got)
                if request.last_batch:
                    records = aggregate.window_end()
                    emitted += len(records)
                    yield from stamp(records)
                    if self.shape.incremental:
                        window = ((request.start.date(), _last_day(request.end)),)
                        coverage.record_window(intersect(window, complete), needs.days, arrived)
                        if not batch_mode:
                            self._write_coverage(context, coverage, tracking)
                    arrived = {}
                progress.request_done(emitted)
            bounds = {"period_start": period.start, "period_end": period.end}
            records = aggregate.run_end({k: format_api_time(v) for k, v in bounds.items()})
            progress.request_done(len(records), requests=0)
            yield from stamp(records)
            progress.finish()
            if self.shape.incremental:
                self._write_coverage(context, coverage, tracking, emit=not batch_mode)
        finally:
            self.report(account, tally)

    def _write_coverage(
        self,
        context: Context | None,
        coverage: Coverage,
        tracking: Mapping[str, Any],
        *,
        emit: bool = True,
    ) -> None:
        """Emit STATE holding what has been delivered (only after its records were written),
        and the settings it was delivered for; ``emit=False`` only updates the state, for the
        SDK to write after the last batch."""
        state = self.get_context_state(context)
        encoded = coverage.encode()
        if (
            state.get("coverage") == encoded
            and state.get("replication_key") == self.replication_key
            and state.get("tracking") == tracking
        ):
            return
        state["replication_key"] = self.replication_key
        state["coverage"] = encoded
        state["tracking"] = dict(tracking)
        last = coverage.last_day()
        if last is None:
            state.pop("replication_key_value", None)
        else:
            state["replication_key_value"] = last.isoformat()
        if emit:
            self.finalize_state_progress_markers(state)

    def _fetch(self, account: AccountRun, request: PlannedRequest) -> Iterator[Served]:
        """Each successful response for one planned request, checked against what it asked:
        the canonical grouping of the batch's ids and the request's metrics, over its window."""
        hourly = needs_hours(self.shape.group_by)
        group_by = CANONICAL_HOURLY if hourly else CANONICAL_DAILY

        def body(batch: list[str]) -> dict[str, Any]:
            return request_body(batch, request.metrics, group_by, request.start, request.end)

        def check(data: dict[str, Any], batch: list[str]) -> Served:
            asked = Asked(tuple(batch), request.metrics, request.start, request.end, hourly)
            return check_series(data, GROUPING, asked, self.where)

        yield from self.post_refusing(account, request.tweet_ids, body, check)


class Stamp:
    """Adds to each record whether its count is final and when the run read it.

    A day is final when it lies more than ``lookback_days`` before the last complete UTC day at
    the run's start: when the range reaches yesterday, no later run's lookback reads it again,
    and when ``(lookback_days + 1) x 24`` hours cover the API's revision horizon, the API no
    longer changes it. A row without a day covers the period, and is final when the period's
    last day is.
    """

    def __init__(self, started_at: datetime, lookback_days: int, period_last_day: date) -> None:
        last_complete = started_at.date() - timedelta(days=1)
        self.final_before = (last_complete - timedelta(days=lookback_days)).isoformat()
        self.read_at = format_api_time(started_at)
        self.period_last_day = period_last_day.isoformat()

    def __call__(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        final_before, read_at, last = self.final_before, self.read_at, self.period_last_day
        for record in records:
            record["is_final"] = str(record.get("engagement_date", last)) < final_before
            record["read_at"] = read_at
            yield record


#: The tracking settings that choose the tweets (the others choose the days).
_SELECTION_KEYS = ("tweet_selection", "number_of_tweets", "exclude_retweets", "exclude_replies")


def _date_setting(mode: str, day: str | None, days_back: int) -> str:
    """One end of the range as its settings give it: ``specific:YYYY-MM-DD`` or ``relative:N``."""
    return f"specific:{day}" if mode == "specific" else f"relative:{days_back}"


def _claimed_last_day(state: Mapping[str, Any]) -> date | None:
    """The last day a (checked) state's bookmark or coverage says was delivered."""
    days = []
    if isinstance(state.get("replication_key_value"), str):
        days.append(date.fromisoformat(state["replication_key_value"]))
    if "coverage" in state:
        last = Coverage.decode(state["coverage"]).last_day()
        days += [last] if last else []
    return max(days, default=None)


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
