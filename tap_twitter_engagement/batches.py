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
import uuid
from collections.abc import Sequence
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
        self._name = f"{prefix}{tap_name}--{stream_name}-{uuid.uuid4()}-{{}}{suffix}"
        self._written = 0

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
        data = _ENCODER.encode_lines(records)
        if self.gzip:
            data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
        self._written += 1
        filename = self._name.format(self._written)
        storage = self.config.storage
        with storage.open(filename, "wb") as file:
            file.write(data)
        return storage.get_url(filename)
