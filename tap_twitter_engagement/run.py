"""One run of the tap: what every stream shares, owned in one place.

The tap builds a :class:`Run` from its settings; each stream reaches it through its ``run``
attribute. It holds the HTTP client (session, authentication, the pacer), the stop signal,
the tweet selection and their v2 metadata (resolved once, whichever stream asks first), and
the ledger of tweets the API did not serve.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tap_twitter_engagement.client import Client
from tap_twitter_engagement.pacing import Pacer
from tap_twitter_engagement.selection import Selection, lookup, manual, recent
from tap_twitter_engagement.settings import Settings


class SkipReason(enum.StrEnum):
    """Why the API did not (fully) serve a tweet; the ``reason`` of ``skipped_tweets``."""

    UNAVAILABLE = "unavailable"
    PROTECTED = "protected"
    OTHER_AUTHOR = "other_author"
    UNSUPPORTED_VIDEO_VIEWS = "unsupported_video_views"
    UNSUPPORTED_IMPRESSIONS_ENGAGEMENTS = "unsupported_impressions_engagements"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @property
    def refuses_batch(self) -> bool:
        """Whether the API refuses a whole batch for it (so later batches leave the id out)."""
        return self in (SkipReason.UNAVAILABLE, SkipReason.PROTECTED, SkipReason.OTHER_AUTHOR)


_DESCRIPTIONS = {
    SkipReason.UNAVAILABLE: "deleted or no longer public (unavailable_tweet_ids)",
    SkipReason.PROTECTED: "protected account (400 Tweet ID(s) are unavailable)",
    SkipReason.OTHER_AUTHOR: "authored by another account than the access token's (403)",
    SkipReason.UNSUPPORTED_VIDEO_VIEWS: "video older than 1800 days, no video_views",
    SkipReason.UNSUPPORTED_IMPRESSIONS_ENGAGEMENTS: (
        "older than 90 days, no impressions/engagements"
    ),
}


@dataclass(frozen=True)
class Skip:
    """A tweet an endpoint did not (fully) serve, first seen at ``detected_at``."""

    tweet_id: str
    endpoint: str
    reason: SkipReason
    detected_at: datetime


class SkipLedger:
    """Every tweet an endpoint refused or served only in part, in the order first seen."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._skips: dict[tuple[str, str, SkipReason], Skip] = {}
        self._refused: dict[str, dict[str, SkipReason]] = {}
        self._lock = threading.Lock()

    def add(self, tweet_ids: Sequence[str], endpoint: str, reason: SkipReason) -> None:
        """Record ids (each logged once); ids refused for a whole batch are left out of that
        endpoint's later batches (each endpoint finds its own refusals)."""
        with self._lock:
            for tweet_id in tweet_ids:
                key = (tweet_id, endpoint, reason)
                if key not in self._skips:
                    self._skips[key] = Skip(tweet_id, endpoint, reason, datetime.now(UTC))
                    self.logger.warning(
                        "Tweet %s skipped by %s: %s", tweet_id, endpoint, reason.description
                    )
                if reason.refuses_batch:
                    self._refused.setdefault(endpoint, {}).setdefault(tweet_id, reason)

    def refused(self, endpoint: str, *, app_only: bool = False) -> frozenset[str]:
        """Ids ``endpoint`` refused for a whole batch; for an app-only (bearer) request, other
        authors' tweets are not refused: reading them is what such a request is for."""
        with self._lock:
            refused = self._refused.get(endpoint, {})
            return frozenset(
                tweet_id
                for tweet_id, reason in refused.items()
                if not (app_only and reason is SkipReason.OTHER_AUTHOR)
            )

    def skips(self) -> list[Skip]:
        with self._lock:
            return list(self._skips.values())


class Run:
    """What the streams of one tap run share (see the module docs)."""

    def __init__(self, settings: Settings, logger: logging.Logger) -> None:
        self.settings = settings
        self.logger = logger
        #: Set on SIGTERM/SIGINT: every wait and request in flight ends at once.
        self.stop = threading.Event()
        self.pacer = Pacer(
            per_minute=settings.max_requests_per_minute,
            per_second=settings.max_requests_per_second,
            max_wait=settings.max_wait_seconds,
            stop=self.stop,
        )
        self.client = Client(settings, self.pacer, self.stop, logger)
        self.skips = SkipLedger(logger)
        #: Whether a stream is selected in this run (set by the tap, which knows the catalog).
        self.is_selected: Callable[[str], bool] = lambda _name: False
        self._selection: Selection | None = None
        self._metadata: dict[str, Mapping[str, Any]] | None = None
        self._lock = threading.Lock()

    def selection(self) -> Selection:
        """The tweets to query, resolved once per run and shared by every stream."""
        with self._lock:
            if self._selection is None:
                settings = self.settings
                if settings.tweet_selection == "manual":
                    self._selection = manual(settings.tweet_ids)
                else:
                    self._selection = recent(
                        self.client.get,
                        settings.timeline_api_url,
                        settings.number_of_tweets,
                        exclude_retweets=settings.exclude_retweets,
                        exclude_replies=settings.exclude_replies,
                    )
                self.logger.info(
                    "Selected %d tweets (%s mode)",
                    len(self._selection.tweet_ids),
                    settings.tweet_selection,
                )
            return self._selection

    def tweet_metadata(self) -> dict[str, Mapping[str, Any]]:
        """v2 tweet objects of the selection, by id: the timeline pages in recent mode, one
        ``GET /2/tweets?ids=`` per 100 ids in manual mode (ids it cannot see are recorded)."""
        chosen = self.selection()
        with self._lock:
            if self._metadata is None:
                if chosen.tweets is not None:
                    self._metadata = dict(chosen.tweets)
                else:
                    found, errors = lookup(
                        self.client.get, self.settings.timeline_api_url, chosen.tweet_ids
                    )
                    for error in errors:
                        reason = (
                            SkipReason.PROTECTED
                            if "Authorization" in str(error.get("title"))
                            else SkipReason.UNAVAILABLE
                        )
                        tweet_id = str(error.get("resource_id") or error.get("value"))
                        self.skips.add([tweet_id], "tweets", reason)
                    self._metadata = {str(t["id"]): t for t in found}
            return self._metadata
