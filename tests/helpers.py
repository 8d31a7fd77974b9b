"""Running the tap in-process and computing what it should emit from the sandbox model."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from requests_oauthlib import OAuth1Session

from tap_twitter_engagement.rollup import COLUMNS
from tap_twitter_engagement.tap import TapTwitterEngagement
from twitter_engagement_sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
#: Credential values of every sandbox the suite starts; conftest fails a test that prints one.
KNOWN_SECRETS: set[str] = set()


@dataclass
class SyncResult:
    """The Singer messages of one run, split by type."""

    schemas: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    #: Records of every stream; ``records`` holds historical_engagement's.
    by_stream: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1]

    def bookmark(self, stream: str = "historical_engagement") -> str | None:
        """The single account's bookmark of ``stream`` in the final STATE."""
        return partition_state(self.final_state, stream).get("replication_key_value")

    def partition(
        self, stream: str = "historical_engagement", account_id: str | None = None
    ) -> dict[str, Any]:
        return partition_state(self.final_state, stream, account_id)


class Target:
    """An upserting target in memory: one table per (key properties, columns) shape. Rows are
    kept without ``read_at`` (when the run read them), so that runs at different times compare;
    ``is_final`` is kept."""

    def __init__(self) -> None:
        self.tables: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[tuple, dict]] = {}

    def load(self, result: SyncResult, stream: str = "historical_engagement") -> None:
        """Upsert ``stream``'s records (``historical_engagement``: whichever shape's stream the
        run wrote)."""
        schema = next(s for s in result.schemas if s["stream"].startswith(stream))
        keys = tuple(schema["key_properties"])
        columns = tuple(sorted(schema["schema"]["properties"]))
        table = self.tables.setdefault((keys, columns), {})
        for record in result.by_stream.get(schema["stream"], []):
            assert set(record) <= set(columns)
            table[tuple(record[k] for k in keys)] = {
                k: v for k, v in record.items() if k != "read_at"
            }


def pin_flow(sandbox: Sandbox, handle: str) -> dict[str, str]:
    """The sandbox's PIN flow, approved as ``handle``: the access token answer (its values are
    added to the secrets no test output may show)."""
    c = sandbox.credentials
    session = OAuth1Session(c.consumer_key, client_secret=c.consumer_secret, callback_uri="oob")
    session.fetch_request_token(f"{sandbox.base_url}/oauth/request_token")
    url = session.authorization_url(f"{sandbox.base_url}/oauth/authorize", **{"as": handle})
    pin = re.search(r'id="pin">(\d{7})<', requests.get(url, timeout=10).text)
    assert pin is not None
    token = session.fetch_access_token(
        f"{sandbox.base_url}/oauth/access_token", verifier=pin.group(1)
    )
    KNOWN_SECRETS.update((token["oauth_token"], token["oauth_token_secret"]))
    return dict(token)


def partition_state(
    state: dict[str, Any], stream: str = "historical_engagement", account_id: str | None = None
) -> dict[str, Any]:
    """The state of one account's partition of ``stream`` (without ``account_id``: the only
    partition there is), or ``{}``."""
    bookmarks = state.get("bookmarks", {})
    if stream == "historical_engagement" and stream not in bookmarks:  # another shape's stream
        stream = next((s for s in bookmarks if s.startswith(stream)), stream)
    parts = bookmarks.get(stream, {}).get("partitions", [])
    if account_id is None:
        assert len(parts) <= 1, f"{len(parts)} partitions: name the account"
        return parts[0] if parts else {}
    return next((p for p in parts if p["context"]["account_id"] == account_id), {})


def partitioned(
    account_id: str, values: dict[str, Any], stream: str = "historical_engagement"
) -> dict[str, Any]:
    """A state holding ``values`` as ``stream``'s state for one account."""
    return {
        "bookmarks": {stream: {"partitions": [{"context": {"account_id": account_id}, **values}]}}
    }


def parse_messages(text: str) -> SyncResult:
    result = SyncResult()
    for line in text.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a Singer message: {line[:300]!r}") from None
        if message["type"] == "SCHEMA":
            result.schemas.append(message)
        elif message["type"] == "RECORD":
            result.by_stream.setdefault(message["stream"], []).append(message["record"])
            if message["stream"].startswith("historical_engagement"):  # any shape's stream
                result.records.append(message["record"])
        elif message["type"] == "STATE":
            result.states.append(message["value"])
    return result


def run_sync(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    streams: list[str] | None = None,
    catalog: dict[str, Any] | None = None,
) -> SyncResult:
    """One full sync in this process, stdout captured (the msgspec writer writes bytes).

    ``streams`` selects those streams through a catalog, as Meltano would; by default the tap
    syncs what is selected by default. ``catalog`` passes a catalog as it is.
    """
    result, error = run_sync_until_error(config, state, streams, catalog)
    if error is not None:
        raise error
    return result


def run_sync_until_error(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    streams: list[str] | None = None,
    catalog: dict[str, Any] | None = None,
) -> tuple[SyncResult, Exception | None]:
    """A sync that may fail: the messages written before the failure, and the failure."""
    buffer = io.BytesIO()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8")
    error: Exception | None = None
    with contextlib.redirect_stdout(wrapper):
        try:
            if streams is not None:
                catalog = catalog_selecting(config, streams)
            tap = TapTwitterEngagement(
                config=dict(config), state=state, catalog=catalog, parse_env_config=False
            )
            tap.sync_and_report()
        except Exception as exc:
            error = exc
        wrapper.flush()
    return parse_messages(buffer.getvalue().decode()), error


def run_raw(config: dict[str, Any], state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every Singer message of one sync, in order, as JSON objects."""
    buffer = io.BytesIO()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8")
    with contextlib.redirect_stdout(wrapper):
        TapTwitterEngagement(config=dict(config), state=state).sync_and_report()
        wrapper.flush()
    return [json.loads(line) for line in buffer.getvalue().decode().splitlines()]


def catalog_selecting(config: dict[str, Any], streams: list[str]) -> dict[str, Any]:
    """The discovered catalog with ``streams`` selected; ``historical_engagement`` selects
    whichever shape's stream the config writes (as Meltano's ``historical_engagement*``)."""
    catalog = TapTwitterEngagement(config=dict(config), parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        name = entry["tap_stream_id"]
        if name.startswith("historical_engagement"):
            name = "historical_engagement"
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = name in streams
    return catalog


def tap_process(
    config_path: Path | str, state_path: Path | str | None = None, *, logs: bool = False
) -> subprocess.Popen[str]:
    """The tap as a separate process (for kill tests), stdout piped; with ``logs`` stderr
    is piped too, at INFO (else discarded)."""
    args = [sys.executable, "-m", "tap_twitter_engagement", "--config", str(config_path)]
    if state_path:
        args += ["--state", str(state_path)]
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if logs else subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "INFO" if logs else "ERROR"},
    )


def kill_after(process: subprocess.Popen[str], marker: str, count: int) -> SyncResult:
    """SIGKILL the tap once ``count`` lines containing ``marker`` were written; return every
    complete message it wrote, as a target would have received them."""
    lines, seen = [], 0
    assert process.stdout is not None
    while seen < count:
        line = process.stdout.readline()
        assert line, "the tap finished before the kill point"
        lines.append(line)
        seen += marker in line
    process.send_signal(signal.SIGKILL)
    # Read through the same text wrapper: communicate(timeout=...) reads the raw pipe and would
    # skip what readline() already buffered.
    rest = process.stdout.read()
    process.wait(timeout=30)
    lines += [line for line in rest.splitlines(keepends=True) if line.endswith("\n")]
    return parse_messages("".join(lines))


def midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def expected_records(
    sandbox: Sandbox,
    tweet_ids: list[str],
    metrics: list[str],
    start: datetime,
    end: datetime,
    group_by: list[str],
    account: int = 0,
) -> list[dict[str, Any]]:
    """The rows the tap must emit for account ``account`` (its index in the sandbox), from the
    model: keys per group_by, exact sums.

    Old videos' video_views are not served by the API, so their per-tweet rows are absent
    (their counts are zero anyway, so sums without tweet.id are unchanged).
    """
    model = sandbox.model
    account_id = model.accounts[account].id
    old_videos = set(model.ids_of_kind("old_video", account))
    served = [i for i in tweet_ids if (t := model.tweet(i)) and not t.deleted]
    columns = [COLUMNS[g] for g in group_by]
    records = []
    for row in model.expected(served, metrics, start, end, group_by):
        record: dict[str, Any] = {"account_id": account_id}
        record.update(zip(columns, row.key, strict=True))
        if record.get("tweet_id") in old_videos and record.get("engagement_type") == (
            "video_views"
        ):
            continue
        if "engagement.day" not in group_by:
            record["period_start"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
            record["period_end"] = end.strftime("%Y-%m-%dT%H:%M:%SZ")
        record["engagement_count"] = row.count
        records.append(record)
    return records


#: Columns that say when and how a row was read, not what it counts.
PROVENANCE = ("is_final", "read_at")


def unstamped(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without ``read_at``, which differs between runs at different times."""
    return [{k: v for k, v in r.items() if k != "read_at"} for r in records]


def by_key(records: list[dict[str, Any]]) -> dict[tuple, int]:
    """Records as {key tuple: count} (columns in name order, ``is_final`` and ``read_at`` left
    out); fails on a duplicate key."""
    out: dict[tuple, int] = {}
    for record in records:
        key = tuple(
            sorted(
                (k, v) for k, v in record.items() if k != "engagement_count" and k not in PROVENANCE
            )
        )
        assert key not in out, f"duplicate key {key}"
        out[key] = record["engagement_count"]
    return out


def day(offset: int, today: date) -> str:
    return (today + timedelta(days=offset)).isoformat()
