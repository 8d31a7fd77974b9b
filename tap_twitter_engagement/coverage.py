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

Everything here is pure: days are ``datetime.date`` values, spans are inclusive, no I/O. Days per
(tweet, metric) are kept per tweet, one row shared by the tweets with the same days
(:class:`DayTable`), so the work grows with the groups of such tweets, not with tweets x metrics.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, TypeGuard

from typing_extensions import override

from tap_twitter_engagement.order import metric_order, tweet_order

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


# --- tables of days per (tweet, metric) ----------------------------------------------------------

#: One tweet's days per metric, non-empty day sets only. A row is shared by every tweet with
#: the same days and is never changed once built.
Row = Mapping[str, Days]
_NO_ROW: Row = MappingProxyType({})


class DayTable(Mapping[Pair, Days]):
    """Days per (tweet, metric), held as one :data:`Row` per tweet.

    The tweets of a selection fall into a few groups with the same days for every metric (the
    tweets added, or delivered, together), and tweets of a group share one row object. So a
    table of N tweets in G groups holds N references and G rows, not N x metrics pairs, and
    :func:`per_row` computes what depends on a tweet's rows once per group, not per tweet:
    planning stays linear in the number of tweets.
    """

    def __init__(self, rows: Mapping[str, Row] | None = None) -> None:
        self._rows: dict[str, Row] = {t: row for t, row in (rows or {}).items() if row}
        # (id of a row, metric, days) -> (that row, the row with the days added): the tweets
        # given the same days share their new row; holding the old row keeps its id its own.
        self._added: dict[tuple[int, str, Days], tuple[Row, Row]] = {}

    @classmethod
    def of(cls, pairs: Mapping[Pair, Days]) -> DayTable:
        """``pairs`` as a table (itself if it is one), tweets with equal rows sharing one."""
        if isinstance(pairs, DayTable):
            return pairs
        rows: dict[str, dict[str, Days]] = {}
        for (tweet_id, metric), value in pairs.items():
            if value:
                rows.setdefault(tweet_id, {})[metric] = value
        shared: dict[frozenset[tuple[str, Days]], Row] = {}
        return cls({t: shared.setdefault(frozenset(row.items()), row) for t, row in rows.items()})

    @classmethod
    def same(cls, tweet_ids: Iterable[str], row: Row) -> DayTable:
        """Every one of ``tweet_ids`` with the one ``row``."""
        return cls(dict.fromkeys(tweet_ids, row) if row else None)

    def row(self, tweet_id: str) -> Row:
        """The tweet's days per metric (an empty row if it has none)."""
        return self._rows.get(tweet_id, _NO_ROW)

    def rows(self) -> ItemsView[str, Row]:
        return self._rows.items()

    def tweets(self) -> KeysView[str]:
        return self._rows.keys()

    def distinct_rows(self) -> list[Row]:
        """Each row once, however many tweets share it."""
        return _distinct(self._rows.values())

    def groups(self) -> list[tuple[Row, list[str]]]:
        """Each row once, with the tweets that share it (in table order)."""
        out: dict[int, tuple[Row, list[str]]] = {}
        for tweet_id, row in self._rows.items():
            group = out.get(id(row))
            if group is None:
                group = out[id(row)] = (row, [])
            group[1].append(tweet_id)
        return list(out.values())

    def add(self, tweet_id: str, metric: str, added: Days) -> None:
        """Add days to one (tweet, metric); the tweets of a group given the same days move to
        one new row together."""
        if not added:
            return
        old = self.row(tweet_id)
        key = (id(old), metric, added)
        done = self._added.get(key)
        if done is None:
            new = {**old, metric: union(old.get(metric, NOTHING), added)}
            done = self._added[key] = (old, new)
        self._rows[tweet_id] = done[1]

    def copy(self) -> DayTable:
        return DayTable(self._rows)

    @override
    def __getitem__(self, pair: Pair) -> Days:
        return self._rows[pair[0]][pair[1]]

    @override
    def __iter__(self) -> Iterator[Pair]:
        for tweet_id, row in self._rows.items():
            for metric in row:
                yield tweet_id, metric

    @override
    def __len__(self) -> int:
        return sum(len(row) for row in self._rows.values())

    def __bool__(self) -> bool:
        return bool(self._rows)

    @override
    def __repr__(self) -> str:
        return f"DayTable({dict(self)!r})"


def per_row(tweet_ids: Iterable[str], make: Callable[..., Row], *tables: DayTable) -> DayTable:
    """A table of ``tweet_ids`` whose row is ``make`` of the tweet's rows in ``tables``, called
    once per distinct combination of rows (the tables hold their rows, so ids name them)."""
    made: dict[tuple[int, ...], Row] = {}
    shared: dict[frozenset[tuple[str, Days]], Row] = {}
    out: dict[str, Row] = {}
    for tweet_id in tweet_ids:
        rows = [table.row(tweet_id) for table in tables]
        key = tuple(map(id, rows))
        row = made.get(key)
        if row is None:
            new = make(*rows)
            row = made[key] = shared.setdefault(frozenset(new.items()), new)
        out[tweet_id] = row
    return DayTable(out)


def _row(items: Iterable[tuple[str, Days]]) -> Row:
    """A row of the (metric, days) items whose days are not empty."""
    return {metric: value for metric, value in items if value}


def _distinct(rows: Iterable[Row]) -> list[Row]:
    return list({id(row): row for row in rows}.values())


def _metrics_of(table: DayTable) -> set[str]:
    return {metric for row in table.distinct_rows() for metric in row}


# --- shape ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The output shape coverage belongs to: rows delivered in one shape say nothing of another."""

    group_by: tuple[str, ...]
    metrics_layout: str = "long"
    #: The API the rows came from (the ``api`` setting): the two may count a day differently,
    #: so one's coverage says nothing of the other's.
    api: str = "engagement_api"

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
        """As STATE keeps it (``api`` only when not the default, as states before it)."""
        state: dict[str, Any] = {
            "group_by": list(self.group_by),
            "metrics_layout": self.metrics_layout,
        }
        if self.api != "engagement_api":
            state["api"] = self.api
        return state

    def describe(self) -> str:
        """For log lines: the settings that make the shape."""
        return (
            f"group_by {list(self.group_by)}, metrics_layout {self.metrics_layout!r} and api "
            f"{self.api!r}"
        )


# --- coverage ------------------------------------------------------------------------------------


class CoverageError(ValueError):
    """The coverage in a state cannot be read; the message says why, for one log line."""


@dataclass
class Coverage:
    """Complete UTC days delivered per (tweet, metric), for one output shape."""

    shape: Shape
    spans: DayTable = field(default_factory=DayTable)

    def add(self, tweet_id: str, metric: str, delivered: Days) -> None:
        self.spans.add(tweet_id, metric, delivered)

    def get(self, tweet_id: str, metric: str) -> Days:
        return self.spans.row(tweet_id).get(metric, NOTHING)

    def last_day(self) -> date | None:
        """The latest day delivered for any (tweet, metric)."""
        rows = self.spans.distinct_rows()
        return max((d[-1][1] for row in rows for d in row.values()), default=None)

    def copy(self) -> Coverage:
        return Coverage(self.shape, self.spans.copy())

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
        before = ((date.min, first_day - _DAY),)

        def clipped(row: Row) -> Row:
            return _row((metric, minus(covered, before)) for metric, covered in row.items())

        return Coverage(self.shape, per_row(tweet_ids, clipped, self.spans))

    # ---- STATE encoding
    def encode(self) -> dict[str, Any]:
        """Compact JSON: tweets with the same metrics and days are listed together.

        Deterministic (sorted), so STATE is identical whatever the request concurrency.
        """
        together: dict[tuple[Days, tuple[str, ...]], list[str]] = {}
        for row, tweet_ids in self.spans.groups():
            by_days: dict[Days, list[str]] = {}
            for metric, covered in row.items():
                by_days.setdefault(covered, []).append(metric)
            for covered, metrics in by_days.items():
                ranked = tuple(sorted(metrics, key=metric_order))
                together.setdefault((covered, ranked), []).extend(tweet_ids)
        entries: list[dict[str, Any]] = [
            {
                "days": [[a.isoformat(), b.isoformat()] for a, b in covered],
                "metrics": list(metrics),
                "tweet_ids": sorted(tweet_ids, key=tweet_order),
            }
            for (covered, metrics), tweet_ids in together.items()
        ]
        entries.sort(key=lambda e: (e["days"], [metric_order(m) for m in e["metrics"]]))
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
        api = raw_shape.get("api", "engagement_api")
        if not _strings(group_by) or not isinstance(layout, str) or not isinstance(api, str):
            raise CoverageError("coverage shape is not group_by, metrics_layout and api")
        entries = value.get("spans")
        if not isinstance(entries, list):
            raise CoverageError("coverage spans are not a list")
        read: list[tuple[list[str], Days]] = []
        in_entries: dict[str, list[int]] = {}  # tweet -> the entries listing it
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise CoverageError("a coverage span is not an object")
            tweet_ids, metrics = entry.get("tweet_ids"), entry.get("metrics")
            if not _strings(tweet_ids) or not _strings(metrics):
                raise CoverageError("a coverage span lacks tweet_ids or metrics")
            covered = _decode_days(entry.get("days"))
            for tweet_id in tweet_ids:
                in_entries.setdefault(tweet_id, []).append(len(read))
            read.append((metrics, covered))
        # A tweet's row joins its entries: built once per combination of entries, and shared.
        rows: dict[tuple[int, ...], Row] = {}
        spans: dict[str, Row] = {}
        for tweet_id, indexes in in_entries.items():
            key = tuple(indexes)
            if key not in rows:
                rows[key] = _joined(read[i] for i in key)
            spans[tweet_id] = rows[key]
        return cls(Shape(tuple(group_by), layout, api), DayTable(spans))


def _joined(entries: Iterable[tuple[list[str], Days]]) -> Row:
    """The row of a tweet listed in ``entries`` (each: metrics, and their covered days)."""
    row: dict[str, Days] = {}
    for metrics, covered in entries:
        for metric in metrics:
            row[metric] = union(row.get(metric, NOTHING), covered)
    return row


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


# --- needs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    """What a run reads and emits, per selected (tweet, metric), and what it builds on.

    ``days`` holds the days to read for each pair (empty pairs are absent); ``incremental``
    the part of them that is the lookback or days after the covered end of a pair that had
    coverage (the rest is backfill); ``base`` the coverage still valid for this configuration,
    to which the run adds what it delivers; ``reasons`` one line each on why rows are re-read.
    Tweets that need the same days share their rows (:class:`DayTable`).
    """

    days: DayTable
    incremental: DayTable
    base: Coverage
    reasons: tuple[str, ...] = ()


def everything(
    shape: Shape, tweet_ids: Sequence[str], metrics: Sequence[str], period: Days
) -> Needs:
    """Needs of a run without usable coverage: every selected pair over the whole period."""
    wanted = DayTable.same(tweet_ids, _row((metric, period) for metric in metrics))
    return Needs(wanted, DayTable(), Coverage(shape))


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
    A tweet's needs depend only on its rows, so each step runs once per group of tweets that
    share them (:func:`per_row`), not once per tweet.
    """
    if previous is None or not previous.spans or not period:
        return everything(shape, tweet_ids, metrics, period)
    if previous.shape != shape:
        raise ValueError("coverage of another shape")
    first_day = period[0][0]
    valid, reasons = _valid(previous, shape, tweet_ids, metrics)

    def needed(covered: Row, ok: Row) -> Row:
        row = {}
        for metric in metrics:
            recent = intersect(lookback(covered.get(metric, NOTHING), lookback_days), period)
            row[metric] = union(minus(period, ok.get(metric, NOTHING)), recent)
        return _row(row.items())

    wanted = per_row(tweet_ids, needed, previous.spans, valid.spans)
    wanted = _closed(wanted, shape, tweet_ids, metrics)

    def incremental_part(need: Row, covered: Row) -> Row:
        row = {}
        for metric, days_ in need.items():
            if metric in covered:
                after = ((covered[metric][-1][1] - timedelta(days=lookback_days), date.max),)
                row[metric] = intersect(days_, after)
        return _row(row.items())

    incremental = per_row(tweet_ids, incremental_part, wanted, previous.spans)
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
    if shape.per_tweet and shape.per_metric_sum:
        return previous.copy(), []
    covered = previous.spans
    selected = set(tweet_ids)
    chosen = set(metrics)
    covered_metrics = _metrics_of(covered)
    if shape.per_tweet:  # long rows per tweet and day summing over the selected metrics
        others = covered_metrics - chosen

        def exact(row: Row) -> Row:
            ok = _common(row.get(m, NOTHING) for m in metrics)
            ok = minus(ok, _any(row.get(m, NOTHING) for m in others))
            return _row((metric, ok) for metric in metrics)

        valid = Coverage(shape, per_row(tweet_ids, exact, covered))
        if covered_metrics != chosen:
            return valid, [
                "group_by has no engagement.type, so each row sums the selected metrics; the "
                "metrics changed, so days delivered with other metrics are read again"
            ]
        return valid, []
    # Rows that sum over tweets: the same valid days for every selected tweet, from the rows
    # of the selected tweets (an empty one for a tweet never delivered) and of the others.
    inside = _distinct(covered.row(t) for t in tweet_ids)
    outside = _distinct(row for t, row in covered.rows() if t not in selected)
    if shape.per_metric_sum:  # rows per metric (and day) summing over the selected tweets
        ok = {}
        for metric in covered_metrics | chosen:
            ok[metric] = _common(row.get(metric, NOTHING) for row in inside)
            ok[metric] = minus(ok[metric], _any(row.get(metric, NOTHING) for row in outside))
        valid = Coverage(shape, DayTable.same(tweet_ids, _row(ok.items())))
    else:  # rows per day summing over every selected tweet and metric
        every = _common(row.get(m, NOTHING) for row in inside for m in metrics)
        unselected = _any(days_ for row in outside for days_ in row.values())
        unchosen = _any(days_ for row in inside for m, days_ in row.items() if m not in chosen)
        ok_days = minus(every, union(unselected, unchosen))
        valid = Coverage(shape, DayTable.same(tweet_ids, _row((m, ok_days) for m in metrics)))
        if covered_metrics != chosen:
            return valid, [
                "group_by has neither tweet.id nor engagement.type, so each row sums the selected "
                "tweets and metrics; the metrics changed, so delivered days are read again"
            ]
    if covered.tweets() != selected:
        return valid, [
            "group_by has no tweet.id, so each row sums the selected tweets; the selection "
            "changed, so days delivered for another selection are read again for every tweet"
        ]
    return valid, []


def _common(sets: Iterable[Days]) -> Days:
    """Days in every one of ``sets`` (none when there are no sets)."""
    out: Days | None = None
    for value in sets:
        out = value if out is None else intersect(out, value)
        if not out:
            return NOTHING
    return out or NOTHING


def _any(sets: Iterable[Days]) -> Days:
    """Days in at least one of ``sets``."""
    out = NOTHING
    for value in sets:
        out = union(out, value)
    return out


def _closed(
    wanted: DayTable, shape: Shape, tweet_ids: Sequence[str], metrics: Sequence[str]
) -> DayTable:
    """Needs widened so that every output row touched is read whole (module docs: *closure*)."""
    if shape.per_tweet and shape.whole_row_per_metric:
        return wanted
    if shape.per_tweet:  # a row is (tweet, day): every metric of the tweet on those days

        def whole(row: Row) -> Row:
            need = _any(row.values())
            return _row((metric, need) for metric in metrics)

        return per_row(tweet_ids, whole, wanted)
    rows = wanted.distinct_rows()
    if shape.whole_row_per_metric:  # a row is (metric, day): every tweet for that metric
        need = _row((m, _any(row.get(m, NOTHING) for row in rows)) for m in metrics)
        return DayTable.same(tweet_ids, need)
    # a row is (day[, metric columns]): everything on those days
    every = _any(days_ for row in rows for days_ in row.values())
    return DayTable.same(tweet_ids, _row((metric, every) for metric in metrics))


def _backfill_reasons(
    previous: Coverage, tweet_ids: Sequence[str], metrics: Sequence[str], first_day: date
) -> list[str]:
    """One line per kind of backfill: new tweets, new metrics, an earlier start."""
    covered_tweets = previous.spans.tweets()
    covered_metrics = _metrics_of(previous.spans)
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
    starts = [d[0][0] for row in previous.spans.distinct_rows() for d in row.values()]
    if starts and first_day < min(starts):
        reasons.append(
            f"the configured range now starts on {first_day.isoformat()}, before the first "
            f"delivered day {min(starts).isoformat()}: reading the days before it"
        )
    return reasons


# --- narrowing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Narrowed:
    """What the state covers that the configuration no longer selects: tweets, metrics delivered
    by the last run (their coverage reaches its last day), and days outside the period."""

    tweets: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    days_before: int = 0
    days_after: int = 0

    def __bool__(self) -> bool:
        return bool(self.tweets or self.metrics or self.days_before or self.days_after)


def narrowed(
    previous: Coverage, tweet_ids: Sequence[str], metrics: Sequence[str], period: Days
) -> Narrowed:
    """What ``previous`` delivered that a run of this selection, metrics and period no longer
    reads: its rows stay in a target as last written (targets never delete)."""
    if not period or not previous.spans:
        return Narrowed()
    selected, chosen = set(tweet_ids), set(metrics)
    last = previous.last_day()
    covered: Days = NOTHING
    current: set[str] = set()
    for row in previous.spans.distinct_rows():
        for metric, spans in row.items():
            covered = union(covered, spans)
            if spans and spans[-1][1] == last:
                current.add(metric)
    first, final = period[0][0], period[-1][1]
    return Narrowed(
        tweets=tuple(t for t in previous.spans.tweets() if t not in selected),
        metrics=tuple(sorted(current - chosen, key=metric_order)),
        days_before=count(intersect(covered, ((date.min, first - _DAY),))),
        days_after=count(intersect(covered, ((final + _DAY, date.max),))),
    )


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
            f"the state was written for {coverage.shape.describe()}, not for "
            f"{shape.describe()}: this run reads the configured range",
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
