"""Issue 15, sandbox side: several accounts under one app, revocation, the PIN flow's ``as=``,
``user.fields=public_metrics``, and rate limits shared by every account of the app.

One three-account sandbox for the module, with a fixed API clock (so ``public_metrics`` of the
day and every count have one expected value) and a hand-driven rate-limit clock.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1, OAuth1Session

from tests.helpers import KNOWN_SECRETS
from tests.sandbox.clock import EPOCH, EpochClock
from twitter_engagement_sandbox import Credentials, Sandbox, SandboxModel
from twitter_engagement_sandbox.cli import env_lines, parse_args
from twitter_engagement_sandbox.v2 import USER_FIELDS

NOW = datetime(2026, 5, 14, 15, 20, 11, tzinfo=UTC)
MIDNIGHT = datetime(2026, 5, 14, tzinfo=UTC)
SEED = 21
TWEETS = 60
HANDLES = ["sandbox_brand", "sandbox_brand_2", "sandbox_brand_3"]
DAILY = ["tweet.id", "engagement.type", "engagement.day"]
ACCESS_TOKEN_NOT_FOUND = {
    "errors": ["Your account could not be authenticated. Reason: Access token not found"]
}
V2_UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
ROOT = Path(__file__).resolve().parents[2]


RATE_CLOCK = EpochClock()


def _sandbox(**kwargs: Any) -> Sandbox:
    options: dict[str, Any] = {
        "seed": SEED,
        "tweets": TWEETS,
        "anchor": MIDNIGHT,
        "clock": lambda: NOW,
        "rate_clock": RATE_CLOCK,
        "rate_limit_per_second": 0,
        "revision_hours": 0,
    }
    sandbox = Sandbox(**(options | kwargs))
    KNOWN_SECRETS.update(sandbox.secret_values())
    return sandbox


@pytest.fixture(scope="module")
def accounts_sandbox() -> Iterator[Sandbox]:
    with _sandbox(accounts=3) as sandbox:
        yield sandbox


@pytest.fixture
def sb(accounts_sandbox: Sandbox) -> Iterator[Sandbox]:
    RATE_CLOCK.rewind()
    accounts_sandbox.reset()
    yield accounts_sandbox
    accounts_sandbox.reset()


def _auth(sb: Sandbox, account: int) -> OAuth1:
    c = sb.account_credentials(account)
    return OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)


def _historical(sb: Sandbox, auth: OAuth1, ids: list[str]) -> requests.Response:
    return requests.post(
        f"{sb.base_url}/insights/engagement/historical",
        json={
            "tweet_ids": ids,
            "engagement_types": ["impressions", "favorites"],
            "groupings": {"g": {"group_by": DAILY}},
            "start": "2026-05-04",
            "end": "2026-05-11",
        },
        auth=auth,
        timeout=10,
    )


def _counts(body: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    return {
        (tweet, metric, day): int(count)
        for tweet, metrics in body["g"].items()
        for metric, days in metrics.items()
        for day, count in days.items()
    }


def _expected(sb: Sandbox, ids: list[str]) -> dict[tuple[str, str, str], int]:
    rows = sb.model.expected(
        ids,
        ["impressions", "favorites"],
        datetime(2026, 5, 4, tzinfo=UTC),
        datetime(2026, 5, 11, tzinfo=UTC),
        DAILY,
    )
    return {(str(r.key[0]), str(r.key[1]), str(r.key[2])): r.count for r in rows}


def _me(sb: Sandbox, auth: OAuth1, **params: str) -> requests.Response:
    return requests.get(f"{sb.base_url}/2/users/me", params=params, auth=auth, timeout=10)


def _timeline(sb: Sandbox, auth: OAuth1, user_id: str) -> list[dict[str, Any]]:
    params = {"max_results": "100", "tweet.fields": "author_id"}
    tweets: list[dict[str, Any]] = []
    while True:
        response = requests.get(
            f"{sb.base_url}/2/users/{user_id}/tweets", params=params, auth=auth, timeout=10
        )
        assert response.status_code == 200, response.text
        body = response.json()
        tweets += body.get("data", [])
        if "next_token" not in body["meta"]:
            return tweets
        params["pagination_token"] = body["meta"]["next_token"]


def _disjoint(sets: list[set[str]]) -> bool:
    return len(set().union(*sets)) == sum(len(s) for s in sets)


def _author(model: SandboxModel, tweet_id: str) -> str:
    tweet = model.tweet(tweet_id)
    assert tweet is not None
    return tweet.author_id


# ------------------------------------------------------------------ accounts and credentials
def test_three_accounts_have_distinct_handles_ids_and_tokens_under_one_app(sb):
    users = sb.accounts
    assert [u.username for u in users] == HANDLES
    assert [u.name for u in users] == ["Sandbox Brand", "Sandbox Brand 2", "Sandbox Brand 3"]
    assert [u.id for u in users] == [
        "1500000000000000021",
        "1500001000000000021",
        "1500002000000000021",
    ]
    assert sb.model.accounts == users
    assert sb.model.user is sb.model.accounts[0]
    assert [u.username for u in sb.model.users] == [*HANDLES, "someone_else", "private_brand"]
    own = [sb.account_credentials(i) for i in range(3)]
    assert own[0] == sb.credentials
    assert len({c.access_token for c in own}) == len({c.access_token_secret for c in own}) == 3
    for user, credentials in zip(users, own, strict=True):
        assert credentials.access_token.startswith(f"{user.id}-")
        assert credentials.consumer_key == own[0].consumer_key
        assert credentials.consumer_secret == own[0].consumer_secret
        assert credentials.bearer_token == own[0].bearer_token
    app = [own[0].consumer_key, own[0].consumer_secret, own[0].bearer_token]
    tokens = [v for c in own for v in (c.access_token, c.access_token_secret)]
    assert sorted(sb.secret_values()) == sorted(app + tokens)
    for credentials in own:  # any account's values() covers the whole app
        assert sorted(credentials.values()) == sorted(app + tokens)
    with pytest.raises(IndexError, match="no account 3: this sandbox has accounts 0 to 2"):
        sb.account_credentials(3)


def test_tap_config_accounts_lists_every_account_and_no_top_level_token(sb):
    config = sb.tap_config_accounts(number_of_tweets=5)
    app = sb.credentials
    assert config == {
        "api_url": sb.base_url,
        "timeline_api_url": sb.base_url,
        "consumer_key": app.consumer_key,
        "consumer_secret": app.consumer_secret,
        "accounts": [
            {
                "name": handle,
                "access_token": sb.account_credentials(i).access_token,
                "access_token_secret": sb.account_credentials(i).access_token_secret,
            }
            for i, handle in enumerate(HANDLES)
        ],
        "number_of_tweets": 5,
    }
    # The single-account form is unchanged: account 0's token at the top level.
    assert sb.tap_config()["access_token"] == sb.credentials.access_token


def test_account_zero_of_three_is_the_single_account_sandbox(sb):
    with _sandbox() as single:
        one, three = single.model, sb.model
        assert one.accounts == [one.user] == [three.user]
        assert single.credentials == sb.credentials == sb.account_credentials(0)
        assert single.credentials.as_config() == sb.credentials.as_config()
        assert single.credentials.bearer_token == sb.credentials.bearer_token
        assert single.secret_values() == single.credentials.values()
        assert len(single.secret_values()) == 5
        assert len(one.tweets) == TWEETS
        assert len(three.tweets) == 3 * TWEETS
        assert all(three.tweet(t.id) == t for t in one.tweets)  # same ids, dates, kinds, texts
        assert one.owned_ids() == three.owned_ids() == three.owned_ids(account=0)
        for kind in ("deleted", "protected", "other_author", "video", "retweet", "reply"):
            assert one.ids_of_kind(kind) == three.ids_of_kind(kind, account=0), kind
        ids = one.owned_ids()[:6]
        assert _expected(single, ids) == _expected(sb, ids)
        answers = [_historical(s, _auth(s, 0), ids) for s in (single, sb)]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json() == answers[1].json()
        assert _counts(answers[0].json()) == _expected(sb, ids)


# ------------------------------------------------------------------ the model
def test_each_account_has_its_own_tweets_of_every_kind():
    model = SandboxModel(seed=SEED, tweet_count=TWEETS, anchor=MIDNIGHT, account_count=3)
    owned = [set(model.owned_ids(account=i, exclude_retweets=False)) for i in range(3)]
    assert [len(ids) for ids in owned] == [45, 45, 45]  # 60 less 5 deleted, 5 other, 5 protected
    assert _disjoint(owned)
    for i, account in enumerate(model.accounts):
        assert {_author(model, t) for t in owned[i]} == {account.id}
        for kind, count in (("deleted", 5), ("protected", 5), ("other_author", 5), ("retweet", 5)):
            assert len(model.ids_of_kind(kind, account=i)) == count, (i, kind)
        assert {_author(model, t) for t in model.ids_of_kind("protected", i)} == {
            model.protected_user.id
        }
        assert set(model.ids_of_kind("video", i)) <= owned[i]
    other = [set(model.ids_of_kind("other_author", i)) for i in range(3)]
    assert _disjoint(other)
    again = SandboxModel(seed=SEED, tweet_count=TWEETS, anchor=MIDNIGHT, account_count=3)
    assert [t.id for t in again.tweets] == [t.id for t in model.tweets]  # deterministic


def test_account_lookup_and_bounds():
    model = SandboxModel(seed=SEED, tweet_count=12, anchor=MIDNIGHT, account_count=3)
    assert model.account_index("@SANDBOX_BRAND_3") == 2
    assert model.account_index("sandbox_brand") == 0
    assert model.account_index(model.accounts[1].id) == 1
    with pytest.raises(ValueError, match="no sandbox account 'someone_else'; the accounts are "):
        model.account_index("someone_else")
    with pytest.raises(ValueError, match="account_count must be 1 or more, not 0"):
        SandboxModel(account_count=0)
    with pytest.raises(ValueError, match="more than the 4194304 tweets"):
        SandboxModel(account_count=2, tweet_count=3_000_000)


def test_user_public_metrics_grow_daily_and_count_visible_tweets():
    model = SandboxModel(seed=SEED, tweet_count=TWEETS, anchor=MIDNIGHT, account_count=3)
    for account in model.accounts:
        days = [
            model.user_public_metrics(account.id, (MIDNIGHT + timedelta(days=n)).date())
            for n in range(-30, 31)
        ]
        followers = [d["followers_count"] for d in days]
        assert all(a < b <= a + 24 for a, b in itertools.pairwise(followers))
        assert {d["tweet_count"] for d in days} == {len(model.timeline(account.id))} == {45}
        assert all(
            a["following_count"] <= b["following_count"] for a, b in itertools.pairwise(days)
        )
        assert all(a["listed_count"] <= b["listed_count"] for a, b in itertools.pairwise(days))
    today = MIDNIGHT.date()
    assert (
        len({model.user_public_metrics(a.id, today)["followers_count"] for a in model.accounts})
        == 3
    )
    again = SandboxModel(seed=SEED, tweet_count=TWEETS, anchor=MIDNIGHT, account_count=3)
    assert again.user_public_metrics(again.accounts[2].id, today) == model.user_public_metrics(
        model.accounts[2].id, today
    )


# ------------------------------------------------------------------ v2 per token
def test_each_token_is_its_account_and_lists_only_its_own_timeline(sb):
    seen: list[set[str]] = []
    for i, user in enumerate(sb.accounts):
        auth = _auth(sb, i)
        me = _me(sb, auth)
        assert me.status_code == 200
        assert me.json() == {"data": {"id": user.id, "name": user.name, "username": user.username}}
        tweets = _timeline(sb, auth, user.id)
        ids = [t["id"] for t in tweets]
        assert ids == sb.model.owned_ids(account=i, exclude_retweets=False)
        assert len(ids) == 45
        assert {t["author_id"] for t in tweets} == {user.id}
        seen.append(set(ids))
    assert _disjoint(seen)


def test_users_me_public_metrics_and_other_fields(sb):
    for i, user in enumerate(sb.accounts):
        response = _me(
            sb,
            _auth(sb, i),
            **{"user.fields": "public_metrics,created_at,description,most_recent_tweet_id,name"},
        )
        assert response.status_code == 200
        metrics = sb.model.user_public_metrics(user.id, NOW.date())
        assert metrics["tweet_count"] == 45
        assert response.json() == {
            "data": {
                "id": user.id,
                "name": user.name,
                "username": user.username,
                "created_at": sb.model.user_created_at(user.id).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "description": f"{user.name}: an account of the Engagement API sandbox.",
                "most_recent_tweet_id": sb.model.owned_ids(account=i, exclude_retweets=False)[0],
                "public_metrics": metrics,
            }
        }
        assert list(response.json()["data"]["public_metrics"]) == [
            "followers_count",
            "following_count",
            "tweet_count",
            "listed_count",
        ]


def test_users_me_known_fields_without_a_value_are_left_out(sb):
    response = _me(sb, _auth(sb, 1), **{"user.fields": "profile_image_url,pinned_tweet_id,url"})
    assert response.status_code == 200
    user = sb.accounts[1]
    assert response.json() == {
        "data": {"id": user.id, "name": user.name, "username": user.username}
    }


def test_users_me_unknown_user_field_is_a_v2_400(sb):
    response = _me(sb, _auth(sb, 2), **{"user.fields": "public_metrics,followers"})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "parameters": {"user.fields": ["public_metrics,followers"]},
                "message": "The `user.fields` query parameter value [followers] is not one of "
                f"[{', '.join(sorted(USER_FIELDS))}]",
            }
        ],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


# ------------------------------------------------------------------ Engagement API per token
def test_each_token_gets_exact_counts_for_its_own_tweets(sb):
    for i in range(3):
        ids = sb.model.owned_ids(account=i)[:5]
        response = _historical(sb, _auth(sb, i), ids)
        assert response.status_code == 200, response.text
        assert _counts(response.json()) == _expected(sb, ids)
        assert sorted(response.json()["g"]) == sorted(ids)


@pytest.mark.parametrize(
    ("form", "messages"),
    [
        (
            "author",
            [
                "Forbidden to access tweets for author id {a0}: {x0}, {y0}",
                "Forbidden to access tweets for author id {a2}: {x2}",
            ],
        ),
        ("plain", ["Forbidden to access tweets: {x0}, {y0}, {x2}"]),
        ("none", ["Forbidden to access tweets"]),
    ],
)
def test_another_accounts_tweets_are_forbidden_to_a_token(sb, form, messages):
    sb.behaviour.forbidden_message = form
    own = sb.model.owned_ids(account=1)[:2]
    x0, y0 = sb.model.owned_ids(account=0)[:2]
    x2 = sb.model.owned_ids(account=2)[0]
    response = _historical(sb, _auth(sb, 1), [own[0], x0, own[1], y0, x2])
    assert response.status_code == 403
    values = {"a0": sb.accounts[0].id, "a2": sb.accounts[2].id, "x0": x0, "y0": y0, "x2": x2}
    assert response.json() == {"errors": [m.format(**values) for m in messages]}


def test_ownership_is_relative_to_the_token(sb):
    one = sb.model.owned_ids(account=1)[:3]
    # Account 1's tweets: fine for its token, forbidden for account 0's, as another author's.
    assert _historical(sb, _auth(sb, 1), one).status_code == 200
    refused = _historical(sb, _auth(sb, 0), one)
    assert refused.status_code == 403
    assert refused.json() == {
        "errors": [
            f"Forbidden to access tweets for author id {sb.accounts[1].id}: {', '.join(one)}"
        ]
    }
    # @someone_else's tweets from account 1's mix: forbidden to account 1, as before.
    other = sb.model.ids_of_kind("other_author", account=1)[:1]
    response = _historical(sb, _auth(sb, 1), [one[0], *other])
    assert response.json() == {
        "errors": [f"Forbidden to access tweets for author id {sb.model.other_user.id}: {other[0]}"]
    }
    # Protected tweets stay the protected 400, whichever account's mix they come from.
    for mix in (0, 1):
        protected = sb.model.ids_of_kind("protected", account=mix)[:1]
        response = _historical(sb, _auth(sb, 1), [one[0], *protected])
        assert response.status_code == 400
        assert response.json() == {"errors": ["Tweet ID(s) are unavailable"]}
    # Deleted tweets of the account's mix: inside a 200, as before.
    deleted = sb.model.ids_of_kind("deleted", account=2)[:1]
    response = _historical(sb, _auth(sb, 2), [sb.model.owned_ids(account=2)[0], *deleted])
    assert response.status_code == 200
    assert response.json()["unavailable_tweet_ids"] == deleted


def test_app_only_bearer_serves_public_metrics_of_every_account(sb):
    ids = [sb.model.owned_ids(account=i)[0] for i in range(3)]
    response = requests.post(
        f"{sb.base_url}/insights/engagement/totals",
        json={
            "tweet_ids": ids,
            "engagement_types": ["favorites"],
            "groupings": {"g": {"group_by": ["tweet.id", "engagement.type"]}},
        },
        headers={"Authorization": f"Bearer {sb.credentials.bearer_token}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["g"] == {
        i: {"favorites": str(sb.model.lifetime_total(i, "favorites", NOW))} for i in ids
    }


# ------------------------------------------------------------------ revocation
def test_revoking_one_account_refuses_its_token_only_until_reset(sb):
    sb.revoke("@Sandbox_Brand_2")
    assert sb.revoked() == ["sandbox_brand_2"]
    revoked, fine = _auth(sb, 1), [_auth(sb, 0), _auth(sb, 2)]
    engagement = _historical(sb, revoked, sb.model.owned_ids(account=1)[:2])
    assert engagement.status_code == 401
    assert engagement.json() == ACCESS_TOKEN_NOT_FOUND
    for response in (
        _me(sb, revoked),
        requests.get(f"{sb.base_url}/2/users/{sb.accounts[1].id}/tweets", auth=revoked, timeout=10),
        requests.get(
            f"{sb.base_url}/2/tweets",
            params={"ids": sb.model.owned_ids(account=1)[0]},
            auth=revoked,
            timeout=10,
        ),
    ):
        assert response.status_code == 401
        assert response.json() == V2_UNAUTHORIZED
    for i, auth in zip((0, 2), fine, strict=True):
        assert _historical(sb, auth, sb.model.owned_ids(account=i)[:2]).status_code == 200
        assert _me(sb, auth).json()["data"]["id"] == sb.accounts[i].id
    sb.reset()
    assert sb.revoked() == []
    assert _historical(sb, revoked, sb.model.owned_ids(account=1)[:2]).status_code == 200
    assert _me(sb, revoked).json()["data"]["username"] == "sandbox_brand_2"


def test_revoke_names_an_account_by_handle_or_id(sb):
    sb.revoke(sb.accounts[2].id)
    sb.revoke("sandbox_brand")
    assert sb.revoked() == ["sandbox_brand", "sandbox_brand_3"]
    with pytest.raises(ValueError, match="no sandbox account 'private_brand'"):
        sb.revoke("private_brand")


# ------------------------------------------------------------------ PIN flow
def _pin_flow(sb: Sandbox, handle: str | None) -> tuple[str, dict[str, str]]:
    """Authorize as ``handle`` (None: no ``as``): the page's text and the access token answer."""
    c = sb.credentials
    session = OAuth1Session(c.consumer_key, client_secret=c.consumer_secret, callback_uri="oob")
    session.fetch_request_token(f"{sb.base_url}/oauth/request_token")
    extra = {} if handle is None else {"as": handle}
    page = requests.get(
        session.authorization_url(f"{sb.base_url}/oauth/authorize", **extra), timeout=10
    ).text
    pin = re.search(r'id="pin">(\d{7})<', page)
    assert pin is not None, page
    access = session.fetch_access_token(f"{sb.base_url}/oauth/access_token", verifier=pin.group(1))
    KNOWN_SECRETS.update((access["oauth_token"], access["oauth_token_secret"]))
    return page, access


@pytest.mark.parametrize(
    ("handle", "account"), [(None, 0), ("sandbox_brand_2", 1), ("@Sandbox_Brand_3", 2)]
)
def test_pin_flow_issues_a_token_of_the_account_that_approves(sb, handle, account):
    page, access = _pin_flow(sb, handle)
    user = sb.accounts[account]
    assert f"You authorized the app for @{user.username}." in page
    assert access["user_id"] == user.id
    assert access["screen_name"] == user.username
    assert access["oauth_token"] != sb.account_credentials(account).access_token  # a new one
    c = sb.credentials
    auth = OAuth1(
        c.consumer_key, c.consumer_secret, access["oauth_token"], access["oauth_token_secret"]
    )
    assert _me(sb, auth).json()["data"] == {
        "id": user.id,
        "name": user.name,
        "username": user.username,
    }
    own = sb.model.owned_ids(account=account)[:3]
    answer = _historical(sb, auth, own)
    assert answer.status_code == 200
    assert _counts(answer.json()) == _expected(sb, own)
    foreign = sb.model.owned_ids(account=(account + 1) % 3)[:1]
    refused = _historical(sb, auth, foreign)
    assert refused.json() == {
        "errors": [
            f"Forbidden to access tweets for author id {sb.accounts[(account + 1) % 3].id}: "
            f"{foreign[0]}"
        ]
    }


def test_pin_flow_refuses_an_unknown_account(sb):
    c = sb.credentials
    session = OAuth1Session(c.consumer_key, client_secret=c.consumer_secret, callback_uri="oob")
    session.fetch_request_token(f"{sb.base_url}/oauth/request_token")
    response = requests.get(
        session.authorization_url(f"{sb.base_url}/oauth/authorize", **{"as": "someone_else"}),
        timeout=10,
    )
    assert response.status_code == 400
    assert response.text == (
        "No account @someone_else in this sandbox; the accounts are @sandbox_brand, "
        "@sandbox_brand_2, @sandbox_brand_3."
    )


def test_revocation_covers_pin_tokens_and_a_new_authorization_works(sb):
    _, before = _pin_flow(sb, "sandbox_brand_3")
    c = sb.credentials
    earlier = OAuth1(
        c.consumer_key, c.consumer_secret, before["oauth_token"], before["oauth_token_secret"]
    )
    sb.revoke("sandbox_brand_3")
    assert _me(sb, earlier).status_code == 401
    assert _me(sb, _auth(sb, 2)).status_code == 401
    _, after = _pin_flow(sb, "sandbox_brand_3")  # the owner authorizes the app again
    again = OAuth1(
        c.consumer_key, c.consumer_secret, after["oauth_token"], after["oauth_token_secret"]
    )
    assert _me(sb, again).json()["data"]["id"] == sb.accounts[2].id
    assert _historical(sb, again, sb.model.owned_ids(account=2)[:2]).status_code == 200


# ------------------------------------------------------------------ one rate budget per app
def test_accounts_share_the_per_minute_budget(sb):
    sb.set_rate_limit(3)
    a, b = _auth(sb, 0), _auth(sb, 1)
    ids_a, ids_b = sb.model.owned_ids(account=0)[:1], sb.model.owned_ids(account=1)[:1]
    responses = [_historical(sb, a, ids_a), _historical(sb, a, ids_a), _historical(sb, b, ids_b)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.headers["x-per-minute-remaining"] for r in responses] == ["2", "1", "0"]
    reset = str(EPOCH + 61)
    for auth, ids in ((b, ids_b), (a, ids_a), (_auth(sb, 2), sb.model.owned_ids(account=2)[:1])):
        refused = _historical(sb, auth, ids)
        assert refused.status_code == 429
        assert refused.json() == {"errors": ["Exceeded rate limit"]}
        assert refused.headers["x-per-minute-remaining"] == "0"
        assert refused.headers["x-per-minute-reset"] == reset
    RATE_CLOCK.now += 60  # the app's next window, for every account
    assert _historical(sb, b, ids_b).status_code == 200


def test_accounts_share_the_per_second_budget(sb):
    sb.set_rate_limit_per_second(2)
    ids = [sb.model.owned_ids(account=i)[:1] for i in range(3)]
    statuses = [_historical(sb, _auth(sb, i), ids[i]).status_code for i in range(3)]
    assert statuses == [200, 200, 429]
    RATE_CLOCK.now += 1
    assert _historical(sb, _auth(sb, 2), ids[2]).status_code == 200


def test_accounts_share_the_v2_budget():
    with _sandbox(accounts=2, tweets=12, v2_rate_limit_per_minute=2) as small:
        assert _me(small, _auth(small, 0)).status_code == 200
        assert _me(small, _auth(small, 1)).status_code == 200
        for account in (0, 1):
            refused = _me(small, _auth(small, account))
            assert refused.status_code == 429
            assert refused.headers["x-rate-limit-remaining"] == "0"


# ------------------------------------------------------------------ the console script
def test_parser_accounts_and_revoke():
    args = parse_args([])
    assert (args.accounts, args.revoke) == (1, [])
    args = parse_args(["--accounts", "4", "--revoke", "a", "--revoke", "@b"])
    assert (args.accounts, args.revoke) == (4, ["a", "@b"])
    with pytest.raises(SystemExit):
        parse_args(["--accounts", "0"])


def test_env_lines_write_the_accounts_as_json_that_a_shell_reads_back(sb, tmp_path):
    config = sb.tap_config_accounts()
    text = env_lines(config)
    names = [line.split("=", 1)[0] for line in text.splitlines()]
    assert names == [
        "export SANDBOX_URL",
        "export TAP_TWITTER_ENGAGEMENT_CONSUMER_KEY",
        "export TAP_TWITTER_ENGAGEMENT_CONSUMER_SECRET",
        "export TAP_TWITTER_ENGAGEMENT_ACCOUNTS",
    ]
    env_file = tmp_path / "sandbox.env"
    env_file.write_text(text)
    shell = subprocess.run(
        ["bash", "-c", f'source {env_file} && printf %s "$TAP_TWITTER_ENGAGEMENT_ACCOUNTS"'],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(shell.stdout) == config["accounts"]
    single = [line.split("=", 1)[0] for line in env_lines(sb.tap_config()).splitlines()]
    assert single[-2:] == [
        "export TAP_TWITTER_ENGAGEMENT_ACCESS_TOKEN",
        "export TAP_TWITTER_ENGAGEMENT_ACCESS_TOKEN_SECRET",
    ]


def test_console_script_with_accounts_and_a_revoked_one(tmp_path):
    config_path, env_path = tmp_path / "config.json", tmp_path / "sandbox.env"
    seed = 19
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twitter_engagement_sandbox.cli",
            *("--port", "0", "--seed", str(seed), "--tweets", "24", "--accounts", "3"),
            *("--revoke", "sandbox_brand_2", "--rate-limit-per-second", "0"),
            *("--config-out", str(config_path), "--env-out", str(env_path)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Press Ctrl+C"):
            line = process.stdout.readline()
            assert line, "the sandbox exited"
            lines.append(line.rstrip("\n"))
        config = json.loads(config_path.read_text())
        users = SandboxModel(seed=seed, tweet_count=24, account_count=3).accounts
        expected = [Credentials.for_seed(seed, u.id, account=i) for i, u in enumerate(users)]
        for credentials in expected:
            KNOWN_SECRETS.update(credentials.values())
        assert config["consumer_key"] == expected[0].consumer_key
        assert [(a["access_token"], a["access_token_secret"]) for a in config["accounts"]] == [
            (c.access_token, c.access_token_secret) for c in expected
        ]
        assert "access_token" not in config
        assert [a["name"] for a in config["accounts"]] == HANDLES
        assert lines[1] == (
            "accounts: 3 under one app (one consumer key, shared rate limits), 24 tweets each"
        )
        assert lines[2] == "revoked: @sandbox_brand_2 (401 Access token not found)"
        assert f"  consumer_key: {config['consumer_key']}" in lines
        assert f"  consumer_secret: {config['consumer_secret']}" in lines
        for i, (user, account) in enumerate(zip(users, config["accounts"], strict=True)):
            mark = ", revoked" if i == 1 else ""
            at = lines.index(f"  account {i}: @{user.username} (user id {user.id}){mark}")
            assert lines[at + 1 : at + 3] == [
                f"    access_token: {account['access_token']}",
                f"    access_token_secret: {account['access_token_secret']}",
            ]
        assert "TAP_TWITTER_ENGAGEMENT_ACCOUNTS=" in env_path.read_text()
        statuses = []
        for user, account in zip(users, config["accounts"], strict=True):
            auth = OAuth1(
                config["consumer_key"],
                config["consumer_secret"],
                account["access_token"],
                account["access_token_secret"],
            )
            me = requests.get(f"{config['timeline_api_url']}/2/users/me", auth=auth, timeout=10)
            statuses.append(me.status_code)
            if me.ok:
                assert me.json()["data"]["id"] == user.id
        assert statuses == [200, 401, 200]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_console_script_refuses_an_unknown_handle_to_revoke():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "twitter_engagement_sandbox.cli",
            *("--accounts", "2", "--revoke", "sandbox_brand_3"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "Error: --revoke sandbox_brand_3: no such account; "
        "the accounts are @sandbox_brand, @sandbox_brand_2"
    )
