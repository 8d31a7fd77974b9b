"""Signed, paced, bounded and retried HTTP: every call the tap makes goes through one ``Client``.

One client per run, shared by every stream and worker (it is thread-safe): OAuth 1.0a user
context (the JSON body is not part of the signature, RFC 5849) or the app-only bearer token,
gzip JSON, the run's pacer, a deadline on the whole exchange (``request_timeout`` bounds the
response from connect to last byte, so a server that trickles cannot hold a run), retries of
what a retry can fix, and one actionable line for everything else. Every wait ends at once when
the run is stopped, and no wait is longer than ``max_wait_seconds``.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1

from tap_twitter_engagement import __version__
from tap_twitter_engagement.checks import BadBody, problem_kind
from tap_twitter_engagement.errors import (
    AccessRefused,
    Interrupted,
    RefusedTweets,
    TapHTTPError,
    WaitTooLong,
)
from tap_twitter_engagement.pacing import Pacer
from tap_twitter_engagement.settings import Account, Settings

#: Exponential backoff for 5xx, resets, timeouts and bad bodies: base * 2**n, capped, jittered.
BACKOFF_CAP = 60.0
HEADERS = {
    "Content-Type": "application/json",
    "Accept-Encoding": "gzip",
    "Accept": "application/json",
    "User-Agent": f"tap-twitter-engagement/{__version__}",
}
# requests-oauthlib and oauthlib log the signed Authorization header (consumer key, access
# token) at DEBUG; keep them quiet even when the tap runs with LOGLEVEL=DEBUG.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.INFO)
_IDS_AFTER_COLON = re.compile(r":\s*([0-9][0-9,\s]*)$")
_EXCHANGE_THREAD = "engagement-exchange"
#: What an app needs for each ``api`` (a 401's line says it).
_ACCESS = {
    "engagement_api": "the app is approved for the Engagement API",
    "post_analytics": "the app's X API plan includes Post analytics (GET /2/tweets/analytics)",
}
#: Post analytics' path: its refusals are read apart (v2 problems, its own settings).
ANALYTICS_PATH = "/2/tweets/analytics"
#: The most a response body may hold, on the wire and once inflated. The largest legitimate
#: answers the tap asks for are hourly: /historical's 25 tweets x 17 metrics x 28 days x 24
#: hours = 285,600 counts, about 9 MB of JSON even with 19-digit counts, and Post analytics'
#: 100 posts x 20 metrics x 28 days x 24 hours = 1,344,000 counts, about 30 MB as the sandbox
#: writes them; 64 MiB leaves room above both, and stops a hostile or broken server (a gzip
#: bomb, an endless body) from holding more than that per request in flight.
MAX_BODY_BYTES = 64 * 2**20
_READ_CHUNK = 2**16
_T = TypeVar("_T")


class _Retry(Exception):  # noqa: N818 - control flow inside the client
    """An attempt failed in a way a later attempt may not: ``cause`` is the log text;
    ``unusable``: the API answered, but with a body the tap cannot use."""

    def __init__(
        self, cause: str, response: requests.Response | None = None, *, unusable: bool = False
    ) -> None:
        super().__init__(cause)
        self.cause = cause
        self.response = response
        self.unusable = unusable


class _TooLarge(Exception):  # noqa: N818 - turned into a retry by the attempt loop
    """A response body over :data:`MAX_BODY_BYTES`."""


def refused_ids(messages: list[str]) -> list[str]:
    """Ids named after the last colon of each ``Forbidden to access tweets...`` message."""
    ids: list[str] = []
    for message in messages:
        match = _IDS_AFTER_COLON.search(message)
        if match:
            ids.extend(i for i in re.split(r"[,\s]+", match.group(1)) if i)
    return list(dict.fromkeys(ids))


def bucket(path_url: str) -> str:
    """The rate-limit bucket of a path: per endpoint, ids stripped."""
    path = path_url.split("?", maxsplit=1)[0]
    return re.sub(r"/[0-9]+(/|$)", r"/:id\1", path)


class Client:
    """The run's HTTP client: ``get`` (v2) and ``post`` (Engagement API) return parsed JSON."""

    def __init__(
        self,
        settings: Settings,
        pacer: Pacer,
        stop: threading.Event,
        logger: logging.Logger,
    ) -> None:
        self.settings = settings
        self.pacer = pacer
        self.stop = stop
        self.logger = logger
        self.session = requests.Session()
        pool = max(10, 2 * settings.max_concurrent_requests)
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=pool))
        self.oauth: OAuth1 | None = None
        #: Whose budget a per-user endpoint draws on (set by :meth:`for_account`).
        self.owner = "app"

    def for_account(self, account: Account) -> Client:
        """A client signing for ``account``'s token, sharing this one's session and pacer:
        the rate limits are the app's, so every account draws on the same budget."""
        signed = copy.copy(self)
        signed.owner = f"account {account.index or 0}"
        signed.oauth = OAuth1(
            client_key=self.settings.consumer_key,
            client_secret=self.settings.consumer_secret,
            resource_owner_key=account.settings.access_token,
            resource_owner_secret=account.settings.access_token_secret,
        )
        return signed

    @property
    def attempts(self) -> int:
        return self.settings.max_retries + 1

    def get(
        self,
        url: str,
        params: Mapping[str, str],
        *,
        check: Callable[[dict[str, Any]], _T],
        per_user: bool = False,
    ) -> _T:
        """A signed GET (X API v2): its body, as ``check`` reads it.

        ``check`` reads the parsed JSON object against what was asked and raises
        :class:`~tap_twitter_engagement.checks.BadBody` for a body the tap cannot use, which is
        retried like an unreadable one: nothing of a response is used before it is checked.
        ``per_user``: the endpoint has a budget per user besides the app's (the pacer holds
        this account alone when its ``x-rate-limit-*`` headers say its budget is spent).
        """
        request = requests.Request("GET", url, params=dict(params), headers=HEADERS)
        return self._call(request.prepare(), bearer=False, check=check, per_user=per_user)

    def post(
        self,
        url: str,
        body: Mapping[str, Any],
        *,
        check: Callable[[dict[str, Any]], _T],
        bearer: bool = False,
    ) -> _T:
        """A POST of a JSON body, signed for the token's user, or app-only with ``bearer``;
        its answer as ``check`` reads it (see :meth:`get`)."""
        request = requests.Request("POST", url, json=dict(body), headers=HEADERS)
        return self._call(request.prepare(), bearer=bearer, check=check)

    # ------------------------------------------------------------------ the attempt loop
    def _call(
        self,
        prepared: requests.PreparedRequest,
        *,
        bearer: bool,
        check: Callable[[dict[str, Any]], _T],
        per_user: bool = False,
    ) -> _T:
        where = f"{prepared.method} {prepared.path_url.split('?')[0]}"
        rate_bucket = bucket(prepared.path_url)
        # The app's bucket, then this account's own when the endpoint budgets users too: the
        # headers describe the caller's (the user's) budget, a 429 may be either's.
        buckets = [rate_bucket, f"{rate_bucket}@{self.owner}"] if per_user else [rate_bucket]
        for attempt in range(1, self.attempts + 1):
            try:
                for each in buckets:
                    self.pacer.wait(each)
            except WaitTooLong as exc:
                raise self._too_long(where, exc) from None
            self._sign(prepared, bearer)
            unusable = False
            try:
                response = self._exchange(prepared)
            except Interrupted:
                raise
            except _TooLarge as exc:
                self._release(buckets)
                cause, unusable = f"unusable body from {where}: {exc}", True
            except (requests.exceptions.RequestException, OSError) as exc:
                self._release(buckets)
                cause = self._connection_cause(exc, prepared)
            else:
                self._observe(buckets, response)
                try:
                    return self._check(response, where, bearer=bearer, check=check)
                except _Retry as retry:
                    cause, unusable = retry.cause, retry.unusable
            if attempt == self.attempts:
                tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                if unusable:
                    raise TapHTTPError(
                        f"Gave up on {where} after {tries}: {cause}. The API answers with a body "
                        "the tap cannot use; nothing of it was written, and the state holds what "
                        "was delivered: run again later, and report it if it persists."
                    )
                raise TapHTTPError(
                    f"Gave up on {where} after {tries}: {cause}. The API or the network is "
                    "failing; run again later (the state holds what was delivered), or raise "
                    "max_retries / request_timeout."
                )
            self._back_off(where, attempt, cause, buckets[-1])
        raise AssertionError("unreachable")  # pragma: no cover

    def _observe(self, buckets: list[str], response: requests.Response) -> None:
        """Tell the pacer of a response: the last bucket (the caller's) takes its headers; an
        app's bucket under a user's learns only of a 429, which holds both."""
        status = response.status_code
        self.pacer.observe(buckets[-1], response.headers, status)
        for each in buckets[:-1]:
            self.pacer.observe(each, response.headers if status == 429 else {}, status)

    def _release(self, buckets: list[str]) -> None:
        for each in buckets:
            self.pacer.release(each)

    def _sign(self, prepared: requests.PreparedRequest, bearer: bool) -> None:
        """Sign each attempt anew: OAuth 1.0a wants a fresh nonce and timestamp every time."""
        if bearer:
            prepared.headers["Authorization"] = f"Bearer {self.settings.bearer_token}"
        else:
            if self.oauth is None:
                raise AssertionError("a user-context request needs Client.for_account")
            prepared.headers.pop("Authorization", None)
            self.oauth(prepared)

    def _exchange(self, prepared: requests.PreparedRequest) -> requests.Response:
        """Send and read the whole response within ``request_timeout``, or give up on it.

        The exchange runs in a daemon thread that is abandoned at the deadline or when the run
        stops, so neither a trickling server nor a signal waits on a socket read.
        """
        timeout = self.settings.request_timeout
        box: dict[str, Any] = {}
        done = threading.Event()

        def exchange() -> None:
            try:
                response = self.session.send(prepared, timeout=timeout, stream=True)
                try:
                    # requests' own cache of the body: set here, read whole but bounded.
                    response._content = _read_body(response)
                    response._content_consumed = True  # type: ignore[attr-defined] # reusable connection
                finally:
                    response.close()
                box["response"] = response
            except BaseException as exc:  # handed to the waiting thread, which re-raises it
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=exchange, name=_EXCHANGE_THREAD, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not done.wait(max(0.0, min(0.25, deadline - time.monotonic()))):
            if self.stop.is_set():
                raise Interrupted
            if time.monotonic() >= deadline:
                raise requests.exceptions.Timeout(
                    f"no complete response within {timeout} s", request=prepared
                )
        if "error" in box:
            raise box["error"]
        return box["response"]  # type: ignore[no-any-return]

    def _back_off(self, where: str, attempt: int, cause: str, rate_bucket: str) -> None:
        """Wait before the next attempt, one WARNING line; a 429's wait is the pacer's hold."""
        held, reason = self.pacer.held_for(rate_bucket)
        if held > 0:
            wait = held
        else:
            base = self.settings.retry_wait_seconds * 2 ** (attempt - 1)
            wait = random.uniform(0.5, 1.0) * min(BACKOFF_CAP, base)
            reason = f"the retry after {cause}"
        if wait > self.settings.max_wait_seconds:
            raise self._too_long(where, WaitTooLong(wait, reason))
        self.logger.warning(
            "Retrying %s in %.1f s (attempt %d of %d): %s",
            where,
            wait,
            attempt + 1,
            self.attempts,
            cause,
        )
        if held <= 0 and self.stop.wait(wait):
            raise Interrupted

    def _too_long(self, where: str, exc: WaitTooLong) -> TapHTTPError:
        return TapHTTPError(
            f"Gave up on {where}: {exc.reason} asks to wait {exc.seconds:.0f} s, longer than "
            f"max_wait_seconds ({self.settings.max_wait_seconds:g}). Run again later (the state "
            "holds what was delivered), or raise max_wait_seconds."
        )

    # ------------------------------------------------------------------ what went wrong
    def _analytics_refusal(
        self, where: str, text: str, problems: list[dict[str, Any]]
    ) -> TapHTTPError:
        """A 400 of Post analytics: the time range (its span or its age) names the setting
        that chose it; anything else is a request the tap should not have made."""
        named = {
            str(name)
            for p in problems
            if isinstance(p.get("parameters"), Mapping)
            for name in p["parameters"]
        }
        span = (
            f"post_analytics_max_days (now {self.settings.post_analytics_max_days}) sets the "
            "days one request spans: lower it"
        )
        age = (
            f"max_history_days (now {self.settings.max_history_days}) sets how far back the "
            "tap asks: lower it to the history the API serves"
        )
        if {"start_time", "end_time"} <= named:
            hint = span
        elif "start_time" in named:
            hint = age
        elif "end_time" in named:
            hint = (
                "The tap asks up to the current hour by its clock: check that this machine's "
                "clock is right (UTC)"
            )
        else:
            return TapHTTPError(
                f"The API refused the request (400 from {where}: {text}). The tap built a "
                "request Post analytics does not accept: report it, with this line."
            )
        return TapHTTPError(f"The API refused the time range (400 from {where}: {text}). {hint}.")

    def _connection_cause(self, exc: BaseException, prepared: requests.PreparedRequest) -> str:
        """The log text for a failed exchange; a refused connection ends the run at once."""
        if isinstance(exc, requests.exceptions.Timeout):
            return (
                f"timed out (no complete response within request_timeout, "
                f"{self.settings.request_timeout} s)"
            )
        parts = urlsplit(prepared.url or "")
        setting = "api_url" if "/insights/" in parts.path else "timeline_api_url"
        if _caused_by(exc, ConnectionRefusedError):
            raise TapHTTPError(
                f"Cannot connect to {parts.scheme}://{parts.netloc}: connection refused, nothing "
                f"is listening there. Check {setting}."
            )
        if _caused_by(exc, socket.gaierror):
            raise TapHTTPError(
                f"Cannot find the host {parts.hostname} (name resolution failed). Check "
                f"{setting} and the network."
            )
        return f"connection failed ({type(exc).__name__})"

    def _check(
        self,
        response: requests.Response,
        where: str,
        *,
        bearer: bool,
        check: Callable[[dict[str, Any]], _T],
    ) -> _T:
        """The checked body of a good response; a refusal becomes one clear line."""
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status} from {where}", response)
        if status >= 400:
            self._refused(response, where, bearer=bearer)
        with _DECODING:
            return _decode(response, where, check)

    def _refused(self, response: requests.Response, where: str, *, bearer: bool) -> None:
        """Raise what a 4xx means: a refusal of the account, of some tweets, or of the request."""
        status = response.status_code
        messages = _error_messages(response)
        text = "; ".join(messages) or response.reason or ""
        if bearer and status in (401, 403) and not _forbidden_tweets(messages):
            raise TapHTTPError(
                f"The API refused the bearer token ({status}: {text}). Check bearer_token: it "
                "must be an app-only token of the approved app (or unset it)."
            )
        problems = _problems(response)
        if status == 401:
            raise AccessRefused(
                f"The API refused the credentials (401: {text}). Check consumer_key, "
                "consumer_secret, access_token and access_token_secret, and that "
                f"{_ACCESS[self.settings.api]}.",
                status,
                text,
            )
        if status == 403 and _forbidden_tweets(messages):
            raise RefusedTweets("other_author", refused_ids(messages), text)
        named = _resources(problems, "not-authorized-for-resource")
        if status == 403 and named:
            raise RefusedTweets("other_author", named, text)
        if status == 403 and where.endswith(ANALYTICS_PATH):
            raise AccessRefused(
                f"The API refused the request (403 from {where}: {text}). With api "
                "post_analytics the app's X API plan must include GET /2/tweets/analytics, "
                "and the token must be the posts' owner's (OAuth 1.0a user context).",
                status,
                text,
            )
        if status == 403:
            raise AccessRefused(
                f"The API refused the request (403 from {where}: {text}).", status, text
            )
        if status == 400 and where.endswith(ANALYTICS_PATH):
            raise self._analytics_refusal(where, text, problems)
        if status == 400 and any("Tweet ID(s) are unavailable" in m for m in messages):
            raise RefusedTweets("protected", [], text)
        if status == 400 and where.endswith("/historical") and _too_old(messages):
            raise TapHTTPError(
                f"The API refused the window as older than it serves (400 from {where}: {text}). "
                f"Lower max_history_days (now {self.settings.max_history_days}) to the history "
                "your contract serves."
            )
        if status == 406:
            raise TapHTTPError(
                f"The API requires gzip (406: {text}); the tap always asks for it, so a proxy "
                "between the tap and the API is removing the Accept-Encoding header."
            )
        if status == 404:
            raise TapHTTPError(f"{where} does not exist (404). Check api_url and timeline_api_url.")
        raise TapHTTPError(f"The API refused the request ({status} from {where}: {text}).")


#: One body parsed and checked at a time in the process: that is CPU under the GIL, so taking
#: turns costs no throughput, and the parsed JSON (several times the body) exists for one
#: response at a time, not for every request in flight (``pipeline``'s memory budget).
_DECODING = threading.Lock()


def _decode(response: requests.Response, where: str, check: Callable[[dict[str, Any]], _T]) -> _T:
    """The body parsed and read by ``check``; the body's bytes and its parsed JSON are freed
    on return (only what ``check`` keeps lives on), before the next body is parsed."""
    try:
        data = response.json()
    except (ValueError, RecursionError, requests.exceptions.RequestException):
        raise _Retry(f"unreadable body from {where}") from None
    finally:
        response._content = b""  # parsed, or unusable: no longer needed
    if not isinstance(data, dict):
        raise _Retry(f"unusable body from {where}: not a JSON object", unusable=True)
    try:
        return check(data)
    except BadBody as exc:
        raise _Retry(f"unusable body from {where}: {exc}", unusable=True) from None
    except RecursionError:
        raise _Retry(f"unusable body from {where}: nested too deep", unusable=True) from None


def _read_body(response: requests.Response) -> bytes:
    """The whole body, inflated, but never more than :data:`MAX_BODY_BYTES` on the wire or
    inflated: read in chunks and inflated here with a cap on each step, so a gzip bomb costs
    at most the cap in memory, not what it would inflate to."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise _TooLarge(f"the body is encoded as {encoding[:40]!r}, which the tap never asks for")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if "gzip" in encoding else None
    chunks: list[bytes] = []
    wire = size = 0
    too_large = _TooLarge(
        f"the response body is larger than {MAX_BODY_BYTES // 2**20} MiB, far more than any "
        "answer the tap asks for"
    )
    while True:
        try:
            data = response.raw.read(_READ_CHUNK, decode_content=False)
        except urllib3.exceptions.HTTPError as exc:  # what requests would have raised
            raise requests.exceptions.ConnectionError(exc) from exc
        if not data:
            break
        wire += len(data)
        if wire > MAX_BODY_BYTES:
            raise too_large
        if inflater is None:
            chunks.append(data)
            size += len(data)
            continue
        while data:
            try:
                out = inflater.decompress(data, MAX_BODY_BYTES + 1 - size)
            except zlib.error:
                return b""  # not gzip after all: an unreadable body, retried as such
            size += len(out)
            if size > MAX_BODY_BYTES:
                raise too_large
            chunks.append(out)
            data = inflater.unconsumed_tail
    if inflater is not None:
        chunks.append(inflater.flush())
    return b"".join(chunks)


def _problems(response: requests.Response) -> list[dict[str, Any]]:
    """A v2 error body's problems: its ``errors`` objects, or the body itself when it is one."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError, requests.exceptions.RequestException):
        return []
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    listed = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    return listed or ([body] if "type" in body else [])


def _resources(problems: list[dict[str, Any]], kind: str) -> list[str]:
    """The digit ids the problems of ``kind`` name (``resource_id``, else ``value``)."""
    ids = [
        str(p.get("resource_id") or p.get("value") or "")
        for p in problems
        if problem_kind(p) == kind
    ]
    return list(dict.fromkeys(i for i in ids if i.isascii() and i.isdigit()))


def _too_old(messages: list[str]) -> bool:
    """Whether a 400 of ``/historical`` refuses the window for its age (the documented limits
    are the last 365 days and 2014-09-01; the exact words are not)."""
    return any(
        "historical" in m.lower() and any(w in m.lower() for w in ("available", "older", "days"))
        for m in messages
    )


def _forbidden_tweets(messages: list[str]) -> bool:
    return any(m.startswith("Forbidden to access tweets") for m in messages)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether an exception, or anything it wraps (urllib3 keeps the socket error in
    ``reason`` or ``args``), is of ``kind``: no retry fixes a refused connection or an
    unknown host."""
    todo: list[object] = [exc]
    seen: set[int] = set()
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return True
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return False


def _error_messages(response: requests.Response) -> list[str]:
    """The API's ``errors`` strings (or v2 problem titles), never the raw body."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError, requests.exceptions.RequestException):
        return []
    errors = body.get("errors", []) if isinstance(body, dict) else []
    out = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, str):
            out.append(error)
        elif isinstance(error, dict):
            out.append(str(error.get("message") or error.get("detail") or error))
    if not out and isinstance(body, dict) and body.get("detail"):
        out.append(str(body["detail"]))
    return out
