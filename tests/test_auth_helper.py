"""The PIN-flow helper end to end against the sandbox's /oauth/* endpoints."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import requests
from requests_oauthlib import OAuth1

ROOT = Path(__file__).resolve().parent.parent


def _helper(sandbox, *args: str) -> subprocess.Popen[str]:
    c = sandbox.credentials
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_twitter_engagement.auth",
            "--consumer-key",
            c.consumer_key,
            "--consumer-secret",
            c.consumer_secret,
            "--oauth-url",
            sandbox.base_url,
            *args,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _authorize(process: subprocess.Popen[str]) -> str:
    """Read the printed authorize URL, 'approve' it as the owner, return the PIN shown."""
    process.stdout.readline()
    url = process.stdout.readline().strip()
    page = requests.get(url, timeout=10).text
    return re.search(r'id="pin">(\d{7})<', page).group(1)


def test_pin_flow_writes_a_working_token_into_the_config(sandbox, tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"number_of_tweets": 5}))
    process = _helper(sandbox, "--config", str(config_path))
    out, err = process.communicate(_authorize(process) + "\n", timeout=30)
    assert process.returncode == 0, err
    assert out.endswith(
        f"3. Wrote the access token and secret of @sandbox_brand (user id "
        f"{sandbox.model.user.id}) to {config_path}\n"
    )
    config = json.loads(config_path.read_text())
    assert config["number_of_tweets"] == 5
    assert config["access_token"] != sandbox.credentials.access_token  # a new token was issued
    c = sandbox.credentials
    auth = OAuth1(
        c.consumer_key, c.consumer_secret, config["access_token"], config["access_token_secret"]
    )
    me = requests.get(f"{sandbox.base_url}/2/users/me", auth=auth, timeout=10)
    assert me.json()["data"]["username"] == "sandbox_brand"


def test_pin_flow_prints_meltano_lines(sandbox):
    process = _helper(sandbox, "--meltano")
    out, _ = process.communicate(_authorize(process) + "\n", timeout=30)
    assert process.returncode == 0
    lines = [line.strip() for line in out.splitlines() if "meltano config" in line]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "meltano config set tap-twitter-engagement access_token",
        "meltano config set tap-twitter-engagement access_token_secret",
    ]


def test_wrong_pin_is_one_clear_error(sandbox, tmp_path):
    process = _helper(sandbox, "--config", str(tmp_path / "c.json"))
    _authorize(process)
    _, err = process.communicate("0000000\n", timeout=30)
    assert process.returncode == 1
    assert err.strip() == (
        "error: X refused the request (401); check the consumer key and "
        "secret, and the PIN (it is single-use)"
    )
    assert not (tmp_path / "c.json").exists()
