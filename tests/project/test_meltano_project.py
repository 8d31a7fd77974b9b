"""The Meltano project and the newcomer's path: settings in agreement, capabilities, stream maps,
BATCH messages, the Hub definition, the demo's picture."""

from __future__ import annotations

import gzip
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
import yaml
from PIL import Image

from scripts.chart import DailySeries, draw
from tap_twitter_engagement.commands import meltano_definition
from tap_twitter_engagement.settings import CONFIG_SCHEMA
from tests.helpers import by_key, expected_records, midnight, run_raw, run_sync
from tests.project.pipeline import PLUGIN_KINDS, meltano_env

ROOT = Path(__file__).resolve().parents[2]
DAILY = ["tweet.id", "engagement.type", "engagement.day"]


def _extractor() -> dict:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (extractor,) = project["plugins"]["extractors"]
    return extractor


def test_meltano_yml_declares_every_setting_as_the_schema_does():
    assert _extractor()["settings"] == meltano_definition.settings()
    declared = {s["name"]: s for s in _extractor()["settings"]}
    # the real defaults, so `meltano config list` shows them instead of None
    assert declared["number_of_tweets"]["value"] == 100
    assert declared["max_wait_seconds"]["value"] == 300
    assert declared["group_by"]["value"] == ["tweet.id", "engagement.type", "engagement.day"]
    assert declared["consumer_secret"]["sensitive"] is True
    assert declared["report_date"]["kind"] == "date_iso8601"
    assert {o["value"] for o in declared["metrics_layout"]["options"]} == {"long", "wide"}


def test_meltano_yml_lists_the_capabilities_about_reports():
    assert _extractor()["capabilities"] == meltano_definition.capabilities()
    assert {"batch", "activate-version", "structured-logging"} <= set(_extractor()["capabilities"])


def test_the_hub_definition_is_up_to_date():
    path = ROOT / "plugins" / "extractors" / "tap-twitter-engagement.yml"
    definition = yaml.safe_load(path.read_text())
    assert definition == meltano_definition.definition()
    for field in ("variant", "label", "description", "logo_url", "repo", "docs", "pip_url"):
        assert definition[field]
    assert {"meltano_sdk", "api"} <= set(definition["keywords"])


def test_readme_settings_table_has_every_setting_and_its_default():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings") :]
    table = table[: table.index("\n\n", table.index("| setting |"))]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    for name, prop in CONFIG_SCHEMA["properties"].items():
        (row,) = [r for r in rows if f"`{name}`" in r.split(" | ")[0]]
        default = prop.get("default")
        if isinstance(default, bool):
            assert str(default).lower() in row, name
        elif isinstance(default, int | float | str):
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            assert re.search(rf"\b{re.escape(shown)}\b", row), name


@pytest.fixture
def now(sandbox):
    moment = sandbox.model.anchor + timedelta(hours=13, minutes=37)
    with time_machine.travel(moment, tick=True):
        yield moment


def test_readme_stream_map_example_works(sandbox, now):
    readme = (ROOT / "README.md").read_text()
    maps = json.loads(re.search(r"stream_maps '(\{.*\})'", readme).group(1))
    config = sandbox.tap_config(
        number_of_tweets=3, engagement_types=["impressions", "favorites"], stream_maps=maps
    )
    records = run_sync(config).records
    assert records
    assert {r["engagement_type"] for r in records} == {"impressions"}
    assert all(r["month"] == r["engagement_date"][:7] for r in records)


def test_batch_messages_carry_exact_records_and_state_comes_after(sandbox, now, tmp_path):
    settings = {
        "tweet_selection": "manual",
        "tweet_ids": sandbox.model.owned_ids()[:30],
        "engagement_types": ["impressions"],
        "days_back_to_start_from": 60,
    }
    plain = run_sync(sandbox.tap_config(**settings))
    batch = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "batch-"},
    }
    messages = run_raw(sandbox.tap_config(**settings, batch_config=batch))
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "SCHEMA"
    assert "RECORD" not in kinds
    assert kinds[-1] == "STATE"
    last_batch = max(
        i
        for i, m in enumerate(messages)
        if m["type"] == "BATCH" and m["stream"] == "historical_engagement"
    )
    assert all(kind != "STATE" for kind in kinds[:last_batch])  # never ahead of the records
    records = []
    for message in messages:
        if message["type"] == "BATCH" and message["stream"] == "historical_engagement":
            for url in message["manifest"]:
                with gzip.open(url.removeprefix("file://"), "rt") as file:
                    records += [json.loads(line) for line in file]
    assert by_key(records) == by_key(plain.records)
    assert messages[-1]["value"] == plain.final_state


def test_the_demo_picture_holds_the_daily_series(sandbox, now, tmp_path):
    ids = sandbox.model.owned_ids()[:6]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["impressions", "engagements"],
        days_back_to_start_from=20,
    )
    records = run_sync(config).records
    daily: dict[str, list[int]] = {}
    for r in records:
        day = daily.setdefault(r["engagement_date"], [0, 0])
        day[0 if r["engagement_type"] == "impressions" else 1] += r["engagement_count"]
    series = DailySeries.from_rows([(d, i, e) for d, (i, e) in daily.items()])
    path = draw(series, tmp_path / "engagement.png", "test")
    stored = json.loads(Image.open(path).text["Series"])
    # independently from the model: the exact daily sums and their ratio
    today = midnight(now)
    expected = expected_records(
        sandbox,
        ids,
        ["impressions", "engagements"],
        today - timedelta(days=20),
        today,
        ["engagement.day", "engagement.type"],
    )
    by_day: dict[str, dict[str, int]] = {}
    for row in expected:
        by_day.setdefault(row["engagement_date"], {})[row["engagement_type"]] = row[
            "engagement_count"
        ]
    assert stored["day"] == sorted(by_day)
    assert stored["impressions"] == [by_day[d]["impressions"] for d in sorted(by_day)]
    assert stored["engagements"] == [by_day[d]["engagements"] for d in sorted(by_day)]
    assert stored["engagement_rate"] == [
        round(by_day[d]["engagements"] / by_day[d]["impressions"], 6)
        if by_day[d]["impressions"]
        else None
        for d in sorted(by_day)
    ]
    assert Image.open(path).size[0] > 800  # a real picture, not an empty file


def test_a_pipeline_test_runs_meltano_in_a_copy_that_shares_only_the_installed_plugins(
    session_sandbox, tmp_path
):
    """What Meltano and dbt write in a test (state, run files, logs, builds) lands in a copy of
    the project, never in the checkout's ``.meltano/`` or ``transform/``."""
    env = meltano_env(session_sandbox, tmp_path)
    copy = Path(env["MELTANO_PROJECT_ROOT"])
    assert copy == tmp_path / "project"
    assert (copy / "meltano.yml").read_text() == (ROOT / "meltano.yml").read_text()
    assert sorted(p.name for p in (copy / ".meltano").iterdir()) == list(PLUGIN_KINDS)
    for kind in PLUGIN_KINDS:
        assert (copy / ".meltano" / kind).resolve() == (ROOT / ".meltano" / kind).resolve()
    assert (copy / "transform" / "dbt_project.yml").is_file()
    assert not (copy / "transform" / "target").exists()
