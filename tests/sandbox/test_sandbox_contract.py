"""Issue 14, sandbox side: per-second limits, numeric ids, 29 28hr buckets, the defaulted ``end``.

One sandbox for the module with a fixed API clock (``clock``) and a hand-driven rate-limit clock
(``rate_clock``), so every echoed time and every rate-limit header has one exact expected value.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from tests.sandbox.clock import EPOCH, EpochClock
from twitter_engagement_sandbox import Sandbox
from twitter_engagement_sandbox.cli import parse_args
from twitter_engagement_sandbox.engagement import Behaviour

#: The API's "now": 19:43:27.654321 UTC, so un-rounded and rounded ends differ visibly.
NOW = datetime(2026, 5, 14, 19, 43, 27, 654321, tzinfo=UTC)
MIDNIGHT = datetime(2026, 5, 14, tzinfo=UTC)
HOURLY = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
DAILY = ["tweet.id", "engagement.type", "engagement.day"]


RATE_CLOCK = EpochClock()


@pytest.fixture(scope="module")
def contract_sandbox() -> Iterator[Sandbox]:
    # Defaults for everything under test: per-second limit, revisions, numeric ids.
    with Sandbox(seed=13, anchor=MIDNIGHT, clock=lambda: NOW, rate_clock=RATE_CLOCK) as sandbox:
        yield sandbox


@pytest.fixture
def sb(contract_sandbox: Sandbox) -> Iterator[Sandbox]:
    RATE_CLOCK.rewind()
    contract_sandbox.reset()
    yield contract_sandbox
    contract_sandbox.reset()


@pytest.fixture
def session(sb: Sandbox) -> Iterator[requests.Session]:
    c = sb.credentials
    with requests.Session() as s:
        s.auth = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        yield s


def _post(
    session: requests.Session, sb: Sandbox, endpoint: str, body: Any, **kwargs: Any
) -> requests.Response:
    return session.post(f"{sb.base_url}/insights/engagement/{endpoint}", json=body, **kwargs)


def _body(ids: list[Any], endpoint: str = "historical", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tweet_ids": ids,
        "engagement_types": ["favorites"],
        "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
    }
    if endpoint == "historical":
        body["start"] = "2026-05-10"
        body["end"] = "2026-05-13"
    body.update(extra)
    return body


def _limits(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-per-")}


# ------------------------------------------------------------------ per-second limits
def test_default_per_second_budget_headers_and_429(session, sb):
    ids = sb.model.owned_ids()[:2]
    seen = [_post(session, sb, "historical", _body(ids)) for _ in range(6)]
    assert [(r.status_code, _limits(r)) for r in seen] == [
        *(
            (
                200,
                {
                    "x-per-minute-limit": "6000",
                    "x-per-minute-remaining": str(6000 - n),
                    "x-per-minute-reset": str(EPOCH + 61),
                    "x-per-second-limit": "5",
                    "x-per-second-remaining": str(5 - n),
                    "x-per-second-reset": str(EPOCH + 1),
                },
            )
            for n in range(1, 6)
        ),
        (
            429,
            {
                # A refused request uses neither budget.
                "x-per-minute-limit": "6000",
                "x-per-minute-remaining": "5995",
                "x-per-minute-reset": str(EPOCH + 61),
                "x-per-second-limit": "5",
                "x-per-second-remaining": "0",
                "x-per-second-reset": str(EPOCH + 1),
            },
        ),
    ]
    assert seen[-1].json() == {"errors": ["Exceeded rate limit"]}
    assert [r.status for r in sb.requests("insights/historical")] == [200] * 5 + [429]


def test_per_second_budget_is_per_endpoint_and_resets_each_second(session, sb):
    sb.set_rate_limit_per_second(1)
    ids = sb.model.owned_ids()[:1]
    statuses = [
        _post(session, sb, "historical", _body(ids)).status_code,
        _post(session, sb, "historical", _body(ids)).status_code,
        _post(session, sb, "totals", _body(ids, "totals")).status_code,
        _post(session, sb, "28hr", _body(ids, "28hr")).status_code,
        _post(session, sb, "28hr", _body(ids, "28hr")).status_code,
    ]
    assert statuses == [200, 429, 200, 200, 429]
    RATE_CLOCK.now = EPOCH + 1.0  # the next epoch second: a fresh budget
    response = _post(session, sb, "historical", _body(ids))
    assert response.status_code == 200
    assert (
        response.headers["x-per-second-remaining"],
        response.headers["x-per-second-reset"],
    ) == ("0", str(EPOCH + 2))


def test_per_minute_429_carries_the_per_second_family_unspent(session, sb):
    sb.set_rate_limit(2)
    ids = sb.model.owned_ids()[:1]
    seen = []
    for second in range(3):  # one request per second: only the minute budget runs out
        RATE_CLOCK.now = EPOCH + second + 0.5
        seen.append(_post(session, sb, "historical", _body(ids)))
    assert [(r.status_code, _limits(r)) for r in seen] == [
        (
            status,
            {
                "x-per-minute-limit": "2",
                "x-per-minute-remaining": remaining,
                "x-per-minute-reset": str(EPOCH + 61),
                "x-per-second-limit": "5",
                "x-per-second-remaining": per_second,
                "x-per-second-reset": str(EPOCH + second + 1),
            },
        )
        for second, (status, remaining, per_second) in enumerate(
            [(200, "1", "4"), (200, "0", "4"), (429, "0", "5")]
        )
    ]


@pytest.mark.parametrize(("per_second", "statuses"), [(0, [200] * 8), (3, [200] * 3 + [429] * 5)])
def test_rate_limit_per_second_setting(session, sb, per_second, statuses):
    sb.set_rate_limit_per_second(per_second)
    ids = sb.model.owned_ids()[:1]
    seen = [_post(session, sb, "totals", _body(ids, "totals")) for _ in range(8)]
    assert [r.status_code for r in seen] == statuses
    names = {"x-per-second-limit", "x-per-second-remaining", "x-per-second-reset"}
    assert all(names <= set(_limits(r)) for r in seen) == bool(per_second)
    assert any(names & set(_limits(r)) for r in seen) == bool(per_second)


def test_reset_restores_the_constructed_per_second_limit(session, sb):
    sb.set_rate_limit_per_second(1)
    ids = sb.model.owned_ids()[:1]
    assert _post(session, sb, "totals", _body(ids, "totals")).status_code == 200
    assert _post(session, sb, "totals", _body(ids, "totals")).status_code == 429
    sb.reset()
    response = _post(session, sb, "totals", _body(ids, "totals"))
    assert (response.status_code, response.headers["x-per-second-limit"]) == (200, "5")
    assert response.headers["x-per-second-remaining"] == "4"


def test_burst_429_can_name_its_reset_in_the_per_second_family(session, sb):
    sb.faults.burst_429_header = "per-second"
    sb.faults.burst_429_seconds = 1.0
    sb.inject("429")
    response = _post(session, sb, "totals", _body(sb.model.owned_ids()[:1], "totals"))
    assert response.status_code == 429
    assert _limits(response) == {
        "x-per-minute-limit": "6000",
        "x-per-minute-remaining": "5999",
        "x-per-second-limit": "5",
        "x-per-second-remaining": "0",
        "x-per-second-reset": str(EPOCH + 2),  # ceil(epoch + 0.25 + 1.0)
    }


@pytest.mark.parametrize(
    ("case", "status"),
    [("no gzip", 406), ("bad signature", 401), ("wrong path", 404)],
)
def test_no_rate_limit_headers_on_401_404_406(session, sb, case, status):
    # No source says what the real API sends here; the sandbox sends none (a README guess).
    c = sb.credentials
    url = f"{sb.base_url}/insights/engagement/totals"
    body = _body(sb.model.owned_ids()[:1], "totals")
    if case == "no gzip":
        response = session.post(url, json=body, headers={"Accept-Encoding": "identity"})
    elif case == "bad signature":
        wrong = OAuth1(c.consumer_key, "not-the-secret", c.access_token, c.access_token_secret)
        response = requests.post(url, json=body, auth=wrong, timeout=10)
    else:
        response = session.post(f"{sb.base_url}/insights/engagement/lifetime", json=body)
    assert response.status_code == status
    assert _limits(response) == {}
    assert not any(k.lower().startswith("x-rate-limit") for k in response.headers)


# ------------------------------------------------------------------ numeric ids
@pytest.mark.parametrize("endpoint", ["historical", "28hr", "totals"])
@pytest.mark.parametrize(
    ("form", "strict", "status"),
    [
        ("numbers", False, 200),
        ("mixed", False, 200),
        ("strings", False, 200),
        ("numbers", True, 400),
        ("mixed", True, 400),
        ("strings", True, 200),
    ],
)
def test_numeric_ids_by_default_strings_only_when_strict(
    session, sb, endpoint, form, strict, status
):
    sb.behaviour.accept_numeric_ids = not strict
    ids = sb.model.owned_ids()[:3]
    sent: list[Any] = {
        "numbers": [int(i) for i in ids],
        "mixed": [ids[0], int(ids[1]), ids[2]],
        "strings": list(ids),
    }[form]
    response = _post(session, sb, endpoint, _body(sent, endpoint))
    assert response.status_code == status
    if status == 200:
        assert sorted(response.json()["g"]) == sorted(ids)
    else:
        first_number = next(i for i in sent if isinstance(i, int))
        assert response.json() == {
            "errors": [f"Tweet IDs must be represented as strings of digits: {first_number}"]
        }


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "True"), (1.5, "1.5"), (-5, "-5"), ("12a", "'12a'"), (None, "None")],
)
def test_ids_that_are_no_tweet_id_are_refused_even_by_default(session, sb, value, shown):
    response = _post(session, sb, "totals", _body([value], "totals"))
    assert response.status_code == 400
    assert response.json() == {
        "errors": [f"Tweet IDs must be represented as strings of digits: {shown}"]
    }


# ------------------------------------------------------------------ 28hr: 29 buckets
def test_28hr_serves_29_hourly_buckets_like_the_docs_example(session, sb):
    tweet = sb.model.owned_ids()[0]
    body = _body([tweet], "28hr", groupings={"h": {"group_by": HOURLY}})
    response = _post(session, sb, "28hr", body)
    assert response.status_code == 200
    data = response.json()
    assert (data["start"], data["end"]) == ("2026-05-13T15:00:00Z", "2026-05-14T20:00:00Z")
    days = data["h"][tweet]["favorites"]
    assert {day: list(hours) for day, hours in days.items()} == {
        "2026-05-13": [f"{h:02d}" for h in range(15, 24)],
        "2026-05-14": [f"{h:02d}" for h in range(20)],
    }
    start, end = datetime(2026, 5, 13, 15, tzinfo=UTC), datetime(2026, 5, 14, 20, tzinfo=UTC)
    expected = sb.model.expected([tweet], ["favorites"], start, end, HOURLY, as_of=NOW)
    assert len(expected) == 29
    assert {
        (tweet, "favorites", day, int(hour)): int(value)
        for day, hours in days.items()
        for hour, value in hours.items()
    } == {row.key: row.count for row in expected}


# ------------------------------------------------------------------ the defaulted end
@pytest.mark.parametrize(
    ("bounds", "echo", "served_hours"),
    [
        # Neither bound: the last 28 days through the current hour; end echoes the request time.
        ({}, ("2026-04-16T20:00:00Z", "2026-05-14T19:43:27Z"), ("2026-04-16T20", "2026-05-14T19")),
        # start only, within 28 days of now: the same echo of the request time.
        (
            {"start": "2026-05-12T07:30:00Z"},
            ("2026-05-12T07:00:00Z", "2026-05-14T19:43:27Z"),
            ("2026-05-12T07", "2026-05-14T19"),
        ),
        # start only, more than 28 days back: end is start + 28 days, hour-aligned.
        (
            {"start": "2026-04-01"},
            ("2026-04-01T00:00:00Z", "2026-04-29T00:00:00Z"),
            ("2026-04-01T00", "2026-04-28T23"),
        ),
        # end given: floored/ceiled to the hour as before.
        (
            {"start": "2026-05-12", "end": "2026-05-14T19:43:27Z"},
            ("2026-05-12T00:00:00Z", "2026-05-14T20:00:00Z"),
            ("2026-05-12T00", "2026-05-14T19"),
        ),
    ],
)
def test_historical_end_echo(session, sb, bounds, echo, served_hours):
    tweet = sb.model.owned_ids()[0]
    body = _body([tweet], groupings={"h": {"group_by": HOURLY}})
    del body["start"], body["end"]
    body.update(bounds)
    response = _post(session, sb, "historical", body)
    assert response.status_code == 200
    data = response.json()
    assert (data["start"], data["end"]) == echo
    hours = [
        f"{day}T{hour}"
        for day, by_hour in data["h"][tweet]["favorites"].items()
        for hour in by_hour
    ]
    assert (hours[0], hours[-1]) == served_hours
    first = datetime.fromisoformat(served_hours[0] + ":00:00+00:00")
    last = datetime.fromisoformat(served_hours[1] + ":00:00+00:00")
    assert len(hours) == (last - first) // timedelta(hours=1) + 1


# ------------------------------------------------------------------ flags
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {"rate_limit_per_second": 5, "revision_hours": 72, "strict_ids": False}),
        (
            ["--rate-limit-per-second", "0", "--revision-hours", "0", "--strict-ids"],
            {"rate_limit_per_second": 0, "revision_hours": 0, "strict_ids": True},
        ),
        (
            ["--rate-limit-per-second", "2", "--revision-hours", "24", "--accept-numeric-ids"],
            {"rate_limit_per_second": 2, "revision_hours": 24, "strict_ids": False},
        ),
    ],
)
def test_flags(argv, expected):
    args = vars(parse_args(argv))
    assert {k: args[k] for k in expected} == expected


def test_negative_flag_values_are_refused(capsys):
    for flag in ("--rate-limit-per-second", "--revision-hours"):
        with pytest.raises(SystemExit):
            parse_args([flag, "-1"])
        assert "-1 is negative" in capsys.readouterr().err


def test_constructor_defaults():
    assert Behaviour().accept_numeric_ids is True
    with Sandbox(anchor=MIDNIGHT) as sandbox:
        assert sandbox.model.revision_hours == 72
        assert sandbox.state.second_limiter.limit == 5
