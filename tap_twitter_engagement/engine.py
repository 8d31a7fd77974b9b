"""The historical sync, free of the SDK: plan what an account needs, then read it exactly.

Given the settings, one account's selection and what its state says was delivered, the engine
plans (the period, the needs per tweet and metric, the requests) and runs the plan: it asks a
*backend* for each planned request (``fetch``: how a request is built, sent and checked is the
API's business), rolls the checked responses up to the configured ``group_by`` (``rollup``),
records what arrived (``coverage``), and yields the records and, after each completed window,
a checkpoint with the coverage to keep. The stream only writes them (records, STATE), so the
plan command and the benchmark use the engine without a Tap, and a second API is a second
backend, not a second sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tap_twitter_engagement.api import format_api_time
from tap_twitter_engagement.checks import Served, Tally
from tap_twitter_engagement.coverage import (
    Coverage,
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
from tap_twitter_engagement.dates import Period, configured_first_day, history_floor, resolve_period
from tap_twitter_engagement.progress import Progress
from tap_twitter_engagement.rollup import Aggregator, needs_hours
from tap_twitter_engagement.settings import Settings
from tap_twitter_engagement.windows import PlannedRequest, period_days, plan_needs


@dataclass(frozen=True)
class Limits:
    """What one request of an API may hold: tweet ids, and days of a window (``backends``)."""

    max_ids: int
    max_days: int


@dataclass(frozen=True)
class RunPlan:
    """What one account's run reads, before any request: the period, the tweets, what each
    (tweet, metric) needs and what the state's coverage still holds, and the requests."""

    period: Period
    tweet_ids: tuple[str, ...]
    needs: Needs
    planned: list[PlannedRequest]
    #: The settings that chose what this run reads, kept in the state (see :meth:`tracking`).
    tracking: Mapping[str, Any]

    @property
    def backfill(self) -> int:
        """Requests that read days never delivered (the others: lookback and new days)."""
        return sum(r.backfill for r in self.planned)


@dataclass(frozen=True)
class Checkpoint:
    """A window is complete and its records written: the coverage to keep now (``final``: the
    run's last one, after every record)."""

    coverage: Coverage
    tracking: Mapping[str, Any]
    final: bool = False


class HistoricalEngine:
    """Plans and runs the historical sync of one run (every account), for one backend."""

    def __init__(
        self,
        settings: Settings,
        limits: Limits,
        logger: logging.Logger,
        started_at: datetime,
    ) -> None:
        self.settings = settings
        self.limits = limits
        self.logger = logger
        self.started_at = started_at
        self.shape = Shape(settings.group_by, settings.metrics_layout, settings.api)
        self.hourly = needs_hours(settings.group_by)
        self._clip_logged = False

    # ------------------------------------------------------------------ planning
    def period(self, now: datetime) -> Period:
        """The configured period at ``now`` (UTC, hour-aligned, end exclusive), clipped to the
        history ``max_history_days`` allows (one WARNING per run naming the days left out)."""
        settings = self.settings
        period = resolve_period(settings, now, history_floor(now, settings.max_history_days))
        first = configured_first_day(settings, now)
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

    def plan(
        self,
        account: Settings,
        tweet_ids: Sequence[str],
        state: dict[str, Any],
        now: datetime,
        label: str = "",
    ) -> RunPlan:
        """The plan of one account (``account``: its settings, the run's with its own tweet
        selection) from its stream state (its partition's; coverage of another shape or from
        the future is dropped from ``state``, with one line)."""
        period = self.period(now)
        tracking = self.tracking(account)
        needs = self.needs(period, tweet_ids, state, now, tracking, label)
        planned = plan_needs(
            needs.days,
            tweet_ids,
            self.settings.engagement_types,
            period.start,
            period.end,
            needs.incremental,
            batch_size=self.limits.max_ids,
            max_days=self.limits.max_days,
        )
        return RunPlan(period, tuple(tweet_ids), needs, planned, tracking)

    def needs(
        self,
        period: Period,
        tweet_ids: Sequence[str],
        state: dict[str, Any],
        now: datetime,
        tracking: Mapping[str, Any],
        label: str = "",
    ) -> Needs:
        """What this run reads: everything, or what the state's coverage leaves (logged, and
        what the state covers that this configuration no longer reads)."""
        metrics = self.settings.engagement_types
        wanted = period_days(period.start, period.end)
        if not self.shape.incremental:
            if state.pop("coverage", None) is not None or state.pop("replication_key_value", None):
                self.logger.info(
                    "group_by %s has no engagement.day, so every run totals the whole period; "
                    "the state's coverage (another shape) is dropped",
                    list(self.shape.group_by),
                )
            return everything(self.shape, tweet_ids, metrics, wanted)
        # A coverage that cannot be read raises CoverageError: the caller names the stream.
        previous = from_state(state, self.shape, now.date() - timedelta(days=1))
        if previous.message:
            log = self.logger.warning if previous.level == "warning" else self.logger.info
            log("Reading the whole period: %s", previous.message)
        if previous.coverage is not None:
            narrow = narrowed(previous.coverage, tweet_ids, metrics, wanted)
            self._log_narrowing(narrow, state.get("tracking"), tracking, label)
        needs = compute_needs(
            previous.coverage, self.shape, tweet_ids, metrics, wanted, self.settings.lookback_days
        )
        for reason in needs.reasons:
            self.logger.info("Re-reading: %s", reason)
        return needs

    def tracking(self, account: Settings) -> dict[str, Any]:
        """The settings that decide what an account's runs read, as the state keeps them: a
        change between runs tells a narrowed configuration from tweets rolling out."""
        s = self.settings
        if s.duration == "single_date":
            start = end = _date_setting(s.report_date_mode, s.report_date, s.days_back)
        else:
            start = _date_setting(s.start_date_mode, s.start_date, s.days_back_to_start_from)
            end = _date_setting(s.end_date_mode, s.end_date, s.days_back_to_end_at)
        return {
            "tweet_selection": account.tweet_selection,
            "number_of_tweets": account.number_of_tweets,
            "exclude_retweets": account.exclude_retweets,
            "exclude_replies": account.exclude_replies,
            "start": start,
            "end": end,
            "max_history_days": s.max_history_days,
        }

    def _log_narrowing(
        self,
        narrow: Narrowed,
        previous: Mapping[str, Any] | None,
        tracking: Mapping[str, Any],
        label: str,
    ) -> None:
        """One line when the state covers what this configuration no longer reads.

        Rows once written stay in a target (targets never delete), so a narrowed configuration
        (tweets, metrics or days removed) is a WARNING with counts. What a run cannot help
        (the oldest tweets rolling out of the N most recent, a relative start moving on a
        day) is expected: the roll-out is one INFO line, the moving start nothing.
        """
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
        who = f" of {label}" if label else ""
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

    # ------------------------------------------------------------------ running
    def counts(self, request: PlannedRequest) -> int:
        """How many counts a request's response holds at most: what it weighs in memory until
        its records are written (``pipeline``'s budget)."""
        days = -(-(request.end - request.start).total_seconds() // 86400)
        return (
            len(request.tweet_ids) * len(request.metrics) * int(days) * (24 if self.hourly else 1)
        )

    def run(
        self,
        plan: RunPlan,
        responses: Iterable[tuple[PlannedRequest, Sequence[Served]]],
        tally: Tally,
    ) -> Iterator[list[dict[str, Any]] | Checkpoint]:
        """Read the plan's responses (each planned request's, in plan order): lists of records
        (at most :data:`CHUNK` at a time, so a large response is never held twice over) as they
        are complete, and after each completed window (incremental shapes) a
        :class:`Checkpoint`, only after that window's records. ``tally`` gathers what the
        responses held beyond their requests, or left out, for the caller to report."""
        settings, period, needs = self.settings, plan.period, plan.needs
        coverage = needs.base.copy()
        complete = ((date.min, last_complete_day(period.end)),)
        aggregate = Aggregator(
            self.shape.group_by, settings.engagement_types if settings.wide else None
        )
        stamp = Stamp(self.started_at, settings.lookback_days, _last_day(period.end))
        progress = Progress(self.logger, len(plan.planned))
        arrived: dict[tuple[str, str], Days] = {}
        for request, served_list in responses:
            keep = _day_filter(request, needs.days)
            emitted = 0
            for served in served_list:
                tally.merge(served.tally)
                rows = aggregate.response(served.grouping, keep=keep, missing=served.missing)
                for chunk in _chunks(rows):
                    emitted += len(chunk)
                    yield stamp(chunk)
                for pair, got in served.delivered.items():
                    arrived[pair] = union(arrived.get(pair, ()), got)
            if request.last_batch:
                records = stamp(aggregate.window_end())
                emitted += len(records)
                yield records
                if self.shape.incremental:
                    window = ((request.start.date(), _last_day(request.end)),)
                    coverage.record_window(intersect(window, complete), needs.days, arrived)
                    yield Checkpoint(coverage, plan.tracking)
                arrived = {}
            progress.request_done(emitted)
        bounds = {"period_start": period.start, "period_end": period.end}
        records = stamp(aggregate.run_end({k: format_api_time(v) for k, v in bounds.items()}))
        progress.request_done(len(records), requests=0)
        yield records
        progress.finish()
        if self.shape.incremental:
            yield Checkpoint(coverage, plan.tracking, final=True)


#: Records handed to the stream at a time.
CHUNK = 5000


def _chunks(records: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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

    def __call__(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        final_before, read_at, last = self.final_before, self.read_at, self.period_last_day
        for record in records:
            record["is_final"] = str(record.get("engagement_date", last)) < final_before
            record["read_at"] = read_at
        return records


def last_complete_day(window_end: datetime) -> date:
    """The last UTC day a window ending at ``window_end`` covered completely."""
    return window_end.date() - timedelta(days=1)


#: The tracking settings that choose the tweets (the others choose the days).
_SELECTION_KEYS = ("tweet_selection", "number_of_tweets", "exclude_retweets", "exclude_replies")


def _date_setting(mode: str, day: str | None, days_back: int) -> str:
    """One end of the range as its settings give it: ``specific:YYYY-MM-DD`` or ``relative:N``."""
    return f"specific:{day}" if mode == "specific" else f"relative:{days_back}"


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
