"""The APIs the historical sync can read, each behind one interface (:class:`Backend`).

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
    from tap_twitter_engagement.windows import PlannedRequest


class Backend(Protocol):
    """One API's side of the historical sync."""

    #: The ``api`` setting's value for it.
    name: str
    #: The endpoint as ``skipped_tweets`` and the logs name it, and its request line.
    endpoint: str
    where: str
    limits: Limits

    def fetch(self, account: AccountRun, request: PlannedRequest, hourly: bool) -> Iterator[Served]:
        """Each successful response of one planned request, checked against what it asked
        (the ids a refusal named are recorded in ``account.skips`` and left out)."""
        ...
