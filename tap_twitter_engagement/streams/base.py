"""What every stream shares: the run, a partition per account, and batches the Engagement API
may refuse in part."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk import typing as th

from tap_twitter_engagement.api import PATHS
from tap_twitter_engagement.checks import MAX_COUNT, Served, Tally
from tap_twitter_engagement.errors import AccessRefused, RefusedTweets
from tap_twitter_engagement.run import SkipReason

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun, Run


#: A count column: a whole number a BIGINT holds (``checks.MAX_COUNT``), so SQL loaders
#: choose BIGINT rather than NUMERIC.
COUNT_TYPE = th.IntegerType(minimum=0, maximum=MAX_COUNT)

#: Every record carries its account, the partition of every stream.
ACCOUNT_ID = th.Property(
    "account_id",
    th.StringType,
    required=True,
    description="User id of the account (the handle whose token read the row).",
)


class TapStream(Stream):
    """A stream of this tap, partitioned by account: everything it needs beyond the SDK is on
    :attr:`run`, and each partition's records come from :meth:`account_records`.

    The SDK adds the partition's ``account_id`` to every record and keeps the state per
    partition, so each account has its own bookmarks and an account added later is read from
    scratch. An account whose access the API refuses fails alone: the run records it, and the
    stream goes on with the next partition.
    """

    def __init__(
        self, tap: Tap, run: Run, schema: dict[str, Any] | None = None, name: str | None = None
    ) -> None:
        super().__init__(tap, schema=schema, name=name)
        self.run = run

    @property
    def partitions(self) -> list[dict[str, Any]]:
        return [{ACCOUNT_ID.name: account.user_id} for account in self.run.ready()]

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        account = self.run.account(context)
        if account is None:  # every account failed: the SDK still asks once, without context
            return
        try:
            yield from self.account_records(account, context)
        except AccessRefused as exc:
            self.run.fail(account, exc)

    def account_records(
        self, account: AccountRun, context: Context | None
    ) -> Iterable[dict[str, Any]]:
        """The records of one account (``context`` is its partition)."""
        raise NotImplementedError


class EngagementStream(TapStream):
    """A stream of one Engagement API endpoint (``endpoint`` names it in logs and reports).

    Every response is checked against the batch it answers before anything in it is used
    (``checks``); what the responses held beyond their requests, or left out, is one WARNING
    per account at the end (:meth:`report`).
    """

    endpoint = ""

    @property
    def url(self) -> str:
        return self.run.settings.api_url + PATHS[self.endpoint]

    @property
    def where(self) -> str:
        return f"POST {PATHS[self.endpoint]}"

    def post_refusing(
        self,
        account: AccountRun,
        tweet_ids: Sequence[str],
        make_body: Callable[[list[str]], dict[str, Any]],
        check: Callable[[dict[str, Any], list[str]], Served],
        *,
        bearer: bool = False,
    ) -> Iterator[Served]:
        """POST one batch; yield each successful response, checked against the ids it was
        asked for, after recording the ids it named unavailable or unsupported.

        Ids the API refuses for the whole batch are removed and the rest resubmitted; when the
        refusal names no ids, the batch is bisected until the refused ids are isolated. Every
        id's data comes from exactly one successful response, so nothing is counted twice, and
        a refused id is in no response, so it is never recorded as delivered.
        """
        skips = account.skips
        pending = [list(tweet_ids)]
        while pending:
            refused = skips.refused(self.endpoint, app_only=bearer)
            batch = [i for i in pending.pop(0) if i not in refused]
            if not batch:
                continue

            def checked(body: dict[str, Any], batch: list[str] = batch) -> Served:
                return check(body, batch)

            try:
                served = account.client.post(
                    self.url, make_body(batch), bearer=bearer, check=checked
                )
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
            skips.add(served.unavailable, self.endpoint, SkipReason.UNAVAILABLE)
            for key, ids in served.unsupported.items():
                skips.add(ids, self.endpoint, _UNSUPPORTED_REASON[key])
            yield served

    def report(self, account: AccountRun, tally: Tally) -> None:
        """One WARNING per kind of trouble the account's responses had (see ``checks``)."""
        where = self.where if len(self.run.accounts) < 2 else f"{self.where} for {account.label}"
        for line in tally.lines(where):
            self.logger.warning("%s", line)


_UNSUPPORTED_REASON = {
    "unsupported_for_video_views_tweet_ids": SkipReason.UNSUPPORTED_VIDEO_VIEWS,
    "unsupported_for_impressions_engagements_tweet_ids": (
        SkipReason.UNSUPPORTED_IMPRESSIONS_ENGAGEMENTS
    ),
}
