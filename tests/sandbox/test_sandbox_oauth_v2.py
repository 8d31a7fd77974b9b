"""OAuth 1.0a verification, the PIN flow, and the v2 endpoints of the sandbox."""

from __future__ import annotations

import re
import time

import pytest
import requests
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1, OAuth1Session

from twitter_engagement_sandbox import Sandbox

BODY = {
    "tweet_ids": [],
    "engagement_types": ["favorites"],
    "groupings": {"g": {"group_by": ["tweet.id"]}},
}


def _totals(sandbox: Sandbox) -> dict:
    return {**BODY, "tweet_ids": sandbox.model.owned_ids()[:2]}


def _reason(response: requests.Response) -> str:
    assert response.status_code == 401
    (message,) = response.json()["errors"]
    return message.removeprefix("Your account could not be authenticated. Reason: ")


def test_requests_oauthlib_signed_request_passes(api, sandbox):
    response = api.post(f"{sandbox.base_url}/insights/engagement/totals", json=_totals(sandbox))
    assert response.status_code == 200


def test_tampered_request_fails(sandbox, oauth):
    url = f"{sandbox.base_url}/insights/engagement/totals"
    prepared = requests.Request(
        "POST", url, json=_totals(sandbox), auth=oauth, headers={"Accept-Encoding": "gzip"}
    ).prepare()
    prepared.url = f"{sandbox.base_url}/insights/engagement/28hr"  # signed for another URL
    with requests.Session() as session:
        assert _reason(session.send(prepared)) == "Invalid signature"


def test_reused_nonce_fails(sandbox, oauth):
    prepared = requests.Request(
        "POST",
        f"{sandbox.base_url}/insights/engagement/totals",
        json=_totals(sandbox),
        auth=oauth,
        headers={"Accept-Encoding": "gzip"},
    ).prepare()
    with requests.Session() as session:
        assert session.send(prepared).status_code == 200
        assert _reason(session.send(prepared)) == "Nonce has already been used"


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("consumer_key", "Invalid consumer key"),
        ("access_token", "Access token not found"),
        ("consumer_secret", "Invalid signature"),
        ("access_token_secret", "Invalid signature"),
    ],
)
def test_wrong_credential_is_401(sandbox, field, reason):
    values = sandbox.credentials.as_config()
    values[field] = "X" * len(values[field])
    auth = OAuth1(
        values["consumer_key"],
        values["consumer_secret"],
        values["access_token"],
        values["access_token_secret"],
    )
    response = requests.post(
        f"{sandbox.base_url}/insights/engagement/totals",
        json=_totals(sandbox),
        auth=auth,
        timeout=10,
    )
    assert _reason(response) == reason


def test_stale_timestamp_fails(sandbox):
    c = sandbox.credentials
    client = Client(
        c.consumer_key,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        timestamp=str(int(time.time()) - 3600),
    )
    url = f"{sandbox.base_url}/insights/engagement/totals"
    _, headers, _ = client.sign(url, "POST", headers={"Content-Type": "application/json"})
    response = requests.post(url, json=_totals(sandbox), headers=headers, timeout=10)
    assert _reason(response) == "Timestamp out of bounds"


def test_no_authorization_header(sandbox):
    response = requests.post(
        f"{sandbox.base_url}/insights/engagement/historical", json=_totals(sandbox), timeout=10
    )
    assert _reason(response) == "Unknown Authorization Type"


# ------------------------------------------------------------------ PIN flow
def test_three_legged_pin_flow(sandbox):
    c = sandbox.credentials
    session = OAuth1Session(c.consumer_key, client_secret=c.consumer_secret, callback_uri="oob")
    token = session.fetch_request_token(f"{sandbox.base_url}/oauth/request_token")
    assert token["oauth_callback_confirmed"] == "true"
    page = requests.get(
        session.authorization_url(f"{sandbox.base_url}/oauth/authorize"), timeout=10
    ).text
    pin = re.search(r'id="pin">(\d{7})<', page).group(1)
    access = session.fetch_access_token(f"{sandbox.base_url}/oauth/access_token", verifier=pin)
    assert access["user_id"] == sandbox.model.user.id
    assert access["screen_name"] == sandbox.model.user.username
    auth = OAuth1(
        c.consumer_key, c.consumer_secret, access["oauth_token"], access["oauth_token_secret"]
    )
    me = requests.get(f"{sandbox.base_url}/2/users/me", auth=auth, timeout=10)
    assert me.json()["data"]["id"] == sandbox.model.user.id


def test_wrong_pin_is_refused(sandbox):
    c = sandbox.credentials
    session = OAuth1Session(c.consumer_key, client_secret=c.consumer_secret, callback_uri="oob")
    session.fetch_request_token(f"{sandbox.base_url}/oauth/request_token")
    requests.get(session.authorization_url(f"{sandbox.base_url}/oauth/authorize"), timeout=10)
    with pytest.raises(Exception, match="401"):
        session.fetch_access_token(f"{sandbox.base_url}/oauth/access_token", verifier="0000000")


# ------------------------------------------------------------------ v2
def test_users_me(api, sandbox):
    response = api.get(f"{sandbox.base_url}/2/users/me")
    assert response.json() == {
        "data": {"id": sandbox.model.user.id, "name": "Sandbox Brand", "username": "sandbox_brand"}
    }
    assert response.headers["x-rate-limit-limit"] == "900"


@pytest.mark.parametrize(
    ("exclude", "kwargs"),
    [
        ("", {}),
        ("retweets", {"exclude_retweets": True}),
        ("retweets,replies", {"exclude_retweets": True, "exclude_replies": True}),
    ],
)
def test_timeline_pages_through_the_model(api, sandbox, exclude, kwargs):
    url = f"{sandbox.base_url}/2/users/{sandbox.model.user.id}/tweets"
    params = {"max_results": "30", "tweet.fields": "created_at,public_metrics"}
    if exclude:
        params["exclude"] = exclude
    seen, pages = [], 0
    while True:
        body = api.get(url, params=params).json()
        pages += 1
        seen += [t["id"] for t in body.get("data", [])]
        assert body["meta"]["result_count"] == len(body.get("data", []))
        if "next_token" not in body["meta"]:
            break
        params["pagination_token"] = body["meta"]["next_token"]
    expected = [t.id for t in sandbox.model.timeline(sandbox.model.user.id, **kwargs)]
    assert seen == expected
    assert pages == -(-len(expected) // 30)


def test_timeline_fields_and_public_metrics(api, sandbox):
    url = f"{sandbox.base_url}/2/users/{sandbox.model.user.id}/tweets"
    body = api.get(
        url, params={"max_results": "5", "tweet.fields": "created_at,public_metrics,lang"}
    ).json()
    first = body["data"][0]
    assert set(first) == {
        "id",
        "text",
        "edit_history_tweet_ids",
        "created_at",
        "public_metrics",
        "lang",
    }
    assert set(first["public_metrics"]) == {
        "retweet_count",
        "reply_count",
        "like_count",
        "quote_count",
        "bookmark_count",
        "impression_count",
    }


@pytest.mark.parametrize("value", ["4", "101", "ten"])
def test_timeline_max_results_bounds(api, sandbox, value):
    response = api.get(
        f"{sandbox.base_url}/2/users/{sandbox.model.user.id}/tweets", params={"max_results": value}
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Request"


def test_timeline_caps_at_3200_or_800_without_replies():
    with Sandbox(seed=11, tweets=5000) as big:
        c = big.credentials
        auth = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        url = f"{big.base_url}/2/users/{big.model.user.id}/tweets"
        for exclude, cap in (("", 3200), ("replies", 800)):
            params = {"max_results": "100"}
            if exclude:
                params["exclude"] = exclude
            total = 0
            while True:
                body = requests.get(url, params=params, auth=auth, timeout=30).json()
                total += body["meta"]["result_count"]
                if "next_token" not in body["meta"]:
                    break
                params["pagination_token"] = body["meta"]["next_token"]
            assert total == cap


def test_tweet_lookup(api, sandbox):
    own = sandbox.model.owned_ids()[:2]
    deleted = sandbox.model.ids_of_kind("deleted")[0]
    protected = sandbox.model.ids_of_kind("protected")[0]
    body = api.get(
        f"{sandbox.base_url}/2/tweets",
        params={"ids": ",".join([*own, deleted, protected]), "tweet.fields": "author_id"},
    ).json()
    assert [t["id"] for t in body["data"]] == own
    assert {t["author_id"] for t in body["data"]} == {sandbox.model.user.id}
    assert [(e["resource_id"], e["title"]) for e in body["errors"]] == [
        (deleted, "Not Found Error"),
        (protected, "Authorization Error"),
    ]
    too_many = api.get(
        f"{sandbox.base_url}/2/tweets", params={"ids": ",".join(str(i) for i in range(1, 102))}
    )
    assert too_many.status_code == 400


def test_v2_rejects_bad_signature_with_v2_body(sandbox):
    c = sandbox.credentials
    auth = OAuth1(c.consumer_key, "wrong", c.access_token, c.access_token_secret)
    response = requests.get(f"{sandbox.base_url}/2/users/me", auth=auth, timeout=10)
    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
