"""OAuth for the sandbox: oauthlib's server-side OAuth 1.0a verification and app-only bearer tokens.

Verification is oauthlib's (``ResourceEndpoint`` and the token endpoints of the PIN flow), never a
hand-written signer, so a request the sandbox accepts is one a standard OAuth 1.0a server accepts.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    AuthorizationEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849 import errors as oauth_errors

_ALPHANUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _token(seed: int, label: str, length: int) -> str:
    """A deterministic alphanumeric credential, so a restarted sandbox accepts the same config."""
    out: list[str] = []
    counter = 0
    while len(out) < length:
        digest = hashlib.sha256(f"{seed}:{label}:{counter}".encode()).digest()
        out.extend(_ALPHANUM[b % len(_ALPHANUM)] for b in digest)
        counter += 1
    return "".join(out[:length])


@dataclass(frozen=True)
class Credentials:
    """The four OAuth 1.0a values a tap config needs, plus an app-only bearer token.

    One app (consumer key and secret, bearer token) and one account's access token and secret.
    ``app_tokens`` holds every account's ``(token, secret)`` under the same app, so that
    :meth:`values` of any one account's credentials covers them all (equality and ``repr`` are
    the account's own values).
    """

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    bearer_token: str
    app_tokens: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def for_seed(cls, seed: int, user_id: str, account: int = 0) -> Credentials:
        """The credentials of account ``account`` (0: the single-account sandbox's)."""
        label = "" if account == 0 else f":{account}"
        return cls(
            consumer_key=_token(seed, "consumer_key", 25),
            consumer_secret=_token(seed, "consumer_secret", 50),
            access_token=f"{user_id}-{_token(seed, 'access_token' + label, 30)}",
            access_token_secret=_token(seed, "access_token_secret" + label, 45),
            bearer_token="AAAAAAAAAAAAAAAAAAAAA" + _token(seed, "bearer", 80),
        )

    def as_config(self) -> dict[str, str]:
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
        }

    def values(self) -> list[str]:
        """Every secret value of the app and of all its accounts, for tests that scan output
        for leaks."""
        values = [
            self.consumer_key,
            self.consumer_secret,
            self.access_token,
            self.access_token_secret,
            self.bearer_token,
        ]
        values += [value for pair in self.app_tokens for value in pair]
        return list(dict.fromkeys(values))


class AuthError(Exception):
    """A 401 with the API's ``Your account could not be authenticated. Reason: ...`` text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Account:
    """A user who authorized the app: whose tweets its token may read."""

    user_id: str
    username: str
    credentials: Credentials


class _Validator(RequestValidator):  # type: ignore[misc] # oauthlib has no type hints
    """In-memory stores for one consumer app, its accounts' access tokens and the PIN flow's
    tokens."""

    enforce_ssl = False  # the sandbox serves plain HTTP on loopback
    allowed_signature_methods = ("HMAC-SHA1",)

    def __init__(self, accounts: Sequence[Account]) -> None:
        super().__init__()
        app = accounts[0].credentials
        self.clients = {app.consumer_key: app.consumer_secret}
        self.accounts = list(accounts)
        # token -> (secret, user_id, username)
        self.access_tokens = {
            a.credentials.access_token: (a.credentials.access_token_secret, a.user_id, a.username)
            for a in accounts
        }
        #: Tokens revoked by their owner: refused as unknown until the sandbox is reset.
        self.revoked: set[str] = set()
        self.request_tokens: dict[str, dict[str, Any]] = {}
        self.nonces: dict[tuple[str, str, str, str], float] = {}
        self.lock = threading.Lock()
        self.last_failure = ""

    # Real access tokens look like "<user id>-<random>", which oauthlib's default checks refuse.
    @property
    def safe_characters(self) -> set[str]:
        return set(_ALPHANUM) | {"-"}

    @property
    def client_key_length(self) -> tuple[int, int]:
        return 10, 64

    @property
    def access_token_length(self) -> tuple[int, int]:
        return 10, 80

    @property
    def request_token_length(self) -> tuple[int, int]:
        return 10, 80

    @property
    def nonce_length(self) -> tuple[int, int]:
        return 8, 64

    @property
    def verifier_length(self) -> tuple[int, int]:
        return 7, 30

    @property
    def dummy_client(self) -> str:
        return "dummyclientkeyxxxxxxxxxx"

    @property
    def dummy_access_token(self) -> str:
        return "dummyaccesstokenxxxxxxxx"

    @property
    def dummy_request_token(self) -> str:
        return "dummyrequesttokenxxxxxxx"

    def _fail(self, reason: str) -> bool:
        self.last_failure = reason
        return False

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key in self.clients or self._fail("Invalid consumer key")

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.clients.get(client_key, "dummy-secret")

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        return (token in self.access_tokens and token not in self.revoked) or self._fail(
            "Access token not found"
        )

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        entry = self.access_tokens.get(token)
        return entry[0] if entry else "dummy-secret"

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        key = (client_key, timestamp, nonce, request_token or access_token or "")
        now = time.time()
        with self.lock:
            if len(self.nonces) > 50_000:
                cutoff = now - 2 * self.timestamp_lifetime
                self.nonces = {k: v for k, v in self.nonces.items() if v > cutoff}
            if key in self.nonces:
                return self._fail("Nonce has already been used")
            self.nonces[key] = now
        return True

    def validate_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def validate_requested_realms(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Any) -> bool:
        return redirect_uri == "oob" or self._fail("Only the oob (PIN) callback is supported")

    # ---- PIN flow
    def save_request_token(self, token: dict[str, Any], request: Any) -> None:
        with self.lock:
            self.request_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"],
                "client": request.client_key,
                "verifier": None,
                "redirect_uri": request.redirect_uri,
                "account": self.accounts[0],  # who approves it, set by the authorize page
            }

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        entry = self.request_tokens.get(token)
        return entry["secret"] if entry else "dummy-secret"

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        entry = self.request_tokens.get(token)
        return (entry is not None and entry["client"] == client_key) or self._fail(
            "Request token not found"
        )

    def verify_request_token(self, token: str, request: Any) -> bool:
        return token in self.request_tokens

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def verify_realms(self, token: str, realms: Any, request: Any) -> bool:
        return True

    def get_redirect_uri(self, token: str, request: Any) -> str:
        return "oob"

    def save_verifier(self, token: str, verifier: dict[str, Any], request: Any) -> None:
        with self.lock:
            self.request_tokens[token]["verifier"] = verifier["oauth_verifier"]

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: Any) -> bool:
        entry = self.request_tokens.get(token)
        return (entry is not None and entry["verifier"] == verifier) or self._fail(
            "Invalid PIN (oauth_verifier)"
        )

    def invalidate_request_token(self, client_key: str, request_token: str, request: Any) -> None:
        with self.lock:
            self.request_tokens.pop(request_token, None)

    def save_access_token(self, token: dict[str, Any], request: Any) -> None:
        with self.lock:
            self.access_tokens[token["oauth_token"]] = (
                token["oauth_token_secret"],
                token["user_id"],
                token["screen_name"],
            )


class _AccessTokenEndpoint(AccessTokenEndpoint):  # type: ignore[misc] # no type hints
    """Issues a new token for the account that approved the request token, and names it
    (``user_id`` and ``screen_name`` follow the token in the response, as X's do)."""

    request_validator: _Validator

    def create_access_token(self, request: Any, credentials: dict[str, str]) -> str:
        entry = self.request_validator.request_tokens[request.resource_owner_key]
        account: Account = entry["account"]
        owner = {"user_id": account.user_id, "screen_name": account.username}
        return str(super().create_access_token(request, {**credentials, **owner}))


class OAuthServer:
    """What the sandbox's handler asks: is this request signed, and by whom.

    One app; ``accounts`` are the users who authorized it, each with its own access token
    (the first is who approves a PIN request when the authorize page names nobody).
    """

    def __init__(self, accounts: Sequence[Account]) -> None:
        if not accounts:
            raise ValueError("an app needs at least one account")
        self.credentials = accounts[0].credentials
        self.validator = _Validator(accounts)
        self.resource = ResourceEndpoint(self.validator)
        self.request_token_endpoint = RequestTokenEndpoint(self.validator)
        # Twitter shows a seven-digit PIN for the oob flow.
        self.authorization = AuthorizationEndpoint(
            self.validator, token_generator=lambda: f"{secrets.randbelow(10**7):07d}"
        )
        self.access_token_endpoint = _AccessTokenEndpoint(self.validator)
        self.bearer_tokens = {self.credentials.bearer_token}
        self._lock = threading.Lock()

    def revoke(self, user_id: str) -> None:
        """The user revoked the app: every token issued to it so far is refused from now on
        (a later PIN authorization issues a new one that works)."""
        with self.validator.lock:
            self.validator.revoked |= {
                token
                for token, entry in self.validator.access_tokens.items()
                if entry[1] == user_id
            }

    def unrevoke_all(self) -> None:
        with self.validator.lock:
            self.validator.revoked.clear()

    def revoked_user_ids(self) -> set[str]:
        with self.validator.lock:
            return {self.validator.access_tokens[t][1] for t in self.validator.revoked}

    def authenticate(
        self,
        uri: str,
        method: str,
        body: str,
        headers: dict[str, str],
        *,
        allow_bearer: bool = False,
    ) -> tuple[str, str | None]:
        """``("user", user_id)`` or ``("bearer", None)``; raises :class:`AuthError` otherwise."""
        authorization = headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            if not allow_bearer:
                raise AuthError("Unknown Authorization Type")
            if authorization[7:] not in self.bearer_tokens:
                raise AuthError("Invalid or expired token")
            return "bearer", None
        if not authorization.startswith("OAuth "):
            raise AuthError("Unknown Authorization Type")
        with self._lock:  # last_failure is per call; keep the diagnosis with its request
            self.validator.last_failure = ""
            valid, request = self.resource.validate_protected_resource_request(
                uri, http_method=method, body=body, headers=headers
            )
            failure = self.validator.last_failure
        if valid and request is not None:
            return "user", self.validator.access_tokens[request.resource_owner_key][1]
        raise AuthError(failure or self._diagnose(request))

    def _diagnose(self, request: Any) -> str:
        """Name the check that failed when oauthlib only says "invalid"."""
        if request is None:
            return "Missing mandatory OAuth parameters"
        timestamp = getattr(request, "timestamp", None) or ""
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > (
            self.validator.timestamp_lifetime
        ):
            return "Timestamp out of bounds"
        if not getattr(request, "resource_owner_key", None):
            return "Access token not found"
        return "Invalid signature"

    # ---- PIN flow
    def request_token(self, uri: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        _, text, status = self.request_token_endpoint.create_request_token_response(
            uri, http_method="POST", body=body, headers=headers
        )
        return status, text or ""

    def authorize(self, uri: str) -> tuple[int, str, Account | None]:
        """Approve the request token as the account the ``as`` parameter names (a handle, ``@``
        optional, any case; default the first account): ``(status, PIN or error, account)``."""
        query = parse_qs(urlsplit(uri).query)
        wanted = query.get("as", [""])[-1].removeprefix("@").lower()
        accounts = self.validator.accounts
        account = next((a for a in accounts if a.username.lower() == wanted), None)
        if not wanted:
            account = accounts[0]
        if account is None:
            handles = ", ".join(f"@{a.username}" for a in accounts)
            return 400, f"No account @{wanted} in this sandbox; the accounts are {handles}.", None
        try:
            _, text, status = self.authorization.create_authorization_response(
                uri, http_method="GET", realms=[]
            )
        except oauth_errors.OAuth1Error as exc:
            return 400, exc.description, None
        fields = dict(part.split("=", 1) for part in (text or "").split("&") if "=" in part)
        with self.validator.lock:
            entry = self.validator.request_tokens.get(unquote(fields.get("oauth_token", "")))
            if entry is not None:
                entry["account"] = account
        return status, unquote(fields.get("oauth_verifier", "")), account

    def access_token(self, uri: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        """A new access token of the account that approved the request token, followed by its
        ``user_id`` and ``screen_name``."""
        _, text, status = self.access_token_endpoint.create_access_token_response(
            uri, http_method="POST", body=body, headers=headers
        )
        return status, text or ""

    def app_only_token(self, authorization: str) -> str | None:
        """``POST /oauth2/token``: Basic consumer key:secret for a bearer token."""
        if not authorization.startswith("Basic "):
            return None
        try:
            key, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            return None
        if self.validator.clients.get(unquote(key)) != unquote(secret):
            return None
        return self.credentials.bearer_token
