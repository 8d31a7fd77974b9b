"""One sandbox for the whole session, started by the first test that asks for it; tests that
change its faults get it reset afterwards. Every test's output is scanned for credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from requests_oauthlib import OAuth1

from tests.helpers import KNOWN_SECRETS
from twitter_engagement_sandbox import Sandbox


@pytest.fixture(scope="session")
def session_sandbox() -> Iterator[Sandbox]:
    with Sandbox(
        seed=7, tweets=150, revision_hours=0, rate_limit_per_second=0, analytics_rate_limit=0
    ) as sandbox:
        KNOWN_SECRETS.update(sandbox.credentials.values())
        yield sandbox


@pytest.fixture(autouse=True)
def no_credential_in_output(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Whatever a test made the code print or log must not contain a credential of any
    sandbox started so far (or any other value a test declared secret). Tests that need no
    sandbox do not start one."""
    yield
    captured = capsys.readouterr()
    logged = [r.getMessage() for phase in ("setup", "call") for r in caplog.get_records(phase)]
    text = "\n".join([captured.out, captured.err, *logged])
    leaked = sum(secret in text for secret in KNOWN_SECRETS)
    assert not leaked, f"{leaked} sandbox credential value(s) in the test's output or logs"


@pytest.fixture
def sandbox(session_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox, with its log, faults and behaviour flags reset after the test."""
    session_sandbox.reset()
    yield session_sandbox
    session_sandbox.reset()


@pytest.fixture
def oauth(sandbox: Sandbox) -> OAuth1:
    c = sandbox.credentials
    return OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)


@pytest.fixture
def api(sandbox: Sandbox, oauth: OAuth1) -> Iterator[requests.Session]:
    """A requests session signed with the sandbox's user-context credentials."""
    with requests.Session() as session:
        session.auth = oauth
        yield session
