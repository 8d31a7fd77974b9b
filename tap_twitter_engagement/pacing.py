"""Pacing to the API's rate limits: one pacer per run, shared by every worker and stream.

The Engagement API's limits are set by contract and reported per endpoint in two header
families, ``x-per-minute-*`` and ``x-per-second-*`` (v2 uses ``x-rate-limit-*``). The pacer
spaces requests so a known limit is never exceeded (at 95 % of it, so that requests arriving a
little early or late still fit), holds an endpoint whose budget is spent until its reset, and,
until the first answer says what the limits are, lets one request at a time through, so that
many workers never open with a burst. A header a response does not carry means "unknown",
never "spent".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

from tap_twitter_engagement.errors import Interrupted, WaitTooLong

#: Known limits are used up to this fraction, leaving room for requests that arrive together.
SAFETY = 0.95
#: Header families whose ``-limit`` sets the pace: prefix -> window in seconds. v2's
#: ``x-rate-limit-*`` windows are 15 minutes for real and are only waited out, never paced.
PACED_FAMILIES = {"x-per-minute": 60.0, "x-per-second": 1.0}
HELD_FAMILIES = (*PACED_FAMILIES, "x-rate-limit")


def _number(value: str | None) -> float | None:
    """A header's number, or ``None`` when it is absent or not a number."""
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def reset_wait(headers: Mapping[str, str], now: float) -> tuple[float, str] | None:
    """Seconds until the reset a response names, and which header named it."""
    for prefix in HELD_FAMILIES:
        reset = _number(headers.get(f"{prefix}-reset"))
        if reset is not None and _number(headers.get(f"{prefix}-remaining")) == 0:
            return max(0.0, reset - now), f"{prefix}-reset"
    for prefix in HELD_FAMILIES:
        reset = _number(headers.get(f"{prefix}-reset"))
        if reset is not None:
            return max(0.0, reset - now), f"{prefix}-reset"
    retry_after = headers.get("Retry-After")
    if retry_after:
        seconds = _number(retry_after)
        if seconds is not None:
            return max(0.0, seconds), "Retry-After"
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now), "Retry-After"
        except (TypeError, ValueError):
            return None
    return None


class Pacer:
    """Decides when each request may go, per rate-limit bucket (endpoint)."""

    def __init__(
        self,
        *,
        per_minute: int | None = None,
        per_second: int | None = None,
        max_wait: float = 300.0,
        rate_limit_wait: float = 60.0,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        epoch: Callable[[], float] = time.time,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        configured = [60.0 / per_minute if per_minute else 0.0]
        configured.append(1.0 / per_second if per_second else 0.0)
        self._configured = max(configured) / SAFETY
        self.max_wait = max_wait
        #: How long a 429 that names no reset holds its endpoint.
        self.rate_limit_wait = rate_limit_wait
        self.stop = stop or threading.Event()
        self._clock = clock
        self._epoch = epoch
        #: Sleeps; True when the run was stopped meanwhile (default: the stop event's wait).
        self._sleep = sleep or self.stop.wait
        #: Intervals of documented budgets (per bucket; a user's bucket ``path@user`` takes
        #: its path's): known from the start, like the configured limits.
        self._budgets: dict[str, float] = {}
        self._learned: dict[str, dict[str, float]] = {}
        self._next: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._held: dict[str, tuple[float, str]] = {}
        self._seen: set[str] = set()
        self._probing: set[str] = set()
        self._lock = threading.Condition()

    @property
    def configured_interval(self) -> float:
        """Seconds between two requests to any endpoint at the configured limits (0: none)."""
        return self._configured

    def budget(self, bucket: str, limit: int, window: float) -> None:
        """A documented budget of ``limit`` requests per ``window`` seconds for ``bucket``, and
        for each user's bucket of it (``bucket@user``): paced to from the first request."""
        self._budgets[bucket] = window / limit / SAFETY

    def _known(self, bucket: str) -> float:
        return max(self._configured, self._budgets.get(bucket.split("@", 1)[0], 0.0))

    def interval(self, bucket: str) -> float:
        """Seconds between two requests to ``bucket``: the strictest known limit, with margin."""
        learned = self._learned.get(bucket, {}).values()
        return max([self._known(bucket), *learned])

    def wait(self, bucket: str) -> float:
        """Block until a request to ``bucket`` may go; the seconds waited.

        Raises :class:`WaitTooLong` rather than wait past ``max_wait``, and :class:`Interrupted`
        as soon as the run is stopped.
        """
        with self._lock:
            # Limits unknown: one request at a time until an answer says them. Limits set in
            # the settings (the contract's) are known from the start: paced from the first.
            probe = not self._known(bucket)
            while probe and bucket in self._probing and bucket not in self._seen:
                self._lock.wait(0.25)
                if self.stop.is_set():
                    raise Interrupted
            if probe and bucket not in self._seen:
                self._probing.add(bucket)
            now = self._clock()
            held_until, reason = self._held.get(bucket, (now, ""))
            start = max(now, self._next.get(bucket, now), held_until)
            delay = start - now
            if delay > self.max_wait:
                self._probing.discard(bucket)
                raise WaitTooLong(delay, reason or "pacing to the rate limit")
            self._next[bucket] = start + self.interval(bucket)
            self._last[bucket] = start
        if delay > 0 and self._sleep(delay):
            raise Interrupted
        return delay

    def observe(self, bucket: str, headers: Mapping[str, str], status: int) -> None:
        """Learn from a response: limits to pace to, a spent budget or a 429 to wait out (until
        the reset it names, else ``rate_limit_wait``): every 429 decision is made here."""
        now = self._epoch()
        with self._lock:
            self._seen.add(bucket)
            self._probing.discard(bucket)
            self._lock.notify_all()
            for prefix, window in PACED_FAMILIES.items():
                limit = _number(headers.get(f"{prefix}-limit"))
                if limit and limit > 0:
                    self._learned.setdefault(bucket, {})[prefix] = window / limit / SAFETY
            if bucket in self._last:  # a limit learned now also spaces from the last request
                spaced = self._last[bucket] + self.interval(bucket)
                self._next[bucket] = max(self._next.get(bucket, spaced), spaced)
            named = reset_wait(headers, now)
            spent = any(_number(headers.get(f"{p}-remaining")) == 0 for p in HELD_FAMILIES)
            if named is not None and (spent or status == 429):
                self._hold(bucket, *named)
            elif status == 429:
                self._hold(bucket, self.rate_limit_wait, "a 429 without a reset")

    def _hold(self, bucket: str, seconds: float, reason: str) -> None:
        until = self._clock() + seconds
        if until > self._held.get(bucket, (0.0, ""))[0]:
            self._held[bucket] = (until, reason)

    def held_for(self, bucket: str) -> tuple[float, str]:
        """Seconds ``bucket`` is still held (0 when it is free), and what holds it."""
        with self._lock:
            until, reason = self._held.get(bucket, (0.0, ""))
            return max(0.0, until - self._clock()), reason

    def release(self, bucket: str) -> None:
        """A request got no response at all: let the next one try, limits still unknown."""
        with self._lock:
            self._probing.discard(bucket)
            self._lock.notify_all()
