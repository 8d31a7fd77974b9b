"""What the tap relies on in singer-sdk's private parts: one test per private override.

Each checks the SDK itself, not our code: if an SDK release stops calling a hook the tap
overrides, or changes what it passes, one of these fails before a user notices (DEVELOPERS.md:
Where the tap touches the SDK).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import signal
from typing import Any

import pytest
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.plugin_base import PluginBase, _ConfigInput

from tap_twitter_engagement.tap import ConfigInput, MessageWriter, TapTwitterEngagement


class _Counting(Stream):
    """A bare SDK stream of three records that counts the per-record state hook's calls."""

    name = "counting"
    schema = th.PropertiesList(th.Property("n", th.IntegerType)).to_dict()
    replication_key = "n"
    calls: list[dict[str, Any]]

    def get_records(self, context: Any) -> Any:  # noqa: ARG002
        yield from ({"n": n} for n in range(3))

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Any = None
    ) -> None:
        self.calls.append({"record": latest_record, "context": context})


class _Bare(Tap):
    name = "bare"
    config_jsonschema = th.PropertiesList().to_dict()

    def discover_streams(self) -> list[Stream]:
        return [_Counting(self)]


def test_the_sdk_advances_state_per_record_through_increment_stream_state():
    """The historical stream overrides ``_increment_stream_state`` with a no-op: coverage
    advances per window instead. That works only while the SDK calls it per record."""
    tap = _Bare(config={}, parse_env_config=False)
    stream = tap.streams["counting"]
    assert isinstance(stream, _Counting)
    stream.calls = []
    with contextlib.redirect_stdout(io.StringIO()):
        stream.sync()
    assert [c["record"]["n"] for c in stream.calls] == [0, 1, 2]


def test_the_sdk_validates_the_config_through_validate_config_in_init():
    """``_validate_config`` is a no-op in the tap (it validates first, with its own one-line
    messages); that silences the SDK only while ``PluginBase.__init__`` goes through it."""
    seen: list[bool] = []

    class Watching(_Bare):
        def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
            seen.append(raise_errors)
            return []

    Watching(config={}, parse_env_config=False, validate_config=False)
    assert seen == [False]
    assert "_validate_config" in vars(TapTwitterEngagement)


def test_the_sdk_hands_sigterm_and_sigint_to_handle_termination():
    """The tap stops every wait in ``_handle_termination``; the SDK must register it for both
    signals, and its own handler must end with SystemExit (which the tap turns into 130/143)."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        tap = _Bare(config={}, parse_env_config=False)
        assert signal.getsignal(signal.SIGTERM) == tap._handle_termination
        assert signal.getsignal(signal.SIGINT) == tap._handle_termination
        with contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit):
            Tap._handle_termination(tap, signal.SIGTERM, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_the_config_option_value_is_the_sdks_config_input():
    """``cb_config`` returns the SDK's ``_ConfigInput`` (the type ``invoke`` receives), with
    the two fields the tap fills."""
    assert ConfigInput is _ConfigInput
    assert [f.name for f in dataclasses.fields(_ConfigInput)] == ["config", "parse_env"]
    assert "cb_config" in vars(PluginBase)
    command = TapTwitterEngagement.get_singer_command()
    (option,) = [p for p in command.params if p.name == "config"]
    assert option.callback is not None


def test_every_message_goes_through_the_writer_class():
    """The tap catches a closed output in ``MessageWriter.write_message``; the SDK must write
    every message through ``message_writer_class``."""
    assert TapTwitterEngagement.message_writer_class is MessageWriter
    tap = TapTwitterEngagement(config={}, credentials_required=False, parse_env_config=False)
    assert isinstance(tap.message_writer, MessageWriter)


def test_the_sdk_syncs_streams_in_the_order_of_the_streams_mapping():
    """``skipped_tweets`` reports what the other streams met only if it syncs last: the tap
    moves it to the end of ``streams`` (the mapping the SDK caches), and ``sync_all`` must
    follow that mapping's order, not the names'."""
    tap = TapTwitterEngagement(config={}, credentials_required=False, parse_env_config=False)
    assert list(tap.streams)[-1] == "skipped_tweets"
    order: list[str] = []

    class Named(_Counting):
        def sync(self, context: Any = None) -> None:  # noqa: ARG002
            order.append(self.name)

    class Reordered(_Bare):
        def discover_streams(self) -> list[Stream]:
            return [Named(self, name="a"), Named(self, name="b")]

        @property
        def streams(self) -> dict[str, Stream]:
            streams = super().streams
            streams["a"] = streams.pop("a")  # "a" last, as the tap moves skipped_tweets
            return streams

    with contextlib.redirect_stdout(io.StringIO()):
        Reordered(config={}, parse_env_config=False).sync_all()
    assert order == ["b", "a"]


def test_the_sdk_writes_each_batch_message_before_it_asks_get_batches_for_the_next():
    """The tap's ``get_batches`` writes a STATE only when the SDK asks it for the next batch,
    which must come after the BATCH message of the one before: otherwise STATE would claim
    records in a file no target was told about. The SDK must also send the encoding and
    manifest ``get_batches`` yields as they are."""
    events: list[str] = []

    class Batching(_Counting):
        def get_batches(self, batch_config: Any, context: Any = None) -> Any:  # noqa: ARG002
            for n in range(2):
                events.append(f"yield {n}")
                yield batch_config.encoding, [f"file:///tmp/batch-{n}.jsonl"]
            events.append("resumed")

    class Writer(MessageWriter):
        def write_message(self, message: Any) -> None:
            kind = message.type.value if hasattr(message.type, "value") else message.type
            if kind == "BATCH":
                events.append(f"BATCH {message.manifest} {message.encoding.compression}")

    class BatchTap(_Bare):
        message_writer_class = Writer

        def discover_streams(self) -> list[Stream]:
            return [Batching(self)]

    batch_config = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": "file:///tmp"},
    }
    tap = BatchTap(config={"batch_config": batch_config}, parse_env_config=False)
    tap.streams["counting"].calls = []  # type: ignore[attr-defined]
    with contextlib.redirect_stdout(io.StringIO()):
        tap.sync_all()
    assert events == [
        "yield 0",
        "BATCH ['file:///tmp/batch-0.jsonl'] none",
        "yield 1",
        "BATCH ['file:///tmp/batch-1.jsonl'] none",
        "resumed",
    ]
