"""Which tweets a sync covers: the account's N most recent, or a listed set (Domo: Tweet Selection).

The HTTP call is passed in (``get_json``), so this module is only the paging and filtering logic
and works with whatever signed, retried client the streams hold. Every page is checked
(``checks``) before anything in it is used: ids are digits, counts are counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from tap_twitter_engagement.api import LOOKUP_MAX_IDS, TIMELINE_MAX_PAGES, TIMELINE_PAGE_SIZE
from tap_twitter_engagement.checks import (
    Lookup,
    Tally,
    TimelinePage,
    check_lookup,
    check_timeline_page,
    check_user,
)

TWEET_FIELDS = "created_at,public_metrics,author_id,conversation_id,lang"
USER_FIELDS = "public_metrics"

_T = TypeVar("_T")


class GetJson(Protocol):
    """A signed, retried GET whose body ``check`` reads (``Client.get``)."""

    def __call__(
        self, url: str, params: Mapping[str, str], *, check: Callable[[dict[str, Any]], _T]
    ) -> _T: ...


@dataclass(frozen=True)
class Selection:
    """The tweets to query, in order."""

    tweet_ids: tuple[str, ...]
    #: Tweet objects as v2 returned them (recent mode), keyed by id, for the tweets stream.
    tweets: Mapping[str, Mapping[str, Any]] | None = None


def authenticated_user(get_json: GetJson, timeline_api_url: str) -> Mapping[str, Any]:
    """``GET /2/users/me``: the owner of the access token (the account), with its public
    counts; recent mode lists this user's tweets."""
    return get_json(
        f"{timeline_api_url}/2/users/me", {"user.fields": USER_FIELDS}, check=check_user
    )


def iter_timeline(
    get_json: GetJson,
    timeline_api_url: str,
    user_id: str,
    limit: int,
    *,
    exclude_retweets: bool,
    exclude_replies: bool,
    logger: logging.Logger | None = None,
) -> Iterator[Mapping[str, Any]]:
    """The user's tweets, newest first, page by page until ``limit`` or no ``next_token``.

    Paging also stops at an empty page, at a ``next_token`` seen before, and after
    ``TIMELINE_MAX_PAGES``, whatever the API answers: a timeline never pages forever.
    """
    params: dict[str, str] = {"max_results": str(TIMELINE_PAGE_SIZE), "tweet.fields": TWEET_FIELDS}
    exclude = [
        name for name, on in (("retweets", exclude_retweets), ("replies", exclude_replies)) if on
    ]
    if exclude:
        params["exclude"] = ",".join(exclude)
    seen = 0
    tokens: set[str] = set()
    for _ in range(TIMELINE_MAX_PAGES):
        page: TimelinePage = get_json(
            f"{timeline_api_url}/2/users/{user_id}/tweets", params, check=check_timeline_page
        )
        for tweet in page.tweets:
            yield tweet
            seen += 1
            if seen >= limit:
                return
        token = page.next_token
        if not token or not page.tweets:
            return
        if token in tokens:
            if logger is not None:
                logger.warning(
                    "GET /2/users/:id/tweets repeated a next_token: stopped paging after %d tweets",
                    seen,
                )
            return
        tokens.add(token)
        params["pagination_token"] = token


def dedupe(tweet_ids: Iterable[str]) -> list[str]:
    """Drop repeated IDs, keeping first-seen order.

    Batches must be disjoint: an ID in two batches would be counted twice once batch results
    are summed.
    """
    return list(dict.fromkeys(tweet_ids))


def recent(
    get_json: GetJson,
    timeline_api_url: str,
    user_id: str,
    number_of_tweets: int,
    *,
    exclude_retweets: bool,
    exclude_replies: bool,
    logger: logging.Logger | None = None,
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
            logger=logger,
        )
    )
    ids = dedupe(str(t["id"]) for t in tweets)
    return Selection(tuple(ids), {str(t["id"]): t for t in tweets})


def manual(tweet_ids: Sequence[str]) -> Selection:
    """Manual mode: the listed ids, duplicates dropped, order kept."""
    return Selection(tuple(dedupe(str(i) for i in tweet_ids)))


def lookup(get_json: GetJson, timeline_api_url: str, tweet_ids: Sequence[str]) -> Lookup:
    """``GET /2/tweets?ids=`` in chunks of 100: the tweets found, the v2 errors for the others
    (tweets no chunk asked for are dropped and counted in the tally)."""
    found = Lookup([], [], Tally())
    for start in range(0, len(tweet_ids), LOOKUP_MAX_IDS):
        chunk = tweet_ids[start : start + LOOKUP_MAX_IDS]

        def check(body: dict[str, Any], chunk: Sequence[str] = chunk) -> Lookup:
            return check_lookup(body, chunk)

        page = get_json(
            f"{timeline_api_url}/2/tweets",
            {"ids": ",".join(chunk), "tweet.fields": TWEET_FIELDS},
            check=check,
        )
        found.tweets.extend(page.tweets)
        found.errors.extend(page.errors)
        found.tally.merge(page.tally)
    return found
