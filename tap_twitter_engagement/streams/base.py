"""What every stream shares: the run, a partition per account, and batches the Engagement API
may refuse in part."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk import typing as th
from typing_extensions import override

from tap_twitter_engagement.api import PATHS
from tap_twitter_engagement.checks import MAX_COUNT, Tally
from tap_twitter_engagement.errors import AccessRefused

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun, Run


#: A record as the streams build it: JSON-ready values by column.
Record = dict[str, Any]

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
    @override
    def partitions(self) -> list[dict[str, Any]]:
        return [{ACCOUNT_ID.name: account.user_id} for account in self.run.ready()]

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        account = self.run.account(context)
        if account is None:  # every account failed: the SDK still asks once, without context
            return
        try:
            yield from self.account_records(account, context)
        except AccessRefused as exc:
            self.run.fail(account, exc)

    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Record]:
        """The records of one account (``context`` is its partition)."""
        raise NotImplementedError


class EngagementStream(TapStream):
    """A stream of one Engagement API endpoint (``endpoint`` names it in logs and reports).

    Every response is checked against the batch it answers before anything in it is used
    (``checks``; ``backends.engagement.post_refusing``); what the responses held beyond their
    requests, or left out, is one WARNING per account at the end (:meth:`report`).
    """

    endpoint = ""

    @property
    def where(self) -> str:
        return f"POST {PATHS[self.endpoint]}"

    def report(self, account: AccountRun, tally: Tally, where: str | None = None) -> None:
        """One WARNING per kind of trouble the account's responses had (see ``checks``)."""
        where = where or self.where
        if len(self.run.accounts) > 1:
            where = f"{where} for {account.label}"
        for line in tally.lines(where):
            self.logger.warning("%s", line)
