"""Signed, paced and retried HTTP for every stream: OAuth 1.0a, gzip, rate limits, backoff.

The SDK's ``RESTStream`` machinery does the sending; this module decides what is retried and
how long to wait, turns API refusals into one actionable line, and paces requests so the tap
waits for a rate-limit reset instead of provoking a 429.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import backoff
import requests
from requests_oauthlib import OAuth1
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_twitter_engagement.errors import TapError

if TYPE_CHECKING:
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

_T = TypeVar("_T")
_R = TypeVar("_R")
#: Wait after a 429 that names no reset (seconds): the API's limits are per minute.
FALLBACK_429_WAIT = 60.0
#: Exponential backoff for 5xx, resets, timeouts and bad bodies: base * 2**n, capped, jittered.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0
# requests-oauthlib and oauthlib log the signed Authorization header (consumer key, access
# token) at DEBUG; keep them quiet even when the tap runs with LOGLEVEL=DEBUG.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.INFO)
_IDS_AFTER_COLON = re.compile(r":\s*([0-9][0-9,\s]*)$")


class TapHTTPError(FatalAPIError, TapError):
    """A refusal the tap does not retry; ``str()`` is the one line the user sees."""

    def __init__(self, message: str) -> None:
        FatalAPIError.__init__(self, message)
        TapError.__init__(self, message)


class RefusedTweets(FatalAPIError):  # noqa: N818 - a condition the stream handles, not a bug
    """The API refused a whole batch because of some of its ids (other author, protected).

    ``ids`` are the ids it named, empty when it named none (then the caller bisects).
    """

    def __init__(self, reason: str, ids: list[str], message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.ids = ids


class MalformedBody(RetriableAPIError):  # noqa: N818 - retried, like a 5xx
    """A 200 whose body is not the JSON object it should be (cut short, HTML): retried."""


def refused_ids(messages: list[str]) -> list[str]:
    """Ids named after the last colon of each ``Forbidden to access tweets...`` message."""
    ids: list[str] = []
    for message in messages:
        match = _IDS_AFTER_COLON.search(message)
        if match:
            ids.extend(i for i in re.split(r"[,\s]+", match.group(1)) if i)
    return list(dict.fromkeys(ids))


def reset_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the reset a response names, from whichever header it carries."""
    for name in ("x-per-minute-reset", "x-rate-limit-reset"):
        value = headers.get(name)
        if value and value.strip().isdigit():
            return max(0.0, float(value) - now)
    retry_after = headers.get("Retry-After")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after)
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
        except (TypeError, ValueError):
            return None
    return None


class Pacer:
    """Spaces requests for a known per-minute budget and waits out exhausted windows.

    Shared by every stream (and worker) of a tap run, keyed by the API's rate-limit bucket.
    """

    def __init__(
        self,
        max_requests_per_minute: int | None = None,
        clock: Any = time.monotonic,
        sleep: Any = time.sleep,
    ) -> None:
        self.interval = 60.0 / max_requests_per_minute if max_requests_per_minute else 0.0
        self._next_slot: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait(self, bucket: str) -> float:
        """Block until a request to ``bucket`` may go; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next_slot.get(bucket, now), self._blocked_until.get(bucket, now))
            self._next_slot[bucket] = start + self.interval
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(0.0, delay)

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        """Read ``*-remaining``/``*-reset``: at zero remaining, hold the bucket until the reset."""
        for prefix in ("x-per-minute", "x-rate-limit"):
            remaining = headers.get(f"{prefix}-remaining")
            if remaining is not None and remaining.strip() == "0":
                wait = reset_wait(
                    {f"{prefix}-reset": headers.get(f"{prefix}-reset", "")}, time.time()
                )
                self.block(bucket, FALLBACK_429_WAIT if wait is None else wait)

    def block(self, bucket: str, seconds: float) -> None:
        with self._lock:
            until = self._clock() + seconds
            self._blocked_until[bucket] = max(until, self._blocked_until.get(bucket, 0.0))


class TwitterStream(RESTStream[Any]):
    """Base of the tap's streams: OAuth 1.0a signing, gzip JSON, retries, pacing, clear errors."""

    http_method = "POST"
    #: Set by the tap: one pacer for all streams of a run.
    pacer: ClassVar[Pacer | None] = None

    @property
    def url_base(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    @property
    def timeline_url_base(self) -> str:
        return str(self.config["timeline_api_url"]).rstrip("/")

    @cached_property
    def authenticator(self) -> OAuth1:
        """OAuth 1.0a user context; the JSON body is not part of the signature (RFC 5849)."""
        return OAuth1(
            client_key=self.config["consumer_key"],
            client_secret=self.config["consumer_secret"],
            resource_owner_key=self.config["access_token"],
            resource_owner_secret=self.config["access_token_secret"],
        )

    @property
    def http_headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip",
            "Accept": "application/json",
        }

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 60))

    # ------------------------------------------------------------------ retries
    def backoff_max_tries(self) -> int:
        return int(self.config.get("max_retries", 8)) + 1

    def backoff_jitter(self, value: float) -> float:
        """Jitter is applied in :meth:`backoff_wait_generator`, where the cause is known."""
        return value

    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """429: wait for the reset the response names; everything else: exponential + jitter."""
        tries = 0
        exception = yield 0.0  # primed by backoff with the first exception
        while True:
            tries += 1
            response = getattr(exception, "response", None)
            if response is not None and response.status_code == 429:
                wait = reset_wait(response.headers, time.time())
                if wait is None:
                    wait = float(self.config.get("rate_limit_wait_seconds", FALLBACK_429_WAIT))
                else:
                    wait += random.uniform(0, 0.25)
            else:
                base = float(self.config.get("retry_wait_seconds", BACKOFF_BASE))
                wait = random.uniform(0.5, 1.0) * min(BACKOFF_CAP, base * 2 ** (tries - 1))
            exception = yield wait

    def request_decorator(self, func: Any) -> Any:
        """The SDK's retry loop with our waits and log lines (the library's own go to DEBUG)."""
        return backoff.on_exception(
            self.backoff_wait_generator,
            (
                ConnectionResetError,
                RetriableAPIError,
                requests.exceptions.Timeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            logger=self.logger,
            backoff_log_level=logging.DEBUG,
            giveup_log_level=logging.DEBUG,
        )(func)

    def backoff_handler(self, details: Details) -> None:
        """Retries are expected in a rate-limited API: WARNING, one line, no secrets."""
        exception = details.get("exception")
        cause = _describe(exception)
        self.logger.warning(
            "Retrying %s in %.1f s (attempt %d of %d): %s",
            self.path,
            details.get("wait", 0.0),
            details.get("tries", 0) + 1,
            self.backoff_max_tries(),
            cause,
        )

    # ------------------------------------------------------------------ sending
    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One attempt: wait for the pacer, then let the SDK sign, send and validate."""
        if self.pacer is not None:
            self.pacer.wait(_bucket(prepared_request.path_url))
        return super()._request(prepared_request, context)

    def validate_response(self, response: requests.Response) -> None:
        """Retry 429/5xx and unreadable bodies; turn every other refusal into one clear line."""
        if self.pacer is not None:
            self.pacer.observe(_bucket(response.request.path_url), response.headers)
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetriableAPIError(f"HTTP {status} from {self._where(response)}", response)
        messages = _error_messages(response) if status >= 400 else []
        text = "; ".join(messages) or response.reason or ""
        if status == 401:
            raise TapHTTPError(
                f"The API refused the credentials (401: {text}). Check consumer_key, "
                "consumer_secret, access_token and access_token_secret, and that the app is "
                "approved for the Engagement API."
            )
        if status == 403 and any(m.startswith("Forbidden to access tweets") for m in messages):
            raise RefusedTweets("other_author", refused_ids(messages), text)
        if status == 400 and any("Tweet ID(s) are unavailable" in m for m in messages):
            raise RefusedTweets("protected", [], text)
        if status == 406:
            raise TapHTTPError(
                f"The API requires gzip (406: {text}); the tap always asks for "
                "it, so a proxy between the tap and the API is removing the "
                "Accept-Encoding header."
            )
        if status == 404:
            raise TapHTTPError(
                f"{self._where(response)} does not exist (404). Check api_url and timeline_api_url."
            )
        if status >= 400:
            raise TapHTTPError(
                f"The API refused the request ({status} from {self._where(response)}: {text})."
            )
        try:
            data = response.json()
        except ValueError:
            raise MalformedBody(f"unreadable body from {self._where(response)}", response) from None
        if not isinstance(data, dict):
            raise MalformedBody(f"unexpected body from {self._where(response)}", response)
        response.parsed_json = data  # type: ignore[attr-defined]

    def _where(self, response: requests.Response) -> str:
        return f"{response.request.method} {response.request.path_url.split('?')[0]}"

    def send(
        self,
        method: str,
        url: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Sign, send, retry and validate one call; returns the parsed JSON object."""
        prepared = self.build_prepared_request(
            method=method, url=url, json=json_body, params=params, headers=self.http_headers
        )
        try:
            response = self.request_decorator(self._request)(prepared, None)
        except (
            RetriableAPIError,
            requests.exceptions.RequestException,
            ConnectionResetError,
        ) as exc:
            raise TapHTTPError(
                f"Gave up on {method} {prepared.path_url.split('?')[0]} after "
                f"{self.backoff_max_tries()} attempts: {_describe(exc)}. The API or the network "
                "is failing; run again later (the state holds what was delivered), or raise "
                "max_retries / request_timeout."
            ) from None
        return response.parsed_json  # type: ignore[attr-defined,no-any-return]

    def get_json(self, url: str, params: Mapping[str, str]) -> dict[str, Any]:
        """A signed GET (for v2 tweet selection)."""
        return self.send("GET", url, params=params)


def ordered_concurrent(fn: Callable[[_T], _R], items: Iterable[_T], workers: int) -> Iterator[_R]:
    """``map(fn, items)`` with up to ``workers`` calls in flight, results in input order.

    Bounded look-ahead keeps memory flat; with ``workers`` 1 it is a plain sequential loop. If the
    consumer stops early, calls not yet started are cancelled.
    """
    if workers <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engagement-fetch")
    pending: deque[Future[_R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _bucket(path_url: str) -> str:
    """The rate-limit bucket of a path: per endpoint, ids stripped."""
    path = path_url.split("?", maxsplit=1)[0]
    return re.sub(r"/[0-9]+(/|$)", r"/:id\1", path)


def _error_messages(response: requests.Response) -> list[str]:
    """The API's ``errors`` strings (or v2 problem titles), never the raw body."""
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors", []) if isinstance(body, dict) else []
    out = []
    for error in errors:
        if isinstance(error, str):
            out.append(error)
        elif isinstance(error, dict):
            out.append(str(error.get("message") or error.get("detail") or error))
    if not out and isinstance(body, dict) and body.get("detail"):
        out.append(str(body["detail"]))
    return out


def _describe(exception: BaseException | None) -> str:
    if isinstance(exception, RetriableAPIError):
        return str(exception)
    if isinstance(exception, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exception, requests.exceptions.RequestException | ConnectionResetError):
        return f"connection failed ({type(exception).__name__})"
    if exception is None:
        return "unknown error"
    return type(exception).__name__
