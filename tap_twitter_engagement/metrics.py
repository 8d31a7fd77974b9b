"""Metric names of the Engagement API: the one module the tap and the sandbox share.

Everything else is written twice on purpose, so that the sandbox can catch the tap's mistakes.
"""

from __future__ import annotations

#: Clicks and app actions, named and ordered alike by both APIs' tables.
_CLICKS_AND_APPS: tuple[str, ...] = (
    "url_clicks",
    "hashtag_clicks",
    "detail_expands",
    "permalink_clicks",
    "app_install_attempts",
    "app_opens",
    "email_tweet",
)

#: Metrics that ``/28hr`` and ``/historical`` serve, in the order of the API's metric table.
HISTORICAL_METRICS: tuple[str, ...] = (
    "impressions",
    "engagements",
    "favorites",
    "retweets",
    "replies",
    "video_views",
    "media_views",
    "media_engagements",
    *_CLICKS_AND_APPS,
    "user_follows",
    "user_profile_clicks",
)

#: Metrics that ``/totals`` serves.
TOTALS_METRICS: tuple[str, ...] = (
    "impressions",
    "engagements",
    "favorites",
    "retweets",
    "replies",
    "quote_tweets",
    "video_views",
)

#: ``/totals`` metrics an app-only bearer token may read (public metrics).
PUBLIC_METRICS: tuple[str, ...] = (
    "favorites",
    "retweets",
    "replies",
    "quote_tweets",
    "video_views",
)

#: What X API v2's Post analytics (``GET /2/tweets/analytics``) serves, in its own names.
POST_ANALYTICS_FIELDS: tuple[str, ...] = (
    "impressions",
    "engagements",
    "likes",
    "retweets",
    "replies",
    "quote_tweets",
    "bookmarks",
    "shares",
    "media_views",
    *_CLICKS_AND_APPS,
    "follows",
    "unfollows",
    "unlikes",
    "user_profile_clicks",
)

#: The Post analytics name of a metric both APIs serve, where it differs. Records use the
#: Engagement API's name for those (so marts survive a switch of API), and its own name for a
#: metric only Post analytics serves.
POST_ANALYTICS_NAMES: dict[str, str] = {"favorites": "likes", "user_follows": "follows"}

#: The metrics of records with Post analytics: the shared ones in the Engagement API's order
#: and names, then those only Post analytics serves.
POST_ANALYTICS_METRICS: tuple[str, ...] = (
    *(m for m in HISTORICAL_METRICS if POST_ANALYTICS_NAMES.get(m, m) in POST_ANALYTICS_FIELDS),
    *(
        f
        for f in POST_ANALYTICS_FIELDS
        if f not in HISTORICAL_METRICS and f not in POST_ANALYTICS_NAMES.values()
    ),
)

#: Every metric a record may carry, whichever API: the historical ones, then Post analytics'.
ALL_METRICS: tuple[str, ...] = (
    *HISTORICAL_METRICS,
    *(m for m in POST_ANALYTICS_METRICS if m not in HISTORICAL_METRICS),
)

#: The values of the ``api`` setting, the default first.
APIS: tuple[str, ...] = ("engagement_api", "post_analytics")
#: How logs and errors name each API.
API_TITLES = {"engagement_api": "the Engagement API", "post_analytics": "Post analytics"}


def metrics_of(api: str) -> tuple[str, ...]:
    """The metrics the historical sync may ask ``api`` for, in record names and order."""
    return POST_ANALYTICS_METRICS if api == "post_analytics" else HISTORICAL_METRICS
