"""Every response is checked against its request before anything in it is used.

The rule: **coverage records what arrived, never what was asked.** A ``200`` may leave out what
was asked (a tweet, a metric, a day, an hour), add what was not (a day outside the window, an id
or a metric nobody asked for), or hold values that are not counts. So each body is read here,
against the request that produced it, and only what passes goes on:

- a body whose shape or values cannot be used (a count that is not a whole number from 0 to
  2^63-1, a grouping that is not an object, an id that is not a string of digits) raises
  :class:`BadBody`; the client retries it like an unreadable body, then the run ends in one line
  naming the request;
- what no request asked for is dropped, and counted for one WARNING per run;
- what was asked for but did not arrive is counted for one WARNING per run too, and is not
  *delivered*, so it gets no coverage and the next run reads it again.

The API sends zero buckets ("zero values are present, not omitted"), so a missing bucket is a
missing answer, with one exception: the hours before a tweet existed (its id is a snowflake,
which carries its creation time) are zeros whatever the API sends, and one left out is filled in
as a zero, so the rows do not depend on whether the API sends them.
Ids the response names in ``unavailable_tweet_ids`` or an ``unsupported_*`` list are not missing
either: they were refused, and get no coverage.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from typing_extensions import override

from tap_twitter_engagement.coverage import NOTHING, Days, days
from tap_twitter_engagement.metrics import POST_ANALYTICS_NAMES

#: The largest count the tap passes on: a signed 64-bit integer, what a BIGINT column holds.
MAX_COUNT = 2**63 - 1
_MAX_COUNT_DIGITS = len(str(MAX_COUNT))
#: Tweet and user ids are 64-bit snowflakes: at most 20 digits.
_MAX_ID_DIGITS = 20
#: Twitter's snowflake epoch (ms): an id's top bits are its creation time after it.
_SNOWFLAKE_EPOCH_MS = 1288834974657
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
#: Hour keys as the API writes them ("00".."23"; a single digit is read too), and as kept.
HOURS: dict[str, int] = {f"{h:02d}": h for h in range(24)} | {str(h): h for h in range(10)}
HOUR_KEYS = tuple(f"{h:02d}" for h in range(24))
_HOUR_INDEX = {key: hour for hour, key in enumerate(HOUR_KEYS)}
_HOUR_KEY_SET = frozenset(HOUR_KEYS)
#: Metrics an ``unsupported_*`` list excuses.
_UNSUPPORTED = {
    "unsupported_for_video_views_tweet_ids": ("video_views",),
    "unsupported_for_impressions_engagements_tweet_ids": ("impressions", "engagements"),
}


class BadBody(ValueError):  # noqa: N818 - reads as what the body is
    """A body the tap cannot use; ``str()`` says where and why (no secret can be in it)."""


def shown(value: Any, limit: int = 40) -> str:
    """A value for an error message, cut short (a hostile body may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def count(value: Any, where: str = "count") -> int:
    """A count: a JSON integer or a string of ASCII digits (the API sends both), 0..2^63-1."""
    if type(value) is str:
        if 0 < len(value) <= _MAX_COUNT_DIGITS and value.isascii() and value.isdigit():
            number = int(value)
            if number <= MAX_COUNT:
                return number
    elif type(value) is int and 0 <= value <= MAX_COUNT:
        return value
    raise BadBody(
        f"{where}: count {shown(value)} is not a non-negative whole number up to {MAX_COUNT}"
    )


def optional_count(value: Any, where: str) -> int | None:
    """A count that may be absent (``None``)."""
    return None if value is None else count(value, where)


def digit_id(value: Any, where: str) -> str:
    """An id the tap may use anywhere (a record, a URL path, a request): ASCII digits only."""
    if type(value) is int and value >= 0:
        value = str(value)
    if (
        type(value) is str
        and 0 < len(value) <= _MAX_ID_DIGITS
        and value.isascii()
        and value.isdigit()
    ):
        return value
    raise BadBody(f"{where}: {shown(value)} is not an id (a string of digits)")


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadBody(f"{where}: expected a JSON object, got {shown(value)}")
    return value


def _id_list(data: Mapping[str, Any], key: str) -> list[str]:
    """An id list of a 200 body (``unavailable_tweet_ids``, ...): absent means empty."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadBody(f"{key}: expected a list of ids, got {shown(value)}")
    return [digit_id(item, key) for item in value]


def created_at(tweet_id: str) -> datetime:
    """When a tweet was created, from its snowflake id (ids from before snowflakes give
    November 2010, before any window the API serves, so they excuse nothing)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + _SNOWFLAKE_EPOCH_MS) / 1000, UTC)


# --- what a run was sent beyond its requests, and what it was not sent -------------------------


@dataclass
class Tally:
    """What responses held that no request asked for (dropped), and what requested buckets they
    left out, over a run: one WARNING line each at the end, not one per response."""

    dropped: Counter[str] = field(default_factory=Counter)
    first_dropped: dict[str, str] = field(default_factory=dict)
    missing: int = 0
    first_missing: str = ""

    def drop(self, what: str, example: str) -> None:
        self.dropped[what] += 1
        self.first_dropped.setdefault(what, example)

    def miss(self, number: int, example: str) -> None:
        if number:
            self.missing += number
            self.first_missing = self.first_missing or example

    def merge(self, other: Tally) -> None:
        for what, number in other.dropped.items():
            self.dropped[what] += number
            self.first_dropped.setdefault(what, other.first_dropped[what])
        self.miss(other.missing, other.first_missing)

    def lines(self, where: str) -> list[str]:
        """The WARNING lines for ``where`` (an endpoint, and the account when there are several)."""
        out = []
        if self.dropped:
            parts = [
                f"{number} {what} (first: {self.first_dropped[what]})"
                for what, number in sorted(self.dropped.items())
            ]
            out.append(
                f"{where}: dropped what no request asked for: {'; '.join(parts)}. "
                "None of it became a record."
            )
        if self.missing:
            out.append(
                f"{where}: {self.missing} requested bucket(s) were not in the responses, and "
                f"their tweets were not named as unavailable (first: {self.first_missing}). "
                "Their rows were not written and they are not recorded as delivered: the next "
                "run reads them again."
            )
        return out


# --- the Engagement API's time series (/historical, /28hr) --------------------------------------


@dataclass(frozen=True)
class Asked:
    """What one Engagement API request asked for (``start``/``end``: hour-aligned, UTC, end
    exclusive; for ``/totals`` unset)."""

    tweet_ids: tuple[str, ...]
    metrics: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None
    hourly: bool = False
    #: Buckets accepted beyond ``start``/``end`` (``/28hr``, whose window the API picks from
    #: its own clock): ``(start, end)`` of a wider window; every bucket of ``start``/``end`` is
    #: still expected.
    accepted: tuple[datetime, datetime] | None = None


@dataclass
class Served:
    """One response checked against its request.

    ``grouping``: only what was asked, counts as ints, in the API's nesting (tweet, metric, day
    key, and hour key when hourly, each day's hours an :class:`Hours`; for ``/totals`` tweet and
    metric). ``delivered``: for each
    asked (tweet, metric), the days of the window that arrived whole. ``missing``: buckets
    (tweet, metric, day, hour or None) that did not arrive and were not excused, for withholding
    the output rows they belong to. ``unavailable``/``unsupported``: the ids the response named.
    """

    grouping: dict[str, dict[str, Any]]
    delivered: dict[tuple[str, str], Days]
    missing: list[tuple[str, str, str, int | None]]
    unavailable: list[str]
    unsupported: dict[str, list[str]]
    tally: Tally
    #: Ids refused for another reason than unavailability, by ``skips.SkipReason`` value.
    refused: dict[str, list[str]] = field(default_factory=dict)

    @property
    def no_video(self) -> frozenset[str]:
        return frozenset(self.unsupported.get("unsupported_for_video_views_tweet_ids", ()))


class Hours(Mapping[str, int]):
    """One day's hourly counts of a checked response, as the grouping keeps them: a mapping of
    the hours that arrived (``"00"``..``"23"``) to their counts, like the dict it replaces.

    Why not that dict: a response waits, checked, until its records are written, and at hourly
    grain a dict of 24 keys and its int objects take about four times the memory of these 24
    machine integers (``-1``: the hour did not arrive; counts are 0..2^63-1), so the responses
    in flight hold little (``pipeline``).
    """

    __slots__ = ("_counts",)

    def __init__(self, by_hour: Mapping[str, int]) -> None:
        counts = array("q", _NO_HOURS)
        for key, value in by_hour.items():
            counts[_HOUR_INDEX[key]] = value
        self._counts = counts

    @override
    def __getitem__(self, key: str) -> int:
        hour = _HOUR_INDEX.get(key)
        if hour is None or self._counts[hour] < 0:
            raise KeyError(key)
        return self._counts[hour]

    @override
    def __iter__(self) -> Iterator[str]:
        return (HOUR_KEYS[hour] for hour, value in enumerate(self._counts) if value >= 0)

    @override
    def __len__(self) -> int:
        return sum(value >= 0 for value in self._counts)

    @override
    def __repr__(self) -> str:
        return f"Hours({dict(self)!r})"

    def counts(self) -> Iterator[tuple[int, int]]:
        """``(hour, count)`` of the hours that arrived, in hour order."""
        return ((hour, value) for hour, value in enumerate(self._counts) if value >= 0)


_NO_HOURS = array("q", [-1] * 24)


def _compact(grouping: dict[str, dict[str, Any]]) -> None:
    """Each day of an hourly grouping as :class:`Hours`, in place (after every check)."""
    for metrics in grouping.values():
        for by_day in metrics.values():
            for day_key, by_hour in by_day.items():
                by_day[day_key] = Hours(by_hour)


def window_hours(start: datetime, end: datetime) -> dict[str, range]:
    """Each UTC day of ``[start, end)`` (``YYYY-MM-DD``) and its hours inside it."""
    out: dict[str, range] = {}
    moment = start
    while moment < end:
        midnight = datetime.combine(moment.date() + _DAY, time(), UTC)
        stop = min(end, midnight)
        out[moment.date().isoformat()] = range(moment.hour, 24 if stop == midnight else stop.hour)
        moment = stop
    return out


def check_series(data: Mapping[str, Any], grouping_name: str, asked: Asked, where: str) -> Served:
    """A ``/historical`` or ``/28hr`` body against its request (see the module docs). Its
    grouping is taken out of ``data`` as it is read (the client never reads a body twice)."""
    if asked.start is None or asked.end is None:
        raise ValueError("a time series request has a start and an end")
    tally = Tally()
    unavailable, unsupported, excused = _named(data, asked, tally)
    expected = window_hours(asked.start, asked.end)
    accepted = window_hours(*asked.accepted) if asked.accepted else expected
    grouping: dict[str, dict[str, Any]] = {}
    for tweet_id, metric, buckets in _asked(data, grouping_name, asked, unavailable, tally):
        kept = grouping.setdefault(tweet_id, {})
        if (tweet_id, metric) not in excused:  # named unsupported (some send "0" anyway)
            at = f"tweet {tweet_id} metric {metric}"
            kept[metric] = _buckets(mapping(buckets, at), accepted, asked.hourly, at, tally)
    delivered: dict[tuple[str, str], Days] = {}
    missing: list[tuple[str, str, str, int | None]] = []
    for tweet_id in asked.tweet_ids:
        if tweet_id in unavailable:
            continue
        born = created_at(tweet_id)
        for metric in asked.metrics:
            if (tweet_id, metric) in excused:
                continue
            got = grouping.setdefault(tweet_id, {}).setdefault(metric, {})
            whole, absent = _arrived(got, expected, asked.hourly, born)
            delivered[(tweet_id, metric)] = whole
            missing.extend((tweet_id, metric, day, hour) for day, hour in absent)
    if missing:
        tweet_id, metric, day, hour = missing[0]
        at = f"{day}" if hour is None else f"{day} {hour:02d}:00"
        tally.miss(len(missing), f"tweet {tweet_id} {metric} {at} from {where}")
    if asked.hourly:
        _compact(grouping)
    return Served(grouping, delivered, missing, unavailable, unsupported, tally)


def _asked(
    data: Mapping[str, Any],
    grouping_name: str,
    asked: Asked,
    unavailable: Sequence[str],
    tally: Tally,
) -> Iterator[tuple[str, str, Any]]:
    """``(tweet, metric, value)`` of a body's grouping, for the tweets and metrics asked only
    (not of a tweet the body names unavailable); the rest is dropped and tallied."""
    raw = data.get(grouping_name)
    tweets = mapping(raw, grouping_name) if raw is not None else {}
    for tweet_id in list(tweets):
        # Each tweet's part of the parsed body is taken out as it is read, so it is let go
        # once checked: the body and its checked copy never both exist whole (hourly: MBs).
        metrics = tweets.pop(tweet_id) if isinstance(tweets, dict) else tweets[tweet_id]
        if tweet_id not in asked.tweet_ids:
            tally.drop("tweet id(s) not asked for", shown(tweet_id))
        elif tweet_id in unavailable:
            tally.drop("tweet(s) served although named unavailable", tweet_id)
        else:
            for metric, value in mapping(metrics, f"tweet {tweet_id}").items():
                if metric in asked.metrics:
                    yield tweet_id, metric, value
                else:
                    tally.drop("metric(s) not asked for", f"{shown(metric)} of tweet {tweet_id}")


def _named(
    data: Mapping[str, Any], asked: Asked, tally: Tally
) -> tuple[list[str], dict[str, list[str]], set[tuple[str, str]]]:
    """The ids the body names as unavailable or unsupported (those not asked for are dropped),
    and the (tweet, metric) pairs that excuses."""
    wanted = set(asked.tweet_ids)

    def own(ids: list[str], key: str) -> list[str]:
        for tweet_id in ids:
            if tweet_id not in wanted:
                tally.drop(f"id(s) in {key} not asked for", tweet_id)
        return [i for i in dict.fromkeys(ids) if i in wanted]

    unavailable = own(_id_list(data, "unavailable_tweet_ids"), "unavailable_tweet_ids")
    unsupported = {
        key: own(_id_list(data, key), key) if set(metrics) & set(asked.metrics) else []
        for key, metrics in _UNSUPPORTED.items()
    }
    excused = {
        (tweet_id, metric)
        for key, metrics in _UNSUPPORTED.items()
        for tweet_id in unsupported[key]
        for metric in metrics
    }
    return unavailable, {k: v for k, v in unsupported.items() if v}, excused


def _buckets(
    buckets: Mapping[str, Any],
    expected: Mapping[str, range],
    hourly: bool,
    at: str,
    tally: Tally,
) -> dict[str, Any]:
    """One (tweet, metric)'s day buckets, only those inside the window, counts as ints."""
    kept: dict[str, Any] = {}
    for day_key, value in buckets.items():
        hours = expected.get(day_key)
        if hours is None:
            tally.drop("day(s) outside the requested window", f"{shown(day_key)} ({at})")
            continue
        if not hourly:
            # A JSON integer in range is the common case: checked inline, the message (and
            # count()'s other forms) only when it is not. This runs once per count.
            if type(value) is int and 0 <= value <= MAX_COUNT:
                kept[day_key] = value
            else:
                kept[day_key] = count(value, f"{at} day {day_key}")
            continue
        whole = _whole_day(value, hours)
        if whole is not None:
            kept[day_key] = whole
            continue
        where = f"{at} day {day_key}"
        by_hour: dict[str, int] = {}
        for hour_key, number in mapping(value, where).items():
            hour = HOURS.get(hour_key)
            if hour is None or hour not in hours or HOUR_KEYS[hour] in by_hour:
                tally.drop("hour(s) outside the window or repeated", f"{shown(hour_key)} ({where})")
                continue
            if type(number) is int and 0 <= number <= MAX_COUNT:
                by_hour[HOUR_KEYS[hour]] = number
            else:
                by_hour[HOUR_KEYS[hour]] = count(number, f"{where} hour {hour_key}")
        kept[day_key] = by_hour
    return kept


def _whole_day(value: Any, hours: range) -> dict[str, int] | None:
    """A day asked whole that came as the 24 canonical hour keys, each a JSON integer in range:
    the common case, checked in one go and kept as :func:`_buckets`' hour-by-hour check would
    keep it (same keys, same order). ``None``: anything else, for that check to read."""
    if len(hours) != 24 or type(value) is not dict or value.keys() != _HOUR_KEY_SET:
        return None
    for number in value.values():
        if type(number) is not int or not 0 <= number <= MAX_COUNT:
            return None
    return dict(value)


def _arrived(
    got: dict[str, Any], expected: Mapping[str, range], hourly: bool, born: datetime
) -> tuple[Days, list[tuple[str, int | None]]]:
    """The days of the window that arrived whole for one (tweet, metric), and the buckets that
    did not. A bucket before the tweet existed is a zero whether the API sends it or not: one
    left out is filled in as ``0`` here, so the rows never depend on which the API does."""
    whole: list[date] = []
    absent: list[tuple[str, int | None]] = []
    for day_key, hours in expected.items():
        day = date.fromisoformat(day_key)
        midnight = datetime.combine(day, time(), UTC)
        if not hourly:
            if day_key not in got and midnight + _DAY <= born:
                got[day_key] = 0
            if day_key in got:
                whole.append(day)
            else:
                absent.append((day_key, None))
            continue
        lacking = []
        for hour in hours:
            if HOUR_KEYS[hour] in got.get(day_key, ()):
                continue
            if midnight + (hour + 1) * _HOUR <= born:
                got.setdefault(day_key, {})[HOUR_KEYS[hour]] = 0
            else:
                lacking.append(hour)
        if lacking:
            absent.extend((day_key, h) for h in lacking)
        else:
            whole.append(day)
    return days((d, d) for d in whole) if whole else NOTHING, absent


def check_totals(data: Mapping[str, Any], grouping_name: str, asked: Asked, where: str) -> Served:
    """A ``/totals`` body (``tweet -> metric -> count``) against its request (its grouping
    taken out of ``data`` as it is read)."""
    tally = Tally()
    unavailable, unsupported, excused = _named(data, asked, tally)
    grouping: dict[str, dict[str, Any]] = {}
    for tweet_id, metric, value in _asked(data, grouping_name, asked, unavailable, tally):
        kept = grouping.setdefault(tweet_id, {})
        if (tweet_id, metric) not in excused:
            kept[metric] = count(value, f"tweet {tweet_id} metric {metric}")
    missing: list[tuple[str, str, str, int | None]] = [
        (tweet_id, metric, "", None)
        for tweet_id in asked.tweet_ids
        if tweet_id not in unavailable
        for metric in asked.metrics
        if (tweet_id, metric) not in excused and metric not in grouping.get(tweet_id, {})
    ]
    if missing:
        tally.miss(len(missing), f"tweet {missing[0][0]} {missing[0][1]} from {where}")
    return Served(grouping, {}, missing, unavailable, unsupported, tally)


# --- X API v2 Post analytics (GET /2/tweets/analytics) ------------------------------------------

#: Why a post a Post analytics problem names was not served, by the problem's type (the last
#: part of its URI); any other problem naming an asked post refuses it as unavailable.
_PROBLEM_REASONS = {"not-authorized-for-resource": "other_author"}


def problem_kind(problem: Mapping[str, Any]) -> str:
    """A v2 problem's type without its host (``api.x.com`` and ``api.twitter.com`` alike)."""
    return str(problem.get("type") or "").rstrip("/").rsplit("/", 1)[-1]


def check_analytics(data: Mapping[str, Any], asked: Asked, where: str) -> Served:
    """A Post analytics body against its request, as :func:`check_series` reads the Engagement
    API's: the posts' ``timestamped_metrics`` become the canonical grouping (metrics in record
    names), and the posts its ``errors`` name are refused (``Served.unavailable``/``refused``).
    Its posts are taken out of ``data`` as they are read.

    Buckets must start on the request's grid (its start and each hour or day after it); a
    ``null`` count is not served. An asked bucket the body leaves out is a zero when the post's
    total for the metric (the ``analytics.fields`` value over the whole request) equals the
    sum of the buckets that arrived, since counts are never negative; else it is missing.
    """
    if asked.start is None or asked.end is None:
        raise ValueError("a Post analytics request has a start and an end")
    tally = Tally()
    refused = _problems(data, asked, tally)
    record_name = {POST_ANALYTICS_NAMES.get(m, m): m for m in asked.metrics}
    expected = window_hours(asked.start, asked.end)
    step = _HOUR if asked.hourly else _DAY
    grouping: dict[str, dict[str, Any]] = {}
    raw = data.get("data")
    if raw is not None and not isinstance(raw, list):
        raise BadBody(f"data: expected a list of posts, got {shown(raw)}")
    posts = raw or []
    for index in range(len(posts)):
        # Taken out as it is read, so each post's buckets are let go once placed (the body
        # and the grouping built from it never both exist whole; hourly: tens of MBs).
        item, posts[index] = posts[index], None
        post = mapping(item, f"data[{index}]")
        tweet_id = digit_id(post.get("id"), f"data[{index}].id")
        if tweet_id in grouping:
            tally.drop("post(s) repeated", tweet_id)
            continue
        series = grouping[tweet_id] = {}
        nulls: set[str] = set()
        at = f"post {tweet_id}"
        for bucket in _series(post.get("timestamped_metrics"), at):
            start = _timestamp(bucket.get("timestamp"), f"{at} timestamp")
            if (start - asked.start) % step:
                tally.drop("bucket(s) off the requested grid", f"{shown(start.isoformat())} ({at})")
                continue
            for name, value in mapping(bucket.get("metrics") or {}, f"{at} metrics").items():
                metric = record_name.get(name, name)
                if value is None:  # not served; never filled in, whatever the total says
                    nulls.add(metric)
                elif not _place(series, metric, start, value, asked.hourly):
                    tally.drop("bucket(s) repeated", f"{start.isoformat()} ({at} {name})")
        fillable = {n: m for n, m in record_name.items() if m not in nulls}
        _zero_fill(post, series, fillable, expected, asked.hourly, at, tally)
    body = {"canonical": grouping, "unavailable_tweet_ids": list(refused)}
    served = check_series(body, "canonical", asked, where)
    served.tally.merge(tally)
    served.unavailable = [i for i in served.unavailable if refused[i] == "unavailable"]
    for tweet_id, reason in refused.items():
        if reason != "unavailable":
            served.refused.setdefault(reason, []).append(tweet_id)
    return served


def _problems(data: Mapping[str, Any], asked: Asked, tally: Tally) -> dict[str, str]:
    """The asked posts the body's ``errors`` name, and why (a problem about another post is
    dropped; one about the request as a whole names none)."""
    raw = data.get("errors")
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise BadBody(f"errors: expected a list of problems, got {shown(raw)}")
    refused: dict[str, str] = {}
    for index, item in enumerate(raw):
        problem = mapping(item, f"errors[{index}]")
        about = problem.get("resource_id") or problem.get("value")
        if about is None:
            continue
        tweet_id = digit_id(about, f"errors[{index}].resource_id")
        if tweet_id not in asked.tweet_ids:
            tally.drop("errors about posts not asked for", tweet_id)
            continue
        reason = _PROBLEM_REASONS.get(problem_kind(problem), "unavailable")
        refused.setdefault(tweet_id, reason)
    return refused


def _series(value: Any, at: str) -> list[Mapping[str, Any]]:
    """``timestamped_metrics``: a list of buckets, absent when none were sent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadBody(f"{at} timestamped_metrics: expected a list, got {shown(value)}")
    return [mapping(item, f"{at} timestamped_metrics") for item in value]


def _timestamp(value: Any, where: str) -> datetime:
    """An ISO 8601 instant with a time zone (``Z``, ``+00:00``, fractions), in UTC."""
    if isinstance(value, str) and value.isascii() and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.utcoffset() is not None:
                return moment.astimezone(UTC)
    raise BadBody(f"{where}: {shown(value)} is not an ISO 8601 instant with a time zone")


def _place(series: dict[str, Any], metric: str, start: datetime, value: Any, hourly: bool) -> bool:
    """Put one bucket's count (``None``, not served, is left out); ``False`` when repeated."""
    by_day = series.setdefault(metric, {})
    day = start.date().isoformat()
    where, key = (by_day, day) if not hourly else (by_day.setdefault(day, {}), f"{start.hour:02d}")
    if key in where:
        return False
    where[key] = value
    return True


def _zero_fill(
    post: Mapping[str, Any],
    series: dict[str, Any],
    record_name: Mapping[str, str],
    expected: Mapping[str, range],
    hourly: bool,
    at: str,
    tally: Tally,
) -> None:
    """Fill the asked buckets a post's series left out with zeros, per metric, when the post's
    total for it is the sum of the buckets that arrived (see :func:`check_analytics`; a metric
    with a ``null`` bucket is not in ``record_name``: its missing buckets are unknown)."""
    keys = [
        (day, HOUR_KEYS[hour] if hourly else None)
        for day, hours in expected.items()
        for hour in (hours if hourly else (0,))
    ]
    for name, metric in record_name.items():
        if post.get(name) is None:
            continue
        total = count(post[name], f"{at} {name}")
        got = series.setdefault(metric, {})
        found = {key: _bucket(got, *key) for key in keys}
        arrived = sum(count(v, f"{at} {name} {k[0]}") for k, v in found.items() if v is not None)
        absent = [key for key, value in found.items() if value is None]
        if arrived != total:
            if not absent or arrived > total:
                tally.drop("totals that are not the sum of their buckets", f"{at} {name}")
            continue
        for day, hour in absent:
            if hour is None:
                got[day] = 0
            else:
                got.setdefault(day, {})[hour] = 0


def _bucket(by_day: Mapping[str, Any], day: str, hour: str | None) -> Any:
    """A day's (or one of its hours') count as placed by :func:`_place`, ``None`` if absent."""
    value = by_day.get(day)
    return value if hour is None or not isinstance(value, dict) else value.get(hour)


# --- X API v2 ------------------------------------------------------------------------------------

#: The v2 ``public_metrics`` a tweet or a user carries that the tap keeps.
TWEET_COUNTS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "impression_count",
    "bookmark_count",
)
USER_COUNTS = ("followers_count", "following_count", "tweet_count", "listed_count")


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadBody(f"{where}: expected a string, got {shown(value)}")


def check_user(body: Mapping[str, Any]) -> dict[str, Any]:
    """``GET /2/users/me``: the user, with a digit id and valid counts."""
    user = mapping(body.get("data"), "data")
    user_id = digit_id(user.get("id"), "data.id")
    counts = mapping(user.get("public_metrics") or {}, "data.public_metrics")
    return {
        "id": user_id,
        "username": _text(user.get("username"), "data.username"),
        "name": _text(user.get("name"), "data.name"),
        "public_metrics": {
            name: optional_count(counts.get(name), f"data.public_metrics.{name}")
            for name in USER_COUNTS
        },
    }


def _tweet(value: Any, where: str) -> dict[str, Any]:
    tweet = mapping(value, where)
    tweet_id = digit_id(tweet.get("id"), f"{where}.id")
    at = f"tweet {tweet_id}"
    author = tweet.get("author_id")
    conversation = tweet.get("conversation_id")
    counts = mapping(tweet.get("public_metrics") or {}, f"{at} public_metrics")
    return {
        "id": tweet_id,
        "text": _text(tweet.get("text"), f"{at} text"),
        "created_at": _text(tweet.get("created_at"), f"{at} created_at"),
        "author_id": None if author is None else digit_id(author, f"{at} author_id"),
        "conversation_id": (
            None if conversation is None else digit_id(conversation, f"{at} conversation_id")
        ),
        "lang": _text(tweet.get("lang"), f"{at} lang"),
        "public_metrics": {
            name: optional_count(counts.get(name), f"{at} public_metrics.{name}")
            for name in TWEET_COUNTS
        },
    }


def _tweets(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``data``: a list of tweets, absent when there are none (never ``null``)."""
    if "data" not in body:
        return []
    data = body["data"]
    if not isinstance(data, list):
        raise BadBody(f"data: expected a list of tweets, got {shown(data)}")
    return [_tweet(item, f"data[{index}]") for index, item in enumerate(data)]


@dataclass(frozen=True)
class TimelinePage:
    tweets: list[dict[str, Any]]
    next_token: str | None


def check_timeline_page(body: Mapping[str, Any]) -> TimelinePage:
    """A page of ``GET /2/users/:id/tweets``: tweets with digit ids and valid counts."""
    meta = mapping(body.get("meta") or {}, "meta")
    token = meta.get("next_token")
    if token is not None and (not isinstance(token, str) or not token.isprintable()):
        raise BadBody(f"meta.next_token: {shown(token)} is not a token")
    return TimelinePage(_tweets(body), token or None)


@dataclass(frozen=True)
class Lookup:
    """``GET /2/tweets?ids=``: the tweets found among those asked, and the v2 errors for the
    others (each with the id it is about)."""

    tweets: list[dict[str, Any]]
    errors: list[dict[str, str]]
    tally: Tally


def check_lookup(body: Mapping[str, Any], asked: Sequence[str]) -> Lookup:
    wanted = set(asked)
    tally = Tally()
    tweets = []
    for tweet in _tweets(body):
        if tweet["id"] in wanted:
            tweets.append(tweet)
        else:
            tally.drop("tweet(s) not asked for", tweet["id"])
    raw_errors = body.get("errors") or []
    if not isinstance(raw_errors, list):
        raise BadBody(f"errors: expected a list, got {shown(raw_errors)}")
    errors = []
    for index, item in enumerate(raw_errors):
        error = mapping(item, f"errors[{index}]")
        about = error.get("resource_id") or error.get("value")
        if about is None:
            continue  # an error about the request, not a tweet: nothing to record
        tweet_id = digit_id(about, f"errors[{index}].resource_id")
        if tweet_id in wanted:
            errors.append({"id": tweet_id, "title": str(error.get("title") or "")})
        else:
            tally.drop("errors about tweets not asked for", tweet_id)
    return Lookup(tweets, errors, tally)
