"""The throughput floor: a bare singer-sdk stream writing given records with the msgspec writer.

``python benchmarks/floor.py TAP_OUTPUT [LEVEL]`` loads the historical stream's RECORD messages
of a tap run into memory, then emits them again through the SDK with the same schema and the
msgspec writer, without any HTTP, so the SDK's own per-record cost is the only cost. LEVEL is
the type conformance level (``RECURSIVE``, the SDK's default for a bare stream, ``ROOT_ONLY`` or
``NONE``, the tap's). It prints the sync's wall and CPU seconds (``process_time``: loading the
records is left out).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.helpers.conform import TypeConformanceLevel


def load(path: str) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
    schema: dict[str, Any] = {}
    keys: list[str] = []
    records = []
    with open(path) as lines:
        for line in lines:
            message = json.loads(line)
            if not str(message.get("stream")).startswith("historical_engagement"):
                continue  # the tap's other streams: the benchmark counts the historical one
            if message["type"] == "SCHEMA":
                schema, keys = message["schema"], message["key_properties"]
            elif message["type"] == "RECORD":
                records.append(message["record"])
    return schema, keys, records


SCHEMA, KEYS, RECORDS = load(sys.argv[1])


class FloorStream(Stream):
    name = "historical_engagement"
    schema = SCHEMA
    primary_keys = KEYS
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel[sys.argv[2] if len(sys.argv) > 2 else "RECURSIVE"]

    def get_records(self, context: Any) -> Any:  # noqa: ARG002
        yield from RECORDS


class FloorTap(Tap):
    name = "floor"
    config_jsonschema: dict[str, Any] = {"type": "object", "properties": {}}  # noqa: RUF012
    message_writer_class = MsgSpecWriter

    def discover_streams(self) -> list[Stream]:
        return [FloorStream(self)]


if __name__ == "__main__":
    floor = FloorTap(config={}, parse_env_config=False)
    started, cpu = time.perf_counter(), time.process_time()
    floor.sync_all()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps({"seconds": seconds, "cpu_seconds": cpu, "records": len(RECORDS)}),
        file=sys.stderr,
    )
