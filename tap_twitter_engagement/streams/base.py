"""What every stream shares: the run, a partition per account, and batches the Engagement API
may refuse in part."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.mapper import SameRecordTransform, StreamMap
from typing_extensions import override

from tap_twitter_engagement.api import PATHS
from tap_twitter_engagement.batches import BackgroundFiles, BatchFiles
from tap_twitter_engagement.checks import MAX_COUNT, Tally
from tap_twitter_engagement.errors import AccessRefused

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.metrics import Counter

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
        #: With BATCH messages: what waits for records to be announced (:meth:`after_batch`),
        #: e.g. a STATE that covers them, each with how many records must be; and how far the
        #: tap's files have got (None while the SDK's own batcher writes them).
        self._after_batch: deque[tuple[float, Callable[[], None]]] = deque()
        self._batches: _Batches | None = None

    @property
    @override
    def partitions(self) -> list[dict[str, Any]]:
        return [{ACCOUNT_ID.name: account.user_id} for account in self.run.ready()]

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        for item in self._items(context):
            if isinstance(item, list):
                yield from item
            elif isinstance(item, AfterBatch):  # only while the tap writes files; none is due
                item.action()
            else:
                yield item

    def _items(self, context: Context | None) -> Iterator[Item]:
        account = self.run.account(context)
        if account is None:  # every account failed: the SDK still asks once, without context
            return
        try:
            yield from self.account_records(account, context)
        except AccessRefused as exc:
            self.run.fail(account, exc)

    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Item]:
        """The records of one account (``context`` is its partition), one by one or in lists
        (the BATCH path takes a list in one go), and what must wait for the records before it
        to be written (:meth:`after_batch`)."""
        raise NotImplementedError

    def after_batch(self, action: Callable[[], None]) -> tuple[AfterBatch, ...]:
        """Make ``action`` run once every record yielded so far is written: ``yield from`` what
        this returns. With RECORD messages it runs now (records are written as they are
        yielded); with the tap's BATCH files it is yielded among the records, and runs once the
        records before it are in files whose BATCH messages were written (:meth:`get_batches`);
        with the SDK's batcher, after its last file."""
        if self.get_batch_config(self.config) is None:
            action()
        elif self._batches is None:
            self._after_batch.append((math.inf, action))
        else:
            return (AfterBatch(action),)
        return ()

    @override
    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """The records in files of ``batch_size``, written by the tap (``batches``): JSON Lines,
        plain or gzip at a fast level as the encoding says, each record as its RECORD message
        would carry it, compressed and written in a thread while the next file's records are
        made. Once the SDK has written a file's BATCH message it asks for the next one; only
        then does what waits on those records run (:meth:`after_batch`), so STATE never claims
        a record in a file no target was told about; when the stream reaches such a wait with
        every record before it in a file, those files are announced at once. With several
        stream maps (a stream split in several) or another format, the SDK's batcher.
        ``--test``'s cap (``ABORT_AT_RECORD_COUNT``) ends the stream after that many records."""
        files = BatchFiles.for_config(batch_config, self.tap_name, self.name)
        if files is None or len(self.stream_maps) != 1:
            # The SDK's batcher announces its files as it goes but tells no one: what waits
            # for the records runs after its last file's BATCH message.
            yield from super().get_batches(batch_config, context)
            self._run_after_batch(math.inf)
            return
        batches = self._batches = _Batches()
        chunk, cap = batches.chunk, self.ABORT_AT_RECORD_COUNT
        background = BackgroundFiles(files)
        partitions: list[Context | None] = [context]
        if context is None:
            partitions = [*self.partitions] or [None]
        try:
            with self.get_record_counter() as counter, self.get_sync_timer() as timer:
                for partition in partitions:
                    counter.with_context(partition)
                    timer.with_context(partition)
                    for item in self._batch_records(partition):
                        if isinstance(item, AfterBatch):
                            if not chunk:  # all before it are in files: announce them now
                                yield from self._announce(background, batches, counter)
                            self._after_batch.append((batches.yielded, item.action))
                            self._run_after_batch(batches.announced)
                            continue
                        yield from self._take(item, background, batches, counter)
                        if batches.written == cap:
                            break
                    if batches.written == cap:
                        break
                if chunk:
                    background.submit(chunk)
                    batches.written += len(chunk)
                    chunk.clear()
                yield from self._announce(background, batches, counter)
        finally:
            background.close()

    def _take(
        self,
        records: list[Record],
        background: BackgroundFiles,
        batches: _Batches,
        counter: Counter,
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """Add ``records`` to the file being filled; each full file to the writing thread, and
        the one before it for the SDK to announce. Stops at ``--test``'s cap."""
        chunk, size, cap = batches.chunk, background.files.batch_size, self.ABORT_AT_RECORD_COUNT
        start = 0
        while start < len(records) and batches.written != cap:
            room = size - len(chunk)
            if cap is not None:
                room = min(room, cap - batches.yielded)
            chunk.extend(records[start : start + room])
            start += room
            if len(chunk) < size and batches.yielded != cap:
                return
            background.submit(chunk)
            batches.written += len(chunk)
            chunk.clear()
            # The file before this one is written by now: announce it.
            yield from self._announce(background, batches, counter, keep=1)

    def _announce(
        self, background: BackgroundFiles, batches: _Batches, counter: Counter, keep: int = 0
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """The written files (all but the ``keep`` newest) for the SDK to announce; once it
        asks for the next, what waited on their records runs."""
        for url, count in background.written(keep):
            yield background.files.encoding, [url]
            counter.increment(count)
            batches.announced += count
            self._run_after_batch(batches.announced)

    def _batch_records(self, partition: Context | None) -> Iterator[list[Record] | AfterBatch]:
        """The partition's records in lists, as RECORD messages carry them (:meth:`_prepare`);
        what waits on them as it comes."""
        deselected = [p for p in self.schema["properties"] if not self.mask[("properties", p)]]
        stream_map: StreamMap | None = self.stream_maps[0]
        if isinstance(stream_map, SameRecordTransform) and not stream_map.flattening_enabled:
            stream_map = None
        # The common case, the tap's own records as they are: only the partition's keys added,
        # in one loop over each list.
        plain = not deselected and stream_map is None
        plain = plain and type(self).post_process is Stream.post_process
        keys = list((partition or {}).items())
        for item in self._items(partition):
            if isinstance(item, AfterBatch):
                yield item
                continue
            records = item if isinstance(item, list) else [item]
            if plain:
                for key, value in keys:
                    for record in records:
                        if key not in record:
                            record[key] = value
                yield records
            else:
                yield self._prepare(records, partition, deselected, stream_map)

    def _prepare(
        self,
        records: list[Record],
        partition: Context | None,
        deselected: list[str],
        stream_map: StreamMap | None,
    ) -> list[Record]:
        """Records as RECORD messages carry them: post-processed, with the partition's keys,
        without the properties the catalog deselects, through the stream map."""
        prepared = []
        for raw in records:
            record = self.post_process(raw, partition)
            if record is None:
                continue
            for key, value in (partition or {}).items():
                if key not in record:
                    record[key] = value
            for name in deselected:
                record.pop(name, None)
            mapped = record if stream_map is None else stream_map.transform(record)
            if mapped is not None:
                prepared.append(mapped)
        return prepared

    def _run_after_batch(self, announced: float) -> None:
        """Run, in order, what waits for no more records than ``announced``."""
        while self._after_batch and self._after_batch[0][0] <= announced:
            self._after_batch.popleft()[1]()


@dataclass(frozen=True, slots=True)
class AfterBatch:
    """Among a stream's records: ``action`` runs once the records before it are written."""

    action: Callable[[], None]


#: What a stream's ``account_records`` yields: a record, a list of them, or an AfterBatch.
Item = Record | list[Record] | AfterBatch


@dataclass
class _Batches:
    """How far a stream's BATCH files have got, in records: ``written`` were handed to a file
    (being written or announced), ``announced`` are in files whose BATCH messages were written;
    ``chunk`` holds those yielded since the last file."""

    chunk: list[Record] = field(default_factory=list)
    written: int = 0
    announced: int = 0

    @property
    def yielded(self) -> int:
        return self.written + len(self.chunk)


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
