"""What every stream shares: the run, and batches the Engagement API may refuse in part."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream

from tap_twitter_engagement.api import PATHS
from tap_twitter_engagement.errors import RefusedTweets
from tap_twitter_engagement.run import SkipReason

if TYPE_CHECKING:
    from singer_sdk import Tap

    from tap_twitter_engagement.run import Run


class TapStream(Stream):
    """A stream of this tap: everything it needs beyond the SDK is on :attr:`run`."""

    def __init__(self, tap: Tap, run: Run, schema: dict[str, Any] | None = None) -> None:
        super().__init__(tap, schema=schema)
        self.run = run


class EngagementStream(TapStream):
    """A stream of one Engagement API endpoint (``endpoint`` names it in logs and reports)."""

    endpoint = ""

    @property
    def url(self) -> str:
        return self.run.settings.api_url + PATHS[self.endpoint]

    def post_refusing(
        self,
        tweet_ids: Sequence[str],
        make_body: Callable[[list[str]], dict[str, Any]],
        *,
        bearer: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """POST one batch; yield each successful response's body.

        Ids the API refuses for the whole batch are removed and the rest resubmitted; when the
        refusal names no ids, the batch is bisected until the refused ids are isolated. Every
        id's data comes from exactly one successful response, so nothing is counted twice.
        """
        skips = self.run.skips
        pending = [list(tweet_ids)]
        while pending:
            refused = skips.refused(self.endpoint, app_only=bearer)
            batch = [i for i in pending.pop(0) if i not in refused]
            if not batch:
                continue
            try:
                data = self.run.client.post(self.url, make_body(batch), bearer=bearer)
            except RefusedTweets as exc:
                reason = SkipReason(exc.reason)
                named = [i for i in exc.ids if i in batch]
                if named:
                    skips.add(named, self.endpoint, reason)
                    pending.insert(0, batch)
                elif len(batch) == 1:
                    skips.add(batch, self.endpoint, reason)
                else:
                    middle = len(batch) // 2
                    pending[0:0] = [batch[:middle], batch[middle:]]
                continue
            yield data

    def note_partial(self, data: Mapping[str, Any], metrics: Sequence[str]) -> frozenset[str]:
        """Record ids served only in part (logged once each); return those without video views."""
        skips = self.run.skips
        unavailable = [str(i) for i in data.get("unavailable_tweet_ids", [])]
        skips.add(unavailable, self.endpoint, SkipReason.UNAVAILABLE)
        old = [str(i) for i in data.get("unsupported_for_impressions_engagements_tweet_ids", [])]
        skips.add(old, self.endpoint, SkipReason.UNSUPPORTED_IMPRESSIONS_ENGAGEMENTS)
        no_video = [str(i) for i in data.get("unsupported_for_video_views_tweet_ids", [])]
        if "video_views" in metrics:
            skips.add(no_video, self.endpoint, SkipReason.UNSUPPORTED_VIDEO_VIEWS)
        return frozenset(no_video)
