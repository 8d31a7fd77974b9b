"""The APIs the historical sync can read, each behind one interface (:class:`Backend`):
``engagement`` (the Enterprise Engagement API) and ``post_analytics`` (X API v2).

The engine plans with a backend's :class:`~tap_twitter_engagement.engine.Limits` and asks it,
per account, for each planned request; the backend builds the request, sends it through the
account's signed client, checks each response against what it asked (``checks``) and hands back
the canonical grain (tweet, metric, day[, hour]) as :class:`~tap_twitter_engagement.checks.Served`.
Everything after that (roll-up, coverage, STATE) is the same whatever the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tap_twitter_engagement.checks import Served
    from tap_twitter_engagement.engine import Limits
    from tap_twitter_engagement.run import AccountRun
    from tap_twitter_engagement.settings import Settings
    from tap_twitter_engagement.windows import PlannedRequest


class Backend(Protocol):
    """One API's side of the historical sync."""

    #: The ``api`` setting's value for it.
    name: str
    #: The endpoint as ``skipped_tweets`` and the logs name it, and its request line.
    endpoint: str
    where: str
    limits: Limits
    #: The pacer's bucket of its requests, and the budget X documents for it (requests per
    #: window of seconds, per app and per user) when it has one; else the configured limits
    #: and the API's headers pace it.
    bucket: str
    budget: tuple[int, float] | None

    def fetch(self, account: AccountRun, request: PlannedRequest, hourly: bool) -> Iterator[Served]:
        """Each successful response of one planned request, checked against what it asked
        (the ids a refusal named are recorded in ``account.skips`` and left out)."""
        ...


def backend_for(settings: Settings) -> Backend:
    """The backend the ``api`` setting chooses."""
    from tap_twitter_engagement.backends.engagement import EngagementApi  # noqa: PLC0415
    from tap_twitter_engagement.backends.post_analytics import PostAnalytics  # noqa: PLC0415

    if settings.api == PostAnalytics.name:
        return PostAnalytics(settings)
    return EngagementApi()
