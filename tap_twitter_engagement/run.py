"""One run of the tap: what every stream shares, owned in one place.

The tap builds a :class:`Run` from its settings; each stream reaches it through its ``run``
attribute. It holds the HTTP session and the pacer (one budget: the rate limits are the
app's, whatever the number of accounts), the stop signal, and one :class:`AccountRun` per
account: its signed client, its user, its tweet selection and their v2 metadata (resolved
once, whichever stream asks first), the ledger of tweets the API did not serve, and whether
it failed. A failed account is reported at the end; the others go on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tap_twitter_engagement.backends import Backend, backend_for
from tap_twitter_engagement.client import Client
from tap_twitter_engagement.concurrency import ordered_concurrent
from tap_twitter_engagement.dates import Period
from tap_twitter_engagement.engine import HistoricalEngine
from tap_twitter_engagement.errors import AccessRefused, AccountsFailed
from tap_twitter_engagement.pacing import Pacer
from tap_twitter_engagement.selection import (
    Selection,
    authenticated_user,
    lookup,
    manual,
    recent,
)
from tap_twitter_engagement.settings import Account, Settings
from tap_twitter_engagement.skips import SkipLedger, SkipReason


class AccountRun:
    """One account within a run: its signed client, its user, tweets and skips, its failure.

    Its user (``GET /2/users/me``) is read once by the run; the selection and the v2 tweet
    objects once, by whichever stream asks first.
    """

    def __init__(self, account: Account, client: Client, logger: logging.Logger) -> None:
        self.account = account
        self.client = client
        self.logger = logger
        self.skips = SkipLedger(logger)
        #: The v2 user object of the token's owner, and when it was read (set by the run).
        self.user: Mapping[str, Any] = {}
        self.read_at: datetime | None = None
        #: Why the account failed this run (one line), or ``None``.
        self.failure: str | None = None
        self._selection: Selection | None = None
        self._metadata: dict[str, Mapping[str, Any]] | None = None
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        """The run's settings with this account's own token and tweet selection."""
        return self.account.settings

    @property
    def user_id(self) -> str:
        """The account's user id: digits, checked when ``GET /2/users/me`` was read."""
        return str(self.user["id"])

    @property
    def label(self) -> str:
        """The account in logs and errors: its name or place, and its handle once known."""
        handle = self.user.get("username")
        parts = [self.account.label, f"@{handle}" if handle else ""]
        return " ".join(p for p in parts if p) or "the account of access_token"

    def selection(self) -> Selection:
        """The tweets to query, resolved once per run and shared by every stream."""
        with self._lock:
            if self._selection is None:
                account = self.settings
                if account.tweet_selection == "manual":
                    self._selection = manual(account.tweet_ids)
                else:
                    self._selection = recent(
                        self.client.get,
                        self.client.settings.timeline_api_url,
                        self.user_id,
                        account.number_of_tweets,
                        exclude_retweets=account.exclude_retweets,
                        exclude_replies=account.exclude_replies,
                        logger=self.logger,
                    )
                self.logger.info(
                    "Selected %d tweets of %s (%s mode)",
                    len(self._selection.tweet_ids),
                    self.label,
                    account.tweet_selection,
                )
                found = len(self._selection.tweet_ids)
                if account.tweet_selection == "recent" and found < account.number_of_tweets:
                    self.logger.info("%s", _why_fewer(account, found))
            return self._selection

    def tweet_metadata(self) -> dict[str, Mapping[str, Any]]:
        """v2 tweet objects of the selection, by id: the timeline pages in recent mode, one
        ``GET /2/tweets?ids=`` per 100 ids in manual mode (ids it cannot see are recorded)."""
        chosen = self.selection()
        with self._lock:
            if self._metadata is None:
                if chosen.tweets is not None:
                    self._metadata = dict(chosen.tweets)
                else:
                    found = lookup(
                        self.client.get, self.client.settings.timeline_api_url, chosen.tweet_ids
                    )
                    for error in found.errors:
                        reason = (
                            SkipReason.PROTECTED
                            if "Authorization" in error["title"]
                            else SkipReason.UNAVAILABLE
                        )
                        self.skips.add([error["id"]], "tweets", reason)
                    for line in found.tally.lines(f"GET /2/tweets for {self.label}"):
                        self.logger.warning("%s", line)
                    self._metadata = {t["id"]: t for t in found.tweets}
            return self._metadata


def _why_fewer(account: Settings, found: int) -> str:
    """Why recent mode selected fewer tweets than ``number_of_tweets`` asks for."""
    left_out = [
        what
        for what, on in (
            ("retweets (exclude_retweets)", account.exclude_retweets),
            ("replies (exclude_replies)", account.exclude_replies),
        )
        if on
    ]
    cap = (
        "800 most recent tweets when replies are left out"
        if account.exclude_replies
        else ("3,200 most recent tweets")
    )
    return (
        f"{found} of the {account.number_of_tweets} tweets number_of_tweets asks for: the "
        f"account's timeline ended there. X lists at most the {cap}, and never deleted, "
        "withheld or protected ones"
        + (f"; this configuration leaves out {' and '.join(left_out)}" if left_out else "")
        + "."
    )


class Run:
    """What the streams of one tap run share (see the module docs)."""

    def __init__(self, settings: Settings, logger: logging.Logger) -> None:
        self.settings = settings
        self.logger = logger
        #: When the run started (UTC, to the second): the ``read_at`` of its rows.
        self.started_at = datetime.now(UTC).replace(microsecond=0)
        #: Set on SIGTERM/SIGINT: every wait and request in flight ends at once.
        self.stop = threading.Event()
        self.pacer = Pacer(
            per_minute=settings.max_requests_per_minute,
            per_second=settings.max_requests_per_second,
            max_wait=settings.max_wait_seconds,
            rate_limit_wait=settings.rate_limit_wait_seconds,
            stop=self.stop,
        )
        #: App-only (bearer) requests; each account signs with ``client.for_account``.
        self.client = Client(settings, self.pacer, self.stop, logger)
        #: The API the historical sync reads, and the engine that plans and runs it.
        self.backend: Backend = backend_for(settings)
        if self.backend.budget is not None:
            self.pacer.budget(self.backend.bucket, *self.backend.budget)
        self.engine = HistoricalEngine(settings, self.backend.limits, logger, self.started_at)
        self.accounts = [
            AccountRun(account, self.client.for_account(account), logger)
            for account in settings.accounts
        ]
        self._users_read = False
        self._period: Period | None = None
        self._lock = threading.Lock()

    def period(self) -> Period:
        """The period of this run: at its start, the same for every account and stream."""
        if self._period is None:
            self._period = self.engine.period(self.started_at)
        return self._period

    def ready(self) -> list[AccountRun]:
        """The accounts that have not failed, their users read (once, the first time)."""
        with self._lock:
            if not self._users_read:
                self._read_users()
                self._users_read = True
        return [a for a in self.accounts if a.failure is None]

    def account(self, context: Mapping[str, Any] | None) -> AccountRun | None:
        """The account of a stream partition (``None`` when it failed or is not in this run)."""
        user_id = (context or {}).get("account_id")
        return next((a for a in self.ready() if a.user_id == user_id), None)

    def fail(self, account: AccountRun, exc: AccessRefused) -> None:
        """Mark an account failed, logged once; the run goes on with the others."""
        account.failure = self._failure_line(account, exc)
        if len(self.accounts) > 1:
            self.logger.error("%s The other accounts go on.", account.failure)

    def raise_failures(self) -> None:
        """At the end of a run: one line per failed account, and exit code 1."""
        failed = [a.failure for a in self.accounts if a.failure is not None]
        if failed:
            if len(self.accounts) > 1:
                done = len(self.accounts) - len(failed)
                failed.append(
                    f"{len(failed)} of {len(self.accounts)} accounts failed; {done} completed "
                    "with their state. The failed accounts keep their previous state."
                )
            raise AccountsFailed(failed)

    def _read_users(self) -> None:
        """``GET /2/users/me`` for every account, concurrently; a refused token fails only
        its account, and a second token of a handle already listed fails too (its data
        would be counted twice)."""

        def read(account: AccountRun) -> AccessRefused | None:
            try:
                account.user = authenticated_user(
                    account.client.get, self.settings.timeline_api_url
                )
            except AccessRefused as exc:
                return exc
            account.read_at = datetime.now(UTC)
            return None

        outcomes = ordered_concurrent(read, self.accounts, self.settings.max_concurrent_requests)
        owner: dict[str, AccountRun] = {}
        for account, refused in zip(self.accounts, outcomes, strict=True):
            if refused is not None:
                self.fail(account, refused)
            elif account.user_id in owner:
                account.failure = (
                    f"Account {account.label}: its token is a second one of the handle "
                    f"{owner[account.user_id].label} already lists; remove one of them from "
                    "accounts."
                )
                self.logger.error("%s", account.failure)
            else:
                owner[account.user_id] = account

    def _failure_line(self, account: AccountRun, exc: AccessRefused) -> str:
        if account.account.index is None:
            return str(exc)
        name = account.account.name
        auth = "tap-twitter-engagement-auth" + (f" --account {name}" if name else "")
        what = "its credentials" if exc.status == 401 else "its access"
        return (
            f"Account {account.label}: the API refused {what} ({exc.status}: {exc.text}). "
            f"Authorize it again ({auth}) or remove it from accounts; if every account "
            "fails, check consumer_key and consumer_secret."
        )
