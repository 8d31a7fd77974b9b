"""Every configuration mistake a user can make gives exit 1 and one line naming the setting and
the fix: no traceback, no secret, in the sync, --discover and --test paths alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
ALL_METRICS = (
    "impressions, engagements, favorites, retweets, replies, video_views, media_views, "
    "media_engagements, url_clicks, hashtag_clicks, detail_expands, permalink_clicks, "
    "app_install_attempts, app_opens, email_tweet, user_follows, user_profile_clicks"
)
PA_METRICS = (
    "impressions, engagements, favorites, retweets, replies, media_views, url_clicks, "
    "hashtag_clicks, detail_expands, permalink_clicks, app_install_attempts, app_opens, "
    "email_tweet, user_follows, user_profile_clicks, quote_tweets, bookmarks, shares, "
    "unfollows, unlikes"
)
EVERY_METRIC = f"{ALL_METRICS}, quote_tweets, bookmarks, shares, unfollows, unlikes"
GROUP_BY = "tweet.id, engagement.type, engagement.day, engagement.hour"
DROP = object()

# (case, changes to a valid config, the one line the user must see)
CASES = [
    (
        "missing consumer_key",
        {"consumer_key": DROP},
        "consumer_key: is required and not set; set it (see README: Settings)",
    ),
    (
        "missing access_token_secret",
        {"access_token_secret": DROP},
        "access_token_secret: is required and not set; set it (see README: Settings)",
    ),
    ("empty consumer_secret", {"consumer_secret": ""}, "consumer_secret: is empty; set it"),
    (
        "blank access_token",
        {"access_token": "   "},
        "access_token: is empty; set it (see README: Settings)",
    ),
    (
        "secret of wrong type",
        {"access_token_secret": 12345},
        "access_token_secret: must be string; fix the value's type",
    ),
    (
        "unknown metric",
        {"engagement_types": ["impressions", "clicks"]},
        f"engagement_types: item 2 ('clicks') is not allowed; use one of: {EVERY_METRIC}",
    ),
    (
        "Post analytics' name of a metric both serve",
        {"engagement_types": ["impressions", "likes"]},
        "engagement_types: item 2 'likes' is Post analytics' name for favorites: records use "
        "one name for a metric both APIs serve; list favorites",
    ),
    (
        "metric historical does not serve",
        {"engagement_types": ["quote_tweets"]},
        "engagement_types: quote_tweets is not served by the Engagement API's /historical (api "
        "engagement_api); only by Post analytics' GET /2/tweets/analytics (api post_analytics) "
        "and by the engagement_totals stream (the Engagement API's /totals). Remove it, or "
        "change api",
    ),
    (
        "metric only Post analytics serves",
        {"engagement_types": ["impressions", "bookmarks"]},
        "engagement_types: bookmarks is not served by the Engagement API's /historical (api "
        "engagement_api); only by Post analytics' GET /2/tweets/analytics (api post_analytics). "
        "Remove it, or change api",
    ),
    (
        "metric Post analytics does not serve",
        {"api": "post_analytics", "engagement_types": ["impressions", "video_views"]},
        "engagement_types: video_views is not served by Post analytics' GET /2/tweets/analytics "
        "(api post_analytics); only by the Engagement API's /historical (api engagement_api) and "
        "by the engagement_totals stream (the Engagement API's /totals). Remove it, or change api",
    ),
    (
        "unknown api",
        {"api": "v2"},
        "api: ('v2') is not allowed; use one of: engagement_api, post_analytics",
    ),
    (
        "post_analytics_max_days out of range",
        {"api": "post_analytics", "post_analytics_max_days": 0},
        "post_analytics_max_days: (0) must be at least 1",
    ),
    (
        "no metrics",
        {"engagement_types": []},
        f"engagement_types: is empty; list one or more of: {ALL_METRICS} (or unset it for all)",
    ),
    (
        "no metrics, Post analytics",
        {"api": "post_analytics", "engagement_types": []},
        f"engagement_types: is empty; list one or more of: {PA_METRICS} (or unset it for all)",
    ),
    (
        "duplicate metric",
        {"engagement_types": ["favorites", "replies", "favorites"]},
        "engagement_types: favorites is listed twice; list each once",
    ),
    (
        "empty group_by",
        {"group_by": []},
        f"group_by: the list is empty; use one or more of {GROUP_BY}",
    ),
    (
        "duplicate group_by",
        {"group_by": ["tweet.id", "tweet.id"]},
        "group_by: a value appears twice; list each value at most once",
    ),
    (
        "unknown group_by",
        {"group_by": ["tweet.id", "engagement.week"]},
        f"group_by: item 2 ('engagement.week') is not allowed; use one of: {GROUP_BY}",
    ),
    (
        "manual without tweet_ids",
        {"tweet_selection": "manual"},
        "tweet_ids: tweet_selection is 'manual' but no tweet ids are listed; list them, or use "
        "tweet_selection 'recent'",
    ),
    (
        "non-digit tweet id",
        {"tweet_selection": "manual", "tweet_ids": ["123", "12a"]},
        "tweet_ids: item 2 ('12a') must be a string of digits, like \"1785000000000000001\"",
    ),
    ("number_of_tweets 0", {"number_of_tweets": 0}, "number_of_tweets: (0) must be at least 1"),
    (
        "number_of_tweets 5000",
        {"number_of_tweets": 5000},
        "number_of_tweets: (5000) must be at most 3200",
    ),
    (
        "number_of_tweets of wrong type",
        {"number_of_tweets": "ten"},
        "number_of_tweets: ('ten') must be integer; fix the value's type",
    ),
    (
        "exclude_retweets of wrong type",
        {"exclude_retweets": "yes"},
        "exclude_retweets: ('yes') must be boolean; fix the value's type",
    ),
    (
        "unknown tweet_selection",
        {"tweet_selection": "latest"},
        "tweet_selection: ('latest') is not allowed; use one of: recent, manual",
    ),
    (
        "unknown duration",
        {"duration": "week"},
        "duration: ('week') is not allowed; use one of: single_date, date_range",
    ),
    (
        "specific report date missing",
        {"duration": "single_date", "report_date_mode": "specific"},
        "report_date: report_date_mode is 'specific' but report_date is not set; set report_date "
        "(YYYY-MM-DD) or use report_date_mode 'relative'",
    ),
    (
        "specific start date missing",
        {"start_date_mode": "specific"},
        "start_date: start_date_mode is 'specific' but start_date is not set; set start_date "
        "(YYYY-MM-DD) or use start_date_mode 'relative'",
    ),
    (
        "malformed date",
        {"duration": "single_date", "report_date_mode": "specific", "report_date": "2026-13-01"},
        "report_date: 2026-13-01 is not a date; use YYYY-MM-DD, for example 2026-05-01",
    ),
    (
        "start after end",
        {
            "start_date_mode": "specific",
            "start_date": (TODAY - timedelta(days=3)).isoformat(),
            "end_date_mode": "specific",
            "end_date": (TODAY - timedelta(days=9)).isoformat(),
        },
        f"start_date: the range starts on {TODAY - timedelta(days=3)} (start_date) but ends "
        f"earlier, on {TODAY - timedelta(days=9)} (end_date); make the start day on or before "
        "the end day",
    ),
    (
        "relative start after end",
        {"days_back_to_start_from": 2, "days_back_to_end_at": 5},
        f"days_back_to_start_from: the range starts on {TODAY - timedelta(days=2)} "
        f"(days_back_to_start_from) but ends earlier, on {TODAY - timedelta(days=5)} "
        "(days_back_to_end_at); make the start day on or before the end day",
    ),
    (
        "end in the future",
        {"end_date_mode": "specific", "end_date": (TODAY + timedelta(days=2)).isoformat()},
        f"end_date: {TODAY + timedelta(days=2)} is in the future (today is {TODAY} UTC); use a "
        "date on or before today",
    ),
    (
        "before the history floor",
        {"duration": "single_date", "report_date_mode": "specific", "report_date": "2020-01-01"},
        "report_date: the period ends on 2020-01-01, before the earliest day the API is asked "
        f"for, {TODAY - timedelta(days=364)} (max_history_days); choose a later end day, or raise "
        "max_history_days if your contract serves older data",
    ),
    (
        "negative days back",
        {"duration": "single_date", "days_back": -1},
        "days_back: (-1) must be at least 0",
    ),
    (
        "wide layout without engagement.type",
        {"metrics_layout": "wide", "group_by": ["tweet.id", "engagement.day"]},
        "metrics_layout: 'wide' needs engagement.type in group_by (one column per metric); add "
        "it, or use 'long'",
    ),
    ("negative lookback", {"lookback_days": -2}, "lookback_days: (-2) must be at least 0"),
    (
        "empty api_url",
        {"api_url": ""},
        "api_url: is empty; use a base URL such as https://data-api.twitter.com",
    ),
    (
        "api_url without a host",
        {"api_url": "http://"},
        "api_url: 'http://' has no host; use a base URL such as https://data-api.twitter.com",
    ),
    (
        "api_url not a URL",
        {"api_url": "not a url"},
        "api_url: 'not a url' is not an http(s) URL; use a base URL such as "
        "https://data-api.twitter.com",
    ),
    (
        "timeline_api_url of another scheme",
        {"timeline_api_url": "ftp://example.com"},
        "timeline_api_url: 'ftp://example.com' is not an http(s) URL; use a base URL such as "
        "https://api.twitter.com",
    ),
    (
        "days back past any sane bound",
        {"days_back_to_start_from": 99999999999},
        "days_back_to_start_from: (99999999999) must be at most 3650",
    ),
    (
        "lookback past a year",
        {"lookback_days": 10000},
        "lookback_days: (10000) must be at most 365",
    ),
    (
        "request_timeout past any bound",
        {"request_timeout": 10**20},
        "request_timeout: (100000000000000000000) must be at most 3600",
    ),
    (
        "rate_limit_wait_seconds past any bound",
        {"rate_limit_wait_seconds": 1e308},
        "rate_limit_wait_seconds: (1e+308) must be at most 3600",
    ),
    (
        "tweet id with a line break",
        {"tweet_selection": "manual", "tweet_ids": ["1785000000000000001\n"]},
        'tweet_ids: item 1 must be a string of digits, like "1785000000000000001" (no spaces '
        "or line breaks)",
    ),
    (
        "tweet id with a space",
        {"tweet_selection": "manual", "tweet_ids": ["1785000000000000001", " 17"]},
        "tweet_ids: item 2 (' 17') must be a string of digits, like \"1785000000000000001\"",
    ),
]


# Tokens of made-up accounts: the config is refused before any request, and none may be shown.
A1 = {"access_token": "acct-token-1", "access_token_secret": "acct-secret-1"}
A2 = {"access_token": "acct-token-2", "access_token_secret": "acct-secret-2"}
FAKE_TOKENS = [*A1.values(), *A2.values()]
ONE_FORM = {"access_token": DROP, "access_token_secret": DROP}
ACCOUNT_KEYS = (
    "name, access_token, access_token_secret, tweet_selection, number_of_tweets, tweet_ids, "
    "exclude_retweets, exclude_replies"
)
CASES += [
    (
        "accounts and the top-level token",
        {"accounts": [A1]},
        "accounts: is set, and so is the top-level access_token; give every account in "
        "accounts and unset access_token and access_token_secret",
    ),
    (
        "empty accounts",
        {**ONE_FORM, "accounts": []},
        "accounts: is empty; list one or more accounts (each with access_token and "
        "access_token_secret), or unset it and set access_token and access_token_secret",
    ),
    (
        "accounts not a list",
        {**ONE_FORM, "accounts": "acct-token-1"},
        "accounts: must be array; fix the value's type",
    ),
    (
        "an account not an object",
        {**ONE_FORM, "accounts": ["acct-token-1"]},
        "accounts: item 1 must be an object with access_token and access_token_secret",
    ),
    (
        "an account without its secret",
        {**ONE_FORM, "accounts": [A1, {"access_token": "acct-token-2"}]},
        "accounts: item 2 access_token_secret is required and not set; set it",
    ),
    (
        "an account with a blank token",
        {**ONE_FORM, "accounts": [{**A1, "access_token": "  "}]},
        "accounts: item 1 access_token is empty; set it",
    ),
    (
        "an account token with a line break",
        {**ONE_FORM, "accounts": [A2, {**A1, "access_token": "acct-token-1\n"}]},
        "accounts: item 2 access_token contains spaces, a line break or another control "
        "character (a copy-paste slip?); set it to the value alone",
    ),
    (
        "an account listed twice",
        {**ONE_FORM, "accounts": [A1, A2, {**A1, "name": "again"}]},
        "accounts: items 1 and 3 have the same access_token; list each account once",
    ),
    (
        "two accounts of one name",
        {**ONE_FORM, "accounts": [{**A1, "name": "brand"}, {**A2, "name": "brand"}]},
        "accounts: items 1 and 2 have the same name; give each account its own name",
    ),
    (
        "an account with an unknown setting",
        {**ONE_FORM, "accounts": [{**A1, "tweetids": ["1"]}]},
        "accounts: item 1: Additional properties are not allowed ('tweetids' was unexpected); "
        f"an account takes only {ACCOUNT_KEYS}",
    ),
    (
        "an account in manual mode without ids",
        {**ONE_FORM, "accounts": [A1, {**A2, "name": "es", "tweet_selection": "manual"}]},
        "accounts: item 2 ('es'): tweet_selection is 'manual' but no tweet ids are listed; "
        "list them, or use tweet_selection 'recent'",
    ),
    (
        "an account with a non-digit tweet id",
        {**ONE_FORM, "accounts": [{**A1, "tweet_ids": ["123", "12a"]}]},
        "accounts: item 1 tweet_ids item 2 ('12a') must be a string of digits, like "
        '"1785000000000000001"',
    ),
    (
        "an account asking for 0 tweets",
        {**ONE_FORM, "accounts": [{**A1, "number_of_tweets": 0}]},
        "accounts: item 1 number_of_tweets (0) must be at least 1",
    ),
]


def _run(config: dict, mode: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    path = tmp / f"config-{abs(hash((json.dumps(config, sort_keys=True), *mode)))}.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_twitter_engagement", "--config", str(path), *mode],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "WARNING"},
        check=False,
    )


@pytest.fixture(scope="module")
def outcomes(session_sandbox, tmp_path_factory):
    """All cases in all three paths, run four at a time (each is a fresh process)."""
    tmp = tmp_path_factory.mktemp("bad-config")
    jobs = []
    for name, changes, _ in CASES:
        config = session_sandbox.tap_config()
        for key, value in changes.items():
            if value is DROP:
                config.pop(key)
            else:
                config[key] = value
        for mode in ([], ["--discover"], ["--test"]):
            jobs.append(((name, " ".join(mode) or "sync"), config, mode))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda job: _run(job[1], job[2], tmp), jobs)
        return {job[0]: result for job, result in zip(jobs, results, strict=True)}


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("mode", ["sync", "--discover", "--test"])
@pytest.mark.parametrize(("name", "changes", "line"), CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_one_clear_line(outcomes, session_sandbox, name, changes, line, mode):
    result = outcomes[(name, mode)]
    if mode == "--discover" and name.startswith("missing "):
        # The catalog does not depend on the credentials: discovery works before they are set.
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["streams"]
        return
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].endswith(
        f"| ERROR    | tap-twitter-engagement         | Invalid setting {line}"
    )
    for secret in [*session_sandbox.credentials.values(), *FAKE_TOKENS]:
        assert secret not in result.stderr
