"""When stdout cannot take the output: the target stops reading (a broken pipe) or stdout is
closed from the start. The real console scripts, in real processes: one line on stderr naming
the cause and what it means, exit code 1, no traceback, no "Exception ignored" at exit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tap_twitter_engagement.errors import STDOUT_CLOSED
from tap_twitter_engagement.metrics import HISTORICAL_METRICS
from tap_twitter_engagement.tap import ABOUT_CUT, CATALOG_CUT, TARGET_STOPPED
from tests.helpers import ROOT

BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-twitter-engagement")
PLAN = str(BIN / "tap-twitter-engagement-plan")
PLAN_CUT = (
    "The reader of stdout stopped reading (broken pipe) before the plan was complete; read "
    "all of it."
)
#: The plan command's log line at ERROR.
PLAN_LINE = "ERROR {}"
#: ``"$@" | head -c 100000`` with the tap's exit code, not head's.
HEAD_C = '"$@" | head -c 100000; exit "${PIPESTATUS[0]}"'


@pytest.fixture
def big_config(sandbox, tmp_path) -> str:
    """100 tweets x 60 days x every metric: megabytes of records, far more than a pipe holds."""
    config = sandbox.tap_config(
        number_of_tweets=100,
        days_back_to_start_from=60,
        engagement_types=list(HISTORICAL_METRICS),
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def _env() -> dict[str, str]:
    return {**os.environ, "TAP_TWITTER_ENGAGEMENT_LOGLEVEL": "ERROR"}


def _assert_one_line(stderr: str, message: str) -> None:
    """stderr is the tap's one ERROR line saying ``message``, nothing else: no traceback, no
    "Exception ignored" at exit."""
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    timestamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    line = rf"{timestamp} \| ERROR +\| tap-twitter-engagement +\| {re.escape(message)}"
    assert re.fullmatch(line, lines[0]), lines[0]


def _reader_gone(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``args | true``: stdout is a pipe whose reader has already exited."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            args,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=_env(),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


def _stdout_closed(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``args >&-``: fd 1 closed when the process starts (a shell closes it, not a
    ``preexec_fn``: this process runs the sandbox's threads)."""
    return subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *args],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=60,
        check=False,
    )


def test_a_target_that_stops_reading_mid_sync_is_one_line(big_config):
    """``tap | head -c 4096``: the pipe fills, the reader goes, the next write fails."""
    process = subprocess.Popen(
        [TAP, "--config", big_config],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=_env(),
    )
    assert process.stdout is not None
    assert process.stderr is not None
    head = process.stdout.read(4096)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=30) == 1
    assert head.startswith(b'{"type":"SCHEMA"')
    _assert_one_line(stderr, TARGET_STOPPED)
    assert TARGET_STOPPED == (
        "The target stopped reading (broken pipe on stdout): the last STATE it received covers "
        "what it has; run again from that state to resume."
    )


@pytest.mark.parametrize(
    ("mode", "meaning"),
    [
        pytest.param([], TARGET_STOPPED, id="sync"),
        pytest.param(["--discover"], CATALOG_CUT, id="discover"),
        pytest.param(["--about", "--format", "markdown"], ABOUT_CUT, id="about"),
    ],
)
def test_a_reader_gone_before_the_first_write_is_one_line(big_config, mode, meaning):
    result = _reader_gone([TAP, "--config", big_config, *mode])
    assert result.returncode == 1
    _assert_one_line(result.stderr, meaning)


def test_the_lines_for_discover_and_about_say_what_was_cut_short():
    assert CATALOG_CUT == (
        "The reader of stdout stopped reading (broken pipe) before the catalog was complete; "
        "read all of it (e.g. --discover > catalog.json)."
    )
    assert ABOUT_CUT == (
        "The reader of stdout stopped reading (broken pipe) before the --about output was "
        "complete; read all of it."
    )


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param([], id="sync"),
        pytest.param(["--discover"], id="discover"),
        pytest.param(["--about"], id="about"),
    ],
)
def test_a_closed_stdout_is_one_line(big_config, mode):
    result = _stdout_closed([TAP, "--config", big_config, *mode])
    assert result.returncode == 1
    assert STDOUT_CLOSED == (
        "stdout is closed, so nothing was written; run again with stdout open (piped to a "
        "target or redirected to a file)."
    )
    _assert_one_line(result.stderr, STDOUT_CLOSED)


# --- tap-twitter-engagement-plan ---------------------------------------------------------------
def _error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    return [line for line in stderr.splitlines() if not line.startswith("INFO ")]


def test_plan_piped_to_head_gives_its_first_line_and_no_error(big_config):
    """``plan | head -1``: the plan is one write, so it is all in the pipe when head leaves."""
    process = subprocess.Popen(
        [PLAN, "--config", big_config],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=30) == 0, stderr
    assert first == (
        "Plan for historical_engagement (api engagement_api; no call to the Engagement API "
        "was made):\n"
    )
    assert _error_lines(stderr) == []


def test_plan_whose_reader_is_gone_is_one_line(big_config):
    result = _reader_gone([PLAN, "--config", big_config])
    assert result.returncode == 1
    assert _error_lines(result.stderr) == [PLAN_LINE.format(PLAN_CUT)]


def test_plan_with_stdout_closed_is_one_line_before_any_request(sandbox, big_config):
    result = _stdout_closed([PLAN, "--config", big_config])
    assert result.returncode == 1
    assert result.stderr.splitlines() == [PLAN_LINE.format(STDOUT_CLOSED)]
    assert sandbox.requests() == []


def test_the_reported_pipeline_tap_piped_to_head_c(big_config):
    """The issue's own command line: ``tap --config c.json | head -c 100000``."""
    result = subprocess.run(
        ["bash", "-c", HEAD_C, "bash", TAP, "--config", big_config],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert len(result.stdout) == 100000
    _assert_one_line(result.stderr, TARGET_STOPPED)
