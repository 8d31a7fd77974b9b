"""The dbt project agrees with the tap it reads: the same metrics in the same order (every metric
either API can write, each a documented column of the marts), the skip endpoints and reasons, a
source and a staging model for every stream, and the shapes the marts read named as the tap names
their streams. No build here: these read the files."""

from __future__ import annotations

import re
from itertools import permutations

import yaml

from tap_twitter_engagement.backends.engagement import EngagementApi
from tap_twitter_engagement.backends.post_analytics import PostAnalytics
from tap_twitter_engagement.metrics import ALL_METRICS, APIS, TOTALS_METRICS, metrics_of
from tap_twitter_engagement.skips import SkipReason
from tap_twitter_engagement.streams.historical import shape_stream_name
from tap_twitter_engagement.streams.skipped_tweets import SkippedTweetsStream
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


def _models(folder: str) -> dict[str, dict]:
    """The models documented in ``models/<folder>/``'s yml files, by name."""
    return {
        model["name"]: model
        for path in (TRANSFORM / "models" / folder).glob("_*.yml")
        for model in yaml.safe_load(path.read_text()).get("models", [])
    }


def test_the_metric_lists_are_the_taps_in_its_order():
    """Every metric a record may carry, whichever API wrote it: the wide layout's columns and the
    marts' (a table may hold rows of both APIs after a switch of api)."""
    variables = _project()["vars"]
    assert variables["historical_metrics"] == list(ALL_METRICS)
    for api in APIS:
        assert set(metrics_of(api)) <= set(variables["historical_metrics"]), api
    assert variables["totals_metrics"] == list(TOTALS_METRICS)


def test_the_marts_document_a_column_for_every_metric():
    marts = _models("marts")
    for name in (
        "twitter_engagement__by_tweet_day",
        "twitter_engagement__by_account_day",
        "twitter_engagement__by_account_day_tracked",
        "twitter_engagement__by_day",
    ):
        columns = [c["name"] for c in marts[name]["columns"]]
        assert [c for c in columns if c in ALL_METRICS] == list(ALL_METRICS), name


def test_skipped_tweets_accepts_every_endpoint_and_reason_the_tap_writes():
    columns = _models("staging")["stg_twitter_engagement__skipped_tweets"]["columns"]
    accepted = {c["name"]: c["data_tests"][0]["accepted_values"]["arguments"] for c in columns}
    endpoints = SkippedTweetsStream.schema["properties"]["endpoint"]["enum"]
    assert {EngagementApi.endpoint, PostAnalytics.endpoint} <= set(endpoints)
    assert accepted["endpoint"]["values"] == endpoints
    assert accepted["reason"]["values"] == [r.value for r in SkipReason]


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
