"""The sandbox HTTP server: Engagement API, the v2 endpoints the tap needs, the PIN flow, faults.

A stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive, so a client's connection
reuse, gzip handling, signing and retries are exercised the way the real service exercises them.
"""

from __future__ import annotations

import base64
import gzip
import json
import random
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twitter_engagement_sandbox import analytics, engagement, v2
from twitter_engagement_sandbox.engagement import ApiError, Behaviour
from twitter_engagement_sandbox.model import REVISION_HOURS, SandboxModel, User
from twitter_engagement_sandbox.oauth import Account, AuthError, Credentials, OAuthServer
from twitter_engagement_sandbox.tamper import (
    BoundTamper,
    Raw,
    TamperError,
    TamperFunction,
    TamperRequest,
    bind,
)

GZIP_REQUIRED = (
    "This request requires gzip compression. Retry the request after setting "
    "'Accept-Encoding' header in the request to 'gzip'."
)
FAULT_KINDS = ("500", "502", "503", "429", "401", "403", "reset", "truncate", "garbage", "stall")
#: The refusals a fault "401" or "403" answers, on the Engagement API and on v2: a token revoked
#: while a run goes on, and an app not (or no longer) approved for the handle (a guess: the
#: status of "Your application id is not authorized." is not documented).
_ACCESS_FAULTS = {
    "401": (
        {"errors": ["Your account could not be authenticated. Reason: Access token not found"]},
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    ),
    "403": (
        {"errors": ["Your application id is not authorized."]},
        {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"},
    ),
}
#: Engagement API requests per endpoint and second. No source gives a number (X's sample paces
#: itself to 1/s; a production client reads the headers): a modest guess.
RATE_LIMIT_PER_SECOND = 5
#: Post analytics requests per 15 minutes, per app and again per user (X's v2 rate-limit table).
ANALYTICS_RATE_LIMIT = 300
ANALYTICS_WINDOW_SECONDS = 15 * 60
#: v2's 429 body.
TOO_MANY_REQUESTS = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}


@dataclass
class Faults:
    """Failures the sandbox injects. Rates are fractions of API requests (0..1), seeded."""

    latency_ms: int = 0
    fail_rate: float = 0.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    garbage_rate: float = 0.0
    #: Every Nth API request starts a burst of ``burst_429_length`` consecutive 429s.
    burst_429_every: int = 0
    burst_429_length: int = 3
    #: The reset a burst's 429s announce, in seconds from now.
    burst_429_seconds: float = 1.0
    #: Which header a burst's 429 names its reset in: per-minute, per-second, retry-after,
    #: rate-limit, none.
    burst_429_header: str = "per-minute"
    #: How long a ``stall`` fault holds the response (to trip client timeouts).
    stall_seconds: float = 5.0
    #: After this many API requests every further one gets a 503: an outage (None = never).
    outage_after: int | None = None


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the sandbox saw it, for tests and benchmarks."""

    method: str
    path: str
    route: str
    status: int
    body: Any
    fault: str | None
    at: float
    #: The tamper that changed the answer: its kind, or its function's ``__name__``.
    tamper: str | None = None
    #: A GET's query parameters (each name once; ``None`` for a POST).
    params: dict[str, str] | None = None


@dataclass
class _ActiveTamper:
    tamper: BoundTamper
    #: Answers still to tamper (None: every one until ``reset``).
    left: int | None


@dataclass
class _Window:
    started: float = 0.0
    used: int = 0


class RateLimiter:
    """Fixed windows per key (a route, or a route and a user), one minute unless ``seconds``
    says otherwise, each window starting with its first request (0 = no limit)."""

    def __init__(
        self, limit: int, clock: Callable[[], float] = time.time, seconds: int = 60
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.seconds = seconds
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def _window(self, route: str, now: float) -> tuple[_Window, int]:
        window = self._windows.setdefault(route, _Window(now, 0))
        if now - window.started >= self.seconds:
            window.started, window.used = now, 0
        return window, int(window.started + self.seconds) + 1

    def take(self, route: str, *, count: bool = True) -> tuple[bool, int, int]:
        """Count a request: ``(allowed, remaining, reset_epoch)``.

        ``count=False`` only looks: the budget as it stands, nothing used.
        """
        with self._lock:
            window, reset = self._window(route, self.clock())
            if self.limit and window.used >= self.limit:
                return False, 0, reset
            if count:
                window.used += 1
            remaining = max(0, self.limit - window.used) if self.limit else 10**6
            return True, remaining, reset


class PerSecondLimiter:
    """At most ``limit`` requests per route in each Unix epoch second (0 = no limit)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def take(self, route: str, *, count: bool = True) -> tuple[bool, int, int]:
        """Count a request: ``(allowed, remaining, reset_epoch)``; the reset is the next second.

        ``count=False`` only looks: the budget as it stands, nothing used.
        """
        with self._lock:
            second = int(self.clock())
            window = self._windows.setdefault(route, _Window(second, 0))
            if window.started != second:
                window.started, window.used = second, 0
            if self.limit and window.used >= self.limit:
                return False, 0, second + 1
            if count:
                window.used += 1
            return True, max(0, self.limit - window.used), second + 1


@dataclass
class SandboxState:
    """Everything the handler threads share; one per running sandbox."""

    model: SandboxModel
    #: Account 0's credentials; ``account_credentials`` has every account's, under one app.
    credentials: Credentials
    account_credentials: list[Credentials]
    oauth: OAuthServer
    behaviour: Behaviour
    faults: Faults
    limiter: RateLimiter
    v2_limiter: RateLimiter
    second_limiter: PerSecondLimiter
    #: Post analytics' two 15-minute budgets: key ``app`` for the app, ``user:ID`` per user.
    analytics_limiter: RateLimiter
    clock: Callable[[], datetime]
    rng: random.Random
    log: list[LoggedRequest] = field(default_factory=list)
    queued: deque[tuple[str, str | None]] = field(default_factory=deque)
    tampers: list[_ActiveTamper] = field(default_factory=list)
    api_requests: int = 0
    burst_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, route: str) -> str | None:
        """A queued fault for this route, else a burst 429, else a random one."""
        with self.lock:
            for index, (kind, only) in enumerate(self.queued):
                if _covers(only, route):
                    del self.queued[index]
                    return kind
            self.api_requests += 1
            faults = self.faults
            if faults.outage_after is not None and self.api_requests > faults.outage_after:
                return "503"
            if self.burst_left:
                self.burst_left -= 1
                return "429-burst"
            if faults.burst_429_every and self.api_requests % faults.burst_429_every == 0:
                self.burst_left = max(0, faults.burst_429_length - 1)
                return "429-burst"
            roll = self.rng.random()
            for kind, rate in (
                ("5xx", faults.fail_rate),
                ("reset", faults.reset_rate),
                ("truncate", faults.truncate_rate),
                ("garbage", faults.garbage_rate),
            ):
                if roll < rate:
                    return self.rng.choice(("500", "502", "503")) if kind == "5xx" else kind
                roll -= rate
            return None

    def next_tamper(self, route: str) -> BoundTamper | None:
        """The oldest tamper set for this route with answers left, one use spent."""
        with self.lock:
            for index, active in enumerate(self.tampers):
                if route in active.tamper.routes:
                    if active.left is not None:
                        active.left -= 1
                        if not active.left:
                            del self.tampers[index]
                    return active.tamper
            return None


def _covers(only: str | None, route: str) -> bool:
    """Whether a fault queued for ``only`` applies to ``route``: every route for None, that
    route for a route's name (``2/tweets`` is not ``2/tweets/analytics``), else the routes it
    begins (``insights/``)."""
    if only is None or only == route:
        return True
    return only not in ROUTES and route.startswith(only)


class _Reply(Exception):  # noqa: N818 - control flow, not an error
    """Ends request handling with a status, headers and a JSON body (or a tamper's Raw)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class Handler(BaseHTTPRequestHandler):
    """Routes requests; the state lives on the server object."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK would add
    # ~40 ms to every keep-alive response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the request log instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # ------------------------------------------------------------------ dispatch
    def _handle(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        route = _route(method, url.path)
        self._fault: str | None = None
        self._tamper: str | None = None
        body: Any = None

        def log(status: int) -> None:
            # Logged before the reply is sent, so a client that has its answer sees it logged.
            with state.lock:
                state.log.append(
                    LoggedRequest(
                        method,
                        url.path,
                        route or "unknown",
                        status,
                        body,
                        self._fault,
                        time.time(),
                        self._tamper,
                        _params(url.query) if method == "GET" else None,
                    )
                )

        try:
            if route is None:
                raise _Reply(
                    404, {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}
                )
            if route.startswith("oauth"):
                self._oauth(route, raw, log)
                return
            if state.faults.latency_ms:
                time.sleep(state.faults.latency_ms / 1000)
            if route.startswith("insights/"):
                body = _json_or_none(raw)
                self._engagement(route, raw, body, _params(url.query))
            elif route == analytics.ROUTE:
                self._analytics(url.query)
            else:
                self._v2(route, url.path, _params(url.query))
        except _Reply as reply:
            log(reply.body.status if isinstance(reply.body, Raw) else reply.status)
            self._send(reply.status, reply.body, reply.headers, self._fault)

    def _engagement(self, route: str, raw: bytes, body: Any, params: dict[str, str]) -> None:
        state = self.server.state
        endpoint = route.split("/", 1)[1]
        if "gzip" not in self.headers.get("Accept-Encoding", ""):
            raise _Reply(406, {"errors": [GZIP_REQUIRED]})
        try:
            kind, user_id = state.oauth.authenticate(
                self._uri(),
                "POST",
                raw.decode("utf-8", "replace"),
                dict(self.headers.items()),
                allow_bearer=endpoint == "totals",
            )
        except AuthError as exc:
            raise _Reply(
                401, {"errors": [f"Your account could not be authenticated. Reason: {exc.reason}"]}
            ) from None
        allowed, limits = _take_engagement_budget(state, route)
        if not allowed:
            raise _Reply(429, {"errors": ["Exceeded rate limit"]}, limits)
        self._fault = state.next_fault(route)
        self._raise_status_fault(self._fault, limits, v2=False)
        if body is None:
            raise _Reply(400, {"errors": ["Request body is not valid JSON."]}, limits)
        now = state.clock()
        try:
            parsed = engagement.validate(endpoint, body, now, state.behaviour)
            answer = engagement.respond(
                parsed, state.model, now, state.behaviour, bearer=kind == "bearer", user_id=user_id
            )
        except ApiError as exc:
            raise _Reply(exc.status, exc.body(), limits) from None
        request = TamperRequest(route, "POST", params, body)
        raise _Reply(200, self._tampered(answer, request, limits), limits)

    def _v2_authenticate(self, *, allow_bearer: bool) -> tuple[str, str | None]:
        """``(kind, user_id)`` of a signed v2 GET, or v2's 401."""
        try:
            return self.server.state.oauth.authenticate(
                self._uri(), "GET", "", dict(self.headers.items()), allow_bearer=allow_bearer
            )
        except AuthError:
            raise _Reply(
                401,
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
            ) from None

    def _v2(self, route: str, path: str, params: dict[str, str]) -> None:
        state = self.server.state
        _, user_id = self._v2_authenticate(allow_bearer=route != "2/users/me")
        allowed, remaining, reset = state.v2_limiter.take(route)
        limits = {
            "x-rate-limit-limit": str(state.v2_limiter.limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset),
        }
        if not allowed:
            raise _Reply(429, TOO_MANY_REQUESTS, limits)
        self._fault = state.next_fault(route)
        self._raise_status_fault(self._fault, limits, v2=True)
        try:
            answer = v2.answer(route, path, params, state.model, state.clock(), user_id)
        except v2.V2Error as exc:
            raise _Reply(exc.status, exc.body, limits) from None
        request = TamperRequest(route, "GET", params, None)
        raise _Reply(200, self._tampered(answer, request, limits), limits)

    def _analytics(self, query: str) -> None:
        """``GET /2/tweets/analytics``: user context only (an app-only token is v2's 403), both
        budgets, faults, then the answer and its tamper."""
        state = self.server.state
        kind, user_id = self._v2_authenticate(allow_bearer=True)
        if kind == "bearer" or user_id is None:
            raise _Reply(403, analytics.UNSUPPORTED_AUTHENTICATION)
        allowed, limits = _take_analytics_budget(state, user_id)
        if not allowed:
            raise _Reply(429, TOO_MANY_REQUESTS, limits)
        self._fault = state.next_fault(analytics.ROUTE)
        self._raise_status_fault(self._fault, limits, v2=True)
        everything = parse_qs(query, keep_blank_values=True)
        try:
            answer = analytics.answer(
                everything, state.model, state.clock(), user_id, state.behaviour
            )
        except v2.V2Error as exc:
            raise _Reply(exc.status, exc.body, limits) from None
        request = TamperRequest(analytics.ROUTE, "GET", _params(query), None)
        raise _Reply(200, self._tampered(answer, request, limits), limits)

    def _tampered(self, answer: Any, request: TamperRequest, limits: dict[str, str]) -> Any:
        """The 200 answer after the route's next tamper, if any. A ``garbage`` fault replaces
        the body anyway, so it leaves the tamper for the next answer; a tamper that raises (or
        returns what JSON cannot encode) makes a 500 saying why."""
        if self._fault == "garbage":
            return answer
        tamper = self.server.state.next_tamper(request.route)
        if tamper is None:
            return answer
        self._tamper = tamper.name
        try:
            changed = tamper.function(answer, request)
            if not isinstance(changed, Raw):
                json.dumps(changed)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, TamperError) else f"{type(exc).__name__}: {exc}"
            raise _Reply(
                500, {"errors": [f"sandbox tamper {tamper.name} failed: {reason}"]}, limits
            ) from None
        return changed

    def _raise_status_fault(self, fault: str | None, limits: dict[str, str], *, v2: bool) -> None:
        """Turn a status-like fault into its reply; body faults happen at send time."""
        state = self.server.state
        if fault in _ACCESS_FAULTS:
            raise _Reply(int(fault), _ACCESS_FAULTS[fault][v2], limits)
        if fault == "stall":
            time.sleep(state.faults.stall_seconds)
            return
        if fault in ("500", "502", "503"):
            text = {
                "500": "internal server error",
                "502": "Bad Gateway",
                "503": "Service Unavailable",
            }[fault]
            raise _Reply(int(fault), {"errors": [text]}, limits)
        if fault in ("429", "429-burst"):
            reset = state.limiter.clock() + state.faults.burst_429_seconds
            headers = dict(limits)
            style = state.faults.burst_429_header
            for name in ("x-per-minute-reset", "x-per-second-reset", "x-rate-limit-reset"):
                headers.pop(name, None)
            if style == "per-minute":
                headers["x-per-minute-remaining"] = "0"
                headers["x-per-minute-reset"] = str(int(reset + 0.999))
            elif style == "per-second":
                headers["x-per-second-remaining"] = "0"
                headers["x-per-second-reset"] = str(int(reset + 0.999))
            elif style == "rate-limit":
                headers["x-rate-limit-remaining"] = "0"
                headers["x-rate-limit-reset"] = str(int(reset + 0.999))
            elif style == "retry-after":
                headers["Retry-After"] = str(max(1, round(state.faults.burst_429_seconds)))
            raise _Reply(429, {"errors": ["Exceeded rate limit"]}, headers)

    def _oauth(self, route: str, raw: bytes, log: Callable[[int], None]) -> None:
        oauth = self.server.state.oauth
        headers = dict(self.headers.items())
        body = raw.decode("utf-8", "replace")
        if route == "oauth2/token":
            token = oauth.app_only_token(headers.get("Authorization", ""))
            if token is None:
                raise _Reply(
                    403, {"errors": [{"code": 99, "message": "Unable to verify your credentials"}]}
                )
            raise _Reply(200, {"token_type": "bearer", "access_token": token})
        if route == "oauth/request_token":
            status, text = oauth.request_token(self._uri(), body, headers)
            content_type = "application/x-www-form-urlencoded"
        elif route == "oauth/access_token":
            status, text = oauth.access_token(self._uri(), body, headers)
            content_type = "application/x-www-form-urlencoded"
        else:  # oauth/authorize
            status, pin, account = oauth.authorize(self._uri())
            text = (
                (
                    f"<html><body><h1>Sandbox authorization</h1><p>You authorized the app for "
                    f'@{account.username}.</p><p>PIN: <code id="pin">{pin}</code>'
                    "</p></body></html>"
                )
                if status == 200 and account is not None
                else pin
            )
            content_type = "text/html; charset=utf-8"
        log(status)
        self._send_text(status, text, content_type)

    # ------------------------------------------------------------------ output
    def _uri(self) -> str:
        return f"http://{self.headers.get('Host', 'localhost')}{self.path}"

    def _send_text(self, status: int, text: str, content_type: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, body: Any, headers: dict[str, str], fault: str | None) -> None:
        if isinstance(body, Raw):
            self._send_raw(body, headers, fault)
            return
        data = json.dumps(body, separators=(",", ":")).encode()
        if fault == "truncate" and status == 200:
            data = data[: max(1, len(data) // 2)]
        elif fault == "garbage" and status == 200:
            data = b"<html><body>Service temporarily unavailable</body></html>"
        compressed = "gzip" in self.headers.get("Accept-Encoding", "") and status != 406
        if compressed:
            data = gzip.compress(data, compresslevel=1)
        self.send_response(status)
        self.send_header(
            "Content-Type", "text/html" if fault == "garbage" else "application/json; charset=utf-8"
        )
        if compressed:
            self.send_header("Content-Encoding", "gzip")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault == "reset" and status == 200:
            self.wfile.write(data[: len(data) // 2])
            self._reset_connection()
            return
        self.wfile.write(data)

    def _send_raw(self, raw: Raw, headers: dict[str, str], fault: str | None) -> None:
        """A tamper's bytes, as they are. ``truncate`` sends half the bytes, or a stream's first
        chunk, as a complete answer; ``reset`` sends as much and then resets the connection."""
        chunks, length = _raw_chunks(raw, fault)
        self.send_response(raw.status)
        self.send_header("Content-Type", raw.content_type)
        if raw.content_encoding:
            self.send_header("Content-Encoding", raw.content_encoding)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        sent = 0
        for chunk in chunks:
            if chunk:
                self.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if length is None else chunk)
                sent += len(chunk)
        if fault == "reset":
            self._reset_connection()
        elif length is None:
            self.wfile.write(b"0\r\n\r\n")
        elif sent != length:
            self.close_connection = True  # a body short of (or past) its length ends the connection

    def _reset_connection(self) -> None:
        self.wfile.flush()
        # SO_LINGER with a zero timeout makes close() send RST: a reset mid-body.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def _raw_chunks(raw: Raw, fault: str | None) -> tuple[Iterable[bytes], int | None]:
    """What of a :class:`Raw` goes out under ``fault``, and its Content-Length (None: chunked)."""
    if not isinstance(raw.data, bytes):
        return (islice(raw.data, 1) if fault in ("truncate", "reset") else raw.data), raw.length
    data = raw.data
    if fault == "truncate":
        data = data[: max(1, len(data) // 2)]
    length = len(data) if raw.length is None else raw.length
    return (data[: len(data) // 2] if fault == "reset" else data,), length


def _take_engagement_budget(state: SandboxState, route: str) -> tuple[bool, dict[str, str]]:
    """Count an Engagement API request against both budgets of its route.

    A request refused by either budget uses neither. The headers name both families (the
    per-second one only when a per-second limit is set); a refusal shows 0 remaining in the
    family that refused it, with its reset.
    """
    with state.lock:  # both budgets move together
        minute = state.limiter.take(route, count=False)
        second = state.second_limiter.take(route, count=False)
        allowed = minute[0] and second[0]
        if allowed:
            minute = state.limiter.take(route)
            second = state.second_limiter.take(route)
    headers = {
        "x-per-minute-limit": str(state.limiter.limit),
        "x-per-minute-remaining": str(minute[1]),
        "x-per-minute-reset": str(minute[2]),
    }
    if state.second_limiter.limit:
        headers |= {
            "x-per-second-limit": str(state.second_limiter.limit),
            "x-per-second-remaining": str(second[1]),
            "x-per-second-reset": str(second[2]),
        }
    return allowed, headers


def _take_analytics_budget(state: SandboxState, user_id: str) -> tuple[bool, dict[str, str]]:
    """Count a Post analytics request against the app's budget and the user's.

    A request refused by either uses neither. The headers are the user's budget (what the
    caller's token has left, as v2 reports limits to the caller); a refusal shows the budget
    that is spent, with 0 remaining and its reset (both spent: the later reset, when the next
    request can pass).
    """
    limiter = state.analytics_limiter
    keys = ("app", f"user:{user_id}")
    with state.lock:  # both budgets move together
        app, user = (limiter.take(key, count=False) for key in keys)
        allowed = app[0] and user[0]
        if allowed:
            app, user = (limiter.take(key) for key in keys)
    shown = user
    if not allowed:
        spent = [budget for budget in (user, app) if not budget[0]]
        shown = max(spent, key=lambda budget: budget[2])
    return allowed, {
        "x-rate-limit-limit": str(limiter.limit),
        "x-rate-limit-remaining": str(shown[1]),
        "x-rate-limit-reset": str(shown[2]),
    }


#: Every API route by name (for the log, limits, faults and tampers).
ROUTES = (
    *(f"insights/{endpoint}" for endpoint in engagement.ENDPOINTS),
    "2/users/me",
    "2/users/tweets",
    "2/tweets",
    analytics.ROUTE,
)


def _route(method: str, path: str) -> str | None:
    """A stable route name for rate limits and the request log."""
    parts = [p for p in path.split("/") if p]
    if (
        method == "POST"
        and len(parts) == 3
        and parts[:2] == ["insights", "engagement"]
        and (parts[2] in engagement.ENDPOINTS)
    ):
        return f"insights/{parts[2]}"
    if method == "GET" and parts == ["2", "users", "me"]:
        return "2/users/me"
    if (
        method == "GET"
        and len(parts) == 4
        and parts[:2] == ["2", "users"]
        and (parts[3] == "tweets")
    ):
        return "2/users/tweets"
    if method == "GET" and parts == ["2", "tweets"]:
        return "2/tweets"
    if method == "GET" and parts == ["2", "tweets", "analytics"]:
        return analytics.ROUTE
    if method == "POST" and parts in (["oauth", "request_token"], ["oauth", "access_token"]):
        return "/".join(parts)
    if method == "GET" and parts == ["oauth", "authorize"]:
        return "oauth/authorize"
    if method == "POST" and parts == ["oauth2", "token"]:
        return "oauth2/token"
    return None


def _params(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    state: SandboxState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) or a reset we injected is not a sandbox error."""
        if isinstance(sys.exc_info()[1], ConnectionError | OSError):
            return
        super().handle_error(request, client_address)


class Sandbox:
    """A running sandbox: base URL, credentials, model, fault controls and the request log.

    Use as a context manager (``with Sandbox() as sb:``) or call :meth:`start`/:meth:`stop`.
    ``accounts`` brand handles authorize one app: each has its own user id, tweets and access
    token; the consumer key and secret, and the rate limits, are the app's and so shared.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 42,
        tweets: int = 120,
        anchor: datetime | None = None,
        rate_limit_per_minute: int = 6000,
        v2_rate_limit_per_minute: int = 900,
        rate_limit_per_second: int = RATE_LIMIT_PER_SECOND,
        analytics_rate_limit: int = ANALYTICS_RATE_LIMIT,
        revision_hours: int = REVISION_HOURS,
        accounts: int = 1,
        faults: Faults | None = None,
        behaviour: Behaviour | None = None,
        clock: Callable[[], datetime] | None = None,
        rate_clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock`` is the API's "now" (which hours exist, what is revised, default ``end``s);
        ``rate_clock`` (epoch seconds) drives the rate-limit windows. Both default to real time.
        ``analytics_rate_limit`` is Post analytics' budget per 15 minutes, per app and again per
        user (0 = none); its other choices are ``behaviour``'s ``analytics_*`` fields.
        """
        model = SandboxModel(
            seed=seed,
            tweet_count=tweets,
            anchor=anchor,
            revision_hours=revision_hours,
            account_count=accounts,
        )
        self._rate_clock = rate_clock or time.time
        own = [
            Credentials.for_seed(seed, user.id, account=index)
            for index, user in enumerate(model.accounts)
        ]
        tokens = tuple((c.access_token, c.access_token_secret) for c in own)
        everyone = [replace(c, app_tokens=tokens) for c in own]
        self.state = SandboxState(
            model=model,
            credentials=everyone[0],
            account_credentials=everyone,
            oauth=OAuthServer(
                [
                    Account(user.id, user.username, credentials)
                    for user, credentials in zip(model.accounts, everyone, strict=True)
                ]
            ),
            behaviour=behaviour or Behaviour(),
            faults=faults or Faults(),
            limiter=RateLimiter(rate_limit_per_minute, self._rate_clock),
            v2_limiter=RateLimiter(v2_rate_limit_per_minute, self._rate_clock),
            second_limiter=PerSecondLimiter(rate_limit_per_second, self._rate_clock),
            analytics_limiter=self._analytics_limiter(analytics_rate_limit),
            clock=clock or (lambda: datetime.now(UTC)),
            rng=random.Random(seed),
        )
        self._limits = (
            rate_limit_per_minute,
            v2_rate_limit_per_minute,
            rate_limit_per_second,
            analytics_rate_limit,
        )
        self._server = _Server((host, port), Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    # ---- lifecycle
    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="engagement-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what tests and tools read
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    @property
    def model(self) -> SandboxModel:
        return self.state.model

    @property
    def credentials(self) -> Credentials:
        return self.state.credentials

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def behaviour(self) -> Behaviour:
        return self.state.behaviour

    @property
    def accounts(self) -> list[User]:
        """Every account, in order (``accounts[0]`` is ``model.user``)."""
        return list(self.state.model.accounts)

    def account_credentials(self, account: int) -> Credentials:
        """Account ``account``'s credentials: the app's consumer key and secret, its own access
        token and secret. ``account_credentials(0) == credentials``."""
        if not 0 <= account < len(self.state.account_credentials):
            raise IndexError(
                f"no account {account}: this sandbox has accounts 0 to "
                f"{len(self.state.account_credentials) - 1}"
            )
        return self.state.account_credentials[account]

    def secret_values(self) -> list[str]:
        """Every credential value of the app and every account, for tests that scan output."""
        return self.credentials.values()

    def tap_config(self, **overrides: Any) -> dict[str, Any]:
        """A config the tap runs with unchanged: account 0's token at the top level."""
        config: dict[str, Any] = {
            "api_url": self.base_url,
            "timeline_api_url": self.base_url,
            **self.credentials.as_config(),
        }
        config.update(overrides)
        return config

    def tap_config_accounts(self, **overrides: Any) -> dict[str, Any]:
        """A config listing every account under ``accounts`` (``name``, ``access_token``,
        ``access_token_secret``), the app's consumer key and secret at the top level."""
        app = self.credentials
        config: dict[str, Any] = {
            "api_url": self.base_url,
            "timeline_api_url": self.base_url,
            "consumer_key": app.consumer_key,
            "consumer_secret": app.consumer_secret,
            "accounts": [
                {
                    "name": user.username,
                    "access_token": credentials.access_token,
                    "access_token_secret": credentials.access_token_secret,
                }
                for user, credentials in zip(
                    self.state.model.accounts, self.state.account_credentials, strict=True
                )
            ],
        }
        config.update(overrides)
        return config

    def revoke(self, handle: str) -> None:
        """The account (handle, ``@`` optional, or user id) revokes the app: every token issued
        to it so far gets 401 ``Access token not found`` from now on, on every endpoint, until
        :meth:`reset`. A new PIN authorization issues a working token."""
        index = self.state.model.account_index(handle)
        self.state.oauth.revoke(self.state.model.accounts[index].id)

    def revoked(self) -> list[str]:
        """Handles of the accounts with a revoked token, in account order."""
        ids = self.state.oauth.revoked_user_ids()
        return [user.username for user in self.state.model.accounts if user.id in ids]

    def inject(self, kind: str, count: int = 1, route: str | None = None) -> None:
        """Make the next ``count`` API requests (to ``route``, say ``insights/historical``, or
        to the routes a prefix that is no route's name begins, say ``insights/``) fail."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        with self.state.lock:
            self.state.queued.extend([(kind, route)] * count)

    def tamper(
        self,
        kind_or_function: str | TamperFunction,
        *,
        count: int | None = None,
        route: str | None = None,
        **options: Any,
    ) -> None:
        """Change the next ``count`` 200 answers (None: every one until :meth:`reset`) of
        ``route`` (None: every route the kind applies to; a function: every API route).

        A kind is a name in ``TAMPER_KINDS`` with its options; a function is called as
        ``function(body, request)`` with the JSON body about to be sent and a
        :class:`TamperRequest`, and returns the body to send, or a :class:`Raw`. Each answer
        gets at most one tamper: the oldest set for its route with answers left.
        """
        if count is not None and count < 1:
            raise ValueError(f"count {count}: give 1 or more, or None for every answer")
        bound = bind(kind_or_function, route, options)
        with self.state.lock:
            self.state.tampers.append(_ActiveTamper(bound, count))

    def requests(self, route: str | None = None) -> list[LoggedRequest]:
        with self.state.lock:
            return [r for r in self.state.log if route is None or r.route == route]

    def reset(self) -> None:
        """Forget the log, queued faults, tampers, fault settings and revocations; keep model
        and credentials."""
        self.state.oauth.unrevoke_all()
        with self.state.lock:
            self.state.log.clear()
            self.state.queued.clear()
            self.state.tampers.clear()
            self.state.faults = Faults()
            self.state.behaviour = Behaviour()
            self.state.burst_left = 0
            self.state.api_requests = 0
            self.state.limiter = RateLimiter(self._limits[0], self._rate_clock)
            self.state.v2_limiter = RateLimiter(self._limits[1], self._rate_clock)
            self.state.second_limiter = PerSecondLimiter(self._limits[2], self._rate_clock)
            self.state.analytics_limiter = self._analytics_limiter(self._limits[3])

    def _analytics_limiter(self, limit: int) -> RateLimiter:
        return RateLimiter(limit, self._rate_clock, ANALYTICS_WINDOW_SECONDS)

    def set_analytics_rate_limit(self, limit: int) -> None:
        """Post analytics requests per 15 minutes, per app and per user (0 = none), windows
        restarted."""
        with self.state.lock:
            self.state.analytics_limiter = self._analytics_limiter(limit)

    def set_rate_limit(self, per_minute: int) -> None:
        """Engagement API requests per endpoint and minute (0 = unlimited), windows restarted."""
        with self.state.lock:
            self.state.limiter = RateLimiter(per_minute, self._rate_clock)

    def set_rate_limit_per_second(self, per_second: int) -> None:
        """Engagement API requests per endpoint and second (0 = none), windows restarted."""
        with self.state.lock:
            self.state.second_limiter = PerSecondLimiter(per_second, self._rate_clock)


@contextmanager
def running_sandbox(**kwargs: Any) -> Iterator[Sandbox]:
    """``with running_sandbox(seed=1) as sb:`` — a started sandbox, stopped afterwards."""
    sandbox = Sandbox(**kwargs).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def basic_auth(key: str, secret: str) -> str:
    """The ``Authorization`` value ``POST /oauth2/token`` expects (for docs and tests)."""
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
