"""BATCH files written by the tap: JSON Lines, uncompressed or gzip at a fast level.

singer-sdk 0.54.9's own JSONL batcher gzips every file at the maximum level and ignores the
``compression`` setting, so a batch of hourly records cost more than sending them as RECORD
messages (BENCHMARKS.md). The files written here are what singer-sdk's targets read
(``Sink.process_batch_files``, e.g. MeltanoLabs' target-postgres): one JSON object per line, the
record as a RECORD message would carry it, gzip when the encoding says ``gzip`` and plain bytes
otherwise, named by ``file://`` (or any fsspec) URLs under the configured storage.
"""

from __future__ import annotations

import gzip
import itertools
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig

#: Fast: level 1 compresses JSON Lines of counts about 8x at a fraction of level 9's CPU.
GZIP_LEVEL = 1


def _default(value: Any) -> Any:
    """What msgspec cannot encode, as the tap's RECORD messages write it (the SDK's msgspec
    writer: a datetime in ISO form, anything else as ``str``)."""
    return value.isoformat(sep="T") if isinstance(value, datetime) else str(value)


_ENCODER = msgspec.json.Encoder(enc_hook=_default, decimal_format="number")


class BatchFiles:
    """Writes chunks of records to numbered files of one stream's run; each file's URL is what a
    BATCH message's manifest lists. ``None`` from :meth:`for_config` when the configured format
    is not JSON Lines (the SDK's own batcher writes that)."""

    def __init__(self, config: BatchConfig, tap_name: str, stream_name: str) -> None:
        self.config = config
        self.gzip = config.encoding.compression == "gzip"
        self.batch_size = max(1, config.batch_size)
        prefix = config.storage.prefix or ""
        suffix = ".json.gz" if self.gzip else ".jsonl"
        # The stem is not a format template: a prefix may hold braces.
        self._stem = f"{prefix}{tap_name}--{stream_name}-{uuid.uuid4()}"
        self._suffix = suffix
        self._numbers = itertools.count(1)

    @classmethod
    def for_config(cls, config: BatchConfig, tap_name: str, stream_name: str) -> BatchFiles | None:
        if config.encoding.format != "jsonl":
            return None
        return cls(config, tap_name, stream_name)

    @property
    def encoding(self) -> BaseBatchFileEncoding:
        return self.config.encoding

    def write(self, records: Sequence[dict[str, Any]]) -> str:
        """One file holding ``records`` in order, one per line; its URL."""
        return self.store(*self.encode(records))

    def encode(self, records: Sequence[dict[str, Any]]) -> tuple[str, bytes]:
        """The next file's name and its content before compression (the records may change
        after this)."""
        name = f"{self._stem}-{next(self._numbers)}{self._suffix}"
        return name, _ENCODER.encode_lines(records)

    def store(self, filename: str, data: bytes) -> str:
        """Compress and write a file (in any thread: zlib and the write release the GIL)."""
        if self.gzip:
            data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
        storage = self.config.storage
        with storage.open(filename, "wb") as file:
            file.write(data)
        return storage.get_url(filename)


class BackgroundFiles:
    """Files compressed and written in a thread of their own while the next file's records
    are made, then handed out in the order they were submitted; at most one file is being
    written and one waits to be handed out, so memory stays at about two files."""

    def __init__(self, files: BatchFiles) -> None:
        self.files = files
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="batch-files")
        self._sent: deque[tuple[Future[str], int]] = deque()

    def submit(self, records: Sequence[dict[str, Any]]) -> None:
        """Encode ``records`` now (they may be reused after) and write them in the thread."""
        filename, data = self.files.encode(records)
        self._sent.append((self._pool.submit(self.files.store, filename, data), len(records)))

    def written(self, keep: int = 0) -> Iterator[tuple[str, int]]:
        """Each submitted file's URL and record count, in order, once written; ``keep``: how
        many of the newest to leave writing."""
        while len(self._sent) > keep:
            future, count = self._sent.popleft()
            yield future.result(), count

    def close(self) -> None:
        """Wait for the file being written (if any); drop the ones not started."""
        self._pool.shutdown(wait=True, cancel_futures=True)
