"""The demo: sandbox up, ``meltano run tap-twitter-engagement target-jsonl``, summary, sandbox down.

Run through ``make demo``, which installs everything first. The demo environment selects the
``tweets`` stream too, so the top tweets show their text and a link; the whole period is drawn
into ``output/engagement.png``. Run it again and the second sync is incremental: Meltano's state
store holds the coverage, so only the lookback days are re-read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

from scripts.chart import DailySeries, draw

ROOT = Path(__file__).resolve().parent.parent
MELTANO = Path(os.environ.get("MELTANO_BIN", ROOT / ".venv-meltano" / "bin" / "meltano"))
OUTPUT = ROOT / "output" / "jsonl"
PICTURE = ROOT / "output" / "engagement.png"
KEY = ("tweet_id", "engagement_type", "engagement_date")


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def start_sandbox(config_path: Path) -> subprocess.Popen[str]:
    """The sandbox in its own process; its first lines give its URL once it listens."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_twitter_engagement.sandbox.cli",
            "--port",
            "0",
            "--seed",
            "42",
            "--config-out",
            str(config_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("Press Ctrl+C"):
            return process
        if line.startswith(("Engagement API sandbox", "account:")):
            print(f"    {line.rstrip()}")
    process.kill()
    raise SystemExit("The sandbox did not start; run `make sandbox` to see why.")


def meltano_env(config: dict[str, str]) -> dict[str, str]:
    """Credentials reach Meltano as environment variables, never through meltano.yml."""
    env = {
        **os.environ,
        "SANDBOX_URL": config["api_url"],
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_ENVIRONMENT": "demo",
    }
    for name in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
        env[f"TAP_TWITTER_ENGAGEMENT_{name.upper()}"] = config[name]
    return env


def run_pipeline(env: dict[str, str]) -> None:
    before = set(OUTPUT.glob("*.jsonl")) if OUTPUT.exists() else set()
    command = [str(MELTANO), "run", "tap-twitter-engagement", "target-jsonl"]
    print(f"    $ {' '.join(command[1:])}", flush=True)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(result.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"meltano run failed with exit code {result.returncode}")
    new = sorted(set(OUTPUT.glob("*.jsonl")) - before)
    for path in new:
        rows = sum(1 for _ in path.open())
        print(f"    landed {rows:,} rows in {path.name}")
    if not new:
        print("    landed nothing")


def _latest(con: duckdb.DuckDBPyConnection, table: str, pattern: str, key: Sequence[str]) -> bool:
    """A table of the latest row per key across every file a run left (a lookback re-reads
    days, so a key may be in several files; the newest file wins)."""
    files = sorted(OUTPUT.glob(pattern))
    if not files:
        return False
    con.execute(f"""
        create or replace table {table} as
        select * exclude (rn) from (
          select *, row_number() over (partition by {", ".join(key)} order by filename desc) rn
          from read_json_auto({[str(f) for f in files]!r}, filename = true)) where rn = 1""")
    return True


def summary() -> Path | None:
    """Latest value per key across runs, two small reports, and the picture; its path."""
    con = duckdb.connect()
    if not _latest(con, "rows", "historical_engagement*.jsonl", KEY):
        print("    nothing landed")
        return None
    has_tweets = _latest(con, "tweets", "tweets*.jsonl", ["id"])
    total = con.execute("select count(*), count(distinct tweet_id) from rows").fetchall()[0]
    print(f"    {total[0]:,} distinct rows for {total[1]} tweets")
    daily = con.execute("""
        select engagement_date,
               sum(engagement_count) filter (where engagement_type = 'impressions') impressions,
               sum(engagement_count) filter (where engagement_type = 'engagements') engagements
        from rows group by 1 order by 1""").fetchall()
    print("\n    Impressions and engagements per day, all tweets, last 7 days:")
    print(f"    {'day':<12}{'impressions':>14}{'engagements':>14}{'rate':>8}")
    for day, impressions, engagements in daily[-7:]:
        rate = engagements / impressions if impressions else 0.0
        print(f"    {day!s:<12}{impressions:>14,}{engagements:>14,}{rate:>8.2%}")
    print("\n    Top 5 tweets by engagement rate (at least 1,000 impressions):")
    text = "coalesce(t.text, '')" if has_tweets else "''"
    join = "left join tweets t on t.id = r.tweet_id" if has_tweets else ""
    top = con.execute(f"""
        select r.tweet_id, {text} as text,
               sum(engagement_count) filter (where engagement_type = 'impressions') impressions,
               sum(engagement_count) filter (where engagement_type = 'engagements') engagements
        from rows r {join} group by 1, 2 having impressions >= 1000
        order by engagements / impressions desc, r.tweet_id limit 5""").fetchall()
    for tweet_id, tweet_text, impressions, engagements in top:
        shown = " ".join(tweet_text.split())
        shown = shown if len(shown) <= 48 else shown[:47] + "…"
        print(
            f"    {engagements / impressions:>7.2%} of {impressions:>9,} impressions  "
            f"{shown or '(tweets stream not loaded)'}"
        )
        print(f"             https://x.com/i/web/status/{tweet_id}")
    series = DailySeries.from_rows([(str(d), i or 0, e or 0) for d, i, e in daily])
    picture = draw(
        series,
        PICTURE,
        f"Daily impressions and engagement rate, {series.day[0]} to {series.day[-1]} (UTC)",
    )
    print(f"\n    Picture: {picture.relative_to(ROOT)}")
    return picture


def describe_state(text: str) -> str:
    """What the stored state covers, in one line per account (the state lists every tweet id)."""
    try:
        singer_state = json.loads(text).get("singer_state", {})
        partitions = singer_state["bookmarks"]["historical_engagement"]["partitions"]
    except (ValueError, KeyError, AttributeError):
        return "no coverage yet"
    parts = [
        f"account {partition['context']['account_id']}: {len(span['tweet_ids'])} tweets x "
        f"{len(span['metrics'])} metrics over "
        + ", ".join(f"{first} to {last}" for first, last in span["days"])
        for partition in partitions
        for span in partition.get("coverage", {}).get("spans", [])
    ]
    return "; ".join(parts) or "nothing delivered yet"


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        config_path = Path(scratch) / "sandbox-config.json"
        step("Starting the Engagement API sandbox")
        sandbox = start_sandbox(config_path)
        try:
            config = json.loads(config_path.read_text())
            env = meltano_env(config)
            state = subprocess.run(
                [str(MELTANO), "state", "get", "demo:tap-twitter-engagement-to-target-jsonl"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if state.returncode == 0 and "bookmarks" in state.stdout:
                step("Running the pipeline again: incremental from Meltano's stored coverage")
                print(f"    state: {describe_state(state.stdout)}")
            else:
                step("Running the pipeline (first run: the configured period)")
            run_pipeline(env)
            step("What landed (DuckDB over output/jsonl)")
            summary()
        finally:
            step("Stopping the sandbox")
            sandbox.terminate()
            sandbox.wait(timeout=10)
    print("\nDone. Run `make demo` again for an incremental run; `make clean-demo` starts over.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
