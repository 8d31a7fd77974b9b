"""Running the project's pipelines against a sandbox, and reading what they landed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.helpers import by_key, midnight

ROOT = Path(__file__).resolve().parents[2]
METRICS = ["impressions", "engagements", "favorites", "url_clicks"]
DAILY = ["tweet.id", "engagement.type", "engagement.day"]
#: The folders of ``.meltano/`` that hold the installed plugins.
PLUGIN_KINDS = ("extractors", "loaders", "utilities")


def copy_project(directory: Path) -> Path:
    """The checkout's Meltano project (``meltano.yml``, ``plugins/``, the dbt project without
    its build output) copied to ``directory``, with the plugins the checkout installed (``make
    test`` runs ``meltano install``) linked, not installed again: Meltano and dbt write their
    state, run files, logs and builds in the copy, never in the checkout's ``.meltano/``."""
    installed = ROOT / ".meltano"
    missing = [kind for kind in PLUGIN_KINDS if not (installed / kind).is_dir()]
    assert not missing, f"the checkout's plugins are not installed ({missing}): run `make test`"
    directory.mkdir(parents=True)
    shutil.copy(ROOT / "meltano.yml", directory / "meltano.yml")
    shutil.copytree(ROOT / "plugins", directory / "plugins")
    shutil.copytree(
        ROOT / "transform",
        directory / "transform",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb"),
    )
    (directory / ".meltano").mkdir()
    for kind in PLUGIN_KINDS:
        (directory / ".meltano" / kind).symlink_to(installed / kind, target_is_directory=True)
    return directory


def meltano_env(
    sandbox, tmp: Path, *, accounts: bool = False, **settings: object
) -> dict[str, str]:
    """Sandbox credentials and settings as Meltano environment variables, for a copy of the
    project made in ``tmp/project`` (``MELTANO_PROJECT_ROOT``), its state and output in tmp.
    ``accounts``: every sandbox account in ``TAP_TWITTER_ENGAGEMENT_ACCOUNTS``, as README shows."""
    credentials: dict[str, object] = dict(sandbox.credentials.as_config())
    if accounts:
        for name in ("access_token", "access_token_secret"):
            credentials.pop(name)
        credentials["accounts"] = sandbox.tap_config_accounts()["accounts"]
    env = {
        **os.environ,
        "MELTANO_PROJECT_ROOT": str(copy_project(tmp / "project")),
        "MELTANO_ENVIRONMENT": "demo",
        "SANDBOX_URL": sandbox.base_url,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp / 'meltano.db'}",
        "TARGET_JSONL_DESTINATION_PATH": str(tmp / "jsonl"),
        # dbt's compiled files and logs per test, not in the clone's transform/
        "DBT_TARGET_PATH": str(tmp / "dbt-target"),
        "DBT_LOG_PATH": str(tmp / "dbt-logs"),
    }
    for name, value in {**credentials, **settings}.items():
        env[f"TAP_TWITTER_ENGAGEMENT_{name.upper()}"] = (
            json.dumps(value) if isinstance(value, list) else str(value)
        )
    return env


def meltano_command(
    meltano: str, env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``meltano <args>`` in ``cwd``, by default the project copy ``env`` names; output
    captured."""
    return subprocess.run(
        [meltano, *args],
        cwd=cwd or env["MELTANO_PROJECT_ROOT"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def meltano_run(meltano: str, env: dict[str, str], *blocks: str) -> str:
    """``meltano run tap-twitter-engagement <blocks>`` in the project copy ``env`` names, which
    must succeed; its log (stderr)."""
    result = meltano_command(meltano, env, "run", "tap-twitter-engagement", *blocks)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def landed(rows: list[tuple]) -> dict[tuple, int]:
    """Rows (account_id, tweet_id, engagement_type, engagement_date, count) keyed as ``by_key``
    keys the tap's records; a duplicate key fails."""
    columns = ("account_id", "tweet_id", "engagement_type", "engagement_date", "engagement_count")
    return by_key([dict(zip(columns, row, strict=True)) for row in rows])


def day(days_back: int) -> str:
    return (midnight(datetime.now(UTC)) - timedelta(days=days_back)).strftime("%Y-%m-%d")
