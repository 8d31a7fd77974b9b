"""Tampers: hostile answers with status 200 on demand, each exactly the change it promises.

Every kind is checked against the untampered answer to the same request, asked just before:
the session sandbox's counts are final (``revision_hours=0``) and the windows are in the past,
so the two answers differ only by the tamper.
"""

from __future__ import annotations

import copy
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from twitter_engagement_sandbox import TAMPER_KINDS, Raw, Sandbox, TamperRequest
from twitter_engagement_sandbox.cli import build_sandbox, help_text, parse_args
from twitter_engagement_sandbox.tamper import gzip_bomb, parse_spec

HISTORICAL = "insights/historical"
DAILY = ["tweet.id", "engagement.type", "engagement.day"]
HOURLY = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
PAD = b'{"pad":"'

Body = dict[str, Any]


def _midnight() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _daily(sandbox: Sandbox) -> Body:
    """Two tweets, two metrics, three past days; one grouping tweet-first, one type-first."""
    end = _midnight()
    return {
        "tweet_ids": sandbox.model.owned_ids()[:2],
        "engagement_types": ["impressions", "favorites"],
        "start": (end - timedelta(days=3)).date().isoformat(),
        "end": end.date().isoformat(),
        "groupings": {
            "d": {"group_by": DAILY},
            "t": {"group_by": ["engagement.type", "tweet.id"]},
        },
    }


def _hourly(sandbox: Sandbox) -> Body:
    """The last three hours of yesterday, by hour and by day."""
    end = _midnight()
    return {
        "tweet_ids": sandbox.model.owned_ids()[:2],
        "engagement_types": ["impressions", "favorites"],
        "start": (end - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "groupings": {"h": {"group_by": HOURLY}, "d": {"group_by": DAILY}},
    }


def _post(api: requests.Session, sandbox: Sandbox, endpoint: str, body: Body) -> Any:
    response = api.post(f"{sandbox.base_url}/insights/engagement/{endpoint}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _get(api: requests.Session, sandbox: Sandbox, path: str, **params: str) -> Any:
    response = api.get(f"{sandbox.base_url}/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _before_after(
    sandbox: Sandbox, ask: Callable[[], Any], kind: str, **options: Any
) -> tuple[Any, Any]:
    """The answer, then the same answer tampered once by ``kind``."""
    plain = ask()
    sandbox.tamper(kind, count=1, **options)
    return plain, ask()


# ------------------------------------------------------------------ Engagement API, by day
def _without_tweet(e: Body, tweet: str) -> None:
    del e["d"][tweet]
    for by_tweet in e["t"].values():
        del by_tweet[tweet]


def _first_day(e: Body, a: str) -> str:
    return min(e["d"][a]["impressions"])


def _drop_first_tweet(e: Body, a: str, b: str) -> None:
    _without_tweet(e, a)


def _drop_second_tweet(e: Body, a: str, b: str) -> None:
    _without_tweet(e, b)


def _drop_impressions(e: Body, a: str, b: str) -> None:
    del e["d"][a]["impressions"], e["t"]["impressions"][a]


def _drop_favorites(e: Body, a: str, b: str) -> None:
    del e["d"][a]["favorites"], e["t"]["favorites"][a]


def _drop_first_day(e: Body, a: str, b: str) -> None:
    del e["d"][a]["impressions"][_first_day(e, a)]


def _drop_last_day(e: Body, a: str, b: str) -> None:
    del e["d"][a]["impressions"][(_midnight() - timedelta(days=1)).date().isoformat()]


def _drop_groupings(e: Body, a: str, b: str) -> None:
    del e["d"], e["t"]


def _extra_day(e: Body, a: str, b: str) -> None:
    e["d"][a]["impressions"][_midnight().date().isoformat()] = "777"


def _extra_day_chosen(e: Body, a: str, b: str) -> None:
    e["d"][a]["impressions"]["2020-02-29"] = 5


def _extra_tweet(e: Body, a: str, b: str) -> None:
    e["d"]["999999999999999999"] = copy.deepcopy(e["d"][a])
    for by_tweet in e["t"].values():
        by_tweet["999999999999999999"] = by_tweet[a]


def _extra_metric(e: Body, a: str, b: str) -> None:
    # engagements: the first historical metric the request did not ask for.
    e["d"][a]["engagements"] = copy.deepcopy(e["d"][a]["impressions"])
    e["t"]["engagements"] = {a: e["t"]["impressions"][a]}


def _count_minus_one(e: Body, a: str, b: str) -> None:
    e["d"][a]["impressions"][_first_day(e, a)] = "-1"
    e["t"]["impressions"][a] = "-1"


def _unavailable_string(e: Body, a: str, b: str) -> None:
    e["unavailable_tweet_ids"] = a


def _unavailable_and_served(e: Body, a: str, b: str) -> None:
    e["unavailable_tweet_ids"] = [a]


def _unavailable_first(e: Body, a: str, b: str) -> None:
    _without_tweet(e, a)
    e["unavailable_tweet_ids"] = [a]
    e["errors"] = ["1 Tweet ID(s) are unavailable"]


def _unavailable_second(e: Body, a: str, b: str) -> None:
    _without_tweet(e, b)
    e["unavailable_tweet_ids"] = [b]
    e["errors"] = ["1 Tweet ID(s) are unavailable"]


@pytest.mark.parametrize(
    ("kind", "options", "expect"),
    [
        ("drop-tweet", {}, _drop_first_tweet),
        ("drop-tweet", {"index": 1}, _drop_second_tweet),
        ("drop-metric", {}, _drop_impressions),
        ("drop-metric", {"metric": "favorites"}, _drop_favorites),
        ("drop-day", {}, _drop_first_day),
        ("drop-day", {"day": (_midnight() - timedelta(days=1)).date().isoformat()}, _drop_last_day),
        ("drop-grouping", {}, _drop_groupings),
        ("extra-day", {}, _extra_day),
        ("extra-day", {"day": "2020-02-29", "value": 5}, _extra_day_chosen),
        ("extra-tweet", {}, _extra_tweet),
        ("extra-metric", {}, _extra_metric),
        ("count", {}, _count_minus_one),
        ("unavailable-string", {}, _unavailable_string),
        ("unavailable-and-served", {}, _unavailable_and_served),
        ("unavailable", {}, _unavailable_first),
        ("unavailable", {"tweet_id": None}, _unavailable_first),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_engagement_kinds_by_day(api, sandbox, kind, options, expect):
    request = _daily(sandbox)
    a, b = request["tweet_ids"]
    plain, tampered = _before_after(
        sandbox, lambda: _post(api, sandbox, "historical", request), kind, **options
    )
    expected = copy.deepcopy(plain)
    expect(expected, a, b)
    assert tampered == expected
    assert expected != plain
    assert [r.tamper for r in sandbox.requests(HISTORICAL)] == [None, kind]


def test_unavailable_names_any_tweet(api, sandbox):
    request = _daily(sandbox)
    a, b = request["tweet_ids"]
    plain, tampered = _before_after(
        sandbox, lambda: _post(api, sandbox, "historical", request), "unavailable", tweet_id=b
    )
    expected = copy.deepcopy(plain)
    _unavailable_second(expected, a, b)
    assert tampered == expected
    assert next(iter(tampered)) == "unavailable_tweet_ids"  # where the real API puts the list


def test_unavailable_adds_to_the_ids_already_unavailable(api, sandbox):
    deleted = sandbox.model.ids_of_kind("deleted")[0]
    request = _daily(sandbox)
    a, _ = request["tweet_ids"]
    request["tweet_ids"] = [deleted, a]
    plain, tampered = _before_after(
        sandbox, lambda: _post(api, sandbox, "historical", request), "unavailable", tweet_id=a
    )
    assert plain["unavailable_tweet_ids"] == [deleted]
    assert plain["errors"] == ["1 Tweet ID(s) are unavailable"]
    assert tampered["unavailable_tweet_ids"] == [deleted, a]
    assert tampered["errors"] == ["2 Tweet ID(s) are unavailable"]
    assert tampered["d"] == {}
    assert tampered["t"] == {"impressions": {}, "favorites": {}}


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "Forbidden to access tweets: {b}"), (400, "Tweet ID(s) are unavailable")],
)
def test_refuse_refuses_only_requests_holding_the_tweet(api, sandbox, status, message):
    request = _daily(sandbox)
    a, b = request["tweet_ids"]
    sandbox.tamper("refuse", route=HISTORICAL, tweet_id=b, status=status)
    url = f"{sandbox.base_url}/insights/engagement/historical"
    refused = api.post(url, json=request)
    assert refused.status_code == status
    assert refused.json() == {"errors": [message.format(b=b)]}
    assert api.post(url, json={**request, "tweet_ids": [a]}).status_code == 200
    assert [(r.status, r.tamper) for r in sandbox.requests(HISTORICAL)] == [
        (status, "refuse"),
        (200, "refuse"),
    ]


@pytest.mark.parametrize(
    "value",
    ["-5", "abc", 2.5, 10**30, "9" * 400, True, None, {"deep": {"deeper": [1, {"x": None}]}}],
    ids=repr,
)
def test_count_sets_any_json_value(api, sandbox, value):
    request = _daily(sandbox)
    a, _ = request["tweet_ids"]
    plain, tampered = _before_after(
        sandbox, lambda: _post(api, sandbox, "historical", request), "count", value=value
    )
    expected = copy.deepcopy(plain)
    expected["d"][a]["impressions"][_first_day(plain, a)] = value
    expected["t"]["impressions"][a] = value
    assert tampered == expected


# ------------------------------------------------------------------ Engagement API, by hour
def _hourly_expect(kind: str, e: Body, a: str) -> None:
    yesterday = (_midnight() - timedelta(days=1)).date().isoformat()
    today = _midnight().date().isoformat()
    hours = e["h"][a]["impressions"]
    if kind == "drop-hour":
        del hours[yesterday]["21"]
    elif kind == "drop-hour:23":
        del hours[yesterday]["23"]
    elif kind == "drop-day":
        del hours[yesterday], e["d"][a]["impressions"][yesterday]
    elif kind == "extra-hour":
        hours[today] = {"00": "777"}  # the hour starting at end, which the window excludes
    elif kind == "extra-day":
        hours[today] = {"21": "777", "22": "777", "23": "777"}
        e["d"][a]["impressions"][today] = "777"
    elif kind == "count":
        hours[yesterday]["21"] = "-1"
        e["d"][a]["impressions"][yesterday] = "-1"


@pytest.mark.parametrize(
    "case", ["drop-hour", "drop-hour:23", "drop-day", "extra-hour", "extra-day", "count"]
)
def test_engagement_kinds_by_hour(api, sandbox, case):
    request = _hourly(sandbox)
    a = request["tweet_ids"][0]
    kind, _, hour = case.partition(":")
    options = {"hour": hour} if hour else {}
    plain, tampered = _before_after(
        sandbox, lambda: _post(api, sandbox, "historical", request), kind, **options
    )
    expected = copy.deepcopy(plain)
    _hourly_expect(case, expected, a)
    assert tampered == expected
    assert expected != plain


def test_hour_kinds_need_an_hourly_grouping(api, sandbox):
    sandbox.tamper("drop-hour", count=1)
    response = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=_daily(sandbox))
    assert response.status_code == 500
    assert response.json() == {
        "errors": ["sandbox tamper drop-hour failed: no grouping has engagement.hour"]
    }
    assert sandbox.requests(HISTORICAL)[-1].tamper == "drop-hour"


def test_28hr_extra_and_dropped_hours(api, sandbox):
    request = {
        "tweet_ids": sandbox.model.owned_ids()[:1],
        "engagement_types": ["impressions"],
        "groupings": {"h": {"group_by": HOURLY}},
    }
    (a,) = request["tweet_ids"]
    sandbox.tamper("extra-hour", count=1, route="insights/28hr")
    sandbox.tamper("drop-hour", count=1, route="insights/28hr")
    extra, dropped = (_post(api, sandbox, "28hr", request) for _ in range(2))

    def hours(body: Body) -> list[str]:
        days = body["h"][a]["impressions"]
        return [f"{day}T{hour}" for day in sorted(days) for hour in sorted(days[day])]

    for body in (extra, dropped):
        start = datetime.fromisoformat(body["start"].replace("Z", "+00:00"))
        window = [(start + timedelta(hours=n)).strftime("%Y-%m-%dT%H") for n in range(29)]
        end = datetime.fromisoformat(body["end"].replace("Z", "+00:00"))
        assert end == start + timedelta(hours=29)
        if body is extra:
            assert hours(body) == [*window, end.strftime("%Y-%m-%dT%H")]
            assert body["h"][a]["impressions"][end.date().isoformat()][f"{end:%H}"] == "777"
        else:
            assert hours(body) == window[1:]


def test_totals_kinds(api, sandbox):
    request = {
        "tweet_ids": sandbox.model.owned_ids()[:2],
        "engagement_types": ["favorites"],
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
    }
    a, b = request["tweet_ids"]
    plain, extra = _before_after(
        sandbox, lambda: _post(api, sandbox, "totals", request), "extra-metric"
    )
    # impressions: the first /totals metric the request did not ask for.
    assert extra == {
        "g": {a: {**plain["g"][a], "impressions": plain["g"][a]["favorites"]}, b: plain["g"][b]}
    }
    sandbox.tamper("drop-tweet", count=1, index=1, route="insights/totals")
    assert _post(api, sandbox, "totals", request) == {"g": {a: plain["g"][a]}}
    request["groupings"] = {"g": {"group_by": ["tweet.id"]}}
    plain, counted = _before_after(sandbox, lambda: _post(api, sandbox, "totals", request), "count")
    assert counted == {"g": {a: "-1", b: plain["g"][b]}}
    sandbox.tamper("drop-metric", count=1)
    response = api.post(f"{sandbox.base_url}/insights/engagement/totals", json=request)
    assert response.json() == {
        "errors": [
            "sandbox tamper drop-metric failed: no grouping has tweet.id and engagement.type"
        ]
    }


def test_the_dated_hour_level_is_found(api, sandbox):
    """With hour_without_day="dated" an hour-only grouping nests days: the kinds see them."""
    sandbox.behaviour.hour_without_day = "dated"
    request = _hourly(sandbox)
    request["groupings"] = {"p": {"group_by": ["tweet.id", "engagement.type", "engagement.hour"]}}
    a = request["tweet_ids"][0]
    yesterday = (_midnight() - timedelta(days=1)).date().isoformat()
    plain, tampered = _before_after(
        sandbox, lambda: _post(api, sandbox, "historical", request), "drop-hour"
    )
    expected = copy.deepcopy(plain)
    del expected["p"][a]["impressions"][yesterday]["21"]
    assert tampered == expected


# ------------------------------------------------------------------ v2
def test_v2_user_kinds(api, sandbox):
    me = lambda: _get(api, sandbox, "2/users/me", **{"user.fields": "public_metrics"})  # noqa: E731
    plain, null = _before_after(sandbox, me, "data-null")
    assert null == {"data": None}
    sandbox.tamper("user-id", count=1)
    assert me() == {"data": {**plain["data"], "id": "../../etc\n"}}
    sandbox.tamper("public-count", count=1)
    metrics = {**plain["data"]["public_metrics"], "followers_count": -1}
    assert me() == {"data": {**plain["data"], "public_metrics": metrics}}
    sandbox.tamper("public-count", count=1, field="tweet_count", value="12abc")
    metrics = {**plain["data"]["public_metrics"], "tweet_count": "12abc"}
    assert me() == {"data": {**plain["data"], "public_metrics": metrics}}
    assert [r.tamper for r in sandbox.requests("2/users/me")] == [
        None,
        "data-null",
        "user-id",
        "public-count",
        "public-count",
    ]


def test_v2_timeline_kinds(api, sandbox):
    path = f"2/users/{sandbox.model.user.id}/tweets"
    page = lambda **p: _get(api, sandbox, path, max_results="5", **p)  # noqa: E731
    plain, without_id = _before_after(sandbox, page, "tweet-without-id")
    first = {k: v for k, v in plain["data"][0].items() if k != "id"}
    assert without_id == {**plain, "data": [first, *plain["data"][1:]]}
    sandbox.tamper("data-null", count=1, route="2/users/tweets")
    assert page() == {**plain, "data": None}
    sandbox.tamper("same-next-token")
    same = page()
    token = same["meta"]["next_token"]
    assert same == {"data": [], "meta": {"result_count": 0, "next_token": token}}
    assert page(pagination_token=token) == same  # the sandbox takes it: a loop
    sandbox.reset()
    sandbox.tamper("same-next-token", count=1, token="SAME")
    assert page() == {"data": [], "meta": {"result_count": 0, "next_token": "SAME"}}


def test_v2_lookup_kinds(api, sandbox):
    ids = sandbox.model.owned_ids()[:2]
    lookup = lambda: _get(  # noqa: E731
        api, sandbox, "2/tweets", ids=",".join(ids), **{"tweet.fields": "public_metrics"}
    )
    plain, extra = _before_after(sandbox, lookup, "extra-lookup-tweet")
    unasked = {
        **plain["data"][0],
        "id": "999999999999999999",
        "edit_history_tweet_ids": ["999999999999999999"],
    }
    assert extra == {"data": [*plain["data"], unasked]}
    sandbox.tamper("public-count", count=1, route="2/tweets", field="reply_count", value=2.5)
    first = plain["data"][0]
    metrics = {**first["public_metrics"], "reply_count": 2.5}
    assert lookup() == {"data": [{**first, "public_metrics": metrics}, plain["data"][1]]}
    sandbox.tamper("tweet-without-id", count=1, route="2/tweets")
    assert "id" not in lookup()["data"][0]


# ------------------------------------------------------------------ bytes
def test_deep_nesting(api, sandbox):
    sandbox.tamper("deep-nesting", count=1, depth=1000)
    sandbox.tamper("deep-nesting", count=1)
    url = f"{sandbox.base_url}/2/users/me"
    small, default = api.get(url), api.get(url)
    assert small.content == b"[" * 1000 + b"]" * 1000
    assert small.headers["Content-Type"] == "application/json"
    assert "Content-Encoding" not in small.headers
    assert default.content == b"[" * 100_000 + b"]" * 100_000


def test_gzip_bomb_is_small_and_inflates_to_its_size_exactly(api, sandbox):
    size = 5_000_003
    sandbox.tamper("gzip-bomb", count=1, size=size, route=HISTORICAL)
    with api.post(
        f"{sandbox.base_url}/insights/engagement/historical", json=_daily(sandbox), stream=True
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        compressed = response.raw.read(decode_content=False)
    assert len(compressed) == int(response.headers["Content-Length"]) < size // 500
    inflater = zlib.decompressobj(wbits=31)
    inflated, head, tail, pending = 0, b"", b"", compressed
    while not inflater.eof and inflated <= size:
        piece = inflater.decompress(pending, 1 << 20)  # never more than 1 MiB at a time
        if not piece and not pending:
            break  # the input ran out before the stream's end
        pending = inflater.unconsumed_tail
        head = head or piece[:16]
        tail = (tail + piece)[-16:]
        inflated += len(piece)
    assert inflater.eof
    assert inflated == size
    assert head == PAD + b"0" * 8
    assert tail == b"0" * 14 + b'"}'
    assert gzip_bomb(size) is gzip_bomb(size)  # built once per size


def test_big_body_streams_with_its_length(api, sandbox):
    sandbox.tamper("big-body", count=1)
    with api.get(f"{sandbox.base_url}/2/users/me", stream=True) as response:
        assert response.headers["Content-Length"] == "300000000"
        assert "Content-Encoding" not in response.headers
        start = response.raw.read(4 << 20)
    assert start == PAD + b"0" * ((4 << 20) - len(PAD))
    # The sandbox gave up on the client that left: the next answer is a normal one.
    assert "data" in _get(api, sandbox, "2/users/me")


def test_big_body_chunked(api, sandbox):
    size = 3_000_005
    sandbox.tamper("big-body", count=1, size=size, chunked=True)
    response = api.get(f"{sandbox.base_url}/2/users/me")
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert response.content == PAD + b"0" * (size - 10) + b'"}'


def test_a_function_may_stream_raw_chunks(api, sandbox):
    def stream(body: Any, request: TamperRequest) -> Raw:
        return Raw(iter([b'{"a":', b"", b"1}"]), content_type="application/json; charset=utf-8")

    sandbox.tamper(stream, count=1)
    response = api.get(f"{sandbox.base_url}/2/users/me")
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert response.json() == {"a": 1}
    assert "data" in _get(api, sandbox, "2/users/me")  # the connection is still good
    assert [r.tamper for r in sandbox.requests()] == ["stream", None]


def test_raw_bytes_with_a_declared_length_and_encoding(api, sandbox):
    sandbox.tamper(lambda _body, _request: Raw(b"hello", "identity", "text/plain"), count=1)
    response = api.get(f"{sandbox.base_url}/2/users/me")
    assert response.content == b"hello"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Content-Encoding"] == "identity"
    assert response.headers["Content-Length"] == "5"
    sandbox.tamper(lambda _body, _request: Raw(iter([b"abc"]), length=10), count=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get(f"{sandbox.base_url}/2/users/me")  # short of its length: closed


# ------------------------------------------------------------------ the hook itself
def test_function_sees_the_request_and_is_logged_by_name(api, sandbox):
    seen: list[TamperRequest] = []

    def spy(body: Any, request: TamperRequest) -> Any:
        seen.append(request)
        return {"spied": body is not None}

    sandbox.tamper(spy)
    request = _daily(sandbox)
    assert _post(api, sandbox, "historical", request) == {"spied": True}
    assert _get(api, sandbox, "2/users/me", **{"user.fields": "id"}) == {"spied": True}
    assert seen == [
        TamperRequest(HISTORICAL, "POST", {}, request),
        TamperRequest("2/users/me", "GET", {"user.fields": "id"}, None),
    ]
    assert [r.tamper for r in sandbox.requests()] == ["spy", "spy"]


def test_count_route_order_and_reset(api, sandbox):
    request = _daily(sandbox)
    totals = {
        "tweet_ids": request["tweet_ids"],
        "engagement_types": ["favorites"],
        "groupings": {"g": {"group_by": ["tweet.id"]}},
    }
    sandbox.tamper("count", count=1, route=HISTORICAL, value="first")
    sandbox.tamper("count", count=1, route=HISTORICAL, value="second")
    sandbox.tamper("drop-grouping", count=1, route=HISTORICAL)
    a = request["tweet_ids"][0]
    assert "g" in _post(api, sandbox, "totals", request | totals)  # another route: untouched
    firsts = [_post(api, sandbox, "historical", request).get("t", {}) for _ in range(4)]
    assert [t.get("impressions", {}).get(a) for t in firsts[:2]] == ["first", "second"]
    assert firsts[2] == {}
    assert firsts[3]["impressions"][a].isdigit()
    assert [r.tamper for r in sandbox.requests()] == [None, "count", "count", "drop-grouping", None]
    sandbox.tamper("drop-grouping", route=HISTORICAL)  # every answer, until reset
    assert all("t" not in _post(api, sandbox, "historical", request) for _ in range(3))
    sandbox.reset()
    assert "t" in _post(api, sandbox, "historical", request)
    assert [r.tamper for r in sandbox.requests()] == [None]


def test_a_kind_applies_to_its_routes_only(api, sandbox):
    sandbox.tamper("data-null")
    assert _get(api, sandbox, "2/users/me") == {"data": None}
    assert "d" in _post(api, sandbox, "historical", _daily(sandbox))
    assert [r.tamper for r in sandbox.requests()] == ["data-null", None]


def test_errors_are_not_tampered_and_faults_that_replace_the_answer_win(api, sandbox):
    sandbox.tamper("drop-grouping", count=1)
    bad = {**_daily(sandbox), "engagement_types": ["nope"]}
    response = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=bad)
    assert response.status_code == 400
    sandbox.inject("503")
    response = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=_daily(sandbox))
    assert response.json() == {"errors": ["Service Unavailable"]}
    sandbox.inject("garbage")
    response = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=_daily(sandbox))
    assert response.text == "<html><body>Service temporarily unavailable</body></html>"
    assert "d" not in _post(api, sandbox, "historical", _daily(sandbox))  # the tamper waited
    log = [(r.status, r.fault, r.tamper) for r in sandbox.requests()]
    assert log == [
        (400, None, None),
        (503, "503", None),
        (200, "garbage", None),
        (200, None, "drop-grouping"),
    ]


def test_truncate_cuts_the_tampered_body(api, sandbox):
    request = _daily(sandbox)
    sandbox.tamper("drop-tweet", count=2)
    complete = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=request)
    sandbox.inject("truncate")
    cut = api.post(f"{sandbox.base_url}/insights/engagement/historical", json=request)
    assert request["tweet_ids"][0] not in complete.text
    assert 0 < len(cut.text) < len(complete.text)
    assert complete.text.startswith(cut.text)


def test_a_failing_function_is_a_500_saying_why(api, sandbox):
    def boom(body: Any, request: TamperRequest) -> Any:
        return body["nope"]

    def not_json(body: Any, request: TamperRequest) -> Any:
        return {1, 2}

    sandbox.tamper(boom, count=1)
    sandbox.tamper(not_json, count=1)
    url = f"{sandbox.base_url}/2/users/me"
    first, second = api.get(url), api.get(url)
    assert first.status_code == second.status_code == 500
    assert first.json() == {"errors": ["sandbox tamper boom failed: KeyError: 'nope'"]}
    assert second.json() == {
        "errors": [
            "sandbox tamper not_json failed: TypeError: Object of type set is not JSON serializable"
        ]
    }


def test_tampers_are_thread_safe(sandbox):
    c = sandbox.credentials
    auth = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
    sandbox.tamper("data-null", count=7)
    bodies: list[Any] = []

    def ask() -> None:
        bodies.append(requests.get(f"{sandbox.base_url}/2/users/me", auth=auth, timeout=10).json())

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(body == {"data": None} for body in bodies) == 7
    assert sum(r.tamper == "data-null" for r in sandbox.requests()) == 7


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("nope",), {}, "unknown tamper 'nope'"),
        (("drop-tweet",), {"colour": 1}, "drop-tweet has no option 'colour'"),
        (("drop-tweet",), {"route": "2/tweets"}, "drop-tweet applies to insights/historical"),
        (("drop-day",), {"route": "insights/totals"}, "not insights/totals"),
        (("data-null",), {"route": "oauth2/token"}, "unknown route 'oauth2/token'"),
        ((print,), {"value": 1}, "options go with a named kind"),
        (("data-null",), {"count": 0}, "count 0"),
        (("gzip-bomb",), {"size": 3}, "size >= 10"),
    ],
)
def test_bad_tampers_are_refused(sandbox, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sandbox.tamper(*args, **kwargs)


def test_the_kinds_each_with_a_one_line_doc():
    assert set(TAMPER_KINDS) == {
        *("drop-tweet", "drop-metric", "drop-day", "drop-hour", "drop-grouping"),
        *("extra-day", "extra-hour", "extra-tweet", "extra-metric", "count"),
        *("unavailable-string", "unavailable-and-served", "unavailable", "refuse"),
        *("data-null", "tweet-without-id", "user-id", "public-count", "same-next-token"),
        *("extra-lookup-tweet", "deep-nesting", "gzip-bomb", "big-body"),
        *("drop-bucket", "extra-bucket", "duplicate-bucket", "shift-bucket"),
    }
    for kind in TAMPER_KINDS.values():
        assert kind.doc
        assert "\n" not in kind.doc


# ------------------------------------------------------------------ the CLI
@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("drop-tweet", ("drop-tweet", None, {})),
        ("drop-tweet@insights/historical:index=1", ("drop-tweet", HISTORICAL, {"index": 1})),
        ('count:value="-5"', ("count", None, {"value": "-5"})),
        ("count:value=-5", ("count", None, {"value": -5})),
        ("count:value=abc", ("count", None, {"value": "abc"})),
        ("count:value=null", ("count", None, {"value": None})),
        (
            "extra-day:day=2020-01-01,value=7",
            ("extra-day", None, {"day": "2020-01-01", "value": 7}),
        ),
        ("drop-hour:hour=05", ("drop-hour", None, {"hour": "05"})),
        ("big-body:size=100,chunked=true", ("big-body", None, {"size": 100, "chunked": True})),
        ("unavailable:tweet_id=123", ("unavailable", None, {"tweet_id": "123"})),
    ],
)
def test_cli_tamper_spec(text, parsed):
    assert parse_spec(text) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        "drop-tweet@2/tweets",
        "drop-tweet:index",
        "drop-tweet:colour=1",
        "big-body:chunked=maybe",
    ],
)
def test_cli_refuses_bad_tamper_specs(text, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--tamper", text])
    assert "--tamper" in capsys.readouterr().err


def test_cli_help_lists_every_kind():
    text = help_text()
    for kind in TAMPER_KINDS.values():
        assert f"  {kind.name}" in text
        assert kind.doc.split()[0] in text


def test_cli_tampers_every_matching_answer():
    args = parse_args(
        ["--tweets", "20", "--tamper", "data-null@2/users/me", "--tamper", "count:value=-5"]
    )
    with build_sandbox(args) as sb:
        c = sb.credentials
        auth = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        for _ in range(2):
            me = requests.get(f"{sb.base_url}/2/users/me", auth=auth, timeout=10)
            assert me.json() == {"data": None}
        assert [r.tamper for r in sb.requests()] == ["data-null", "data-null"]
