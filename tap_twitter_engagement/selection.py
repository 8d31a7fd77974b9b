"""Which tweets a sync covers: the account's N most recent, or a listed set (Domo: Tweet Selection).

The HTTP call is passed in (``get_json``), so this module is only the paging and filtering logic
and works with whatever signed, retried client the streams hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tap_twitter_engagement.api import LOOKUP_MAX_IDS, TIMELINE_PAGE_SIZE
from tap_twitter_engagement.plan import dedupe

TWEET_FIELDS = "created_at,public_metrics,author_id,conversation_id,lang"
USER_FIELDS = "public_metrics"

GetJson = Callable[[str, Mapping[str, str]], Mapping[str, Any]]


@dataclass(frozen=True)
class Selection:
    """The tweets to query, in order."""

    tweet_ids: tuple[str, ...]
    #: Tweet objects as v2 returned them (recent mode), keyed by id, for the tweets stream.
    tweets: Mapping[str, Mapping[str, Any]] | None = None


def authenticated_user(get_json: GetJson, timeline_api_url: str) -> Mapping[str, Any]:
    """``GET /2/users/me``: the owner of the access token (the account), with its public
    counts; recent mode lists this user's tweets."""
    answer = get_json(f"{timeline_api_url}/2/users/me", {"user.fields": USER_FIELDS})
    user = answer.get("data")
    if not isinstance(user, Mapping) or not user.get("id"):
        raise ValueError("GET /2/users/me answered without a user id")
    return user


def iter_timeline(
    get_json: GetJson,
    timeline_api_url: str,
    user_id: str,
    limit: int,
    *,
    exclude_retweets: bool,
    exclude_replies: bool,
) -> Iterator[Mapping[str, Any]]:
    """The user's tweets, newest first, page by page until ``limit`` or no ``next_token``."""
    params: dict[str, str] = {"max_results": str(TIMELINE_PAGE_SIZE), "tweet.fields": TWEET_FIELDS}
    exclude = [
        name for name, on in (("retweets", exclude_retweets), ("replies", exclude_replies)) if on
    ]
    if exclude:
        params["exclude"] = ",".join(exclude)
    seen = 0
    while seen < limit:
        page = get_json(f"{timeline_api_url}/2/users/{user_id}/tweets", params)
        for tweet in page.get("data", []):
            yield tweet
            seen += 1
            if seen >= limit:
                return
        token = page.get("meta", {}).get("next_token")
        if not token:
            return
        params["pagination_token"] = token


def recent(
    get_json: GetJson,
    timeline_api_url: str,
    user_id: str,
    number_of_tweets: int,
    *,
    exclude_retweets: bool,
    exclude_replies: bool,
) -> Selection:
    """Recent mode: the user's timeline until N tweets."""
    tweets = list(
        iter_timeline(
            get_json,
            timeline_api_url,
            user_id,
            number_of_tweets,
            exclude_retweets=exclude_retweets,
            exclude_replies=exclude_replies,
        )
    )
    ids = dedupe(str(t["id"]) for t in tweets)
    return Selection(tuple(ids), {str(t["id"]): t for t in tweets})


def manual(tweet_ids: Sequence[str]) -> Selection:
    """Manual mode: the listed ids, duplicates dropped, order kept."""
    return Selection(tuple(dedupe(str(i) for i in tweet_ids)))


def lookup(
    get_json: GetJson, timeline_api_url: str, tweet_ids: Sequence[str]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """``GET /2/tweets?ids=`` in chunks of 100: (tweets found, v2 errors for the others)."""
    found: list[Mapping[str, Any]] = []
    errors: list[Mapping[str, Any]] = []
    for start in range(0, len(tweet_ids), LOOKUP_MAX_IDS):
        chunk = tweet_ids[start : start + LOOKUP_MAX_IDS]
        page = get_json(
            f"{timeline_api_url}/2/tweets", {"ids": ",".join(chunk), "tweet.fields": TWEET_FIELDS}
        )
        found.extend(page.get("data", []))
        errors.extend(page.get("errors", []))
    return found, errors
