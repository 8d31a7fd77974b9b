"""One sandbox for the whole session; tests that change its faults get it reset afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from requests_oauthlib import OAuth1

from tap_twitter_engagement.sandbox import Sandbox


@pytest.fixture(scope="session")
def session_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, tweets=150) as sandbox:
        yield sandbox


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
