"""What Meltano 4.4 does with the project and the Hub definition, through its command line: the
default selection, the daily job and its schedule, README's `meltano add` lines in a fresh
project, and the demo environment refusing to run without `SANDBOX_URL`. Each runs Meltano in a
project of its own (``project_copy``, or a fresh ``meltano init``), never in the checkout."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_twitter_engagement.commands import meltano_definition
from tests.project.conftest import MeltanoProject, clean_env
from tests.project.pipeline import ROOT

#: What the tap says, in one line, when the demo environment runs without SANDBOX_URL.
NO_SANDBOX_URL = (
    "Invalid setting api_url: '/' has no scheme or host: an environment variable it is built "
    "from (such as SANDBOX_URL) is likely unset or empty; set it, or use a base URL such as "
    "https://data-api.twitter.com"
)
#: Credentials the tap accepts, so that it gets as far as the URLs; never sent anywhere.
FAKE_CREDENTIALS = {
    "TAP_TWITTER_ENGAGEMENT_CONSUMER_KEY": "fake-consumer-key-4f1d",
    "TAP_TWITTER_ENGAGEMENT_CONSUMER_SECRET": "fake-consumer-secret-9b2e",
    "TAP_TWITTER_ENGAGEMENT_ACCESS_TOKEN": "12345-fake-access-token-77c0",
    "TAP_TWITTER_ENGAGEMENT_ACCESS_TOKEN_SECRET": "fake-access-token-secret-a3d8",
}
#: A proxy nothing listens on: were the tap to send a request anyway, it would fail here,
#: on this machine, instead of reaching X's hosts.
DEAD_PROXY = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOG_LINE = re.compile(r"^\S+ \[(?P<level>\w+)\s*\] (?P<logger>\S+) (?P<message>.*)$")


def _logged(stderr: str, logger: str, level: str) -> list[str]:
    """The messages Meltano's console log shows from ``logger`` at ``level``."""
    found = (LOG_LINE.match(line) for line in ANSI.sub("", stderr).splitlines())
    return [m["message"] for m in found if m and m["logger"] == logger and m["level"] == level]


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


# ------------------------------------------------------------------ selection, plan command
def test_meltano_selects_only_the_historical_engagement_by_default(project_copy: MeltanoProject):
    listed = _json(project_copy.run("select", "tap-twitter-engagement", "--json", "--all"))
    assert listed["enabled_patterns"] == ["historical_engagement*.*", "tracked.*"]
    selection: dict[str, set[str]] = {}
    for row in listed["streams"]:
        selection.setdefault(row["stream"], set()).add(row["selection"])
    assert selection.pop("historical_engagement") == {"selected", "automatic"}
    assert selection.pop("tracked") == {"selected", "automatic"}
    assert set(selection) == {
        "engagement_totals",
        "engagement_28hr",
        "tweets",
        "skipped_tweets",
        "accounts",
    }
    assert all(states == {"excluded"} for states in selection.values()), selection


def test_meltano_lists_the_plan_command(project_copy: MeltanoProject):
    listed = project_copy.run("invoke", "--list-commands", "tap-twitter-engagement")
    assert listed.returncode == 0, listed.stderr[-3000:]
    description = meltano_definition.COMMANDS["plan"]["description"]
    assert listed.stdout.split() == ["tap-twitter-engagement:plan", *description.split()]


# ------------------------------------------------------------------------ job and schedule
TASK = "tap-twitter-engagement target-postgres dbt-postgres:build"


def test_the_daily_job_and_its_schedule(project_copy: MeltanoProject):
    jobs = _json(project_copy.run("job", "list", "--format", "json"))
    assert jobs == {"jobs": [{"job_name": "engagement-to-postgres", "tasks": [TASK]}]}
    schedules = _json(project_copy.run("schedule", "list", "--format", "json"))["schedules"]
    assert schedules["elt"] == []
    (schedule,) = schedules["job"]
    assert schedule["name"] == "daily-engagement"
    assert (schedule["interval"], schedule["cron_interval"]) == ("@daily", "0 0 * * *")
    assert schedule["job"] == {"name": "engagement-to-postgres", "tasks": [TASK]}
    # the task parses into blocks Meltano can run (nothing runs or installs)
    dry = project_copy.run("run", "--dry-run", "--no-install", "engagement-to-postgres")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "Dry run, but would have run block 2/2." in dry.stderr


def test_readme_names_the_job_and_the_schedule():
    readme = (ROOT / "README.md").read_text()
    meltano = readme[readme.index("## Meltano") : readme.index("## Using it for real")]
    assert "`engagement-to-postgres`" in meltano
    assert f"`{TASK}`" in meltano
    assert "`daily-engagement`" in meltano


# ----------------------------------------------------------------- `meltano add` in a fresh project
def _fresh_project(meltano: str, tmp_path: Path) -> MeltanoProject:
    created = subprocess.run(
        [meltano, "init", "fresh", "--no-usage-stats"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert created.returncode == 0, created.stderr[-3000:]
    return MeltanoProject(tmp_path / "fresh", meltano)


def _readme_add_lines() -> list[list[str]]:
    """The commands README gives to add the extractor to another project, as argument lists."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**Adding the extractor to another Meltano project.**") :]
    start = section.index("```bash\n") + len("```bash\n")
    block = section[start : section.index("```", start)]
    lines = [line.replace("/path/to/clone", str(ROOT)) for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("meltano ")]


def _plugins(project: MeltanoProject) -> dict[str, list[dict[str, Any]]]:
    plugins: dict[str, list[dict[str, Any]]] = yaml.safe_load(
        (project.root / "meltano.yml").read_text()
    ).get("plugins", {})
    return plugins


def test_readme_add_lines_add_one_extractor_with_the_definition(meltano, tmp_path):
    project = _fresh_project(meltano, tmp_path)
    add, *selects = _readme_add_lines()
    assert add[:3] == ["add", "--plugin-type", "extractor"]
    assert selects == [
        ["select", "tap-twitter-engagement", "historical_engagement*", "*"],
        ["select", "tap-twitter-engagement", "tracked", "*"],
    ]
    # Offline: the definition's pip_url is the git repository, so nothing is installed.
    for args in ([*add, "--no-install"], *selects):
        result = project.run(*args)
        assert result.returncode == 0, result.stderr[-3000:]
    plugins = _plugins(project)
    assert set(plugins) == {"extractors"}  # no utility
    (extractor,) = plugins["extractors"]
    definition = meltano_definition.definition()
    assert extractor["name"] == "tap-twitter-engagement"
    assert extractor["settings"] == definition["settings"]
    assert extractor["select"] == definition["select"] == ["historical_engagement*.*", "tracked.*"]
    for field in (
        "namespace",
        "variant",
        "pip_url",
        "executable",
        "capabilities",
        "commands",
        "settings_group_validation",
    ):
        assert extractor[field] == definition[field], field


def test_from_ref_drops_the_select_and_the_positional_type_adds_a_utility(meltano, tmp_path):
    """What README warns of, under the pinned Meltano: ``--from-ref`` keeps no Hub field, the
    default selection among them (hence README's `meltano select` line), and the old
    ``meltano add extractor NAME`` reads ``extractor`` as a second plugin, a utility."""
    project = _fresh_project(meltano, tmp_path)
    definition = str(ROOT / meltano_definition.HUB_DEFINITION)
    result = project.run(
        "add", "extractor", "tap-twitter-engagement", "--from-ref", definition, "--no-install"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    plugins = _plugins(project)
    assert set(plugins) == {"extractors", "utilities"}
    (extractor,) = plugins["extractors"]
    assert "select" not in extractor
    assert "quality" not in extractor


# --------------------------------------------------------------- the demo without SANDBOX_URL
@pytest.mark.parametrize("sandbox_url", [None, ""], ids=["unset", "empty"])
@pytest.mark.parametrize(
    "command",
    [["invoke", "tap-twitter-engagement"], ["run", "tap-twitter-engagement", "target-jsonl"]],
    ids=["invoke", "run"],
)
def test_the_demo_without_sandbox_url_stops_in_one_line(
    project_copy: MeltanoProject, sandbox_url: str | None, command: list[str]
):
    """Meltano passes no api_url for an unset or empty `${SANDBOX_URL}`, so the tap's defaults,
    X's real hosts, would apply; `${SANDBOX_URL}/` gives '/', refused before any request."""
    env = {**FAKE_CREDENTIALS, **DEAD_PROXY}
    if sandbox_url is not None:
        env["SANDBOX_URL"] = sandbox_url
    result = project_copy.run("--environment", "demo", *command, env=env)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert _logged(result.stderr, "tap-twitter-engagement", "error") == [NO_SANDBOX_URL]
    assert "Cannot find the host" not in output
    assert "Cannot connect" not in output
    assert not [secret for secret in FAKE_CREDENTIALS.values() if secret in output]


def test_readme_shows_the_demo_line():
    readme = (ROOT / "README.md").read_text()
    meltano = readme[readme.index("## Meltano") : readme.index("## Using it for real")]
    assert NO_SANDBOX_URL in " ".join(meltano.split())
