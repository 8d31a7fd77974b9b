"""No hang, no leak, no traceback: every failure ends quickly, in one clear line, masked.

Each case runs the real command in its own process. Hangs are bounded by the harness (the
process is killed, and the test fails, past a generous bound); leaks are found by scanning every
byte of output for every secret value; tracebacks by asserting there is none on stderr and that
the last line names the cause.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tap_twitter_engagement.backends.engagement import post_refusing
from tap_twitter_engagement.checks import Asked, Served, check_totals
from tap_twitter_engagement.tap import TapTwitterEngagement
from tests.helpers import (
    KNOWN_SECRETS,
    catalog_selecting,
    parse_messages,
    partitioned,
    run_sync,
    run_sync_until_error,
    tap_process,
    unstamped,
)
from tests.hostile import closed_port_url, trickling_server

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
#: A hang is anything past this; every case here ends in a few seconds.
BOUND = 60
PATHS = {
    "sync": ["-m", "tap_twitter_engagement"],
    "--discover": ["-m", "tap_twitter_engagement", "--discover"],
    "--test": ["-m", "tap_twitter_engagement", "--test"],
    "plan": ["-m", "tap_twitter_engagement.commands.plan"],
}
STATE_FIX = (
    "Fix the state file, or clear it (for Meltano: `meltano state clear <state id>`) to read "
    "the configured range again."
)


def command(
    path: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = BOUND,
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess[str]:
    """One CLI run, killed (and the test failed) if it outlives ``timeout``."""
    return subprocess.run(
        [sys.executable, *PATHS[path], *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "INFO", **(env or {})},
        check=False,
    )


def assert_one_line_failure(
    result: subprocess.CompletedProcess[str], ending: str, secrets: list[str]
) -> None:
    """Exit 1, no traceback, the last line names the cause, no secret anywhere."""
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(ending), result.stderr[-2000:]
    assert_no_secret(result, secrets)


def assert_no_secret(result: subprocess.CompletedProcess[str], secrets: list[str]) -> None:
    output = result.stdout + result.stderr
    for secret in secrets:
        for form in {secret, secret.strip(), repr(secret)[1:-1]}:
            if len(form) >= 4:
                assert form not in output, "a secret value was printed"


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def secrets_of(sandbox: Any) -> list[str]:
    return sandbox.credentials.values()


# ---------------------------------------------------------------------------- hangs


@pytest.mark.parametrize(
    ("style", "reason"),
    [
        ("retry-after", "Retry-After"),
        ("per-minute", "x-per-minute-reset"),
        ("rate-limit", "x-rate-limit-reset"),
        ("per-second", "x-per-second-reset"),
    ],
)
def test_a_429_asking_for_a_long_wait_gives_up_at_once(sandbox, tmp_path, style, reason):
    sandbox.faults.burst_429_header = style
    sandbox.faults.burst_429_seconds = 3000
    sandbox.inject("429", route="insights/historical")
    config = sandbox.tap_config(number_of_tweets=3, engagement_types=["favorites"])
    result = command("sync", "--config", write(tmp_path, "config.json", config))
    assert_one_line_failure(
        result,
        " s, longer than max_wait_seconds (300). Run again later (the state holds what was "
        "delivered), or raise max_wait_seconds.",
        secrets_of(sandbox),
    )
    # epoch-second resets round up: 3000 or 3001 s
    assert re.search(
        f"Gave up on POST /insights/engagement/historical: {reason} asks to wait 300[01] s",
        result.stderr,
    )


def _days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


class Output:
    """A process's stdout and stderr read as they come (a full pipe would block the process),
    with a wait for a line on stderr; the process is killed if the line never comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.out: list[str] = []
        self.err: list[str] = []
        self._marker = ""
        self._seen = threading.Event()
        assert process.stdout is not None
        assert process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(process.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, self.err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, lines: list[str]) -> None:
        for line in iter(stream.readline, ""):
            lines.append(line)
            if self._marker and self._marker in line and lines is self.err:
                self._seen.set()

    def wait_for(self, marker: str) -> None:
        self._marker = marker
        if any(marker in line for line in self.err):
            return
        if not self._seen.wait(BOUND):
            self.process.kill()
            pytest.fail(f"no line with {marker!r}:\n{''.join(self.err)[-3000:]}")

    def finish(self) -> tuple[str, str]:
        """Wait for the end (killed, and the test failed, past the bound)."""
        try:
            self.process.wait(timeout=BOUND)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail("the process did not end after the signal")
        for reader in self._readers:
            reader.join(timeout=BOUND)
        return "".join(self.out), "".join(self.err)


@pytest.mark.parametrize("workers", [1, 4])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_the_run_at_once_with_state_of_what_was_written(
    sandbox, tmp_path, workers, sig, code
):
    ids = sandbox.model.owned_ids()[:30]  # 2 batches per window
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=ids,
        engagement_types=["impressions"],
        days_back_to_start_from=40,  # 2 windows
        max_concurrent_requests=workers,
        max_wait_seconds=3600,
    )
    full = run_sync(config)
    sandbox.reset()
    # GET /2/users/me, then window 1 (requests 2 and 3) is delivered; request 4 gets a 429
    # asking for 3000 s.
    sandbox.faults.burst_429_every, sandbox.faults.burst_429_length = 4, 1
    sandbox.faults.burst_429_header, sandbox.faults.burst_429_seconds = "retry-after", 3000
    process = tap_process(write(tmp_path, "config.json", config), logs=True)
    output = Output(process)
    output.wait_for("Retrying POST /insights/engagement/historical in 3000")
    process.send_signal(sig)
    out, err = output.finish()
    assert process.returncode == code
    assert "Traceback" not in err
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith(
            f"Stopped by {sig.name}: the last STATE covers what was written; run again to resume."
        )
    )
    partial = parse_messages(out)
    # The last STATE claims only rows that were written (with 1 worker: exactly window 1).
    bookmark = partial.partition()
    written = {(r["tweet_id"], r["engagement_date"]) for r in partial.records}
    claimed = {
        (tweet_id, day.isoformat())
        for span in bookmark.get("coverage", {}).get("spans", [])
        for tweet_id in span["tweet_ids"]
        for first, last in span["days"]
        for day in _days(first, last)
    }
    assert claimed <= written
    if workers == 1:
        assert claimed == {
            (tweet_id, day.isoformat())
            for tweet_id in ids
            for day in _days(f"{TODAY - timedelta(days=40)}", f"{TODAY - timedelta(days=13)}")
        }
    sandbox.reset()
    resumed = run_sync(config, state=partial.final_state)
    upserted = {(r["tweet_id"], r["engagement_date"]): r for r in unstamped(partial.records)}
    upserted.update({(r["tweet_id"], r["engagement_date"]): r for r in unstamped(resumed.records)})
    assert upserted == {(r["tweet_id"], r["engagement_date"]): r for r in unstamped(full.records)}


@pytest.mark.parametrize("path", ["sync", "plan"])
def test_a_trickling_server_is_given_up_on_after_request_timeout(tmp_path, path):
    with trickling_server() as url:
        config = {
            **FAKE_SECRETS,
            "api_url": url,
            "timeline_api_url": url,
            "request_timeout": 1,
            "max_retries": 0,
        }
        result = command(path, "--config", write(tmp_path, "config.json", config), timeout=30)
    assert_one_line_failure(
        result,
        "Gave up on GET /2/users/me after 1 attempt: timed out (no complete response within "
        "request_timeout, 1 s). The API or the network is failing; run again later (the state "
        "holds what was delivered), or raise max_retries / request_timeout.",
        list(FAKE_SECRETS.values()),
    )


FAKE_SECRETS = {
    "consumer_key": "ck-test-value-1",
    "consumer_secret": "cs-test-value-2",
    "access_token": "at-test-value-3",
    "access_token_secret": "as-test-value-4",
}
KNOWN_SECRETS.update(FAKE_SECRETS.values())


@pytest.mark.parametrize("setting", ["timeline_api_url", "api_url"])
def test_a_refused_connection_names_the_host_and_setting_and_is_not_retried(
    session_sandbox, tmp_path, setting
):
    url = closed_port_url()
    config = session_sandbox.tap_config(number_of_tweets=2) | {setting: url}
    result = command("sync", "--config", write(tmp_path, "config.json", config))
    assert_one_line_failure(
        result,
        f"Cannot connect to {url}: connection refused, nothing is listening there. Check "
        f"{setting}.",
        secrets_of(session_sandbox),
    )
    assert "Retrying" not in result.stderr


# ---------------------------------------------------------------------------- leaks

MALFORMED = {
    "trailing newline": "{}\n",
    "leading space": " {}",
    "inner space": "{} x",
    "tab": "{}\t",
    "carriage return and newline": "{}\r\n",
}


@pytest.fixture(scope="module")
def malformed_outcomes(session_sandbox, tmp_path_factory):
    """Every credential, every malformation, every CLI path: run four at a time."""
    tmp = tmp_path_factory.mktemp("malformed")
    jobs = []
    for setting in [*FAKE_SECRETS, "bearer_token"]:
        for kind, template in MALFORMED.items():
            value = template.format(session_sandbox.credentials.bearer_token[:30] + setting)
            KNOWN_SECRETS.add(value.strip())
            config = {**session_sandbox.tap_config(), setting: value}
            path = write(tmp, f"{setting}-{kind.replace(' ', '-')}.json", config)
            jobs += [((setting, kind, mode), path, value) for mode in PATHS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda job: command(job[0][2], "--config", job[1]), jobs)
        return {job[0]: (result, job[2]) for job, result in zip(jobs, results, strict=True)}


@pytest.mark.parametrize("mode", list(PATHS))
@pytest.mark.parametrize("kind", list(MALFORMED))
@pytest.mark.parametrize("setting", [*FAKE_SECRETS, "bearer_token"])
def test_a_malformed_credential_is_refused_without_printing_it(
    malformed_outcomes, session_sandbox, setting, kind, mode
):
    result, value = malformed_outcomes[(setting, kind, mode)]
    assert_one_line_failure(
        result,
        f"Invalid setting {setting}: contains spaces, a line break or another control character "
        "(a copy-paste slip?); set it to the value alone",
        [value, *secrets_of(session_sandbox)],
    )


def _sync_totals(
    tmp_path: Path, config: dict[str, Any], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A sync of engagement_totals alone, through a catalog, as Meltano would select it."""
    catalog = catalog_selecting(config, ["engagement_totals"])
    return command(
        "sync",
        "--config",
        write(tmp_path, "config.json", config),
        "--catalog",
        write(tmp_path, "catalog.json", catalog),
        env=env,
    )


def test_a_wrong_bearer_token_is_named_as_such(sandbox, tmp_path):
    other = sandbox.model.ids_of_kind("other_author")[:1]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=[*sandbox.model.owned_ids()[:2], *other],
        bearer_token="AAAA-not-the-bearer-token",
    )
    KNOWN_SECRETS.add("AAAA-not-the-bearer-token")
    result = _sync_totals(tmp_path, config, env={"TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "DEBUG"})
    assert_one_line_failure(
        result,
        "The API refused the bearer token (401: Your account could not be authenticated. "
        "Reason: Invalid or expired token). Check bearer_token: it must be an app-only token of "
        "the approved app (or unset it).",
        ["AAAA-not-the-bearer-token", *secrets_of(sandbox)],
    )


def test_debug_logs_of_a_failing_run_show_no_credential(sandbox, tmp_path):
    config = sandbox.tap_config(access_token_secret="wrong-secret-value", number_of_tweets=2)
    KNOWN_SECRETS.add("wrong-secret-value")
    result = command(
        "sync",
        "--config",
        write(tmp_path, "config.json", config),
        env={"TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "DEBUG"},
    )
    assert result.returncode == 1
    assert "DEBUG" in result.stderr
    assert_no_secret(result, ["wrong-secret-value", *secrets_of(sandbox)])


# ---------------------------------------------------------------------------- one line


def _state_cases() -> list[tuple[str, Any, str]]:
    good = {"replication_key": "engagement_date"}
    return [
        ("empty file", "", "Invalid state: {path} is empty; it must hold a JSON object"),
        (
            "not JSON",
            "{bookmarks:",
            "Invalid state: {path} is not valid JSON (Expecting property name enclosed in "
            "double quotes at line 1, column 2)",
        ),
        (
            "a JSON string",
            '"abc"',
            f"Invalid state: it holds a JSON string, not an object. {STATE_FIX}",
        ),
        ("a JSON list", "[]", f"Invalid state: it holds a JSON array, not an object. {STATE_FIX}"),
        (
            "bookmarks not an object",
            {"bookmarks": []},
            f"Invalid state: 'bookmarks' is a JSON array, not an object. {STATE_FIX}",
        ),
        (
            "bookmark not an object",
            {"bookmarks": {"historical_engagement": "x"}},
            "Invalid state: the bookmark of historical_engagement is a JSON string, not an "
            f"object. {STATE_FIX}",
        ),
        *(
            (
                f"bookmark {value}",
                {"bookmarks": {"historical_engagement": {**good, "replication_key_value": value}}},
                f"Invalid state: historical_engagement's replication_key_value {value!r} is not a "
                f"YYYY-MM-DD day. {STATE_FIX}",
            )
            for value in ("garbage", "2026-02-30", "2026-02-01T00:00:00Z")
        ),
        (
            "coverage of another version",
            {"bookmarks": {"historical_engagement": {**good, "coverage": {"version": 9}}}},
            f"Invalid state: historical_engagement: coverage version 9 is not 1. {STATE_FIX}",
        ),
    ]


STATE_CASES = _state_cases()


@pytest.mark.parametrize("path", ["sync", "plan"])
@pytest.mark.parametrize(("name", "state", "ending"), STATE_CASES, ids=[c[0] for c in STATE_CASES])
def test_a_bad_state_is_one_line(session_sandbox, tmp_path, path, name, state, ending):
    config = write(tmp_path, "config.json", session_sandbox.tap_config(number_of_tweets=2))
    state_path = write(tmp_path, "state.json", state)
    result = command(path, "--config", config, "--state", state_path)
    assert_one_line_failure(result, ending.format(path=state_path), secrets_of(session_sandbox))


def test_a_bookmark_in_the_future_is_ignored_with_a_warning(sandbox, tmp_path):
    config = sandbox.tap_config(number_of_tweets=2, engagement_types=["favorites"])
    state = partitioned(
        sandbox.model.user.id,
        {"replication_key": "engagement_date", "replication_key_value": "2099-01-01"},
    )
    result = command(
        "sync",
        "--config",
        write(tmp_path, "config.json", config),
        "--state",
        write(tmp_path, "state.json", state),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    historical = [r for r in sandbox.requests("insights/historical") if r.status == 200]
    assert historical[0].body["start"] == f"{TODAY - timedelta(days=28)}T00:00:00Z"
    assert "single bookmark" in result.stderr


CATALOG_CASES = [
    ("empty file", "", "Invalid catalog: {path} is empty; it must hold a JSON object"),
    (
        "not JSON",
        "{",
        "Invalid catalog: {path} is not valid JSON (Expecting property name enclosed in double "
        "quotes at line 1, column 2)",
    ),
    (
        "a JSON list",
        "[]",
        "Invalid catalog: it holds a JSON array, not an object; rediscover it with --discover",
    ),
    (
        "no streams",
        {"x": 1},
        "Invalid catalog: it has no 'streams' list; rediscover it with --discover",
    ),
    (
        "a stream without schema",
        {"streams": [{"tap_stream_id": "historical_engagement"}]},
        "Invalid catalog: stream historical_engagement has no schema object; rediscover it with "
        "--discover",
    ),
]


@pytest.mark.parametrize(
    ("name", "catalog", "ending"), CATALOG_CASES, ids=[c[0] for c in CATALOG_CASES]
)
def test_a_bad_catalog_is_one_line(session_sandbox, tmp_path, name, catalog, ending):
    config = write(tmp_path, "config.json", session_sandbox.tap_config(number_of_tweets=2))
    catalog_path = write(tmp_path, "catalog.json", catalog)
    result = command("sync", "--config", config, "--catalog", catalog_path)
    assert_one_line_failure(result, ending.format(path=catalog_path), secrets_of(session_sandbox))


CONFIG_FILE_CASES = [
    (
        "missing file",
        None,
        "Invalid config: {path} does not exist; pass the path of a JSON file",
    ),
    (
        "not JSON",
        "{'a': 1}",
        "Invalid config: {path} is not valid JSON (Expecting property name enclosed in double "
        "quotes at line 1, column 2)",
    ),
    ("a JSON list", "[1, 2]", "Invalid config: {path} holds a JSON array, not an object"),
    ("empty file", "  \n", "Invalid config: {path} is empty; it must hold a JSON object"),
]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize(
    ("name", "content", "ending"), CONFIG_FILE_CASES, ids=[c[0] for c in CONFIG_FILE_CASES]
)
def test_a_bad_config_file_is_one_line(tmp_path, path, name, content, ending):
    config_path = (
        str(tmp_path / "nowhere.json") if content is None else write(tmp_path, "c.json", content)
    )
    result = command(path, "--config", config_path)
    assert_one_line_failure(result, ending.format(path=config_path), [])


def _env(sandbox: Any, **settings: str) -> dict[str, str]:
    config = {**sandbox.tap_config(), **settings}
    return {f"TAP_TWITTER_ENGAGEMENT_{k.upper()}": str(v) for k, v in config.items()}


def test_env_numbers_given_as_text_parse_as_numbers(sandbox, tmp_path):
    env = _env(
        sandbox,
        retry_wait_seconds="0.5",
        max_retries="1",
        days_back_to_start_from="30",
        number_of_tweets="2",
        exclude_retweets="yes",
        engagement_types='["favorites"]',
    )
    result = command("sync", "--config", "ENV", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (request, *_) = [r for r in sandbox.requests("insights/historical") if r.status == 200]
    assert request.body["start"] == f"{TODAY - timedelta(days=30)}T00:00:00Z"
    plan = command("plan", "--config", "ENV", env=env, cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert "  account @sandbox_brand: 2 tweets (recent mode)" in plan.stdout


ENV_CASES = [
    (
        {"max_retries": "many"},
        "Invalid setting TAP_TWITTER_ENGAGEMENT_MAX_RETRIES: is not a whole number; write "
        "digits, e.g. 30",
    ),
    (
        {"number_of_tweets": "2.5"},
        "Invalid setting TAP_TWITTER_ENGAGEMENT_NUMBER_OF_TWEETS: is not a whole number; write "
        "digits, e.g. 30",
    ),
    (
        {"retry_wait_seconds": "fast"},
        "Invalid setting TAP_TWITTER_ENGAGEMENT_RETRY_WAIT_SECONDS: is not a number; write e.g. "
        "0.5 or 30",
    ),
    (
        {"exclude_retweets": "maybe"},
        "Invalid setting TAP_TWITTER_ENGAGEMENT_EXCLUDE_RETWEETS: is neither true nor false; "
        "write true or false",
    ),
    (
        {"group_by": "[tweet.id"},
        "Invalid setting TAP_TWITTER_ENGAGEMENT_GROUP_BY: is not valid JSON; write a JSON array "
        'such as ["a", "b"]',
    ),
]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize(
    ("settings", "ending"), ENV_CASES, ids=[next(iter(c[0])) for c in ENV_CASES]
)
def test_env_values_that_are_not_their_type_are_one_line(
    session_sandbox, tmp_path, path, settings, ending
):
    result = command(path, "--config", "ENV", env=_env(session_sandbox, **settings), cwd=tmp_path)
    assert_one_line_failure(result, ending, secrets_of(session_sandbox))


@pytest.mark.parametrize(
    ("maps", "ending"),
    [
        (
            {"historical_engagement": {"ratio": "engagement_count / 0"}},
            "Invalid setting stream_maps: an expression failed on a record (ZeroDivisionError: "
            "division by zero); fix the expression",
        ),
        (
            {"historical_engagement": {"ratio": "engagement_count +"}},
            "Invalid setting stream_maps: Failed to parse expression engagement_count +; fix "
            "the map",
        ),
    ],
)
def test_a_failing_stream_map_is_one_line(sandbox, tmp_path, maps, ending):
    config = sandbox.tap_config(
        number_of_tweets=1, engagement_types=["favorites"], stream_maps=maps
    )
    result = command("sync", "--config", write(tmp_path, "config.json", config))
    assert_one_line_failure(result, ending, secrets_of(sandbox))


def test_bearer_requests_that_run_out_of_retries_give_up_in_one_line(sandbox, tmp_path):
    other = sandbox.model.ids_of_kind("other_author")[:1]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=[*sandbox.model.owned_ids()[:2], *other],
        bearer_token=sandbox.credentials.bearer_token,
        max_retries=1,
        retry_wait_seconds=0.01,
    )
    # The user-context request (refused for the other author's id, then resubmitted) passes;
    # the app-only request meets a 503 twice.
    sandbox.inject("503", count=2, route="insights/totals")
    sandbox.faults.outage_after = 2
    result = _sync_totals(tmp_path, config)
    assert_one_line_failure(
        result,
        "Gave up on POST /insights/engagement/totals after 2 attempts: HTTP 503 from POST "
        "/insights/engagement/totals. The API or the network is failing; run again later (the "
        "state holds what was delivered), or raise max_retries / request_timeout.",
        secrets_of(sandbox),
    )


# ---------------------------------------------------------------------------- smaller


def test_an_app_only_refusal_is_logged_and_reported_not_raised(sandbox):
    """A batch of the bearer request refused for a protected tweet: bisected, reported."""
    protected = sandbox.model.ids_of_kind("protected")[:1]
    other = sandbox.model.ids_of_kind("other_author")[:2]
    config = sandbox.tap_config(bearer_token=sandbox.credentials.bearer_token)
    tap = TapTwitterEngagement(config=config)
    stream = tap.streams["engagement_totals"]
    (account,) = tap.run.ready()

    def body(batch: list[str]) -> dict[str, Any]:
        return {
            "tweet_ids": batch,
            "engagement_types": ["favorites"],
            "groupings": {"canonical": {"group_by": ["tweet.id", "engagement.type"]}},
        }

    def check(data: dict[str, Any], batch: list[str]) -> Served:
        return check_totals(data, "canonical", Asked(tuple(batch), ("favorites",)), "totals")

    served = [
        set(response.grouping)
        for response in post_refusing(
            account, stream.endpoint, [*protected, *other], body, check, bearer=True
        )
    ]
    assert set().union(*served) == set(other)
    assert [(s.tweet_id, s.endpoint, s.reason.value) for s in account.skips.skips()] == [
        (protected[0], "totals", "protected")
    ]


def test_a_retry_names_the_request_actually_sent(sandbox, caplog):
    sandbox.inject("503", route="2/users/me")
    config = sandbox.tap_config(
        number_of_tweets=2, engagement_types=["favorites"], retry_wait_seconds=0.01
    )
    with caplog.at_level(logging.WARNING):
        run_sync(config)
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 1
    assert retries[0].startswith("Retrying GET /2/users/me in ")
    assert retries[0].endswith("(attempt 2 of 9): HTTP 503 from GET /2/users/me")


def test_skipped_tweets_reports_each_endpoint_that_refused(sandbox):
    model = sandbox.model
    deleted, other = model.ids_of_kind("deleted")[0], model.ids_of_kind("other_author")[0]
    protected = model.ids_of_kind("protected")[0]
    config = sandbox.tap_config(
        tweet_selection="manual",
        tweet_ids=[*model.owned_ids()[:3], deleted, other, protected],
        engagement_types=["favorites"],
        duration="single_date",
    )
    streams = [
        "historical_engagement",
        "engagement_totals",
        "engagement_28hr",
        "tweets",
        "skipped_tweets",
    ]
    result, error = run_sync_until_error(config, streams=streams)
    assert error is None
    reported = {
        (r["tweet_id"], r["endpoint"], r["reason"]) for r in result.by_stream["skipped_tweets"]
    }
    expected = {
        (tweet_id, endpoint, reason)
        for endpoint in ("historical", "totals", "28hr")
        for tweet_id, reason in (
            (deleted, "unavailable"),
            (other, "other_author"),
            (protected, "protected"),
        )
    } | {(deleted, "tweets", "unavailable"), (protected, "tweets", "protected")}
    assert reported == expected
