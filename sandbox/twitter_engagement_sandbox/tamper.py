"""Hostile answers with status 200, on demand: the sandbox's tamper hook and its named kinds.

The tap must trust nothing an answer says until it is checked against its request. Faults
(``Sandbox.inject``) break the transport or the status; tampers keep both and lie in the body:
a tweet, metric, day or hour missing or added, a count that is no count, an id that is no id,
a body too deep, too big or a gzip bomb. A kind is a function of the body and the request;
``Sandbox.tamper`` takes a kind's name or any such function.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import re
import textwrap
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tap_twitter_engagement.metrics import POST_ANALYTICS_FIELDS
from twitter_engagement_sandbox import analytics
from twitter_engagement_sandbox.engagement import METRICS
from twitter_engagement_sandbox.model import ceil_hour
from twitter_engagement_sandbox.v2 import page_token

ENGAGEMENT_ROUTES = ("insights/historical", "insights/28hr", "insights/totals")
#: The Engagement API routes whose answers have days and hours.
WINDOWED_ROUTES = ("insights/historical", "insights/28hr")
ANALYTICS_ROUTE = analytics.ROUTE
#: The Engagement API kinds that also change Post analytics answers, and the route's own kinds.
COUNTED_ROUTES = (*ENGAGEMENT_ROUTES, ANALYTICS_ROUTE)
V2_ROUTES = ("2/users/me", "2/users/tweets", "2/tweets", ANALYTICS_ROUTE)
#: Every route a tamper may apply to (the OAuth routes are never tampered).
API_ROUTES = ENGAGEMENT_ROUTES + V2_ROUTES

TWEET, TYPE, DAY, HOUR = "tweet.id", "engagement.type", "engagement.day", "engagement.hour"
#: The id ``extra-tweet`` and ``extra-lookup-tweet`` add: a snowflake no request names.
UNASKED_ID = "999999999999999999"
_CHUNK = 1 << 20
_PAD_HEAD, _PAD_TAIL = b'{"pad":"', b'"}'


@dataclass(frozen=True)
class TamperRequest:
    """What a tamper function knows of the request it answers."""

    route: str
    method: str
    #: The query string's parameters (what a GET says).
    params: Mapping[str, str]
    #: The parsed JSON body (what a POST says; None for a GET).
    body: Any


@dataclass(frozen=True)
class Raw:
    """Bytes sent as they are, with ``status`` (200 by default) and the route's rate-limit
    headers.

    ``bytes`` go out with a Content-Length. An iterable of ``bytes`` is streamed chunk by chunk,
    with ``Transfer-Encoding: chunked``, or with ``Content-Length: length`` when ``length`` is
    given (then nothing checks that the chunks add up to it: a connection whose body fell short
    or ran over is closed). An iterable is consumed once: return a fresh one per answer.
    """

    data: bytes | Iterable[bytes]
    content_encoding: str | None = None
    content_type: str = "application/json"
    length: int | None = None
    #: The answer's status: a tamper may turn a 200 into a refusal.
    status: int = 200


class TamperError(Exception):
    """A tamper found nothing to change: the sandbox answers 500 with the reason, so a test set
    up wrong fails loudly instead of passing on an untampered answer."""


TamperFunction = Callable[[Any, TamperRequest], Any]


@dataclass(frozen=True)
class TamperKind:
    """A named tamper: ``apply(body, request, **options)``, the routes it makes sense on."""

    name: str
    doc: str
    routes: tuple[str, ...]
    apply: Callable[..., Any]
    #: Option names and defaults (None: derived from the request or body, as ``doc`` says).
    options: dict[str, Any] = field(default_factory=dict)
    #: Run once when the tamper is set, with its options: validates them, builds caches.
    prepare: Callable[..., None] | None = None


@dataclass(frozen=True)
class BoundTamper:
    """A tamper ready to run: a kind with its options, or a function, and where it applies."""

    name: str
    function: TamperFunction
    routes: tuple[str, ...]


TAMPER_KINDS: dict[str, TamperKind] = {}


def _kind(
    name: str, routes: tuple[str, ...], prepare: Callable[..., None] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a kind; its docstring is its one-line description, its keyword-only
    parameters its options."""

    def register(apply: Callable[..., Any]) -> Callable[..., Any]:
        options = {
            p.name: p.default
            for p in inspect.signature(apply).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        doc = " ".join((apply.__doc__ or "").split())
        TAMPER_KINDS[name] = TamperKind(name, doc, routes, apply, options, prepare)
        return apply

    return register


def bind(
    kind_or_function: str | TamperFunction, route: str | None, options: Mapping[str, Any]
) -> BoundTamper:
    """Check a tamper's kind, route and options; ValueError names what is wrong."""
    if route is not None and route not in API_ROUTES:
        raise ValueError(f"unknown route {route!r}; choose from {', '.join(API_ROUTES)}")
    if not isinstance(kind_or_function, str):
        if options:
            raise ValueError("options go with a named kind; a function takes (body, request)")
        name = getattr(kind_or_function, "__name__", type(kind_or_function).__name__)
        return BoundTamper(name, kind_or_function, (route,) if route else API_ROUTES)
    kind = TAMPER_KINDS.get(kind_or_function)
    if kind is None:
        raise ValueError(
            f"unknown tamper {kind_or_function!r}; choose from {', '.join(TAMPER_KINDS)}"
        )
    unknown = sorted(set(options) - set(kind.options))
    if unknown:
        known = ", ".join(kind.options) or "none"
        raise ValueError(f"{kind.name} has no option {unknown[0]!r} (its options: {known})")
    if route is not None and route not in kind.routes:
        raise ValueError(f"{kind.name} applies to {', '.join(kind.routes)}, not {route}")
    if kind.prepare is not None:
        kind.prepare(**{**kind.options, **options})
    return BoundTamper(
        kind.name, functools.partial(kind.apply, **options), (route,) if route else kind.routes
    )


def parse_spec(text: str) -> tuple[str, str | None, dict[str, Any]]:
    """``KIND[@ROUTE][:key=value,...]`` as the CLI takes it: ``(kind, route, options)``.

    ``value`` is read as JSON when it parses (``value=-5`` the number, ``value="-5"`` the
    string, ``value=abc`` the string); an option whose default is a number or a boolean is read
    as one; the others are text. Values cannot contain commas.
    """
    spec, _, raw_options = text.partition(":")
    name, _, route = spec.partition("@")
    kind = TAMPER_KINDS.get(name)
    if kind is None:
        raise ValueError(f"unknown tamper {name!r}; choose from {', '.join(TAMPER_KINDS)}")
    options: dict[str, Any] = {}
    for item in filter(None, raw_options.split(",")):
        key, equals, value = item.partition("=")
        if not equals:
            raise ValueError(f"{text}: option {item!r} is not key=value")
        if key not in kind.options:
            raise ValueError(f"{kind.name} has no option {key!r}")
        options[key] = _option_value(key, kind.options[key], value)
    bind(name, route or None, options)
    return name, route or None, options


def _option_value(key: str, default: Any, text: str) -> Any:
    if key == "value":
        try:
            return json.loads(text)
        except ValueError:
            return text
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{key}={text}: not true or false")
        return text.lower() in ("true", "1")
    if isinstance(default, int):
        return int(text)
    return text


def describe(width: int = 96) -> list[str]:
    """Each kind as ``--help`` lists it: name and options with their defaults (as the CLI
    writes them), routes, then what it does."""
    lines = []
    for kind in TAMPER_KINDS.values():
        options = ",".join(
            name if value is None else f"{name}={_option_text(name, value)}"
            for name, value in kind.options.items()
        )
        routes = "any route" if kind.routes == API_ROUTES else ", ".join(kind.routes)
        lines.append(
            f"  {kind.name}:{options}  [{routes}]" if options else f"  {kind.name}  [{routes}]"
        )
        lines.append(
            textwrap.fill(kind.doc, width, initial_indent=" " * 6, subsequent_indent=" " * 6)
        )
    return lines


def _option_text(name: str, value: Any) -> str:
    if name == "value":
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


# ---------------------------------------------------------------------------- Engagement API
Row = tuple[dict[str, str], Any]


@dataclass
class _Grouping:
    """One grouping object of the answer, its nesting levels in order, changed in place."""

    name: str
    levels: tuple[str, ...]
    tree: dict[str, Any]

    def has(self, levels: Iterable[str]) -> bool:
        return all(level in self.levels for level in levels)

    def rows(self) -> list[Row]:
        """Flat: each leaf with its key per level, in the answer's order."""
        return list(_flatten(self.tree, self.levels, {}))

    def matches(self, keys: Mapping[str, str], where: Mapping[str, str]) -> bool:
        """Constraints on levels this grouping lacks do not apply."""
        return all(keys[level] == value for level, value in where.items() if level in self.levels)

    def prune(self, where: Mapping[str, str]) -> int:
        """Delete the key of the deepest level ``where`` names, under the keys it names above
        (every key of a level it does not name); parents left empty stay, as ``{}``."""
        target = max(where, key=self.levels.index)
        return _prune(self.tree, self.levels, where, target)

    def replace(self, rows: list[Row]) -> None:
        nested: dict[str, Any] = {}
        for keys, value in rows:
            node = nested
            for level in self.levels[:-1]:
                node = node.setdefault(keys[level], {})
            node[keys[self.levels[-1]]] = value
        self.tree.clear()
        self.tree.update(nested)


def _levels(group_by: list[str], tree: dict[str, Any]) -> tuple[str, ...]:
    """The grouping's nesting: ``group_by``, plus the day level ``hour_without_day="dated"``
    inserts before the hour (seen as one level more than asked)."""
    levels = list(group_by)
    if HOUR in levels and DAY not in levels:
        depth, node = 0, tree
        while isinstance(node, dict) and node:
            depth, node = depth + 1, next(iter(node.values()))
        if depth > len(levels):
            levels.insert(levels.index(HOUR), DAY)
    return tuple(levels)


def _flatten(node: Any, levels: tuple[str, ...], keys: dict[str, str]) -> Iterator[Row]:
    if not levels:
        yield keys, node
        return
    for key, child in node.items():
        yield from _flatten(child, levels[1:], {**keys, levels[0]: key})


def _prune(
    node: dict[str, Any], levels: tuple[str, ...], where: Mapping[str, str], target: str
) -> int:
    level, removed = levels[0], 0
    for key in [where[level]] if level in where else list(node):
        if key not in node:
            continue
        if level == target:
            del node[key]
            removed += 1
        else:
            removed += _prune(node[key], levels[1:], where, target)
    return removed


def _named(where: Mapping[str, str | None]) -> dict[str, str]:
    return {level: value for level, value in where.items() if value is not None}


class _Answer:
    """An Engagement API answer read against its request, to change tweets, metrics, days and
    hours the same way in every grouping, whatever the grouping's order.

    Removals edit the grouping objects in place; additions go through flat rows.
    """

    def __init__(self, body: Any, request: TamperRequest) -> None:
        if not isinstance(body, dict) or not isinstance(request.body, dict):
            raise TamperError("not an Engagement API answer")
        self.body: dict[str, Any] = body
        self.ids = [str(i) for i in request.body.get("tweet_ids", [])]
        self.metrics = [str(m) for m in dict.fromkeys(request.body.get("engagement_types", []))]
        self.endpoint = request.route.rsplit("/", 1)[-1]
        self.groupings = [
            _Grouping(name, _levels(spec["group_by"], body[name]), body[name])
            for name, spec in request.body.get("groupings", {}).items()
            if isinstance(body.get(name), dict)
        ]

    def having(self, levels: Iterable[str]) -> list[_Grouping]:
        """The groupings with every one of ``levels``; TamperError if none has them."""
        levels = tuple(levels)
        found = [g for g in self.groupings if g.has(levels)]
        if not found:
            raise TamperError(f"no grouping has {' and '.join(levels)}")
        return found

    def first_tweet(self) -> str:
        """The first requested id the answer serves (not listed as unavailable)."""
        unavailable = self.body.get("unavailable_tweet_ids") or []
        served = [i for i in self.ids if i not in unavailable]
        if not served:
            raise TamperError("no requested tweet is served")
        return served[0]

    def first_metric(self, tweet: str) -> str:
        """The first requested metric served for ``tweet`` (the first requested if no grouping
        has metrics: then the metric constrains nothing)."""
        groupings = [g for g in self.groupings if TYPE in g.levels]
        if not groupings:
            return self.metrics[0]
        for metric in self.metrics:
            where = {TWEET: tweet, TYPE: metric}
            if any(g.matches(keys, where) for g in groupings for keys, _ in g.rows()):
                return metric
        raise TamperError(f"no requested metric is served for tweet {tweet}")

    def first_key(self, level: str, where: Mapping[str, str | None]) -> str | None:
        """The smallest ``level`` key (day or hour) under ``where``; None if no grouping has
        the level."""
        named = _named(where)
        candidates = [g for g in self.groupings if level in g.levels]
        if not candidates:
            return None
        # Prefer the groupings with every level named: a profile grouping (hours without
        # days) must not choose the hour for a dated one.
        full = [g for g in candidates if g.has(named)]
        keys = [k[level] for g in full or candidates for k, _ in g.rows() if g.matches(k, named)]
        if not keys:
            raise TamperError(f"nothing under {named} has {level}")
        return str(min(keys))

    def leaf(self) -> dict[str, str | None]:
        """The first tweet's first metric's first day and hour (levels absent stay None)."""
        tweet = self.first_tweet()
        where: dict[str, str | None] = {TWEET: tweet, TYPE: self.first_metric(tweet)}
        where[DAY] = self.first_key(DAY, where)
        where[HOUR] = self.first_key(HOUR, where)
        return where

    def drop(self, where: Mapping[str, str | None], *, required: bool = True) -> None:
        """Remove the deepest key ``where`` names, in every grouping with all its levels."""
        named = _named(where)
        groupings = self.having(named) if required else [g for g in self.groupings if g.has(named)]
        removed = sum(grouping.prune(named) for grouping in groupings)
        if required and not removed:
            raise TamperError(f"nothing to remove under {named}")

    def add_copies(self, where: Mapping[str, str | None], **new: Any) -> None:
        """Copy every leaf under ``where`` with the keys in ``new`` replaced (and the leaf
        replaced by ``value``, if given), in every grouping with all those levels."""
        value = new.pop("value", _KEEP)
        named = _named(where)
        added = 0
        for grouping in self.having([*named, *new]):
            rows = grouping.rows()
            copies = [
                ({**keys, **new}, copy.deepcopy(leaf) if value is _KEEP else value)
                for keys, leaf in rows
                if grouping.matches(keys, named)
            ]
            grouping.replace(rows + copies)
            added += len(copies)
        if not added:
            raise TamperError(f"nothing to copy under {named}")

    def set_first(self, where: Mapping[str, str | None], value: Any) -> None:
        """Set the first leaf under ``where`` (on the levels each grouping has) to ``value``,
        in every grouping."""
        named = _named(where)
        changed = 0
        for grouping in self.groupings:
            rows = grouping.rows()
            for index, (keys, _) in enumerate(rows):
                if grouping.matches(keys, named):
                    rows[index] = (keys, value)
                    grouping.replace(rows)
                    changed += 1
                    break
        if not changed:
            raise TamperError(f"no leaf under {named}")


_KEEP = object()


def _window_end(body: Mapping[str, Any]) -> datetime:
    """The answer's ``end`` rounded up to the hour: the first instant it does not serve."""
    try:
        end = datetime.strptime(body["end"], "%Y-%m-%dT%H:%M:%S%z")
    except (KeyError, TypeError, ValueError):
        raise TamperError("the answer has no end to place a day or hour after") from None
    return ceil_hour(end)


def _put_first(body: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """``body`` with ``key`` set, placed first when new (where the real API puts the lists)."""
    if key in body:
        body[key] = value
        return body
    return {key: value, **body}


@_kind("drop-tweet", COUNTED_ROUTES)
def drop_tweet(body: Any, request: TamperRequest, *, index: int = 0) -> Any:
    """The index-th requested tweet id removed from every grouping (Post analytics: its
    objects removed from data)."""
    if request.route == ANALYTICS_ROUTE:
        return _Posts(body, request).drop_post(index)
    answer = _Answer(body, request)
    if not 0 <= index < len(answer.ids):
        raise TamperError(f"index {index}: the request names {len(answer.ids)} ids")
    answer.drop({TWEET: answer.ids[index]})
    return answer.body


@_kind("drop-metric", COUNTED_ROUTES)
def drop_metric(body: Any, request: TamperRequest, *, metric: str | None = None) -> Any:
    """One metric (default the first requested one served) removed from the first served
    tweet, in every grouping (Post analytics: its total and every bucket's)."""
    if request.route == ANALYTICS_ROUTE:
        return _Posts(body, request).drop_metric(metric)
    answer = _Answer(body, request)
    tweet = answer.first_tweet()
    answer.drop({TWEET: tweet, TYPE: metric or answer.first_metric(tweet)})
    return answer.body


@_kind("drop-day", WINDOWED_ROUTES)
def drop_day(body: Any, request: TamperRequest, *, day: str | None = None) -> Any:
    """One day key (YYYY-MM-DD, default the first) removed from the first tweet's first
    metric, hours and all, in every grouping with days."""
    answer = _Answer(body, request)
    where = answer.leaf()
    answer.drop({TWEET: where[TWEET], TYPE: where[TYPE], DAY: day or where[DAY]})
    return answer.body


@_kind("drop-hour", WINDOWED_ROUTES)
def drop_hour(body: Any, request: TamperRequest, *, hour: str | None = None) -> Any:
    """One hour key (HH, default the first) removed from the first tweet's first metric's
    first day, in every grouping with hours."""
    answer = _Answer(body, request)
    where = answer.leaf()
    if where[HOUR] is None:
        raise TamperError("no grouping has engagement.hour")
    answer.drop({**where, HOUR: hour or where[HOUR]})
    return answer.body


@_kind("drop-grouping", ENGAGEMENT_ROUTES)
def drop_grouping(body: Any, request: TamperRequest) -> Any:
    """Every grouping object removed; start, end and the lists stay."""
    answer = _Answer(body, request)
    if not answer.groupings:
        raise TamperError("no grouping to remove")
    for grouping in answer.groupings:
        del answer.body[grouping.name]
    return answer.body


@_kind("extra-day", WINDOWED_ROUTES)
def extra_day(
    body: Any, request: TamperRequest, *, day: str | None = None, value: Any = "777"
) -> Any:
    """A day (default the day after the window's last) added to the first tweet's first metric
    with count value; under hourly groupings, with the first day's hour keys."""
    answer = _Answer(body, request)
    where = answer.leaf()
    where[HOUR] = None
    if day is None:
        day = ((_window_end(answer.body) - timedelta(hours=1)).date() + timedelta(1)).isoformat()
    answer.add_copies(where, **{DAY: day, "value": value})
    return answer.body


@_kind("extra-hour", WINDOWED_ROUTES)
def extra_hour(body: Any, request: TamperRequest, *, value: Any = "777") -> Any:
    """The hour starting at the window's end (end rounded up to the hour, which the window
    excludes) added under its day to the first tweet's first metric, in groupings with day
    and hour."""
    answer = _Answer(body, request)
    end = _window_end(answer.body)
    answer.add_copies(
        answer.leaf(), **{DAY: end.date().isoformat(), HOUR: f"{end.hour:02d}", "value": value}
    )
    return answer.body


@_kind("extra-tweet", COUNTED_ROUTES)
def extra_tweet(body: Any, request: TamperRequest, *, tweet_id: str = UNASKED_ID) -> Any:
    """An unrequested tweet id added to every grouping, a copy of the first served tweet
    (Post analytics: a copy of the first object, with that id, at the end of data)."""
    if request.route == ANALYTICS_ROUTE:
        return _Posts(body, request).extra_post(tweet_id)
    answer = _Answer(body, request)
    answer.add_copies({TWEET: answer.first_tweet()}, **{TWEET: tweet_id})
    return answer.body


@_kind("extra-metric", COUNTED_ROUTES)
def extra_metric(body: Any, request: TamperRequest, *, metric: str | None = None) -> Any:
    """An unrequested metric (default the endpoint's first not requested) added to the first
    served tweet, a copy of its first metric (Post analytics: its total and every bucket's)."""
    if request.route == ANALYTICS_ROUTE:
        return _Posts(body, request).extra_metric(metric)
    answer = _Answer(body, request)
    if metric is None:
        unasked = [m for m in METRICS[answer.endpoint] if m not in answer.metrics]
        if not unasked:
            raise TamperError(f"every {answer.endpoint} metric was requested; pass metric=")
        metric = unasked[0]
    tweet = answer.first_tweet()
    answer.add_copies({TWEET: tweet, TYPE: answer.first_metric(tweet)}, **{TYPE: metric})
    return answer.body


@_kind("count", COUNTED_ROUTES)
def leaf_count(body: Any, request: TamperRequest, *, value: Any = "-1") -> Any:
    """One leaf, the first tweet's first metric's first day (first hour if hourly), set to
    value (any JSON value) in every grouping (Post analytics: the first post's first metric in
    its first bucket, or its total without timestamped_metrics; value=null for a null metric,
    value=1.5 for a count that is no integer)."""
    if request.route == ANALYTICS_ROUTE:
        return _Posts(body, request).set_count(value)
    answer = _Answer(body, request)
    answer.set_first(answer.leaf(), value)
    return answer.body


@_kind("unavailable-string", ENGAGEMENT_ROUTES)
def unavailable_string(body: Any, request: TamperRequest) -> Any:
    """unavailable_tweet_ids set to the first requested id as a plain string, not a list."""
    answer = _Answer(body, request)
    return _put_first(answer.body, "unavailable_tweet_ids", answer.ids[0])


@_kind("unavailable-and-served", ENGAGEMENT_ROUTES)
def unavailable_and_served(body: Any, request: TamperRequest) -> Any:
    """The first requested id listed in unavailable_tweet_ids, its data kept."""
    answer = _Answer(body, request)
    listed = list(answer.body.get("unavailable_tweet_ids") or [])
    return _put_first(answer.body, "unavailable_tweet_ids", [*listed, answer.ids[0]])


_UNAVAILABLE_LINE = re.compile(r"^\d+ Tweet ID\(s\) are unavailable$")


@_kind("unavailable", ENGAGEMENT_ROUTES)
def unavailable(body: Any, request: TamperRequest, *, tweet_id: str | None = None) -> Any:
    """A tweet (default the first requested) refused for now: listed in unavailable_tweet_ids,
    its data removed, with the errors line N Tweet ID(s) are unavailable."""
    answer = _Answer(body, request)
    if tweet_id is not None and tweet_id not in answer.ids:
        return answer.body  # a request without that tweet is answered as it is
    tweet_id = tweet_id or answer.ids[0]
    answer.drop({TWEET: tweet_id}, required=False)
    body = answer.body
    listed = list(body.get("unavailable_tweet_ids") or [])
    if tweet_id not in listed:
        listed.append(tweet_id)
    body = _put_first(body, "unavailable_tweet_ids", listed)
    line = f"{len(listed)} Tweet ID(s) are unavailable"
    errors = [e for e in body.pop("errors", []) if not _UNAVAILABLE_LINE.match(str(e))]
    body["errors"] = [line, *errors]
    return body


@_kind("refuse", ENGAGEMENT_ROUTES)
def refuse(
    body: Any, request: TamperRequest, *, tweet_id: str | None = None, status: int = 403
) -> Any:
    """A request holding the tweet (default the first requested) refused whole, as the API
    refuses other authors' tweets (status 403, Forbidden to access tweets: ID) or protected
    ones (400, Tweet ID(s) are unavailable); requests without it are answered as they are."""
    answer = _Answer(body, request)
    tweet_id = tweet_id or answer.ids[0]
    if tweet_id not in answer.ids:
        return answer.body
    messages = {
        403: f"Forbidden to access tweets: {tweet_id}",
        400: "Tweet ID(s) are unavailable",
    }
    if status not in messages:
        raise TamperError(f"status {status} is not a refusal of tweets (400 or 403)")
    return Raw(json.dumps({"errors": [messages[status]]}).encode(), status=status)


# ---------------------------------------------------------------------------- Post analytics
class _Posts:
    """A Post analytics answer read against its query: the posts served, in the order asked,
    their metrics and their buckets ("the first post" is the first served)."""

    def __init__(self, body: Any, request: TamperRequest) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise TamperError("the answer has no data")
        self.body: dict[str, Any] = body
        self.data: list[dict[str, Any]] = body["data"]
        self.params = request.params
        self.ids = [i for i in self.params.get("ids", "").split(",") if i]
        raw_fields = self.params.get("analytics.fields")
        fields = raw_fields.split(",") if raw_fields else list(analytics.DEFAULT_FIELDS)
        self.metrics = [f for f in fields if f in POST_ANALYTICS_FIELDS]

    def served_ids(self) -> list[str]:
        """The id of each object of data: its ``id``, else the asked ids not refused in
        ``errors``, in order."""
        refused = {
            e.get("resource_id") for e in self.body.get("errors") or [] if isinstance(e, dict)
        }
        served = iter([i for i in self.ids if i not in refused])
        return [str(post.get("id") or next(served, "")) for post in self.data]

    def first(self) -> dict[str, Any]:
        if not self.data:
            raise TamperError("no requested post is served")
        return self.data[0]

    def first_metric(self, post: dict[str, Any]) -> str:
        """The first asked metric the post carries (its total or its first bucket)."""
        buckets = post.get("timestamped_metrics") or [{}]
        for metric in self.metrics:
            if metric in post or metric in (buckets[0].get("metrics") or {}):
                return metric
        raise TamperError("the first post carries no asked metric")

    def buckets(self, post: dict[str, Any]) -> list[dict[str, Any]]:
        buckets = post.get("timestamped_metrics")
        if not isinstance(buckets, list) or not buckets:
            raise TamperError("the first post has no bucket in timestamped_metrics")
        return buckets

    def drop_post(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self.ids):
            raise TamperError(f"index {index}: the request names {len(self.ids)} ids")
        wanted = self.ids[index]
        kept = [p for p, i in zip(self.data, self.served_ids(), strict=True) if i != wanted]
        if len(kept) == len(self.data):
            raise TamperError(f"post {wanted} is not served")
        self.body["data"] = kept
        return self.body

    def drop_metric(self, metric: str | None) -> dict[str, Any]:
        post = self.first()
        metric = metric or self.first_metric(post)
        removed = post.pop(metric, None) is not None
        for bucket in post.get("timestamped_metrics") or []:
            removed = (bucket.get("metrics") or {}).pop(metric, None) is not None or removed
        if not removed:
            raise TamperError(f"the first post has no {metric}")
        return self.body

    def extra_post(self, post_id: str) -> dict[str, Any]:
        post = copy.deepcopy(self.first())
        post["id"] = post_id
        self.data.append(post)
        return self.body

    def extra_metric(self, metric: str | None) -> dict[str, Any]:
        if metric is None:
            unasked = [m for m in POST_ANALYTICS_FIELDS if m not in self.metrics]
            if not unasked:
                raise TamperError("every metric was requested; pass metric=")
            metric = unasked[0]
        post = self.first()
        source = self.first_metric(post)
        if source in post:
            post[metric] = post[source]
        for bucket in post.get("timestamped_metrics") or []:
            metrics = bucket.get("metrics") or {}
            if source in metrics:
                metrics[metric] = metrics[source]
        return self.body

    def set_count(self, value: Any) -> dict[str, Any]:
        post = self.first()
        metric = self.first_metric(post)
        buckets = post.get("timestamped_metrics")
        if isinstance(buckets, list) and buckets:
            buckets[0]["metrics"][metric] = value
        else:
            post[metric] = value
        return self.body

    def next_start(self) -> str:
        """The first bucket start on the query's grid at or after ``end_time``: outside the
        window."""
        try:
            start = analytics.date_time(self.params["start_time"])
            end = analytics.date_time(self.params["end_time"])
        except (KeyError, ValueError):
            raise TamperError("the query has no window to place a bucket after") from None
        step = analytics.STEPS.get(self.params.get("granularity", "total"), end - start)
        return analytics.timestamp(start + -(-(end - start) // step) * step)


@_kind("drop-bucket", (ANALYTICS_ROUTE,))
def drop_bucket(body: Any, request: TamperRequest, *, timestamp: str | None = None) -> Any:
    """The bucket starting at timestamp (default the first) removed from the first post's
    timestamped_metrics."""
    posts = _Posts(body, request)
    buckets = posts.buckets(posts.first())
    wanted = timestamp or buckets[0].get("timestamp")
    kept = [b for b in buckets if b.get("timestamp") != wanted]
    if len(kept) == len(buckets):
        raise TamperError(f"the first post has no bucket at {wanted}")
    posts.first()["timestamped_metrics"] = kept
    return posts.body


@_kind("extra-bucket", (ANALYTICS_ROUTE,))
def extra_bucket(
    body: Any, request: TamperRequest, *, timestamp: str | None = None, value: Any = 777
) -> Any:
    """A bucket at timestamp (default the grid's first start at or after end_time, outside
    the window) added to the end of the first post's timestamped_metrics, the first bucket's
    metrics each set to value."""
    posts = _Posts(body, request)
    buckets = posts.buckets(posts.first())
    metrics = dict.fromkeys(buckets[0].get("metrics") or {}, value)
    buckets.append({"timestamp": timestamp or posts.next_start(), "metrics": metrics})
    return posts.body


@_kind("duplicate-bucket", (ANALYTICS_ROUTE,))
def duplicate_bucket(body: Any, request: TamperRequest, *, index: int = 0) -> Any:
    """The first post's index-th bucket repeated right after itself."""
    posts = _Posts(body, request)
    buckets = posts.buckets(posts.first())
    if not 0 <= index < len(buckets):
        raise TamperError(f"index {index}: the first post has {len(buckets)} buckets")
    buckets.insert(index + 1, copy.deepcopy(buckets[index]))
    return posts.body


@_kind("shift-bucket", (ANALYTICS_ROUTE,))
def shift_bucket(body: Any, request: TamperRequest, *, index: int = 0, minutes: int = 30) -> Any:
    """The first post's index-th bucket's timestamp moved minutes later, off the grid."""
    posts = _Posts(body, request)
    buckets = posts.buckets(posts.first())
    if not 0 <= index < len(buckets):
        raise TamperError(f"index {index}: the first post has {len(buckets)} buckets")
    try:
        moment = analytics.date_time(str(buckets[index]["timestamp"]))
    except (KeyError, ValueError):
        raise TamperError(f"bucket {index} has no timestamp to shift") from None
    buckets[index]["timestamp"] = analytics.timestamp(moment + timedelta(minutes=minutes))
    return posts.body


# ---------------------------------------------------------------------------- v2
def _data(body: Any) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise TamperError("the answer has no data")
    return body["data"]


def _first_tweet(body: Any) -> dict[str, Any]:
    data = _data(body)
    if not isinstance(data, list) or not data:
        raise TamperError("the answer has no tweet in data")
    first: dict[str, Any] = data[0]
    return first


@_kind("data-null", V2_ROUTES)
def data_null(body: Any, _request: TamperRequest) -> Any:
    """data set to null."""
    if not isinstance(body, dict):
        raise TamperError("not a v2 answer")
    body["data"] = None
    return body


@_kind("tweet-without-id", ("2/users/tweets", "2/tweets"))
def tweet_without_id(body: Any, _request: TamperRequest) -> Any:
    """id removed from the first tweet in data."""
    del _first_tweet(body)["id"]
    return body


@_kind("user-id", ("2/users/me",))
def user_id(body: Any, _request: TamperRequest, *, value: Any = "../../etc\n") -> Any:
    """data.id of the user set to value."""
    _data(body)["id"] = value
    return body


@_kind("public-count", ("2/users/me", "2/users/tweets", "2/tweets"))
def public_count(
    body: Any, request: TamperRequest, *, field: str | None = None, value: Any = -1
) -> Any:
    """public_metrics.<field> (default followers_count of the user, like_count of the first
    tweet) set to value; public_metrics added if absent."""
    if request.route == "2/users/me":
        target, default = _data(body), "followers_count"
    else:
        target, default = _first_tweet(body), "like_count"
    target.setdefault("public_metrics", {})[field or default] = value
    return body


#: The token ``same-next-token`` repeats: the first page's, so that the sandbox accepts it
#: when a client follows it (and answers it, tampered, with the same token again).
SAME_TOKEN = page_token(0)


@_kind("same-next-token", ("2/users/tweets",))
def same_next_token(_body: Any, _request: TamperRequest, *, token: str = SAME_TOKEN) -> Any:
    """Every timeline page empty with the same next_token (default one the sandbox accepts,
    the first page's): pagination that never ends."""
    return {"data": [], "meta": {"result_count": 0, "next_token": token}}


@_kind("extra-lookup-tweet", ("2/tweets",))
def extra_lookup_tweet(body: Any, _request: TamperRequest, *, tweet_id: str = UNASKED_ID) -> Any:
    """A tweet whose id was not asked added to data (a copy of the first, or a bare one)."""
    if not isinstance(body, dict):
        raise TamperError("not a v2 answer")
    data = body.setdefault("data", [])
    tweet = copy.deepcopy(data[0]) if data else {"text": "not asked for"}
    tweet["id"] = tweet_id
    if "edit_history_tweet_ids" in tweet:
        tweet["edit_history_tweet_ids"] = [tweet_id]
    data.append(tweet)
    return body


# ---------------------------------------------------------------------------- bytes
@_kind("deep-nesting", API_ROUTES)
def deep_nesting(_body: Any, _request: TamperRequest, *, depth: int = 100_000) -> Any:
    """A JSON body of depth nested arrays, uncompressed."""
    return Raw(b"[" * depth + b"]" * depth)


_bombs: dict[int, bytes] = {}
_bombs_lock = threading.Lock()


def gzip_bomb(size: int) -> bytes:
    """A gzip member inflating to exactly ``size`` bytes, ``{"pad":"000...0"}``, about a
    thousandth of that compressed; built once per size.

    Every 1 MiB block of zeros is deflated on its own (a full flush point: no reference to
    earlier data), so one compressed block repeated stands for any number of them: building a
    1 GiB bomb costs one crc32 pass, not a 1 GiB deflate.
    """
    if size < len(_PAD_HEAD) + len(_PAD_TAIL):
        raise ValueError(f"a gzip bomb needs size >= {len(_PAD_HEAD) + len(_PAD_TAIL)}")
    with _bombs_lock:
        if size not in _bombs:
            zeros = size - len(_PAD_HEAD) - len(_PAD_TAIL)
            blocks, rest = divmod(zeros, _CHUNK)
            chunk = b"0" * _CHUNK
            first = _PAD_HEAD + chunk[:rest]
            crc = zlib.crc32(first)
            for _ in range(blocks):
                crc = zlib.crc32(chunk, crc)
            crc = zlib.crc32(_PAD_TAIL, crc)
            header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
            trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
            _bombs[size] = b"".join(
                [
                    header,
                    _deflate(first, final=False),
                    _deflate(chunk, final=False) * blocks,
                    _deflate(_PAD_TAIL, final=True),
                    trailer,
                ]
            )
        return _bombs[size]


def _deflate(data: bytes, *, final: bool) -> bytes:
    """Raw deflate blocks of ``data`` alone, ending byte-aligned; the last block only if
    ``final``."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH
    )


def _prepare_bomb(*, size: int) -> None:
    gzip_bomb(size)


@_kind("gzip-bomb", API_ROUTES, prepare=_prepare_bomb)
def gzip_bomb_kind(_body: Any, _request: TamperRequest, *, size: int = 1 << 30) -> Any:
    """A gzip body (Content-Encoding: gzip) of about size/1000 bytes inflating to exactly size
    bytes; built when the tamper is set, once per size."""
    return Raw(gzip_bomb(size), content_encoding="gzip")


def padding(size: int) -> Iterator[bytes]:
    """``{"pad":"000...0"}`` of exactly ``size`` bytes (at least 10), 1 MiB at a time."""
    zeros = size - len(_PAD_HEAD) - len(_PAD_TAIL)
    blocks, rest = divmod(zeros, _CHUNK)
    chunk = b"0" * _CHUNK
    yield _PAD_HEAD + chunk[:rest]
    for _ in range(blocks):
        yield chunk
    yield _PAD_TAIL


def _prepare_big(*, size: int, chunked: bool) -> None:  # noqa: ARG001 - the kind's options
    if size < len(_PAD_HEAD) + len(_PAD_TAIL):
        raise ValueError(f"big-body needs size >= {len(_PAD_HEAD) + len(_PAD_TAIL)}")


@_kind("big-body", API_ROUTES, prepare=_prepare_big)
def big_body(
    _body: Any, _request: TamperRequest, *, size: int = 300_000_000, chunked: bool = False
) -> Any:
    """An uncompressed JSON body of exactly size bytes, streamed 1 MiB at a time, with its
    Content-Length (none and Transfer-Encoding: chunked if chunked)."""
    return Raw(padding(size), length=None if chunked else size)


__all__ = [
    "API_ROUTES",
    "TAMPER_KINDS",
    "BoundTamper",
    "Raw",
    "TamperError",
    "TamperFunction",
    "TamperKind",
    "TamperRequest",
    "bind",
    "gzip_bomb",
    "parse_spec",
]
