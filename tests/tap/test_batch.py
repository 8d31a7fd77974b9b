"""BATCH messages: the tap's own JSONL files hold exactly RECORD mode's records, in order, plain
or gzip as ``batch_config`` asks, and STATE never claims a record no BATCH message announced."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import signal
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from singer_sdk.contrib.msgspec import serialize_jsonl
from singer_sdk.helpers._batch import BatchConfig
from singer_sdk.singerlib import RecordMessage, StateMessage

from tap_twitter_engagement.batches import BatchFiles
from tap_twitter_engagement.coverage import Coverage, day_strings
from tap_twitter_engagement.tap import MessageWriter, TapTwitterEngagement
from tests.helpers import (
    KNOWN_SECRETS,
    by_key,
    expected_records,
    midnight,
    partition_state,
    run_raw,
    run_sync,
    tap_process,
    unstamped,
)
from tests.tap.test_failures import Output
from twitter_engagement_sandbox import Sandbox

HOURLY = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
METRICS = ["impressions", "favorites"]
#: The hourly shape's stream (``shape_stream_name``).
STREAM = "historical_engagement_by_tweet_type_day_hour"


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def _settings(sandbox, **extra: Any) -> dict[str, Any]:
    """26 tweets (two batches of ids) over 30 days (two windows), hourly: ~37,000 records."""
    return {
        "tweet_selection": "manual",
        "tweet_ids": sandbox.model.owned_ids()[:26],
        "engagement_types": METRICS,
        "days_back_to_start_from": 30,
        "group_by": HOURLY,
        **extra,
    }


def _batch_config(root: Path, compression: str, size: int = 5000) -> dict[str, Any]:
    return {
        "encoding": {"format": "jsonl", "compression": compression},
        "storage": {"root": root.as_uri(), "prefix": "b-"},
        "batch_size": size,
    }


def _read(url: str, compression: str) -> list[dict[str, Any]]:
    data = Path(url.removeprefix("file://")).read_bytes()
    if compression == "gzip":
        assert data[:2] == b"\x1f\x8b"  # a gzip member
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.decode().splitlines()]


def _announced(messages: list[dict], stream: str = "historical_engagement") -> list[dict]:
    """Every record the BATCH messages of ``stream`` announce, in message and manifest order."""
    records = []
    for message in messages:
        if message["type"] == "BATCH" and message["stream"] == stream:
            compression = message["encoding"]["compression"]
            for url in message["manifest"]:
                records += _read(url, compression)
    return records


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_batch_files_hold_exactly_the_records_of_recordrun_raw(sandbox, now, tmp_path, compression):
    settings = _settings(sandbox)
    plain = run_sync(sandbox.tap_config(**settings))
    sandbox.reset()
    config = sandbox.tap_config(**settings, batch_config=_batch_config(tmp_path, compression))
    messages = run_raw(config)
    assert "RECORD" not in {m["type"] for m in messages if m.get("stream") == STREAM}
    batches = [m for m in messages if m["type"] == "BATCH" and m["stream"] == STREAM]
    records = _announced(messages, STREAM)
    # Same records, same values, same order; every file full but the last.
    assert unstamped(records) == unstamped(plain.records)
    assert len(records) == 26 * 30 * 24 * 2
    assert len(batches) == -(-len(records) // 5000)
    assert [len(_read(b["manifest"][0], compression)) for b in batches[:-1]] == [5000] * (
        len(batches) - 1
    )
    # The SDK's manifest format, which its targets read.
    for batch in batches:
        assert batch["encoding"] == {"format": "jsonl", "compression": compression}
        (url,) = batch["manifest"]
        assert url.startswith(f"file://{tmp_path}/b-tap-twitter-engagement--{STREAM}-")
        assert url.endswith(".json.gz" if compression == "gzip" else ".jsonl")
    # The exact counts, as the model says.
    today = midnight(now)
    expected = expected_records(
        sandbox, settings["tweet_ids"], METRICS, today - timedelta(days=30), today, HOURLY
    )
    assert by_key(records) == by_key(expected)
    # The final state equals RECORD mode's.
    assert messages[-1]["type"] == "STATE"
    assert messages[-1]["value"] == plain.final_state


def test_gzip_is_fast_and_smaller_than_plain(tmp_path):
    """A fast level: the files are gzip at level 1 (the SDK's own batcher writes level 9)."""
    records = [{"n": n, "day": "2026-01-01", "count": n % 7} for n in range(2000)]
    sizes = {}
    for compression in ("gzip", "none"):
        config = BatchConfig.from_dict(_batch_config(tmp_path, compression))
        url = BatchFiles(config, "tap", "s").write(records)
        assert _read(url, compression) == records
        path = Path(url.removeprefix("file://"))
        sizes[compression] = path.stat().st_size
        if compression == "gzip":
            assert path.read_bytes()[8] == 4  # the header's XFL: written at the fastest level
    assert sizes["gzip"] * 4 < sizes["none"]


def test_state_moves_only_after_the_batch_holding_its_records(sandbox, now, tmp_path):
    """Every STATE claims only records announced before it: each (tweet, metric, day) its
    coverage holds has all its hours in files of BATCH messages written before it. With files
    of 3,000 records the coverage advances during the run, window by window."""
    settings = _settings(sandbox, engagement_types=["impressions"])
    config = sandbox.tap_config(**settings, batch_config=_batch_config(tmp_path, "none", 3000))
    messages = run_raw(config)
    today = midnight(now)
    expected = by_key(
        expected_records(
            sandbox,
            settings["tweet_ids"],
            ["impressions"],
            today - timedelta(days=30),
            today,
            HOURLY,
        )
    )
    advances = 0
    seen = None
    for i, message in enumerate(messages):
        if message["type"] != "STATE":
            continue
        encoded = partition_state(message["value"], STREAM).get("coverage")
        if encoded is None or encoded == seen:
            continue
        seen, advances = encoded, advances + 1
        coverage = Coverage.decode(encoded)
        announced = by_key(_announced(messages[:i], STREAM))
        claimed = {
            key: count
            for key, count in expected.items()
            if dict(key)["engagement_date"]
            in day_strings(coverage.get(dict(key)["tweet_id"], "impressions"))
        }
        assert claimed
        assert claimed.items() <= announced.items()
    assert advances == 2  # the first window (28 days), then both: during the run


@pytest.mark.parametrize("crash_at", [0, 1])
def test_a_resume_from_any_state_after_a_batch_ends_equal_to_one_run(
    sandbox, now, tmp_path, crash_at
):
    """A crash right after a STATE, then a run from that STATE: what the target loaded from
    both runs' BATCH messages equals one uninterrupted run's records."""
    settings = _settings(sandbox, engagement_types=["impressions"])
    config = sandbox.tap_config(**settings, batch_config=_batch_config(tmp_path, "gzip", 3000))
    messages = run_raw(config)
    full = by_key(_announced(messages, STREAM))
    states = [
        i
        for i, m in enumerate(messages)
        if m["type"] == "STATE" and partition_state(m["value"], STREAM).get("coverage")
    ]
    cut = states[crash_at]
    target: dict[tuple, int] = {}
    target.update(by_key(_announced(messages[:cut], STREAM)))
    sandbox.reset()
    resumed = run_raw(config, state=messages[cut]["value"])
    assert len(sandbox.requests("insights/historical")) < 4  # the covered window is not re-read
    target.update(by_key(_announced(resumed, STREAM)))
    assert target == full


def test_other_streams_and_stream_maps_write_what_record_messages_carry(sandbox, now, tmp_path):
    """The tracked stream's batch holds its RECORD messages' records; a stream map's filter and
    computed column apply to batch files as to RECORD messages."""
    maps = {
        "historical_engagement": {
            "__filter__": "engagement_type == 'impressions'",
            "month": "engagement_date[:7]",
        }
    }
    settings = {
        "tweet_selection": "manual",
        "tweet_ids": sandbox.model.owned_ids()[:3],
        "engagement_types": ["impressions", "favorites"],
        "days_back_to_start_from": 10,
        "stream_maps": maps,
    }
    plain = run_sync(sandbox.tap_config(**settings))
    messages = run_raw(sandbox.tap_config(**settings, batch_config=_batch_config(tmp_path, "gzip")))
    records = _announced(messages)
    assert records
    assert unstamped(records) == unstamped(plain.records)
    assert {r["engagement_type"] for r in records} == {"impressions"}
    assert all(r["month"] == r["engagement_date"][:7] for r in records)
    tracked = _announced(messages, "tracked")
    assert tracked
    assert [{k: v for k, v in r.items() if k != "snapshot_at"} for r in tracked] == [
        {k: v for k, v in r.items() if k != "snapshot_at"} for r in plain.by_stream["tracked"]
    ]


def test_a_signal_while_waiting_leaves_a_state_of_announced_records_only(sandbox, tmp_path):
    """SIGTERM while a 429 holds the second window: the files of the first window were
    announced and its STATE written as soon as its last file's BATCH message was, so the run
    ends claiming exactly the first window, and a resume from it ends equal to one run."""
    settings = {
        "tweet_selection": "manual",
        "tweet_ids": sandbox.model.owned_ids()[:30],  # 2 batches per window
        "engagement_types": ["impressions"],
        "days_back_to_start_from": 40,  # 2 windows
        "max_concurrent_requests": 1,
        "max_wait_seconds": 3600,
    }
    full = run_sync(sandbox.tap_config(**settings))
    first_days = sorted({r["engagement_date"] for r in full.records})[:28]
    first = [r for r in full.records if r["engagement_date"] in first_days]
    # Files of exactly the first window's records: it ends at a file's end.
    config = sandbox.tap_config(
        **settings, batch_config=_batch_config(tmp_path, "none", size=len(first))
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    sandbox.reset()
    # GET /2/users/me, then window 1 (requests 2 and 3); request 4 gets a 429 for 3000 s.
    sandbox.faults.burst_429_every, sandbox.faults.burst_429_length = 4, 1
    sandbox.faults.burst_429_header, sandbox.faults.burst_429_seconds = "retry-after", 3000
    process = tap_process(config_path, logs=True)
    output = Output(process)
    output.wait_for("Retrying POST /insights/engagement/historical in 3000")
    process.send_signal(signal.SIGTERM)
    out, err = output.finish()
    assert process.returncode == 143, err[-3000:]
    messages = [json.loads(line) for line in out.splitlines()]
    announced = _announced(messages)
    assert by_key(announced) == by_key(first)
    last_state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    coverage = Coverage.decode(partition_state(last_state)["coverage"])
    claimed = {
        (tweet_id, day)
        for tweet_id in settings["tweet_ids"]
        for day in day_strings(coverage.get(tweet_id, "impressions"))
    }
    assert claimed == {(tweet_id, day) for tweet_id in settings["tweet_ids"] for day in first_days}
    sandbox.faults.burst_429_every = 0
    sandbox.reset()
    resumed = run_raw(config, state=last_state)
    assert {**by_key(announced), **by_key(_announced(resumed))} == by_key(full.records)


def test_several_accounts_batch_as_record_messages_and_keep_their_states(tmp_path):
    """Three accounts (partitions) in files of 700 records, a file spanning two accounts: the
    records are RECORD mode's, in order, and each account's STATE is RECORD mode's; every STATE
    claims only announced records."""
    with Sandbox(seed=17, tweets=40, accounts=3, revision_hours=0, rate_limit_per_second=0) as sb:
        KNOWN_SECRETS.update(sb.secret_values())
        moment = sb.model.anchor + timedelta(hours=13, minutes=37)
        with time_machine.travel(moment, tick=True):
            settings = {
                "number_of_tweets": 10,
                "engagement_types": METRICS,
                "days_back_to_start_from": 35,
                "max_concurrent_requests": 4,
            }
            plain = run_sync(sb.tap_config_accounts(**settings))
            sb.reset()
            config = sb.tap_config_accounts(
                **settings, batch_config=_batch_config(tmp_path, "gzip", size=700)
            )
            messages = run_raw(config)
    records = _announced(messages)
    assert len({r["account_id"] for r in records}) == 3
    assert unstamped(records) == unstamped(plain.records)
    assert messages[-1]["value"] == plain.final_state
    checked = 0
    for i, message in enumerate(messages):
        if message["type"] != "STATE":
            continue
        announced = by_key(_announced(messages[:i]))
        for account in sb.model.accounts:
            coverage = partition_state(message["value"], account_id=account.id).get("coverage")
            if coverage is None:
                continue
            checked += 1
            claimed = {
                key
                for key in by_key(plain.records)
                if dict(key)["account_id"] == account.id
                and dict(key)["engagement_date"]
                in day_strings(Coverage.decode(coverage).get(dict(key)["tweet_id"], "impressions"))
            }
            assert claimed <= announced.keys()
    assert checked >= 3  # at least each account's last STATE


def test_values_msgspec_cannot_encode_are_written_as_record_messages_write_them(tmp_path):
    """Byte for byte what the SDK's msgspec writer (the tap's RECORD messages) writes."""
    config = BatchConfig.from_dict(_batch_config(tmp_path, "none"))
    record = {
        "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "day": date(2026, 1, 2),
        "amount": Decimal("1.50"),
        "n": 2**63 - 1,
        "ok": True,
        "none": None,
    }
    url = BatchFiles(config, "tap", "s").write([record])
    written = Path(url.removeprefix("file://")).read_bytes()
    assert written == (
        b'{"at":"2026-01-02T03:04:05Z","day":"2026-01-02","amount":1.50,'
        b'"n":9223372036854775807,"ok":true,"none":null}\n'
    )
    assert written == bytes(serialize_jsonl(record))  # what a RECORD message's record holds


def test_test_mode_writes_one_record_per_stream(sandbox, now, tmp_path):
    """``--test`` (a dry run of one record per stream) with ``batch_config``: one file of one
    record (the SDK's own batcher writes none: its cap fails the file it was filling)."""
    config = sandbox.tap_config(
        **_settings(sandbox, tweet_ids=sandbox.model.owned_ids()[:2], days_back_to_start_from=3),
        batch_config=_batch_config(tmp_path, "gzip"),
    )
    buffer = io.BytesIO()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8")
    with contextlib.redirect_stdout(wrapper):
        TapTwitterEngagement(config=dict(config)).run_sync_dry_run(dry_run_record_limit=1)
        wrapper.flush()
    messages = [json.loads(line) for line in buffer.getvalue().decode().splitlines()]
    records = _announced(messages, STREAM)
    assert len(records) == 1
    assert records[0]["tweet_id"] in config["tweet_ids"]


# ---------------------------------------------------------------------------- RECORD messages
class _CountingStdout(io.TextIOWrapper):
    """stdout over bytes that counts its flushes and what was written at each."""

    def __init__(self) -> None:
        self.raw_bytes = io.BytesIO()
        super().__init__(io.BufferedWriter(self.raw_bytes), encoding="utf-8")
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        super().flush()
        self.flushed_at.append(len(self.raw_bytes.getvalue()))


def test_record_messages_are_not_flushed_one_by_one_and_state_flushes_them():
    """A flush per record was a system call per record; a STATE (or any other message) flushes
    the records before it, so the target never has a STATE before its records."""
    writer = MessageWriter()
    out = _CountingStdout()
    with contextlib.redirect_stdout(out):
        for n in range(3):
            writer.write_message(RecordMessage(stream="s", record={"n": n}))
        records_written = len(out.raw_bytes.getvalue())
        writer.write_message(StateMessage(value={"bookmarks": {}}))
    assert records_written == 0  # the records waited in the buffer
    lines = [json.loads(line) for line in out.raw_bytes.getvalue().decode().splitlines()]
    assert [m["type"] for m in lines] == ["RECORD", "RECORD", "RECORD", "STATE"]
    assert out.flushed_at[-1] == len(out.raw_bytes.getvalue())  # all out after the STATE


def test_a_prefix_with_braces_names_the_files_as_given(tmp_path):
    config = _batch_config(tmp_path, "none")
    config["storage"]["prefix"] = "run-{x}-"
    files = BatchFiles(BatchConfig.from_dict(config), "tap", "s")
    url = files.write([{"n": 1}])
    assert Path(url.removeprefix("file://")).name.startswith("run-{x}-tap--s-")
    assert url.endswith("-1.jsonl")
    assert _read(url, "none") == [{"n": 1}]
