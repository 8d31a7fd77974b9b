"""``historical_engagement``: Domo's Historical Engagement report, exact under any grouping.

The SDK side of the historical sync: the stream's name (one per shape), schema and keys, and
writing what the engine (``engine``) yields: records, and STATE at each checkpoint, after the
records it covers. What is read, and how it is summed and covered, is the engine's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_twitter_engagement.api import format_api_time
from tap_twitter_engagement.checks import Served, Tally
from tap_twitter_engagement.coverage import Coverage, CoverageError
from tap_twitter_engagement.engine import Checkpoint, RunPlan
from tap_twitter_engagement.errors import StateError
from tap_twitter_engagement.pipeline import BYTES_PER_COUNT, Pipeline
from tap_twitter_engagement.rollup import CANONICAL_DAILY, COLUMNS, COUNT_COLUMN
from tap_twitter_engagement.streams.base import ACCOUNT_ID, COUNT_TYPE, Item, TapStream
from tap_twitter_engagement.windows import PlannedRequest

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


class HistoricalEngagementStream(TapStream):
    """Engagement per the configured grouping, read by the historical engine (``engine``) from
    the configured API (``backends``); this class is the SDK side: its name, schema and keys
    follow the shape, and it writes the engine's records and, at each checkpoint, STATE."""

    name = DEFAULT_STREAM
    #: Records are built with the schema's exact types (str, int, ISO dates), so the SDK's
    #: per-record type conformance has nothing to do; see BENCHMARKS.md for what it would cost.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, run: Run) -> None:
        settings = run.settings
        name, schema, keys, replication_key = historical_schema_for(settings)
        super().__init__(tap, run, schema=schema, name=name)
        self.primary_keys = keys
        self.replication_key = replication_key
        self._pipeline: Pipeline[str] | None = None

    # Private, but the only way: the SDK would advance the bookmark per record; coverage
    # advances per completed window in account_records instead (see DEVELOPERS.md).
    @override
    def _increment_stream_state(
        self,
        latest_record: dict[str, Any],
        *,
        context: Context | None = None,
    ) -> None:
        return

    def pipeline(self) -> Pipeline[str]:
        """Every ready account's requests as one stream (``pipeline``), started on the first
        account: the next accounts are planned, and their requests sent, while the first one's
        records are written. Their states are read here, before any of them changes."""
        if self._pipeline is None:
            run, engine = self.run, self.run.engine
            self._drop_stream_level_state(run.started_at.date() - timedelta(days=1))
            accounts = {a.user_id: a for a in run.ready()}
            states = {
                user_id: copy.deepcopy(self.get_context_state({ACCOUNT_ID.name: user_id}))
                for user_id in accounts
            }
            several = len(run.accounts) > 1

            def plan(user_id: str) -> RunPlan:
                account = accounts[user_id]
                tweet_ids = account.selection().tweet_ids
                label = account.label if several else ""
                return engine.plan(
                    account.settings, tweet_ids, states[user_id], run.started_at, label
                )

            def fetch(user_id: str, request: PlannedRequest) -> list[Served]:
                return list(run.backend.fetch(accounts[user_id], request, engine.hourly))

            self._pipeline = Pipeline(
                list(accounts),
                plan,
                fetch,
                workers=run.settings.max_concurrent_requests,
                budget=run.settings.memory_budget_mb * 2**20 // BYTES_PER_COUNT,
                weight=engine.counts,
                stop=run.stop,
            )
        return self._pipeline

    def plan(self, account: AccountRun) -> RunPlan:
        """The account's plan (made ahead by the pipeline)."""
        try:
            return self.pipeline().plan_of(account.user_id)
        except CoverageError as exc:
            raise StateError(f"{self.name}: {exc}") from None

    @override
    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Item]:
        plan = self.plan(account)
        if not self.run.engine.shape.incremental:  # a shape without days keeps no coverage
            state = self.get_context_state(context)
            for key in ("coverage", "replication_key_value", "tracking"):
                state.pop(key, None)
        self.logger.info(
            "Planned %d requests for %s (%d backfill, %d incremental): %d tweets, %s to %s (UTC)",
            len(plan.planned),
            account.label,
            plan.backfill,
            len(plan.planned) - plan.backfill,
            len(plan.tweet_ids),
            format_api_time(plan.period.start),
            format_api_time(plan.period.end),
        )
        tally = Tally()
        responses = self.pipeline().responses(account.user_id)
        try:
            for event in self.run.engine.run(plan, responses, tally):
                if isinstance(event, Checkpoint):
                    # With BATCH messages the window's last records may sit in a file not
                    # announced yet: its STATE waits for that file's BATCH message.
                    yield from self.after_batch(self._state_writer(context, event))
                else:
                    yield event  # a list: the BATCH path takes it in one go
        finally:
            responses.close()
            # Also when the engine failed before it asked for a response (the generator never
            # started, so closing it gives back nothing): the account's requests end here.
            self.pipeline().abandon(account.user_id)
            self.report(account, tally)

    def report(self, account: AccountRun, tally: Tally) -> None:
        """One WARNING per kind of trouble the account's responses had (see ``checks``)."""
        where = self.run.backend.where
        if len(self.run.accounts) > 1:
            where = f"{where} for {account.label}"
        for line in tally.lines(where):
            self.logger.warning("%s", line)

    def _state_writer(self, context: Context | None, checkpoint: Checkpoint) -> Callable[[], None]:
        """What emits STATE holding what has been delivered at ``checkpoint`` and the settings it
        was delivered for, to run once its records are written (or announced in BATCH
        messages). Read now: the engine goes on adding to the checkpoint's coverage."""
        encoded = checkpoint.coverage.encode()
        tracking = dict(checkpoint.tracking)
        last = checkpoint.coverage.last_day()

        def write() -> None:
            state = self.get_context_state(context)
            if (
                state.get("coverage") == encoded
                and state.get("replication_key") == self.replication_key
                and state.get("tracking") == tracking
            ):
                return
            state["replication_key"] = self.replication_key
            state["coverage"] = encoded
            state["tracking"] = tracking
            if last is None:
                state.pop("replication_key_value", None)
            else:
                state["replication_key_value"] = last.isoformat()
            self.finalize_state_progress_markers(state)

        return write

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


def _claimed_last_day(state: Mapping[str, Any]) -> date | None:
    """The last day a (checked) state's bookmark or coverage says was delivered."""
    days = []
    if isinstance(state.get("replication_key_value"), str):
        days.append(date.fromisoformat(state["replication_key_value"]))
    if "coverage" in state:
        last = Coverage.decode(state["coverage"]).last_day()
        days += [last] if last else []
    return max(days, default=None)
