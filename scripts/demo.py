"""The demo: sandbox up, ``meltano run tap-twitter-engagement target-jsonl``, summary, sandbox down.

Run through ``make demo``, which installs everything first. Run it again and the second sync is
incremental: Meltano's state store holds the bookmark, so only the lookback days are re-read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
MELTANO = Path(os.environ.get("MELTANO_BIN", ROOT / ".venv-meltano" / "bin" / "meltano"))
OUTPUT = ROOT / "output" / "jsonl"
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
    rows = sum(sum(1 for _ in path.open()) for path in new)
    days = (
        duckdb.connect()
        .execute(
            f"select min(engagement_date), max(engagement_date) from read_json_auto("
            f"{[str(p) for p in new]!r})"
        )
        .fetchall()[0]
        if new
        else (None, None)
    )
    print(
        f"    landed {rows:,} rows in {', '.join(p.name for p in new) or 'no file'}"
        f" (days {days[0]} to {days[1]})"
    )


def summary() -> None:
    """Latest value per key across runs (a lookback re-reads days), then two small reports."""
    files = str(OUTPUT / "historical_engagement*.jsonl")
    con = duckdb.connect()
    con.execute(f"""
        create table rows as
        select * exclude (rn) from (
          select *, row_number() over (partition by {", ".join(KEY)} order by filename desc) rn
          from read_json_auto('{files}', filename = true)) where rn = 1""")
    total = con.execute("select count(*), count(distinct tweet_id) from rows").fetchall()[0]
    print(f"    {total[0]:,} distinct rows for {total[1]} tweets")
    print("\n    Impressions and engagements per day, all tweets, last 7 days:")
    daily = con.execute("""
        select engagement_date,
               sum(engagement_count) filter (where engagement_type = 'impressions') impressions,
               sum(engagement_count) filter (where engagement_type = 'engagements') engagements
        from rows group by 1 order by 1 desc limit 7""").fetchall()
    print(f"    {'day':<12}{'impressions':>14}{'engagements':>14}{'rate':>8}")
    for day, impressions, engagements in daily:
        rate = engagements / impressions if impressions else 0.0
        print(f"    {day!s:<12}{impressions:>14,}{engagements:>14,}{rate:>8.2%}")
    print("\n    Top 5 tweets by engagement rate (at least 1,000 impressions):")
    top = con.execute("""
        select tweet_id,
               sum(engagement_count) filter (where engagement_type = 'impressions') impressions,
               sum(engagement_count) filter (where engagement_type = 'engagements') engagements
        from rows group by 1 having impressions >= 1000
        order by engagements / impressions desc, tweet_id limit 5""").fetchall()
    print(f"    {'tweet':<22}{'impressions':>14}{'engagements':>14}{'rate':>8}")
    for tweet_id, impressions, engagements in top:
        print(
            f"    {tweet_id:<22}{impressions:>14,}{engagements:>14,}"
            f"{engagements / impressions:>8.2%}"
        )


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
                step("Running the pipeline again: incremental from Meltano's stored bookmark")
                print(f"    state: {state.stdout.strip()[-160:]}")
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
