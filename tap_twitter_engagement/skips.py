"""Tweets an endpoint did not serve, or served only in part: why, and in which order first seen.

Recorded by whatever meets a refusal (a backend, a stream, the v2 lookup), reported by the
``skipped_tweets`` stream, and used to leave refused ids out of an endpoint's later batches.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


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
    SkipReason.UNAVAILABLE: (
        "deleted or no longer public (unavailable_tweet_ids; Post analytics: a not-found or "
        "unavailable problem)"
    ),
    SkipReason.PROTECTED: "protected account (400 Tweet ID(s) are unavailable)",
    SkipReason.OTHER_AUTHOR: (
        "authored by another account than the access token's (403; Post analytics: a "
        "not-authorized-for-resource problem)"
    ),
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
