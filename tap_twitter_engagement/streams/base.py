"""What every stream shares: the run, a partition per account, and batches the Engagement API
may refuse in part."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.mapper import SameRecordTransform
from typing_extensions import override

from tap_twitter_engagement.api import PATHS
from tap_twitter_engagement.batches import BatchFiles
from tap_twitter_engagement.checks import MAX_COUNT, Tally
from tap_twitter_engagement.errors import AccessRefused

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
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
        #: With BATCH messages: what waits for the records yielded so far to be announced
        #: (:meth:`after_batch`), e.g. a STATE that covers them; and the records yielded and
        #: not yet in a file (None while the SDK's own batcher writes them).
        self._after_batch: list[Callable[[], None]] = []
        self._unannounced: list[Record] | None = None

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

    def after_batch(self, action: Callable[[], None]) -> None:
        """Run ``action`` once every record yielded so far is in a file a BATCH message
        announced (:meth:`get_batches`): now if they all are, or when the stream writes RECORD
        messages (they are written as they are yielded)."""
        if self.get_batch_config(self.config) is None or self._unannounced == []:
            action()
        else:
            self._after_batch.append(action)

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """The records in files of ``batch_size``, written by the tap (``batches``): JSON Lines,
        plain or gzip at a fast level as the encoding says, each record as its RECORD message
        would carry it. Once the SDK has written a file's BATCH message it asks for the next
        one; only then do the actions waiting on those records run (:meth:`after_batch`), so
        STATE never claims a record in a file no target was told about. With several stream
        maps (a stream split in several) or another format, the SDK's batcher. ``--test``'s
        cap (``ABORT_AT_RECORD_COUNT``) ends the stream after that many records."""
        files = BatchFiles.for_config(batch_config, self.tap_name, self.name)
        if files is None or len(self.stream_maps) != 1:
            # The SDK's batcher announces its files as it goes but tells no one: what waits
            # for the records runs after its last file's BATCH message.
            yield from super().get_batches(batch_config, context)
            self._run_after_batch()
            return
        chunk: list[Record] = []
        self._unannounced = chunk
        cap, written = self.ABORT_AT_RECORD_COUNT, 0
        with self.get_record_counter() as counter, self.get_sync_timer() as timer:
            partitions: list[Context | None] = [context]
            if context is None:
                partitions = [*self.partitions] or [None]
            for partition in partitions:
                counter.with_context(partition)
                timer.with_context(partition)
                for record in self._batch_records(partition):
                    chunk.append(record)
                    if len(chunk) >= files.batch_size or written + len(chunk) == cap:
                        yield files.encoding, [files.write(chunk)]
                        counter.increment(len(chunk))
                        written += len(chunk)
                        chunk.clear()
                        self._run_after_batch()
                        if written == cap:
                            return
            if chunk:
                yield files.encoding, [files.write(chunk)]
                counter.increment(len(chunk))
                chunk.clear()
            self._run_after_batch()

    def _batch_records(self, partition: Context | None) -> Iterator[Record]:
        """The partition's records as RECORD messages carry them: post-processed, with the
        partition's keys, without the properties the catalog deselects, through the stream
        map."""
        deselected = [p for p in self.schema["properties"] if not self.mask[("properties", p)]]
        stream_map = self.stream_maps[0]
        mapped = not (
            isinstance(stream_map, SameRecordTransform) and not stream_map.flattening_enabled
        )
        for raw in self.get_records(partition):
            record = self.post_process(raw, partition)
            if record is None:
                continue
            for key, value in (partition or {}).items():
                if key not in record:
                    record[key] = value
            for name in deselected:
                record.pop(name, None)
            if mapped:
                record = stream_map.transform(record)
                if record is None:
                    continue
            yield record

    def _run_after_batch(self) -> None:
        actions, self._after_batch = self._after_batch, []
        for action in actions:
            action()


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
