"""The singer-sdk standard tap tests, offline against a sandbox started at import.

``get_tap_test_class`` builds its tests at import time, so this module starts its own sandbox
then (the session fixture does not exist yet); it lives for the whole test process.
"""

from __future__ import annotations

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_twitter_engagement.tap import TapTwitterEngagement
from tests.helpers import KNOWN_SECRETS, catalog_selecting
from twitter_engagement_sandbox import Sandbox

_SANDBOX = Sandbox(seed=21, tweets=60).start()
KNOWN_SECRETS.update(_SANDBOX.credentials.values())

CONFIG = _SANDBOX.tap_config(
    number_of_tweets=30, engagement_types=["impressions", "favorites"], days_back_to_start_from=3
)

# parse_env_config=False: TAP_TWITTER_ENGAGEMENT_* in a developer's shell must not redirect these
# tests to the real API.
ALL_STREAMS = [
    "historical_engagement",
    "engagement_totals",
    "engagement_28hr",
    "tweets",
    "skipped_tweets",
    "accounts",
    "tracked",
]
# Every stream selected, as a Meltano `select: ["*.*"]` would; the run meets no refused tweet.
TestTapTwitterEngagement = get_tap_test_class(
    TapTwitterEngagement,
    config=CONFIG,
    catalog=catalog_selecting(CONFIG, ALL_STREAMS),
    parse_env_config=False,
    suite_config=SuiteConfig(
        max_records_limit=200, ignore_no_records_for_streams=["skipped_tweets"]
    ),
)
