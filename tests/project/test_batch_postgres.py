"""The tap's BATCH output at hourly grain, loaded into a real PostgreSQL by target-postgres.

target-postgres (MeltanoLabs 0.8.1, singer-sdk's ``process_batch_files``) runs through Meltano
in a copy of the project (``copy_project``), never in the checkout; the rows it loads must be
the sandbox's and RECORD mode's, for both codecs.
"""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import psycopg
import pytest
import time_machine

from tests.helpers import by_key, expected_records, midnight, run_raw, run_sync
from tests.project.conftest import MeltanoProject, clean_env
from tests.project.pipeline import copy_project

HOURLY = ["tweet.id", "engagement.type", "engagement.day", "engagement.hour"]
TABLE = "historical_engagement_by_tweet_type_day_hour"
COLUMNS = (
    "account_id",
    "tweet_id",
    "engagement_type",
    "engagement_date",
    "engagement_hour",
    "engagement_count",
    "is_final",
)


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


@pytest.fixture(scope="module")
def loader(meltano: str, tmp_path_factory: pytest.TempPathFactory) -> MeltanoProject:
    """A copy of the project of this module's own (``copy_project``: the installed plugins
    linked), where Meltano runs target-postgres."""
    return MeltanoProject(copy_project(tmp_path_factory.mktemp("batch") / "project"), meltano)


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_hourly_batch_files_load_into_postgres_as_record_messages_do(
    loader, postgres, sandbox, now, tmp_path, compression
):
    settings = {
        "tweet_selection": "manual",
        "tweet_ids": sandbox.model.owned_ids()[:26],  # two batches of ids
        "engagement_types": ["impressions", "favorites"],
        "days_back_to_start_from": 30,  # two windows
        "group_by": HOURLY,
    }
    plain = run_sync(sandbox.tap_config(**settings))
    batch_config = {
        "encoding": {"format": "jsonl", "compression": compression},
        "storage": {"root": (tmp_path / "batches").as_uri()},
        "batch_size": 10_000,
    }
    messages = run_raw(sandbox.tap_config(**settings, batch_config=batch_config))
    output = "".join(json.dumps(m) + "\n" for m in messages).encode()
    kinds = [m["type"] for m in messages]
    assert kinds.count("BATCH") >= 4  # ~37,000 hourly rows in files of 10,000
    assert "RECORD" not in kinds[: kinds.index("BATCH") + 1]

    schema = f"batch_{compression}"
    loaded = subprocess.run(
        [loader.meltano, "invoke", "target-postgres"],
        cwd=loader.root,
        input=output,
        env=clean_env(
            MELTANO_DATABASE_URI=f"sqlite:///{tmp_path / 'meltano.db'}",
            TARGET_POSTGRES_PORT=str(postgres),
            TARGET_POSTGRES_PASSWORD="any-password-with-trust-auth",
            TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        ),
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:].decode()
    # The target confirms the tap's last STATE once the batches are loaded.
    echoed = [json.loads(line) for line in loaded.stdout.splitlines() if line.strip()]
    assert echoed[-1] == plain.final_state

    with psycopg.connect(
        host="127.0.0.1", port=postgres, user="postgres", dbname="postgres"
    ) as conn:
        rows = conn.execute(f"select {', '.join(COLUMNS)} from {schema}.{TABLE}").fetchall()
    landed = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    for row in landed:
        row["engagement_date"] = row["engagement_date"].isoformat()
    today = midnight(now)
    expected = expected_records(
        sandbox,
        settings["tweet_ids"],
        settings["engagement_types"],
        today - timedelta(days=30),
        today,
        HOURLY,
    )
    assert len(landed) == len(expected) == 26 * 30 * 24 * 2
    assert by_key(landed) == by_key(expected)  # the sandbox's counts, no row twice
    record_rows = sorted(tuple(r[c] for c in COLUMNS) for r in plain.records)
    assert sorted(tuple(r[c] for c in COLUMNS) for r in landed) == record_rows
