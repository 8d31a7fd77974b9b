"""X API v2 Post analytics, ``GET /2/tweets/analytics``: its query rules and its answer.

Written from X's OpenAPI description of the endpoint (docs/post-analytics.md). Counts come from
the same model, at the same as-of time, as the Engagement API's, so both APIs give the same
number for every metric they share (``likes`` is the model's ``favorites``, ``follows`` its
``user_follows``). Where the description is silent the choice is a :class:`Behaviour` field or
a documented guess (docs/sandbox.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from typing import Any

from tap_twitter_engagement.metrics import POST_ANALYTICS_FIELDS, POST_ANALYTICS_NAMES
from twitter_engagement_sandbox.engagement import Behaviour
from twitter_engagement_sandbox.model import DAY, HOUR, SandboxModel, ceil_hour
from twitter_engagement_sandbox.v2 import V2Error, invalid_request

ROUTE = "2/tweets/analytics"
#: The problem-type base the description's enums name (the older v2 routes keep
#: api.twitter.com's, as the sandbox always served them).
PROBLEMS = "https://api.x.com/2/problems/"
MAX_IDS = 100
#: The query parameters, in the description's order (an unknown one is refused, as v2 does).
PARAMETERS = ("ids", "start_time", "end_time", "granularity", "analytics.fields")
#: ``granularity`` values in the description's order; ``total`` is the default.
GRANULARITIES = ("hourly", "weekly", "daily", "total")
STEPS = {"hourly": HOUR, "daily": DAY, "weekly": 7 * DAY}
#: ``analytics.fields``' enum, in the description's (alphabetical) order.
FIELDS = tuple(sorted((*POST_ANALYTICS_FIELDS, "id", "timestamp", "timestamped_metrics")))
#: A metric's name in the model (the Engagement API's) from its Post analytics name.
MODEL_NAMES = {ours: theirs for theirs, ours in POST_ANALYTICS_NAMES.items()}
#: What objects carry when ``analytics.fields`` is absent (a guess: v2 objects default to
#: their id).
DEFAULT_FIELDS = ("id",)

_ID = re.compile(r"^[0-9]{1,19}$")
_DATE_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)

#: v2's refusal of an app-only token on a user-context endpoint (X's text, the description's
#: problem base).
UNSUPPORTED_AUTHENTICATION: dict[str, Any] = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
    "type": f"{PROBLEMS}unsupported-authentication",
    "status": 403,
}


@dataclass(frozen=True)
class Query:
    """A request that passed every rule."""

    ids: tuple[str, ...]
    start: datetime
    end: datetime
    granularity: str
    #: The asked ``analytics.fields``, in the order asked.
    fields: tuple[str, ...]

    @property
    def metrics(self) -> tuple[str, ...]:
        """The asked metrics, Post analytics' names, in the order asked."""
        return tuple(f for f in self.fields if f in POST_ANALYTICS_FIELDS)

    @cached_property
    def buckets(self) -> tuple[tuple[datetime, datetime], ...]:
        """``[start, end)`` cut at ``start`` and every granularity step after it, the last
        bucket clipped at ``end`` (``total``: one bucket)."""
        step = STEPS.get(self.granularity, self.end - self.start)
        out, moment = [], self.start
        while moment < self.end:
            out.append((moment, min(moment + step, self.end)))
            moment += step
        return tuple(out)

    @cached_property
    def hours(self) -> tuple[datetime, tuple[tuple[int, int], ...]]:
        """The first hour that starts in the window, and each bucket's hours as a range of
        indexes from it: the hours whose start lies in the bucket."""
        first = ceil_hour(self.start)
        return first, tuple(
            ((ceil_hour(a) - first) // HOUR, (ceil_hour(b) - first) // HOUR)
            for a, b in self.buckets
        )


def timestamp(moment: datetime) -> str:
    """v2's timestamp form: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _invalid(parameters: Mapping[str, Sequence[str]], message: str) -> V2Error:
    return invalid_request(parameters, message, problems=PROBLEMS)


# ---------------------------------------------------------------------------- the query
def parse(query: Mapping[str, Sequence[str]], now: datetime, behaviour: Behaviour) -> Query:
    """The query's parameters (every value of each, as sent) checked in the description's
    order, then the window against ``now``; a :class:`V2Error` 400 names the first fault."""
    for name, values in query.items():
        if name.startswith("oauth_"):  # a signature sent in the query string
            continue
        if name not in PARAMETERS:
            raise _invalid(
                {name: values},
                f"The query parameter [{name}] is not one of [{','.join(PARAMETERS)}]",
            )
        if len(values) > 1:
            raise _invalid(
                {name: values},
                f"Duplicate parameters are not allowed: the `{name}` query parameter",
            )
    params = {name: values[0] for name, values in query.items()}
    ids = _ids(params.get("ids"))
    start = _date_time(params, "start_time")
    end = _date_time(params, "end_time")
    granularity = params.get("granularity", "total")
    if granularity not in GRANULARITIES:
        raise _invalid(
            {"granularity": [granularity]},
            f"The `granularity` query parameter value [{granularity}] is not one of "
            f"[{','.join(GRANULARITIES)}]",
        )
    fields = _fields(params.get("analytics.fields"))
    _check_window(params, start, end, now, behaviour)
    return Query(ids, start, end, granularity, fields)


def _empty(name: str, value: str | None) -> V2Error:
    return _invalid(
        {name: [] if value is None else [value]}, f"The `{name}` query parameter can not be empty"
    )


def _ids(raw: str | None) -> tuple[str, ...]:
    """1 to 100 comma-separated ids, each ``^[0-9]{1,19}$``. Repeated ids are served once per
    mention, as the sandbox's ``/2/tweets?ids=`` serves them (the description does not make
    ``ids`` unique, as it does ``analytics.fields``)."""
    if not raw:
        raise _empty("ids", raw)
    ids = raw.split(",")
    if len(ids) > MAX_IDS:
        raise _invalid(
            {"ids": [raw]},
            f"The number of values in the `ids` query parameter list [{len(ids)}] is not "
            f"between 1 and {MAX_IDS}",
        )
    for post_id in ids:
        if not _ID.match(post_id):
            raise _invalid(
                {"ids": [post_id]},
                f"The `ids` query parameter value [{post_id}] does not match {_ID.pattern}",
            )
    return tuple(ids)


def date_time(raw: str) -> datetime:
    """An RFC 3339 date-time (``format: date-time``) in UTC: seconds required, fractional
    seconds (to the microsecond) and any UTC offset allowed; ValueError otherwise."""
    match = _DATE_TIME.match(raw)
    if match is None:
        raise ValueError(raw)
    base, fraction, offset = match.groups()
    moment = datetime.fromisoformat(base + ("+00:00" if offset == "Z" else offset))
    micros = int((fraction or "0").ljust(6, "0")[:6])
    return moment.astimezone(UTC) + timedelta(microseconds=micros)


def _date_time(params: Mapping[str, str], name: str) -> datetime:
    raw = params.get(name)
    if not raw:
        raise _empty(name, raw)
    try:
        return date_time(raw)
    except ValueError:
        raise _invalid(
            {name: [raw]},
            f"Invalid '{name}':'{raw}'. '{name}' must be an ISO 8601 date-time "
            "(YYYY-MM-DDTHH:mm:ssZ)",
        ) from None


def _fields(raw: str | None) -> tuple[str, ...]:
    """A non-empty, unique subset of the enum; absent: :data:`DEFAULT_FIELDS`."""
    if raw is None:
        return DEFAULT_FIELDS
    if not raw:
        raise _empty("analytics.fields", raw)
    fields = raw.split(",")
    for name in fields:
        if name not in FIELDS:
            raise _invalid(
                {"analytics.fields": [raw]},
                f"The `analytics.fields` query parameter value [{name}] is not one of "
                f"[{','.join(FIELDS)}]",
            )
    repeated = next((f for i, f in enumerate(fields) if f in fields[:i]), None)
    if repeated is not None:
        raise _invalid(
            {"analytics.fields": [raw]},
            f"The `analytics.fields` query parameter value [{repeated}] is repeated: "
            "the values must be unique",
        )
    return tuple(fields)


def history_floor(now: datetime, behaviour: Behaviour) -> datetime:
    """The earliest ``start_time`` served: ``analytics_history_days`` before ``now``, rounded
    up to the millisecond so that the refusal's timestamp is the floor exactly."""
    floor = now.astimezone(UTC) - timedelta(days=behaviour.analytics_history_days)
    extra = floor.microsecond % 1000
    return floor + timedelta(microseconds=1000 - extra) if extra else floor


def _check_window(
    params: Mapping[str, str], start: datetime, end: datetime, now: datetime, behaviour: Behaviour
) -> None:
    raw_start, raw_end = params["start_time"], params["end_time"]
    if end <= start:
        raise _invalid(
            {"start_time": [raw_start]},
            f"Invalid 'start_time':'{raw_start}'. 'start_time' must be before "
            f"'end_time':'{raw_end}'",
        )
    if end > now:
        raise _invalid(
            {"end_time": [raw_end]},
            f"Invalid 'end_time':'{raw_end}'. 'end_time' cannot be in the future",
        )
    days = behaviour.analytics_max_days
    if end - start > timedelta(days=days):
        raise _invalid(
            {"start_time": [raw_start], "end_time": [raw_end]},
            f"The time range between start_time and end_time must be at most {days} days.",
        )
    floor = history_floor(now, behaviour)
    if start < floor:
        raise _invalid(
            {"start_time": [raw_start]}, f"start_time must be on or after {timestamp(floor)}"
        )


# ---------------------------------------------------------------------------- the answer
def answer(
    query: Mapping[str, Sequence[str]],
    model: SandboxModel,
    now: datetime,
    user_id: str,
    behaviour: Behaviour,
) -> dict[str, Any]:
    """The 200 body: one object per served id in the order asked, and a problem per id not
    served (a post not found or deleted; another user's post, protected ones included: the
    model's protected posts are all another author's); ``errors`` alone when none is served.
    Raises :class:`V2Error` for a bad query."""
    parsed = parse(query, now, behaviour)
    data: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for post_id in parsed.ids:
        tweet = model.tweet(post_id)
        if tweet is None or tweet.deleted:
            errors.append(_not_found(post_id))
        elif tweet.author_id != user_id:
            errors.append(_not_authorized(post_id))
        else:
            data.append(_analytics(post_id, parsed, model, now, behaviour))
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if errors:
        body["errors"] = errors
    return body


def _not_found(post_id: str) -> dict[str, Any]:
    return {
        "value": post_id,
        "detail": f"Could not find post with ids: [{post_id}].",
        "title": "Not Found Error",
        "resource_type": "post",
        "parameter": "ids",
        "resource_id": post_id,
        "type": f"{PROBLEMS}resource-not-found",
    }


def _not_authorized(post_id: str) -> dict[str, Any]:
    return {
        "resource_id": post_id,
        "resource_type": "post",
        "parameter": "ids",
        "value": post_id,
        "title": "Authorization Error",
        "detail": f"Sorry, you are not authorized to see the Post with id: [{post_id}].",
        "type": f"{PROBLEMS}not-authorized-for-resource",
    }


def bucket_counts(
    model: SandboxModel, post_id: str, metric: str, query: Query, as_of: datetime
) -> list[int]:
    """The metric (Post analytics' name) in each of the query's buckets, as served at
    ``as_of``: the model's hourly counts summed over the hours whose start lies in the bucket
    (the model is hourly: an hour cut by an edge counts where it starts)."""
    name = MODEL_NAMES.get(metric, metric)
    first, spans = query.hours
    if query.granularity == "hourly":
        hours = _hour_series(model, post_id, name, first, first + spans[-1][1] * HOUR, as_of)
        return [sum(hours[i:j]) for i, j in spans]
    # Days and weeks through the Engagement API's own daily path (whole final days at once).
    return [
        sum(
            c
            for _, c in model.window_day_counts(
                post_id, name, first + i * HOUR, first + j * HOUR, as_of
            )
        )
        for i, j in spans
    ]


def _hour_series(
    model: SandboxModel, post_id: str, metric: str, first: datetime, end: datetime, as_of: datetime
) -> list[int]:
    """The counts of the hours from ``first`` up to ``end`` (both on the hour), one a hour."""
    hours: list[int] = []
    moment = first
    while moment < end:
        day_end = min(end, datetime.combine(moment.date(), time(), UTC) + DAY)
        counts = model.hour_counts(post_id, metric, moment.date(), as_of)
        hours.extend(counts[moment.hour : moment.hour + (day_end - moment) // HOUR])
        moment = day_end
    return hours


def _analytics(
    post_id: str, query: Query, model: SandboxModel, now: datetime, behaviour: Behaviour
) -> dict[str, Any]:
    """One post's object: the asked fields only, each metric's total over the window, and the
    buckets (those with every asked metric 0 left out under ``analytics_empty_buckets``
    ``"omitted"``)."""
    series = {m: bucket_counts(model, post_id, m, query, now) for m in query.metrics}
    out: dict[str, Any] = {}
    for field in query.fields:
        if field == "id":
            out["id"] = post_id
        elif field == "timestamp":
            out["timestamp"] = timestamp(query.start)
        elif field == "timestamped_metrics":
            entries: list[dict[str, Any]] = [
                {"timestamp": timestamp(start), "metrics": {m: series[m][i] for m in series}}
                for i, (start, _) in enumerate(query.buckets)
            ]
            if behaviour.analytics_empty_buckets == "omitted":
                entries = [e for e in entries if any(e["metrics"].values())]
            out["timestamped_metrics"] = entries
        else:
            out[field] = sum(series[field])
    return out


__all__ = [
    "FIELDS",
    "GRANULARITIES",
    "MAX_IDS",
    "PARAMETERS",
    "PROBLEMS",
    "ROUTE",
    "UNSUPPORTED_AUTHENTICATION",
    "Query",
    "answer",
    "bucket_counts",
    "date_time",
    "history_floor",
    "parse",
    "timestamp",
]
