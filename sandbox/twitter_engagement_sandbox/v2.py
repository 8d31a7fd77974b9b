"""The few X API v2 endpoints the tap needs: who am I, my timeline, tweets by id."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from twitter_engagement_sandbox.model import SandboxModel, Tweet, User

TIMELINE_CAP = 3200
TIMELINE_CAP_WITHOUT_REPLIES = 800
TWEET_FIELDS = {
    "id",
    "text",
    "created_at",
    "public_metrics",
    "author_id",
    "conversation_id",
    "lang",
    "edit_history_tweet_ids",
}
#: Every ``user.fields`` value v2 takes; the sandbox renders those in ``_render_user`` and leaves
#: the others out, as the API leaves out fields a user has no value for.
USER_FIELDS = {
    "affiliation",
    "connection_status",
    "created_at",
    "description",
    "entities",
    "id",
    "is_identity_verified",
    "location",
    "most_recent_tweet_id",
    "name",
    "pinned_tweet_id",
    "profile_banner_url",
    "profile_image_url",
    "protected",
    "public_metrics",
    "receives_your_dm",
    "subscription_type",
    "url",
    "username",
    "verified",
    "verified_followers_count",
    "verified_type",
    "withheld",
}
MAX_LOOKUP_IDS = 100
_PROBLEMS = "https://api.twitter.com/2/problems/"


class V2Error(Exception):
    """A v2 error response: status and the v2 problem body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def invalid_request(
    parameters: Mapping[str, Sequence[str]], message: str, *, problems: str = _PROBLEMS
) -> V2Error:
    """v2's 400 for a bad query: each parameter at fault with its values, and what is wrong.

    ``problems`` is the problem-type base: the older routes keep api.twitter.com's, Post
    analytics' description names api.x.com's.
    """
    return V2Error(
        400,
        {
            "errors": [
                {
                    "parameters": {name: list(values) for name, values in parameters.items()},
                    "message": message,
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": f"{problems}invalid-request",
        },
    )


def _invalid(parameter: str, value: str, message: str) -> V2Error:
    return invalid_request({parameter: [value]}, message)


def answer(
    route: str,
    path: str,
    params: dict[str, str],
    model: SandboxModel,
    now: datetime,
    user_id: str | None,
) -> dict[str, Any]:
    """The 200 body for a v2 route, or a :class:`V2Error`."""
    if route == "2/users/me":
        user = model.find_user(user_id or "")
        if user is None:  # pragma: no cover - /2/users/me takes user-context tokens only
            raise KeyError(user_id)
        user_fields = _fields(params.get("user.fields", ""), "user.fields", USER_FIELDS)
        return {"data": _render_user(user, model, now, user_fields)}
    fields = _fields(params.get("tweet.fields", ""), "tweet.fields", TWEET_FIELDS)
    if route == "2/users/tweets":
        return _timeline(path.split("/")[3], params, model, now, fields)
    return _lookup(params, model, now, fields)


def _fields(raw: str, parameter: str, known: set[str]) -> set[str]:
    fields = {f for f in raw.split(",") if f}
    unknown = sorted(fields - known)
    if unknown:
        raise _invalid(
            parameter,
            raw,
            f"The `{parameter}` query parameter value "
            f"[{unknown[0]}] is not one of "
            f"[{', '.join(sorted(known))}]",
        )
    return fields


def _render_user(
    user: User, model: SandboxModel, now: datetime, fields: set[str]
) -> dict[str, Any]:
    """A v2 user object: id, name and username always, the requested fields the sandbox models
    (``public_metrics`` as of the UTC day of ``now``)."""
    out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
    if "created_at" in fields:
        out["created_at"] = model.user_created_at(user.id).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if "description" in fields:
        out["description"] = f"{user.name}: an account of the Engagement API sandbox."
    if "most_recent_tweet_id" in fields:
        timeline = model.timeline(user.id)
        if timeline:
            out["most_recent_tweet_id"] = timeline[0].id
    if "protected" in fields:
        out["protected"] = user.protected
    if "public_metrics" in fields:
        out["public_metrics"] = model.user_public_metrics(user.id, now.astimezone(UTC).date())
    if "verified" in fields:
        out["verified"] = False
    return out


def _timeline(
    user_id: str, params: dict[str, str], model: SandboxModel, now: datetime, fields: set[str]
) -> dict[str, Any]:
    raw_max = params.get("max_results", "10")
    if not raw_max.isdigit() or not 5 <= int(raw_max) <= 100:
        raise _invalid(
            "max_results",
            raw_max,
            f"The `max_results` query parameter value [{raw_max}] is not between 5 and 100",
        )
    exclude = {e for e in params.get("exclude", "").split(",") if e}
    if exclude - {"retweets", "replies"}:
        raise _invalid(
            "exclude",
            params["exclude"],
            "The `exclude` query parameter value "
            f"[{params['exclude']}] is not one of [replies, retweets]",
        )
    user = next((u for u in model.users if u.id == user_id), None)
    if user is None:
        raise V2Error(
            404,
            {
                "errors": [
                    {
                        "value": user_id,
                        "detail": f"Could not find user with id: [{user_id}].",
                        "title": "Not Found Error",
                        "resource_type": "user",
                        "parameter": "id",
                        "resource_id": user_id,
                        "type": f"{_PROBLEMS}resource-not-found",
                    }
                ]
            },
        )
    tweets = model.timeline(
        user_id, exclude_retweets="retweets" in exclude, exclude_replies="replies" in exclude
    )
    tweets = tweets[: TIMELINE_CAP_WITHOUT_REPLIES if "replies" in exclude else TIMELINE_CAP]
    bounds: tuple[tuple[str, Callable[[Tweet, datetime], bool]], ...] = (
        ("start_time", lambda t, m: t.created_at >= m),
        ("end_time", lambda t, m: t.created_at < m),
    )
    for name, keep in bounds:
        if name in params:
            try:
                moment = datetime.fromisoformat(params[name].replace("Z", "+00:00"))
            except ValueError:
                raise _invalid(name, params[name], f"Invalid {name}") from None
            tweets = [t for t in tweets if keep(t, moment)]
    offset = _decode_token(params.get("pagination_token"))
    page = tweets[offset : offset + int(raw_max)]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
    if offset + int(raw_max) < len(tweets):
        meta["next_token"] = page_token(offset + int(raw_max))
    if offset:
        meta["previous_token"] = page_token(max(0, offset - int(raw_max)))
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [_render(t, model, now, fields) for t in page]
    return body


def _lookup(
    params: dict[str, str], model: SandboxModel, now: datetime, fields: set[str]
) -> dict[str, Any]:
    raw = params.get("ids", "")
    ids = [i for i in raw.split(",") if i]
    if not ids or len(ids) > MAX_LOOKUP_IDS or not all(i.isdigit() for i in ids):
        raise _invalid(
            "ids", raw, "The `ids` query parameter value must be 1 to 100 comma-separated tweet ids"
        )
    data, errors = [], []
    for tweet_id in ids:
        tweet = model.tweet(tweet_id)
        if tweet is None or tweet.deleted:
            errors.append(
                {
                    "value": tweet_id,
                    "detail": f"Could not find tweet with ids: [{tweet_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": tweet_id,
                    "type": f"{_PROBLEMS}resource-not-found",
                }
            )
        elif tweet.protected:
            errors.append(
                {
                    "value": tweet_id,
                    "detail": "Sorry, you are not authorized to see "
                    f"the Tweet with ids: [{tweet_id}].",
                    "title": "Authorization Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": tweet_id,
                    "type": f"{_PROBLEMS}not-authorized-for-resource",
                }
            )
        else:
            data.append(_render(tweet, model, now, fields))
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if errors:
        body["errors"] = errors
    return body


def public_metrics(tweet: Tweet, model: SandboxModel, now: datetime) -> dict[str, int]:
    """The v2 ``public_metrics`` of a tweet, consistent with the engagement counts."""
    total = model.lifetime_total
    return {
        "retweet_count": total(tweet.id, "retweets", now),
        "reply_count": total(tweet.id, "replies", now),
        "like_count": total(tweet.id, "favorites", now),
        "quote_count": total(tweet.id, "quote_tweets", now),
        "bookmark_count": total(tweet.id, "favorites", now) // 7,
        "impression_count": total(tweet.id, "impressions", now),
    }


def _render(tweet: Tweet, model: SandboxModel, now: datetime, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
    if "created_at" in fields:
        out["created_at"] = tweet.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if "author_id" in fields:
        out["author_id"] = tweet.author_id
    if "conversation_id" in fields:
        out["conversation_id"] = tweet.conversation_id
    if "lang" in fields:
        out["lang"] = tweet.lang
    if "public_metrics" in fields:
        out["public_metrics"] = public_metrics(tweet, model, now)
    return out


def page_token(offset: int) -> str:
    """The pagination token of the timeline page starting at ``offset``."""
    return base64.b32encode(f"page:{offset}".encode()).decode().rstrip("=").lower()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token.upper() + "=" * (-len(token) % 8)
        return int(base64.b32decode(padded).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        raise _invalid(
            "pagination_token", token, "The `pagination_token` query parameter value is invalid"
        ) from None
