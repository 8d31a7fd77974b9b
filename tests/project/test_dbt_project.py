"""The dbt project agrees with the tap it reads: the same metrics in the same order, a source
and a staging model for every stream, and the shapes the marts read named as the tap names
their streams. No build here: these read the files."""

from __future__ import annotations

import re
from itertools import permutations

import yaml

from tap_twitter_engagement.metrics import HISTORICAL_METRICS, TOTALS_METRICS
from tap_twitter_engagement.streams.historical import shape_stream_name
from tap_twitter_engagement.tap import TapTwitterEngagement
from tests.project.pipeline import ROOT
from twitter_engagement_sandbox import Sandbox

TRANSFORM = ROOT / "transform"
GRAIN = ("tweet.id", "engagement.type", "engagement.day")


def _project() -> dict:
    return yaml.safe_load((TRANSFORM / "dbt_project.yml").read_text())


def _sources() -> list[str]:
    text = (TRANSFORM / "models" / "staging" / "_twitter_engagement__sources.yml").read_text()
    (source,) = yaml.safe_load(text)["sources"]
    return [table["name"] for table in source["tables"]]


def test_the_metric_lists_are_the_taps_in_its_order():
    variables = _project()["vars"]
    assert variables["historical_metrics"] == list(HISTORICAL_METRICS)
    assert variables["totals_metrics"] == list(TOTALS_METRICS)


def test_the_readable_shapes_are_the_streams_the_tap_writes_for_them():
    """Every group_by holding tweet.id, engagement.type and engagement.day, in any order, with
    or without engagement.hour, long or wide: the marts read exactly those streams."""
    macro = (TRANSFORM / "macros" / "historical.sql").read_text()
    shapes = macro.split("readable_shapes()")[1].split("endmacro")[0]
    named = set(re.findall(r'"(historical_engagement\w*)"', shapes))
    written = {
        shape_stream_name(list(order), layout)
        for extra in ((), ("engagement.hour",))
        for order in permutations(GRAIN + extra)
        for layout in ("long", "wide")
    }
    assert named == written
    assert written <= set(_sources())


def test_every_stream_has_a_source_and_a_staging_model():
    with Sandbox(seed=1, tweets=5) as sandbox:
        tap = TapTwitterEngagement(config=sandbox.tap_config(), validate_config=False)
        streams = {s.name for s in tap.discover_streams()}
    streams.discard("historical_engagement")  # the default shape, named with the others
    shapes = {s for s in _sources() if s.startswith("historical_engagement")}
    assert streams | shapes == set(_sources())
    read = [
        re.search(r'(?:landed|historical_rows)\("(\w+)"', path.read_text())
        for path in sorted((TRANSFORM / "models" / "staging").glob("stg_twitter_engagement__*.sql"))
    ]
    assert sorted(m.group(1) for m in read if m) == sorted(_sources())
