"""End to end through Meltano: into JSONL files and into a real PostgreSQL, against the sandbox."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psycopg

from tap_twitter_engagement.settings import CONFIG_SCHEMA
from tests.helpers import KNOWN_SECRETS, by_key, expected_records, midnight
from tests.project.pipeline import (
    DAILY,
    METRICS,
    ROOT,
    copy_project,
    day,
    landed,
    meltano_command,
    meltano_env,
    meltano_run,
)
from twitter_engagement_sandbox import Sandbox


def test_meltano_yml_is_valid_and_declares_every_setting(project_copy):
    check = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.meltano",
            "meltano.yml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    listed = project_copy.run("config", "list", "tap-twitter-engagement", "--all")
    assert listed.returncode == 0, listed.stderr
    assert "  Group 2: accounts, consumer_key, consumer_secret" in listed.stdout
    for name in CONFIG_SCHEMA["properties"]:
        env_name = f"TAP_TWITTER_ENGAGEMENT_{name.upper()}"
        line = rf"^{name}( \(required[^)]*\))? \[env: {env_name}\]"
        assert re.search(line, listed.stdout, re.MULTILINE), name


def test_meltano_run_into_jsonl_lands_the_model_rows(meltano, sandbox, tmp_path):
    env = meltano_env(
        sandbox, tmp_path, number_of_tweets=8, engagement_types=METRICS, days_back_to_start_from=35
    )
    meltano_run(meltano, env, "target-jsonl")
    today = midnight(datetime.now(UTC))
    expected = expected_records(
        sandbox, sandbox.model.owned_ids()[:8], METRICS, today - timedelta(days=35), today, DAILY
    )
    (output,) = (tmp_path / "jsonl").glob("historical_engagement*.jsonl")
    landed = [json.loads(line) for line in output.read_text().splitlines()]
    assert by_key(landed) == by_key(expected)


# ---------------------------------------------------------------------------- PostgreSQL
def test_meltano_run_into_postgres_twice_upserts_without_duplicates(
    meltano, sandbox, postgres, tmp_path
):
    env = meltano_env(
        sandbox,
        tmp_path,
        number_of_tweets=12,
        engagement_types=METRICS,
        days_back_to_start_from=40,
        lookback_days=3,
    )
    # README's first recipe: host, port, user, password (any, the server trusts loopback)
    env["TARGET_POSTGRES_PORT"] = str(postgres)
    env["TARGET_POSTGRES_PASSWORD"] = "any-password-with-trust-auth"
    today = midnight(datetime.now(UTC))
    expected = expected_records(
        sandbox, sandbox.model.owned_ids()[:12], METRICS, today - timedelta(days=40), today, DAILY
    )
    sums = {
        m: sum(r["engagement_count"] for r in expected if r["engagement_type"] == m)
        for m in METRICS
    }

    def table() -> tuple[int, dict[str, int], int]:
        with psycopg.connect(
            host="127.0.0.1", port=postgres, user="postgres", dbname="postgres"
        ) as conn:
            count = conn.execute(
                "select count(*) from twitter_engagement.historical_engagement"
            ).fetchone()[0]
            per_metric = dict(
                conn.execute(
                    "select engagement_type, sum(engagement_count)::bigint "
                    "from twitter_engagement.historical_engagement group by 1"
                ).fetchall()
            )
            distinct = conn.execute(
                "select count(*) from (select distinct tweet_id, engagement_type, "
                "engagement_date from twitter_engagement.historical_engagement) k"
            ).fetchone()[0]
        return count, per_metric, distinct

    meltano_run(meltano, env, "target-postgres")
    assert table() == (len(expected), sums, len(expected))
    sandbox.reset()
    meltano_run(meltano, env, "target-postgres")  # incremental: re-reads the lookback days
    reread = [r for r in sandbox.requests("insights/historical") if r.status == 200]
    assert len(reread) == 1
    assert reread[0].body["start"] == (today - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert table() == (len(expected), sums, len(expected))


def test_meltano_into_postgres_with_ids_added_between_runs(meltano, sandbox, postgres, tmp_path):
    own = sandbox.model.owned_ids()
    settings = {
        "tweet_selection": "manual",
        "engagement_types": METRICS,
        "days_back_to_start_from": 40,
        "lookback_days": 3,
    }
    env = meltano_env(sandbox, tmp_path, tweet_ids=own[:5], **settings)
    # README's other recipe: the whole connection in one URL
    env["TARGET_POSTGRES_SQLALCHEMY_URL"] = (
        f"postgresql+psycopg://postgres:secret@127.0.0.1:{postgres}/postgres"
    )
    env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = "added_ids"
    meltano_run(meltano, env, "target-postgres")
    env["TAP_TWITTER_ENGAGEMENT_TWEET_IDS"] = json.dumps(own[:8])
    sandbox.reset()
    meltano_run(meltano, env, "target-postgres")
    backfilled = [r for r in sandbox.requests("insights/historical") if r.status == 200]
    # 5 old ids: the lookback window; 3 new ids: the whole 40 days in 2 windows
    assert sorted((len(r.body["tweet_ids"]), r.body["start"][:10]) for r in backfilled) == sorted(
        [(5, day(4)), (3, day(40)), (3, day(12))]
    )
    today = midnight(datetime.now(UTC))
    expected = by_key(
        expected_records(sandbox, own[:8], METRICS, today - timedelta(days=40), today, DAILY)
    )
    with psycopg.connect(
        host="127.0.0.1", port=postgres, user="postgres", dbname="postgres"
    ) as conn:
        rows = conn.execute(
            "select account_id, tweet_id, engagement_type, engagement_date::text, "
            "engagement_count from added_ids.historical_engagement"
        ).fetchall()
    assert landed(rows) == expected  # no duplicates, no missing rows, exact counts


def test_meltano_two_accounts_into_postgres_the_second_added_later(meltano, postgres, tmp_path):
    """README's recipe for several handles: accounts as JSON in the environment, each account a
    partition; the one added later is backfilled, the other reads its lookback."""
    with Sandbox(seed=29, tweets=40, accounts=2, revision_hours=0, rate_limit_per_second=0) as two:
        KNOWN_SECRETS.update(two.secret_values())
        env = meltano_env(
            two,
            tmp_path,
            accounts=True,
            number_of_tweets=6,
            engagement_types=METRICS,
            days_back_to_start_from=40,
            lookback_days=3,
        )
        env["TARGET_POSTGRES_SQLALCHEMY_URL"] = (
            f"postgresql+psycopg://postgres:secret@127.0.0.1:{postgres}/postgres"
        )
        env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = "two_accounts"
        both = env["TAP_TWITTER_ENGAGEMENT_ACCOUNTS"]
        env["TAP_TWITTER_ENGAGEMENT_ACCOUNTS"] = json.dumps(json.loads(both)[:1])
        meltano_run(meltano, env, "target-postgres")
        env["TAP_TWITTER_ENGAGEMENT_ACCOUNTS"] = both
        two.reset()
        meltano_run(meltano, env, "target-postgres")
        starts = {
            (r.body["tweet_ids"][0] in two.model.owned_ids(account=1), r.body["start"][:10])
            for r in two.requests("insights/historical")
            if r.status == 200
        }
        # the first account: its lookback; the second: the whole 40 days in 2 windows
        assert starts == {(False, day(4)), (True, day(40)), (True, day(12))}
        today = midnight(datetime.now(UTC))
        expected = {}
        for account in (0, 1):
            expected |= by_key(
                expected_records(
                    two,
                    two.model.owned_ids(account=account)[:6],
                    METRICS,
                    today - timedelta(days=40),
                    today,
                    DAILY,
                    account=account,
                )
            )
        with psycopg.connect(
            host="127.0.0.1", port=postgres, user="postgres", dbname="postgres"
        ) as conn:
            rows = conn.execute(
                "select account_id, tweet_id, engagement_type, engagement_date::text, "
                "engagement_count from two_accounts.historical_engagement"
            ).fetchall()
            audience = conn.execute(
                "select account_id, username, followers_count from two_accounts.accounts "
                "order by account_id, snapshot_at"
            ).fetchall()
        assert landed(rows) == expected
        users = two.accounts
        followers = [
            two.model.user_public_metrics(u.id, today.date())["followers_count"] for u in users
        ]
        # one row per account per run: the first run had one account, the second both
        assert audience == [
            (users[0].id, users[0].username, followers[0]),
            (users[0].id, users[0].username, followers[0]),
            (users[1].id, users[1].username, followers[1]),
        ]
        # The dbt models over the same tables (README: For analysts, PostgreSQL).
        env["DBT_POSTGRES_PORT"] = str(postgres)
        env["DBT_POSTGRES_SCHEMA"] = "two_accounts_marts"
        build = meltano_command(meltano, env, "invoke", "dbt-postgres", "build")
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        columns = ", ".join(METRICS)
        with psycopg.connect(
            host="127.0.0.1", port=postgres, user="postgres", dbname="postgres"
        ) as conn:
            daily = conn.execute(
                f"select account_id, tweet_id, engagement_date::text, {columns} "
                "from two_accounts_marts.twitter_engagement__by_tweet_day"
            ).fetchall()
            per_account = conn.execute(
                f"select account_id, username, engagement_date::text, {columns} "
                "from two_accounts_marts.twitter_engagement__by_account_day"
            ).fetchall()
        unpivoted = [
            (account_id, tweet_id, metric, day, count)
            for account_id, tweet_id, day, *counts in daily
            for metric, count in zip(METRICS, counts, strict=True)
        ]
        assert landed(unpivoted) == expected
        sums: dict[tuple[str, str, str], int] = {}
        for key, count in expected.items():
            fields = dict(key)
            at = (fields["account_id"], fields["engagement_date"], fields["engagement_type"])
            sums[at] = sums.get(at, 0) + count
        handles = {u.id: u.username for u in users}
        assert {
            (account_id, day, metric): count
            for account_id, username, day, *counts in per_account
            for metric, count in zip(METRICS, counts, strict=True)
            if username == handles[account_id]
        } == sums


# ---------------------------------------------------------------------------- the project


def _plain_env(tmp: Path) -> dict[str, str]:
    """A newcomer's shell: no environment chosen, no credentials, no sandbox."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_TWITTER_ENGAGEMENT_", "MELTANO_ENVIRONMENT", "SANDBOX_URL"))
    }
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["MELTANO_DATABASE_URI"] = f"sqlite:///{tmp / 'meltano.db'}"
    env["MELTANO_PROJECT_ROOT"] = str(copy_project(tmp / "project"))
    return env


def test_selecting_streams_needs_no_credentials(meltano, tmp_path):
    result = meltano_command(
        meltano, _plain_env(tmp_path), "select", "tap-twitter-engagement", "--list", "--all"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[selected   ] historical_engagement.engagement_count" in result.stdout
    assert "tweets.text" in result.stdout


def test_a_plain_run_gets_the_tap_defaults_not_the_demo(meltano, tmp_path):
    env = _plain_env(tmp_path)
    result = meltano_command(meltano, env, "invoke", "--dump=config", "tap-twitter-engagement")
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads(result.stdout)
    assert config["api_url"] == "https://data-api.twitter.com"
    assert config["number_of_tweets"] == 100
    assert config["days_back_to_start_from"] == 28
    demo = meltano_command(
        meltano,
        {**env, "MELTANO_ENVIRONMENT": "demo"},
        "invoke",
        "--dump=config",
        "tap-twitter-engagement",
    )
    assert json.loads(demo.stdout)["number_of_tweets"] == 50


def test_the_plan_runs_throughmeltano_command(meltano, sandbox, tmp_path):
    env = meltano_env(sandbox, tmp_path, number_of_tweets=30, days_back_to_start_from=40)
    result = meltano_command(meltano, env, "invoke", "tap-twitter-engagement:plan")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "  account @sandbox_brand: 30 tweets (recent mode)" in result.stdout
    assert "    requests: 4: 4 backfill (days never delivered), 0 incremental" in result.stdout
    assert not sandbox.requests("insights/historical")


def test_csv_runs_accumulate_one_file_each(meltano, sandbox, tmp_path):
    env = meltano_env(
        sandbox, tmp_path, number_of_tweets=4, engagement_types=METRICS, days_back_to_start_from=30
    )
    env["TARGET_CSV_OUTPUT_PATH"] = str(tmp_path / "csv")
    meltano_run(meltano, env, "target-csv")
    time.sleep(1.1)  # the file name has the second of the run; two runs, two names
    meltano_run(meltano, env, "target-csv")
    files = sorted((tmp_path / "csv").glob("historical_engagement-*.csv"))
    assert len(files) == 2
    rows = (
        duckdb.connect()
        .execute(f"""
        select account_id::varchar, tweet_id::varchar, engagement_type,
               engagement_date::varchar, engagement_count
        from (select *, row_number() over (partition by tweet_id, engagement_type,
              engagement_date order by filename desc) rn
              from read_csv_auto('{tmp_path}/csv/historical_engagement-*.csv', filename = true,
                                 types = {{'tweet_id': 'VARCHAR', 'account_id': 'VARCHAR'}}))
        where rn = 1""")
        .fetchall()
    )
    today = midnight(datetime.now(UTC))
    expected = expected_records(
        sandbox, sandbox.model.owned_ids()[:4], METRICS, today - timedelta(days=30), today, DAILY
    )
    assert landed(rows) == by_key(expected)


def test_the_extractor_can_be_added_from_its_hub_definition(meltano, tmp_path):
    env = _plain_env(tmp_path)
    del env["MELTANO_PROJECT_ROOT"]  # a fresh project, not a copy of this one
    (tmp_path / "fresh").mkdir()
    init = meltano_command(
        meltano, env, "init", "project", "--no-usage-stats", cwd=tmp_path / "fresh"
    )
    assert init.returncode == 0, init.stderr[-3000:]
    project = tmp_path / "fresh" / "project"
    ref = ROOT / "plugins" / "extractors" / "tap-twitter-engagement.yml"
    added = meltano_command(
        meltano,
        env,
        *["add", "extractor", "tap-twitter-engagement", "--from-ref", str(ref), "--no-install"],
        cwd=project,
    )
    assert added.returncode == 0, added.stderr[-3000:]
    listed = meltano_command(
        meltano, env, "config", "list", "tap-twitter-engagement", "--all", cwd=project
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "max_wait_seconds [env: TAP_TWITTER_ENGAGEMENT_MAX_WAIT_SECONDS] current value: 300" in (
        listed.stdout
    )


def test_make_sandbox_env_file_points_the_demo_environment_at_it(meltano, tmp_path):
    """README: `make sandbox`, then `source sandbox.env && meltano --environment demo ...`."""
    env_file = tmp_path / "sandbox.env"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twitter_engagement_sandbox.cli",
            "--port",
            "0",
            "--env-out",
            str(env_file),
            "--rate-limit-per-second",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(" on ")[-1].strip()
        while "Press Ctrl+C" not in process.stdout.readline():
            pass
        env = {**_plain_env(tmp_path), "MELTANO": meltano}
        shell = subprocess.run(
            [
                "bash",
                "-c",
                f'source {env_file} && "$MELTANO" --environment demo invoke --dump=config '
                "tap-twitter-engagement",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert shell.returncode == 0, shell.stderr[-3000:]
        config = json.loads(shell.stdout)
        # `${SANDBOX_URL}/`: a slash the tap drops, so that an empty variable is refused.
        assert config["api_url"] == config["timeline_api_url"] == f"{url}/"
        assert config["consumer_key"]  # the sandbox's, from the sourced file
    finally:
        process.terminate()
        process.wait(timeout=30)
