"""Metric names of the Engagement API: the one module the tap and the sandbox share.

Everything else is written twice on purpose, so that the sandbox can catch the tap's mistakes.
"""

from __future__ import annotations

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
    "url_clicks",
    "hashtag_clicks",
    "detail_expands",
    "permalink_clicks",
    "app_install_attempts",
    "app_opens",
    "email_tweet",
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
