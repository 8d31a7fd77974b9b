"""The tap's streams, one module each; all of them reach the run's shared state via ``run``."""

from tap_twitter_engagement.streams.accounts import AccountsStream
from tap_twitter_engagement.streams.base import EngagementStream, TapStream
from tap_twitter_engagement.streams.engagement_28hr import Engagement28hrStream
from tap_twitter_engagement.streams.engagement_totals import EngagementTotalsStream
from tap_twitter_engagement.streams.historical import (
    HistoricalEngagementStream,
    historical_schema,
    historical_schema_for,
)
from tap_twitter_engagement.streams.skipped_tweets import SkippedTweetsStream
from tap_twitter_engagement.streams.tracked import TrackedStream
from tap_twitter_engagement.streams.tweets import TweetsStream

__all__ = [
    "AccountsStream",
    "Engagement28hrStream",
    "EngagementStream",
    "EngagementTotalsStream",
    "HistoricalEngagementStream",
    "SkippedTweetsStream",
    "TapStream",
    "TrackedStream",
    "TweetsStream",
    "historical_schema",
    "historical_schema_for",
]
