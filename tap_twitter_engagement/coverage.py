"""What ``historical_engagement`` has delivered, as kept in STATE, and what a run must read.

A single bookmark cannot survive a configuration change: a tweet or metric added later, or an
earlier start, would get only the lookback days. So the state records, for every (tweet, metric),
the complete UTC days already delivered (its *coverage*), and the output shape they were
delivered in (``group_by`` and ``metrics_layout``). A run then reads, for each selected (tweet,
metric), the configured days minus the covered ones, plus ``lookback_days`` before the end of
each covered span, because the API keeps revising recent counts.

An output row can sum several (tweet, metric, day) units: a ``group_by`` without ``tweet.id``
sums over tweets, one without ``engagement.type`` over metrics, and a wide row holds every
metric. Such a row is exact only if it is re-emitted whole, from exactly the units the current
configuration selects. Two rules keep that true:

- *validity*: a covered row is trusted only if the units it was summed from are exactly those the
  configuration selects now (a tweet added to or removed from the selection changes every
  day's sum, so those days are read again);
- *closure*: if any unit of a row must be read, all units of that row are read, so the row is
  emitted complete.

Everything here is pure: days are ``datetime.date`` values, spans are inclusive, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeGuard

from tap_twitter_engagement.metrics import HISTORICAL_METRICS

_DAY = timedelta(days=1)
#: Version of the encoding written to STATE; a different version is not read.
FORMAT = 1

Span = tuple[date, date]
#: A set of days as sorted, disjoint, non-touching inclusive spans.
Days = tuple[Span, ...]
Pair = tuple[str, str]

NOTHING: Days = ()


# --- day sets ------------------------------------------------------------------------------------


def days(spans: Iterable[Span]) -> Days:
    """Normalise spans into a day set: sorted, overlapping or touching spans merged."""
    merged: list[list[date]] = []
    for first, last in sorted(spans):
        if first > last:
            raise ValueError(f"span ends before it starts: {first} > {last}")
        if merged and first <= merged[-1][1] + _DAY:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple((a, b) for a, b in merged)


def union(a: Days, b: Days) -> Days:
    if not a:
        return b
    if not b or a == b:
        return a
    return days((*a, *b))


def intersect(a: Days, b: Days) -> Days:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        first = max(a[i][0], b[j][0])
        last = min(a[i][1], b[j][1])
        if first <= last:
            out.append((first, last))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def minus(a: Days, b: Days) -> Days:
    """Days of ``a`` not in ``b``."""
    out: list[Span] = []
    for first, last in a:
        start = first
        for b_first, b_last in b:
            if b_last < start or b_first > last:
                continue
            if b_first > start:
                out.append((start, b_first - _DAY))
            start = max(start, b_last + _DAY)
            if start > last:
                break
        if start <= last:
            out.append((start, last))
    return tuple(out)


def count(a: Days) -> int:
    """Number of days in the set."""
    return sum((last - first).days + 1 for first, last in a)


def day_strings(a: Days) -> frozenset[str]:
    """Every day of the set as ``YYYY-MM-DD`` (for filtering rows; sets are short)."""
    out: set[str] = set()
    for first, last in a:
        out.update((first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1))
    return frozenset(out)


def lookback(covered: Days, lookback_days: int) -> Days:
    """The last ``lookback_days`` days before the end of each covered span, and that end day."""
    return days((max(first, last - timedelta(days=lookback_days)), last) for first, last in covered)


# --- shape ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The output shape coverage belongs to: rows delivered in one shape say nothing of another."""

    group_by: tuple[str, ...]
    metrics_layout: str = "long"

    @property
    def per_tweet(self) -> bool:
        """Whether each row belongs to one tweet (else rows sum over the selected tweets)."""
        return "tweet.id" in self.group_by

    @property
    def per_metric_sum(self) -> bool:
        """Whether each count belongs to one metric (else long rows sum over metrics)."""
        return "engagement.type" in self.group_by

    @property
    def whole_row_per_metric(self) -> bool:
        """Whether a row holds one metric only (long layout with engagement.type)."""
        return self.per_metric_sum and self.metrics_layout != "wide"

    @property
    def incremental(self) -> bool:
        """Coverage exists only for day-grained shapes; the others total the whole period."""
        return "engagement.day" in self.group_by

    def as_state(self) -> dict[str, Any]:
        return {"group_by": list(self.group_by), "metrics_layout": self.metrics_layout}


# --- coverage ------------------------------------------------------------------------------------


class CoverageError(ValueError):
    """The coverage in a state cannot be read; the message says why, for one log line."""


@dataclass
class Coverage:
    """Complete UTC days delivered per (tweet, metric), for one output shape."""

    shape: Shape
    spans: dict[Pair, Days] = field(default_factory=dict)

    def add(self, tweet_id: str, metric: str, delivered: Days) -> None:
        if delivered:
            pair = (tweet_id, metric)
            self.spans[pair] = union(self.spans.get(pair, NOTHING), delivered)

    def get(self, tweet_id: str, metric: str) -> Days:
        return self.spans.get((tweet_id, metric), NOTHING)

    def last_day(self) -> date | None:
        """The latest day delivered for any (tweet, metric)."""
        return max((d[-1][1] for d in self.spans.values() if d), default=None)

    def copy(self) -> Coverage:
        return Coverage(self.shape, dict(self.spans))

    def record_window(
        self, window: Days, needs: Mapping[Pair, Days], arrived: Mapping[Pair, Days]
    ) -> None:
        """Add what a completed window delivered: for each (tweet, metric), the days of
        ``window`` it needed that arrived whole. Coverage records what arrived, never what was
        asked: a tweet refused or a bucket left out gets none, so the next run reads it."""
        for (tweet_id, metric), got in arrived.items():
            need = intersect(needs.get((tweet_id, metric), NOTHING), window)
            self.add(tweet_id, metric, intersect(need, got))

    def restricted(self, tweet_ids: Iterable[str], first_day: date) -> Coverage:
        """Only the given tweets, and no day before ``first_day`` (keeps STATE the size of the
        selection and the configured range, whatever ran before)."""
        keep = set(tweet_ids)
        before = ((date.min, first_day - _DAY),)
        spans = {}
        for pair, covered in self.spans.items():
            if pair[0] in keep:
                clipped = minus(covered, before)
                if clipped:
                    spans[pair] = clipped
        return Coverage(self.shape, spans)

    # ---- STATE encoding
    def encode(self) -> dict[str, Any]:
        """Compact JSON: tweets with the same metrics and days are listed together.

        Deterministic (sorted), so STATE is identical whatever the request concurrency.
        """
        by_days: dict[Days, dict[str, set[str]]] = {}
        for (tweet_id, metric), covered in self.spans.items():
            if covered:
                by_days.setdefault(covered, {}).setdefault(tweet_id, set()).add(metric)
        entries: list[dict[str, Any]] = []
        for covered, tweets in by_days.items():
            by_metrics: dict[tuple[str, ...], list[str]] = {}
            for tweet_id, metric_set in tweets.items():
                ranked = tuple(sorted(metric_set, key=_metric_rank))
                by_metrics.setdefault(ranked, []).append(tweet_id)
            for metrics, tweet_ids in by_metrics.items():
                entries.append(
                    {
                        "days": [[a.isoformat(), b.isoformat()] for a, b in covered],
                        "metrics": list(metrics),
                        "tweet_ids": sorted(tweet_ids, key=_tweet_rank),
                    }
                )
        entries.sort(key=lambda e: (e["days"], [_metric_rank(m) for m in e["metrics"]]))
        return {"version": FORMAT, "shape": self.shape.as_state(), "spans": entries}

    @classmethod
    def decode(cls, value: Any) -> Coverage:
        """Read what :meth:`encode` wrote; :class:`CoverageError` says what is wrong."""
        if not isinstance(value, Mapping):
            raise CoverageError("coverage is not an object")
        if value.get("version") != FORMAT:
            raise CoverageError(f"coverage version {value.get('version')!r} is not {FORMAT}")
        raw_shape = value.get("shape")
        if not isinstance(raw_shape, Mapping):
            raise CoverageError("coverage has no shape")
        group_by, layout = raw_shape.get("group_by"), raw_shape.get("metrics_layout")
        if not _strings(group_by) or not isinstance(layout, str):
            raise CoverageError("coverage shape is not group_by and metrics_layout")
        coverage = cls(Shape(tuple(group_by), layout))
        entries = value.get("spans")
        if not isinstance(entries, list):
            raise CoverageError("coverage spans are not a list")
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise CoverageError("a coverage span is not an object")
            tweet_ids, metrics = entry.get("tweet_ids"), entry.get("metrics")
            if not _strings(tweet_ids) or not _strings(metrics):
                raise CoverageError("a coverage span lacks tweet_ids or metrics")
            covered = _decode_days(entry.get("days"))
            for tweet_id in tweet_ids:
                for metric in metrics:
                    coverage.add(tweet_id, metric, covered)
        return coverage


def _strings(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _decode_days(value: Any) -> Days:
    if not isinstance(value, list) or not value:
        raise CoverageError("a coverage span has no days")
    spans = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and _strings(pair)):
            raise CoverageError(f"{pair!r} is not a [first, last] pair of days")
        try:
            first, last = date.fromisoformat(pair[0]), date.fromisoformat(pair[1])
        except ValueError:
            raise CoverageError(f"{pair!r} is not a pair of YYYY-MM-DD days") from None
        if len(pair[0]) != 10 or len(pair[1]) != 10 or first > last:
            raise CoverageError(f"{pair!r} is not a [first, last] pair of YYYY-MM-DD days")
        spans.append((first, last))
    return days(spans)


_METRIC_RANKS = {name: i for i, name in enumerate(HISTORICAL_METRICS)}


def _metric_rank(name: str) -> tuple[int, str]:
    return (_METRIC_RANKS.get(name, len(_METRIC_RANKS)), name)


def _tweet_rank(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)


# --- needs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    """What a run reads and emits, per selected (tweet, metric), and what it builds on.

    ``days`` holds the days to read for each pair (empty pairs are absent); ``incremental``
    the part of them that is the lookback or days after the covered end of a pair that had
    coverage (the rest is backfill); ``base`` the coverage still valid for this configuration,
    to which the run adds what it delivers; ``reasons`` one line each on why rows are re-read.
    """

    days: dict[Pair, Days]
    incremental: dict[Pair, Days]
    base: Coverage
    reasons: tuple[str, ...] = ()


def everything(
    shape: Shape, tweet_ids: Sequence[str], metrics: Sequence[str], period: Days
) -> Needs:
    """Needs of a run without usable coverage: every selected pair over the whole period."""
    wanted = {(t, m): period for t in tweet_ids for m in metrics} if period else {}
    return Needs(wanted, {}, Coverage(shape))


def compute_needs(
    previous: Coverage | None,
    shape: Shape,
    tweet_ids: Sequence[str],
    metrics: Sequence[str],
    period: Days,
    lookback_days: int,
) -> Needs:
    """The days each selected (tweet, metric) must be read, from what ``previous`` covers.

    ``period`` is the configured range as days (its last day may still be running: coverage
    never holds such a day, so it is always read). ``previous`` must be of ``shape`` (the
    caller drops coverage of another shape). Needs are the period minus valid coverage, plus
    ``lookback_days`` before each covered end, closed over output rows (see module docs).
    """
    if previous is None or not previous.spans or not period:
        return everything(shape, tweet_ids, metrics, period)
    if previous.shape != shape:
        raise ValueError("coverage of another shape")
    first_day = period[0][0]
    valid, reasons = _valid(previous, shape, tweet_ids, metrics)
    wanted: dict[Pair, Days] = {}
    for tweet_id in tweet_ids:
        for metric in metrics:
            covered = previous.get(tweet_id, metric)
            recent = intersect(lookback(covered, lookback_days), period)
            need = union(minus(period, valid.get(tweet_id, metric)), recent)
            if need:
                wanted[(tweet_id, metric)] = need
    wanted = _closed(wanted, shape, tweet_ids, metrics)
    incremental: dict[Pair, Days] = {}
    for pair, need in wanted.items():
        covered = previous.spans.get(pair, NOTHING)
        if covered:
            after = ((covered[-1][1] - timedelta(days=lookback_days), date.max),)
            incremental[pair] = intersect(need, after)
    reasons.extend(_backfill_reasons(previous, tweet_ids, metrics, first_day))
    base = valid.restricted(tweet_ids, first_day)
    return Needs(wanted, incremental, base, tuple(reasons))


def _valid(
    previous: Coverage, shape: Shape, tweet_ids: Sequence[str], metrics: Sequence[str]
) -> tuple[Coverage, list[str]]:
    """The coverage whose rows are still exact for this selection (module docs: *validity*).

    A row that sums over tweets (or metrics) is valid on the days where exactly the selected
    tweets (metrics) were delivered: a covered unselected one means its counts are in the sum,
    a missing selected one means they are not.
    """
    selected = set(tweet_ids)
    chosen = set(metrics)
    if shape.per_tweet and shape.per_metric_sum:
        return previous.copy(), []
    valid = Coverage(shape)
    covered_tweets = {t for t, _ in previous.spans}
    covered_metrics = {m for _, m in previous.spans}
    if shape.per_tweet:  # long rows per tweet and day summing over the selected metrics
        for tweet_id in tweet_ids:
            ok = _common(previous, [(tweet_id, m) for m in metrics])
            ok = minus(ok, _any(previous, [(tweet_id, m) for m in covered_metrics - chosen]))
            for metric in metrics:
                valid.add(tweet_id, metric, ok)
        if covered_metrics != chosen:
            return valid, [
                "group_by has no engagement.type, so each row sums the selected metrics; the "
                "metrics changed, so days delivered with other metrics are read again"
            ]
        return valid, []
    if shape.per_metric_sum:  # rows per metric (and day) summing over the selected tweets
        for metric in covered_metrics | chosen:
            ok = _common(previous, [(t, metric) for t in tweet_ids])
            ok = minus(ok, _any(previous, [(t, metric) for t in covered_tweets - selected]))
            for tweet_id in tweet_ids:
                valid.add(tweet_id, metric, ok)
    else:  # rows per day summing over every selected tweet and metric
        pairs = [(t, m) for t in tweet_ids for m in metrics]
        ok = _common(previous, pairs)
        others = [p for p in previous.spans if p[0] not in selected or p[1] not in chosen]
        ok = minus(ok, _any(previous, others))
        for tweet_id, metric in pairs:
            valid.add(tweet_id, metric, ok)
        if covered_metrics != chosen:
            return valid, [
                "group_by has neither tweet.id nor engagement.type, so each row sums the selected "
                "tweets and metrics; the metrics changed, so delivered days are read again"
            ]
    if covered_tweets != selected:
        return valid, [
            "group_by has no tweet.id, so each row sums the selected tweets; the selection "
            "changed, so days delivered for another selection are read again for every tweet"
        ]
    return valid, []


def _common(coverage: Coverage, pairs: Sequence[Pair]) -> Days:
    """Days covered for every one of ``pairs``."""
    if not pairs:
        return NOTHING
    out = coverage.spans.get(pairs[0], NOTHING)
    for pair in pairs[1:]:
        if not out:
            break
        out = intersect(out, coverage.spans.get(pair, NOTHING))
    return out


def _any(coverage: Coverage, pairs: Iterable[Pair]) -> Days:
    """Days covered for at least one of ``pairs``."""
    out = NOTHING
    for pair in pairs:
        out = union(out, coverage.spans.get(pair, NOTHING))
    return out


def _closed(
    wanted: dict[Pair, Days], shape: Shape, tweet_ids: Sequence[str], metrics: Sequence[str]
) -> dict[Pair, Days]:
    """Needs widened so that every output row touched is read whole (module docs: *closure*)."""
    if shape.per_tweet and shape.whole_row_per_metric:
        return wanted
    out: dict[Pair, Days] = {}
    if shape.per_tweet:  # a row is (tweet, day): every metric of the tweet on those days
        for tweet_id in tweet_ids:
            need = _any_of(wanted, [(tweet_id, m) for m in metrics])
            out.update({(tweet_id, m): need for m in metrics} if need else {})
    elif shape.whole_row_per_metric:  # a row is (metric, day): every tweet for that metric
        for metric in metrics:
            need = _any_of(wanted, [(t, metric) for t in tweet_ids])
            out.update({(t, metric): need for t in tweet_ids} if need else {})
    else:  # a row is (day[, metric columns]): everything on those days
        need = _any_of(wanted, list(wanted))
        out.update({(t, m): need for t in tweet_ids for m in metrics} if need else {})
    return out


def _any_of(wanted: Mapping[Pair, Days], pairs: Sequence[Pair]) -> Days:
    out = NOTHING
    for pair in pairs:
        out = union(out, wanted.get(pair, NOTHING))
    return out


def _backfill_reasons(
    previous: Coverage, tweet_ids: Sequence[str], metrics: Sequence[str], first_day: date
) -> list[str]:
    """One line per kind of backfill: new tweets, new metrics, an earlier start."""
    covered_tweets = {t for t, _ in previous.spans}
    covered_metrics = {m for _, m in previous.spans}
    reasons = []
    new_tweets = [t for t in tweet_ids if t not in covered_tweets]
    if new_tweets:
        reasons.append(
            f"{len(new_tweets)} selected tweet(s) have no delivered days yet "
            f"(first: {new_tweets[0]}): reading them over the configured range"
        )
    new_metrics = [m for m in metrics if m not in covered_metrics]
    if new_metrics:
        reasons.append(
            f"metric(s) {', '.join(new_metrics)} have no delivered days yet: reading them over "
            "the configured range"
        )
    starts = [d[0][0] for d in previous.spans.values() if d]
    if starts and first_day < min(starts):
        reasons.append(
            f"the configured range now starts on {first_day.isoformat()}, before the first "
            f"delivered day {min(starts).isoformat()}: reading the days before it"
        )
    return reasons


# --- reading it back from STATE ------------------------------------------------------------------


@dataclass(frozen=True)
class Previous:
    """What a stream state says a run may build on, and the one line to log about it."""

    coverage: Coverage | None
    message: str = ""
    #: ``"info"`` or ``"warning"`` when ``message`` is set.
    level: str = "info"


def from_state(stream_state: Mapping[str, Any], shape: Shape, last_complete_day: date) -> Previous:
    """The usable coverage of a stream state, or why there is none.

    Coverage of another shape, a single bookmark from before coverage existed, and coverage
    claiming days that are not complete yet (a future date) are not used: the run then reads
    the configured range. A malformed coverage raises :class:`CoverageError`.
    """
    raw = stream_state.get("coverage")
    if raw is None:
        if stream_state.get("replication_key_value"):
            return Previous(
                None,
                "the state holds a single bookmark (written before tap-twitter-engagement kept "
                "coverage), which does not say which tweets and metrics were delivered: this run "
                "reads the configured range once and then keeps coverage",
            )
        return Previous(None)
    coverage = Coverage.decode(raw)
    if coverage.shape != shape:
        return Previous(
            None,
            f"the state was written for group_by {list(coverage.shape.group_by)} and "
            f"metrics_layout {coverage.shape.metrics_layout!r}, not for group_by "
            f"{list(shape.group_by)} and {shape.metrics_layout!r}: this run reads the "
            "configured range",
        )
    last = coverage.last_day()
    if last is not None and last > last_complete_day:
        return Previous(
            None,
            f"the state claims days delivered up to {last.isoformat()}, after the last complete "
            f"UTC day ({last_complete_day.isoformat()}): not trusting it, this run reads the "
            "configured range",
            "warning",
        )
    return Previous(coverage)
