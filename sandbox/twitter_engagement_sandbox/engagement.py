"""The Engagement API's request rules and response bodies, as the sandbox enforces them.

Written independently of the tap's client on purpose: only the metric names are shared, so a
mistake in the tap's batching, grouping or date handling shows up as a rejection or a wrong count.
Messages the sources document are reproduced verbatim; the others are marked as guesses in
docs/sandbox.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tap_twitter_engagement.metrics import HISTORICAL_METRICS, PUBLIC_METRICS, TOTALS_METRICS
from twitter_engagement_sandbox.model import (
    HOUR,
    TOTALS_RECENT_DAYS,
    VIDEO_VIEWS_MAX_AGE_DAYS,
    SandboxModel,
    ceil_hour,
    floor_hour,
)

ENDPOINTS = ("totals", "28hr", "historical")
MAX_IDS = {"totals": 250, "28hr": 25, "historical": 25}
METRICS = {"totals": TOTALS_METRICS, "28hr": HISTORICAL_METRICS, "historical": HISTORICAL_METRICS}
GROUP_BY = {
    "totals": ("tweet.id", "engagement.type"),
    "28hr": ("tweet.id", "engagement.type", "engagement.day", "engagement.hour"),
    "historical": ("tweet.id", "engagement.type", "engagement.day", "engagement.hour"),
}
FOUR_ENTRY_ORDERS = (
    ("tweet.id", "engagement.type", "engagement.day", "engagement.hour"),
    ("engagement.type", "tweet.id", "engagement.day", "engagement.hour"),
)
MAX_GROUPINGS = 3
MAX_WINDOW = timedelta(days=28)
OLDEST_DATA = datetime(2014, 9, 1, tzinfo=UTC)
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|\+00:00))?$")


class ApiError(Exception):
    """A whole-request rejection: HTTP status plus the API's ``errors`` strings."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__(f"{status}: {'; '.join(messages)}")
        self.status = status
        self.messages = list(messages)

    def body(self) -> dict[str, list[str]]:
        return {"errors": self.messages}


@dataclass
class Behaviour:
    """Choices where the sources disagree about what the real API does (see docs/sandbox.md)."""

    #: ``"365d"``: historical serves the last 365 days; ``"2014"``: anything since 2014-09-01.
    history_floor: str = "365d"
    #: Accept tweet ids sent as JSON numbers (the docs' getting-started example does it, X's
    #: Ruby client too); False is the strict form: only strings of digits.
    accept_numeric_ids: bool = True
    #: ``"profile"``: hour without day sums to an hour-of-day profile; ``"dated"`` keeps days.
    hour_without_day: str = "profile"
    #: Other-author rejection: ``"author"`` names author and ids, ``"plain"`` only the ids,
    #: ``"none"`` names nothing.
    forbidden_message: str = "author"
    #: Old video tweets: ``"omit"`` drops their video_views, ``"zero"`` reports ``"0"``.
    unsupported_video_views: str = "omit"
    #: Send counts as bare JSON numbers instead of strings (a docs example does this).
    numeric_counts: bool = False
    #: Post analytics (``GET /2/tweets/analytics``), where no source gives a value
    #: (docs/post-analytics.md): the longest ``start_time``..``end_time`` span in days (the
    #: Engagement API's 28-day window) ...
    analytics_max_days: int = 28
    #: ... how many days back ``start_time`` may go ...
    analytics_history_days: int = 365
    #: ... and whether a bucket whose asked metrics are all 0 is ``"present"`` (the
    #: description's "one entry per granularity bucket") or ``"omitted"``.
    analytics_empty_buckets: str = "present"


@dataclass(frozen=True)
class ParsedRequest:
    """A request that passed every rule."""

    endpoint: str
    tweet_ids: tuple[str, ...]
    metrics: tuple[str, ...]
    groupings: dict[str, tuple[str, ...]]
    start: datetime | None
    end: datetime | None
    #: The ``end`` the response echoes when it differs from ``end`` (a defaulted historical
    #: ``end`` is the request time, un-rounded to the second).
    echo_end: datetime | None = None


def history_floor(now: datetime, behaviour: Behaviour) -> datetime:
    """The earliest ``start`` the historical endpoint accepts."""
    if behaviour.history_floor == "2014":
        return OLDEST_DATA
    return now - timedelta(days=365)


def parse_time(value: Any, name: str) -> datetime:
    """``YYYY-MM-DD`` or an ISO-8601 UTC datetime, as the API takes ``start``/``end``."""
    if not isinstance(value, str) or not _TIME_RE.match(value):
        raise ApiError(
            400, f"Invalid {name} date: '{value}'. Use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)."
        )
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as exc:
        raise ApiError(400, f"Invalid {name} date: '{value}'.") from exc


def validate(endpoint: str, body: Any, now: datetime, behaviour: Behaviour) -> ParsedRequest:
    """Apply the API's request rules in the order the real service reports them."""
    if not isinstance(body, Mapping):
        raise ApiError(
            400,
            "Request body must be a JSON object with tweet_ids, engagement_types and groupings.",
        )
    tweet_ids = _tweet_ids(endpoint, body.get("tweet_ids"), behaviour)
    metrics = _metrics(endpoint, body.get("engagement_types"))
    groupings = _groupings(endpoint, body.get("groupings"))
    start = end = echo_end = None
    if endpoint == "historical":
        start, end, echo_end = _historical_window(
            body.get("start"), body.get("end"), now, behaviour
        )
    elif endpoint == "28hr":
        # The docs' 28hr example: start 17:00, end 22:00 the next day, hour buckets 17..21, so
        # 29 buckets from 28 hours before the current hour through the current hour.
        start = floor_hour(now) - timedelta(hours=28)
        end = floor_hour(now) + HOUR
    return ParsedRequest(endpoint, tweet_ids, metrics, groupings, start, end, echo_end)


def _tweet_ids(endpoint: str, value: Any, behaviour: Behaviour) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ApiError(400, "tweet_ids is required and must be a non-empty array of strings.")
    ids: list[str] = []
    for item in value:
        numeric = isinstance(item, int) and not isinstance(item, bool)
        tweet_id = str(item) if numeric and behaviour.accept_numeric_ids else item
        if not isinstance(tweet_id, str) or not tweet_id.isdigit():
            raise ApiError(400, f"Tweet IDs must be represented as strings of digits: {item!r}")
        ids.append(tweet_id)
    if len(ids) > MAX_IDS[endpoint]:
        raise ApiError(
            400,
            f"A maximum of {MAX_IDS[endpoint]} Tweet IDs may be requested from "
            f"the {endpoint} endpoint; {len(ids)} were given.",
        )
    return tuple(ids)


def _metrics(endpoint: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ApiError(
            400, "engagement_types is required and must be a non-empty array of strings."
        )
    unsupported = [v for v in value if v not in METRICS[endpoint]]
    if unsupported:
        raise ApiError(
            400,
            f"One or more of the engagement types you have specified are not "
            f"supported: ({', '.join(unsupported)}). Please adjust your request "
            "and try again.",
        )
    return tuple(dict.fromkeys(value))


def _groupings(endpoint: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping) or not value:
        raise ApiError(400, "groupings is required and must be an object of named groupings.")
    if len(value) > MAX_GROUPINGS:
        raise ApiError(
            400,
            f"A maximum of {MAX_GROUPINGS} groupings may be requested; {len(value)} were given.",
        )
    groupings: dict[str, tuple[str, ...]] = {}
    four_entry = 0
    for name, grouping in value.items():
        group_by = grouping.get("group_by") if isinstance(grouping, Mapping) else None
        if (
            not isinstance(group_by, list)
            or not group_by
            or not all(isinstance(g, str) for g in group_by)
        ):
            raise ApiError(400, f"Grouping '{name}' needs a non-empty group_by array.")
        unsupported = [g for g in group_by if g not in GROUP_BY[endpoint]]
        if unsupported:
            raise ApiError(
                400,
                "One or more of the groupBys you have specified are not "
                f"supported: ({', '.join(unsupported)}). Please adjust your "
                "request and try again.",
            )
        if len(set(group_by)) != len(group_by):
            raise ApiError(400, f"Grouping '{name}' repeats a group_by value.")
        if len(group_by) == 4:
            four_entry += 1
            if tuple(group_by) not in FOUR_ENTRY_ORDERS:
                raise ApiError(
                    400,
                    f"Grouping '{name}' has four group_by values in an "
                    "unsupported order; use tweet.id, engagement.type, "
                    "engagement.day, engagement.hour or engagement.type, "
                    "tweet.id, engagement.day, engagement.hour.",
                )
        groupings[str(name)] = tuple(group_by)
    if four_entry > 1:
        raise ApiError(400, "Only one grouping with four group_by values is allowed per request.")
    return groupings


def _historical_window(
    raw_start: Any, raw_end: Any, now: datetime, behaviour: Behaviour
) -> tuple[datetime, datetime, datetime | None]:
    """``(start, end, echo_end)``: the hour-aligned window served, and the ``end`` to echo
    when it is not ``end`` (an omitted ``end`` that falls on now echoes the request time)."""
    start = parse_time(raw_start, "start") if raw_start is not None else None
    end = parse_time(raw_end, "end") if raw_end is not None else None
    if end is not None and end > now:
        raise ApiError(400, "The end date cannot be in the future.")
    # A missing bound is derived from the other one (the Ruby sample's rule), 28 days apart.
    end = ceil_hour(end) if end is not None else None
    start = floor_hour(start) if start is not None else None
    omitted = end is None
    if start is None:
        end = end or ceil_hour(now)
        start = end - MAX_WINDOW
    elif end is None:
        end = min(ceil_hour(now), start + MAX_WINDOW)
    echo_end = now.replace(microsecond=0) if omitted and end == ceil_hour(now) else None
    if start >= end:
        raise ApiError(400, "The start date must be before the end date.")
    if end - start > MAX_WINDOW:
        raise ApiError(
            400, "The time range between start and end may be at most 4 weeks (28 days)."
        )
    if start < history_floor(now, behaviour):
        limit = (
            "the most recent 365 days"
            if behaviour.history_floor == "365d"
            else "2014-09-01 or later"
        )
        raise ApiError(400, f"Historical data is only available for {limit}.")
    return start, end, echo_end


# ---------------------------------------------------------------------------- responses
def respond(
    request: ParsedRequest,
    model: SandboxModel,
    now: datetime,
    behaviour: Behaviour,
    *,
    bearer: bool = False,
    user_id: str | None = None,
) -> dict[str, Any]:
    """The 200 body for a valid request, or an :class:`ApiError` for whole-request refusals.

    ``user_id`` is the token's user (default the model's first account): only its tweets are
    served; another author's, another account's included, refuse the request.
    """
    tweets = [model.tweet(tweet_id) for tweet_id in request.tweet_ids]
    if bearer:
        private = [m for m in request.metrics if m not in PUBLIC_METRICS]
        if private:
            raise ApiError(403, f"Forbidden to access metrics: {', '.join(private)}")
    else:
        _refuse_other_authors(request.tweet_ids, model, behaviour, user_id or model.user.id)
    if any(t is not None and t.protected for t in tweets):
        raise ApiError(400, "Tweet ID(s) are unavailable")
    body: dict[str, Any] = {}
    errors: list[str] = []
    unavailable = [
        i for i, t in zip(request.tweet_ids, tweets, strict=True) if t is None or t.deleted
    ]
    served = [i for i in dict.fromkeys(request.tweet_ids) if i not in unavailable]
    if unavailable:
        body["unavailable_tweet_ids"] = unavailable
        errors.append(f"{len(unavailable)} Tweet ID(s) are unavailable")
    old_video = [
        i
        for i in served
        if _age_days(model, i, now) > VIDEO_VIEWS_MAX_AGE_DAYS
        and getattr(model.tweet(i), "has_video", False)
    ]
    if old_video and "video_views" in request.metrics:
        body["unsupported_for_video_views_tweet_ids"] = old_video
    old_for_totals: list[str] = []
    if request.endpoint == "totals" and any(
        m in request.metrics for m in ("impressions", "engagements")
    ):
        old_for_totals = [i for i in served if _age_days(model, i, now) > TOTALS_RECENT_DAYS]
        if old_for_totals:
            body["unsupported_for_impressions_engagements_tweet_ids"] = old_for_totals
            errors.append(
                "Impressions & engagements for tweets older than 90 days "
                f"({', '.join(old_for_totals)}) are not supported"
            )
    if request.start is not None and request.end is not None:
        body["start"] = request.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        body["end"] = (request.echo_end or request.end).strftime("%Y-%m-%dT%H:%M:%SZ")
    skip = set()
    if behaviour.unsupported_video_views == "omit":
        skip |= {(i, "video_views") for i in old_video}
    skip |= {(i, m) for i in old_for_totals for m in ("impressions", "engagements")}
    leaves = _leaves(request, model, served, now, skip=skip, zero=old_video)
    for name, group_by in request.groupings.items():
        body[name] = _nest(leaves, group_by, behaviour)
    if errors:
        body["errors"] = errors
    return body


def _age_days(model: SandboxModel, tweet_id: str, now: datetime) -> float:
    tweet = model.tweet(tweet_id)
    return model.age_days(tweet, now) if tweet is not None else 0.0


def _refuse_other_authors(
    tweet_ids: Sequence[str], model: SandboxModel, behaviour: Behaviour, user_id: str
) -> None:
    """One id not authored by the token's user rejects the whole request (403), naming the ids
    per author (protected tweets get their own 400 instead)."""
    foreign: dict[str, list[str]] = {}
    for tweet_id in dict.fromkeys(tweet_ids):
        tweet = model.tweet(tweet_id)
        if (
            tweet is not None
            and not tweet.deleted
            and tweet.author_id not in (user_id, model.protected_user.id)
        ):
            foreign.setdefault(tweet.author_id, []).append(tweet_id)
    if not foreign:
        return
    if behaviour.forbidden_message == "none":
        raise ApiError(403, "Forbidden to access tweets")
    if behaviour.forbidden_message == "plain":
        ids = [i for group in foreign.values() for i in group]
        raise ApiError(403, f"Forbidden to access tweets: {', '.join(ids)}")
    raise ApiError(
        403,
        *(
            f"Forbidden to access tweets for author id {author}: {', '.join(ids)}"
            for author, ids in foreign.items()
        ),
    )


Leaf = tuple[str, str, str | None, int | None, int]


def _leaves(
    request: ParsedRequest,
    model: SandboxModel,
    served: Sequence[str],
    now: datetime,
    *,
    skip: set[tuple[str, str]],
    zero: Sequence[str],
) -> list[Leaf]:
    """Every (tweet, metric, day, hour, count) the request covers; zero buckets included."""
    leaves: list[Leaf] = []
    zero_video = set(zero)
    hourly = any("engagement.hour" in g for g in request.groupings.values())
    for tweet_id in served:
        for metric in request.metrics:
            if (tweet_id, metric) in skip:
                continue
            if request.start is None or request.end is None:
                count = model.lifetime_total(tweet_id, metric, now)
                if metric == "video_views" and tweet_id in zero_video:
                    count = 0
                leaves.append((tweet_id, metric, None, None, count))
                continue
            zeroed = metric == "video_views" and tweet_id in zero_video
            if hourly:
                for day, hour, count in model.window_counts(
                    tweet_id, metric, request.start, request.end, now
                ):
                    leaves.append((tweet_id, metric, day.isoformat(), hour, 0 if zeroed else count))
            else:
                for day, count in model.window_day_counts(
                    tweet_id, metric, request.start, request.end, now
                ):
                    leaves.append((tweet_id, metric, day.isoformat(), None, 0 if zeroed else count))
    return leaves


def _nest(leaves: Sequence[Leaf], group_by: Sequence[str], behaviour: Behaviour) -> dict[str, Any]:
    """Sum leaves into the grouping's nested object, levels in ``group_by`` order."""
    levels = list(group_by)
    if (
        "engagement.hour" in levels
        and "engagement.day" not in levels
        and behaviour.hour_without_day == "dated"
    ):
        levels.insert(levels.index("engagement.hour"), "engagement.day")
    index = {"tweet.id": 0, "engagement.type": 1, "engagement.day": 2, "engagement.hour": 3}
    path = [index[level] for level in levels]
    inner, last = path[:-1], path[-1]
    root: dict[Any, Any] = {}
    for leaf in leaves:
        parts = (leaf[0], leaf[1], leaf[2], _HOUR_KEYS[leaf[3]] if leaf[3] is not None else None)
        node = root
        for position in inner:
            key = parts[position]
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            node = child
        key = parts[last]
        node[key] = node.get(key, 0) + leaf[4]
    return _encode_counts(root, behaviour.numeric_counts)


_HOUR_KEYS = tuple(f"{hour:02d}" for hour in range(24))


def _encode_counts(node: dict[str, Any], numeric: bool) -> dict[str, Any]:
    return {
        key: (
            _encode_counts(value, numeric)
            if isinstance(value, dict)
            else value
            if numeric
            else str(value)
        )
        for key, value in node.items()
    }


__all__ = ["ENDPOINTS", "HOUR", "ApiError", "Behaviour", "ParsedRequest", "respond", "validate"]
