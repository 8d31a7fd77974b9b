"""The demo: a sandbox with two accounts, then ``meltano run tap-twitter-engagement target-jsonl
dbt-duckdb:build``, a summary from the dbt marts, the sandbox down.

Run through ``make demo`` (``make demo API=post_analytics`` reads Post analytics, ``--api``),
which installs everything first. The demo environment selects the
``tweets`` and ``accounts`` streams too, so the marts name each handle and the top tweets show
their text and a link; the whole period is drawn into ``output/engagement.png`` from the
``twitter_engagement__by_day`` mart. Provisional days (counts X still revises) are marked in the
table and shaded in the picture, and left out of every comparison. Run it again and the second
sync is incremental: Meltano's state store holds each account's coverage, so only the lookback
days are re-read, and the marts count them once. A run on the other API reads the whole period
again (coverage is per API) into the same tables, and the marts keep the latest read of each day.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from scripts.chart import DailySeries, draw
from tap_twitter_engagement.metrics import API_TITLES, APIS, metrics_of

ROOT = Path(__file__).resolve().parent.parent
MELTANO = Path(os.environ.get("MELTANO_BIN", ROOT / ".venv-meltano" / "bin" / "meltano"))
OUTPUT = ROOT / "output" / "jsonl"
PICTURE = ROOT / "output" / "engagement.png"
#: Where dbt-duckdb builds the models (the profile's default path).
MARTS = ROOT / "output" / "engagement.duckdb"
ACCOUNTS = 2


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def start_sandbox(config_path: Path) -> subprocess.Popen[str]:
    """The sandbox in its own process; its first lines give its URL once it listens."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twitter_engagement_sandbox.cli",
            "--port",
            "0",
            "--seed",
            "42",
            "--accounts",
            str(ACCOUNTS),
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
        if line.startswith(("Engagement API sandbox", "accounts:", "  account ")):
            print(f"    {line.rstrip()}")
    process.kill()
    raise SystemExit("The sandbox did not start; run `make sandbox` to see why.")


def meltano_env(config: dict[str, Any], api: str = APIS[0]) -> dict[str, str]:
    """Credentials reach Meltano as environment variables, never through meltano.yml: the
    app's key and secret, and the accounts as JSON (README: Several accounts); and the API the
    historical streams read (the sandbox serves both)."""
    env = {
        **os.environ,
        "SANDBOX_URL": config["api_url"],
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_ENVIRONMENT": "demo",
        "TAP_TWITTER_ENGAGEMENT_ACCOUNTS": json.dumps(config["accounts"]),
        "TAP_TWITTER_ENGAGEMENT_API": api,
    }
    for name in ("consumer_key", "consumer_secret"):
        env[f"TAP_TWITTER_ENGAGEMENT_{name.upper()}"] = config[name]
    return env


def run_pipeline(env: dict[str, str]) -> None:
    before = set(OUTPUT.glob("*.jsonl")) if OUTPUT.exists() else set()
    command = [str(MELTANO), "run", "tap-twitter-engagement", "target-jsonl", "dbt-duckdb:build"]
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
    built = re.findall(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+)", result.stderr)
    if built:
        passed, warned, failed = built[-1]
        print(f"    dbt build: {passed} models and tests passed, {warned} warned, {failed} failed")


def summary(marts: Path = MARTS, picture: Path = PICTURE) -> DailySeries | None:
    """Two small reports and the picture, read from the dbt marts; the plotted series.

    Provisional days (``is_final`` false: X still revises them, and the next runs read them
    again) are marked, and left out of every comparison: their counts are still rising, so a
    difference with a final day is revision, not trend."""
    if not marts.exists():
        print("    no marts: the dbt build did not run")
        return None
    con = duckdb.connect(str(marts), read_only=True)
    total = con.execute(
        "select count(*), count(distinct tweet_id) from twitter_engagement__by_tweet_day"
    ).fetchall()[0]
    print(f"    twitter_engagement__by_tweet_day: {total[0]:,} tweet-days of {total[1]} tweets")
    print("\n    Per account, last 7 days (twitter_engagement__by_account_day):")
    print(f"    {'account':<18}{'day':<12}{'impressions':>13}{'engagements':>13}{'rate':>8}")
    per_account = con.execute("""
        select coalesce('@' || username, account_id), engagement_date, impressions, engagements,
               engagement_rate, coalesce(is_final, true)
        from twitter_engagement__by_account_day
        where engagement_date > (select max(engagement_date)
                                 from twitter_engagement__by_account_day) - 7
        order by 1, 2""").fetchall()
    for handle, day, impressions, engagements, rate, final in per_account:
        shown = f"{rate:.2%}" if rate is not None else "-"
        counts = f"{impressions or 0:>13,}{engagements or 0:>13,}"
        mark = "" if final else "  provisional"
        print(f"    {handle:<18}{day!s:<12}{counts}{shown:>8}{mark}")
    if any(not final for *_, final in per_account):
        print(
            "    provisional: X still revises these days' counts and the next runs read them "
            "again;\n    they are left out of the comparisons below (a difference with them is "
            "revision, not trend)."
        )
    print("\n    Last final day against the same weekday a week before (final days only):")
    compared = con.execute("""
        with final as (
            select coalesce('@' || username, account_id) as handle, engagement_date,
                   engagement_rate
            from twitter_engagement__by_account_day where coalesce(is_final, true)
        ), last as (select handle, max(engagement_date) as day from final group by handle)
        select last.handle, last.day, now.engagement_rate, before.engagement_rate
        from last
        join final as now on now.handle = last.handle and now.engagement_date = last.day
        left join final as before
            on before.handle = last.handle and before.engagement_date = last.day - 7
        order by 1""").fetchall()
    for handle, day, rate, before in compared:
        then = f"{before:.2%}" if before is not None else "-"
        now = f"{rate:.2%}" if rate is not None else "-"
        print(f"    {handle:<18}{day!s:<12}{now:>8} vs {then:>7} a week before")
    print("\n    Top 5 tweets by engagement rate over the final days, at least 1,000 impressions")
    print("    (twitter_engagement__by_tweet_day):")
    top = con.execute("""
        select tweet_id, any_value(tweet_url), coalesce(any_value(text), ''),
               sum(impressions) as impressions, sum(engagements) as engagements
        from twitter_engagement__by_tweet_day where coalesce(is_final, true)
        group by tweet_id having sum(impressions) >= 1000
        order by sum(engagements) / sum(impressions) desc, tweet_id limit 5""").fetchall()
    for _, url, tweet_text, impressions, engagements in top:
        shown = " ".join(tweet_text.split())
        shown = shown if len(shown) <= 48 else shown[:47] + "…"
        print(
            f"    {engagements / impressions:>7.2%} of {impressions:>9,} impressions  "
            f"{shown or '(tweets stream not loaded)'}"
        )
        print(f"             {url}")
    daily = con.execute("""
        select engagement_date, impressions, engagements, coalesce(is_final, true)
        from twitter_engagement__by_day order by 1""").fetchall()
    con.close()
    series = DailySeries.from_rows(
        [(str(d), i or 0, e or 0) for d, i, e, _ in daily],
        provisional=[str(d) for d, *_, final in daily if not final],
    )
    draw(
        series,
        picture,
        f"Daily impressions and engagement rate, {ACCOUNTS} accounts, {series.day[0]} to "
        f"{series.day[-1]} (UTC)",
    )
    where = picture.relative_to(ROOT) if picture.is_relative_to(ROOT) else picture
    print(f"\n    Picture (twitter_engagement__by_day; provisional days shaded): {where}")
    return series


def _partitions(text: str) -> list[dict[str, Any]]:
    """The historical streams' partitions in ``meltano state get``'s output (each shape, e.g.
    ``historical_engagement_wide``, has its own)."""
    try:
        bookmarks = json.loads(text)["singer_state"]["bookmarks"]
        return [
            partition
            for stream, bookmark in bookmarks.items()
            if stream.startswith("historical_engagement")
            for partition in bookmark.get("partitions", [])
        ]
    except (ValueError, KeyError, AttributeError, TypeError):
        return []


def describe_state(text: str) -> str:
    """What the stored state covers, in one line per account (the state lists every tweet id),
    and from which API."""
    partitions = _partitions(text)
    if not partitions:
        return "no coverage yet"
    parts = [
        f"account {partition['context']['account_id']}: {len(span['tweet_ids'])} tweets x "
        f"{len(span['metrics'])} metrics over "
        + ", ".join(f"{first} to {last}" for first, last in span["days"])
        + f" ({API_TITLES.get(stored_api(partition), 'an unknown API')})"
        for partition in partitions
        for span in partition.get("coverage", {}).get("spans", [])
    ]
    return "; ".join(parts) or "nothing delivered yet"


def stored_api(partition: dict[str, Any]) -> str:
    """The API a partition's coverage was read from (states of the Engagement API name none)."""
    return str(partition.get("coverage", {}).get("shape", {}).get("api", APIS[0]))


def first_step(state: str, api: str) -> str:
    """What the coming run reads, from the state Meltano stored for the demo (if any)."""
    title = f"{API_TITLES[api]} (api: {api}, {len(metrics_of(api))} metrics)"
    stored = {stored_api(p) for p in _partitions(state)}
    if not stored:
        return f"Running the pipeline on {title}: first run, the configured period"
    if stored != {api}:
        return (
            f"Running the pipeline on {title}: the stored coverage is another API's, so this "
            "run reads the whole period again"
        )
    return f"Running the pipeline again on {title}: incremental from Meltano's stored coverage"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.demo", description="The demo against the sandbox (make demo)."
    )
    parser.add_argument(
        "--api", choices=APIS, default=APIS[0], help="what the tap reads (make demo API=...)"
    )
    api = parser.parse_args(argv).api
    with tempfile.TemporaryDirectory() as scratch:
        config_path = Path(scratch) / "sandbox-config.json"
        step("Starting the sandbox (it serves the Engagement API and Post analytics)")
        sandbox = start_sandbox(config_path)
        try:
            config = json.loads(config_path.read_text())
            env = meltano_env(config, api)
            state = subprocess.run(
                [str(MELTANO), "state", "get", "demo:tap-twitter-engagement-to-target-jsonl"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            stored = state.stdout if state.returncode == 0 else ""
            step(first_step(stored, api))
            if _partitions(stored):
                print(f"    state: {describe_state(stored)}")
            run_pipeline(env)
            step(f"What the dbt marts say ({MARTS.relative_to(ROOT)})")
            summary()
        finally:
            step("Stopping the sandbox")
            sandbox.terminate()
            sandbox.wait(timeout=10)
    print(
        f"\nDone. Run `make demo API={api}` again for an incremental run (API=engagement_api or "
        "post_analytics); `make clean-demo` starts over."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
