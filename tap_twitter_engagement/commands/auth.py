"""``tap-twitter-engagement-auth``: get a tweet owner's access token and secret (PIN flow).

The Engagement API needs the OAuth 1.0a token of the account that owns the tweets. For your own
account the developer console shows it; for another account that account's owner authorizes your
app once: this command gets a request token, prints the authorize URL, reads the PIN the owner
sees after approving, exchanges it for the access token and secret, and writes them where you
choose: into a tap config JSON (--config) or into a Meltano project's .env file (--meltano); with
--account NAME, as the entry NAME of the ``accounts`` list (the tap's several-accounts form). The
token values are never printed, and the file is written with mode 0600 from its first byte. A
consumer key or secret, or an issued token or secret, that the tap would refuse (a space, a line
break or another control character: the tap's own rule) is refused before anything is written.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import secrets
import socket
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeGuard
from urllib.parse import urlsplit

import requests
from dotenv import dotenv_values
from requests_oauthlib import OAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

from tap_twitter_engagement.settings import clean_token

ENV_PREFIX = "TAP_TWITTER_ENGAGEMENT_"
#: Seconds to wait for X (connect, and each read) before giving up on an OAuth request.
TIMEOUT_SECONDS = 30
#: The Meltano environment variable of each setting this command writes into .env.
ENV_NAMES = {
    "access_token": f"{ENV_PREFIX}ACCESS_TOKEN",
    "access_token_secret": f"{ENV_PREFIX}ACCESS_TOKEN_SECRET",
}
#: The Meltano environment variable of the ``accounts`` setting (a JSON list).
ACCOUNTS_ENV = f"{ENV_PREFIX}ACCOUNTS"
#: The entry the single account's top-level token becomes when a second account is added.
DEFAULT_ACCOUNT = "default"
_FIX = "fix it or give another path"
_RETRY_HINT = "the PIN is used up: run the command again"


class UsageError(Exception):
    """A mistake the user can fix: printed as one ``error: ...`` line, exit code 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one ``error:`` line that never echoes a value."""

    def error(self, message: str) -> NoReturn:
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            # argparse lists the stray words, which may be a secret typed after a misspelt option.
            names = [
                word.split("=", 1)[0]
                for word in message[len(prefix) :].split()
                if re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", word)
            ]
            message = f"unrecognized option {', '.join(names)}" if names else "unexpected argument"
        raise UsageError(f"{message}; see {self.prog} --help")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tap-twitter-engagement-auth",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # No default here: _run reads the variable, so that a refusal names where the value came from.
    parser.add_argument(
        "--consumer-key",
        help=f"the app's API key (default: ${ENV_PREFIX}CONSUMER_KEY)",
    )
    parser.add_argument(
        "--consumer-secret",
        help=f"the app's API key secret (default: ${ENV_PREFIX}CONSUMER_SECRET)",
    )
    parser.add_argument(
        "--oauth-url",
        default="https://api.twitter.com",
        help="base URL of /oauth/* (default https://api.twitter.com; the sandbox's URL to try it)",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--config",
        type=Path,
        help="tap config JSON to write access_token and access_token_secret into "
        "(created if missing, other settings kept, mode 0600)",
    )
    target.add_argument(
        "--meltano",
        action="store_true",
        help=f"write {' and '.join(ENV_NAMES.values())} into the Meltano project's .env "
        "file (other lines kept, mode 0600)",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="with --meltano: the .env file to write (default: .env in the current directory)",
    )
    parser.add_argument(
        "--account",
        metavar="NAME",
        help="add the token to the accounts list as the entry NAME (use the account's handle): "
        f"an entry NAME gets the new token, else one is appended; a top-level token becomes "
        f"the entry {DEFAULT_ACCOUNT!r} (with --meltano: {ACCOUNTS_ENV})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # Values no message may show: the consumer key and secret (known once the arguments are
    # read) and the issued token and secret. The environment's are known from the start.
    hidden = [
        os.environ.get(f"{ENV_PREFIX}{name}") or "" for name in ("CONSUMER_KEY", "CONSUMER_SECRET")
    ]
    try:
        with _quiet_oauth_debug_logs():
            return _run(argv, hidden)
    except UsageError as exc:
        print(f"error: {_scrub(str(exc), hidden)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stdout, flush=True)  # end the prompt line
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130


def _run(argv: list[str] | None, hidden: list[str]) -> int:
    args = build_parser().parse_args(argv)
    key, key_source = _option_or_env(args.consumer_key, "--consumer-key", "CONSUMER_KEY")
    secret, secret_source = _option_or_env(
        args.consumer_secret, "--consumer-secret", "CONSUMER_SECRET"
    )
    hidden += [key, secret]
    if not key or not secret:
        raise UsageError(
            "set --consumer-key and --consumer-secret (or the "
            f"{ENV_PREFIX}CONSUMER_KEY/_SECRET variables)"
        )
    for source, value in ((key_source, key), (secret_source, secret)):
        if not clean_token(value):
            raise UsageError(
                f"{source} holds {_flaw(value)}, which the tap refuses (a copy-paste slip?); "
                "set it to the value alone"
            )
    if args.env_file is not None and not args.meltano:
        raise UsageError(
            "--env-file goes with --meltano; with --config the tokens go into the JSON"
        )
    name: str | None = args.account
    if name is not None and not name.strip():
        raise UsageError("--account needs a name, such as the account's handle")
    base = _check_oauth_url(args.oauth_url)
    # Refuse an unusable destination now: once the PIN is exchanged it cannot be used again.
    if args.config is not None:
        destination = _Destination("--config", args.config, json_object=True)
    else:
        env_file = args.env_file if args.env_file is not None else Path(".env")
        destination = _Destination("--env-file", env_file, json_object=False)
    destination.accounts(destination.read(), name)

    token = _pin_flow(key, secret, args.oauth_url, base)
    values = {
        "access_token": token.get("oauth_token", ""),
        "access_token_secret": token.get("oauth_token_secret", ""),
    }
    hidden += values.values()
    if not all(values.values()):
        raise UsageError(
            f"{base}/oauth/access_token answered without a token and secret; check --oauth-url"
        )
    for setting, value in values.items():
        if not clean_token(value):  # the tap would refuse the file this command writes
            raise UsageError(
                f"{base}/oauth/access_token answered with an {setting.replace('_', ' ')} that "
                f"holds {_flaw(value)}, which the tap refuses; nothing was written; check "
                "--oauth-url"
            )
    handle = f"@{token.get('screen_name', '?')}"
    added, converted = destination.write(values, name, handle)
    _report(destination, name, f"{handle} (user id {token.get('user_id', '?')})", added, converted)
    return 0


def _option_or_env(value: str | None, option: str, name: str) -> tuple[str, str]:
    """The value given with ``option``, else the variable ``ENV_PREFIX + name``; and which of
    the two it came from, for a refusal to name."""
    if value is not None:
        return value, option
    return os.environ.get(f"{ENV_PREFIX}{name}", ""), f"{ENV_PREFIX}{name}"


def _flaw(value: str) -> str:
    """Why :func:`clean_token` refuses ``value``, without showing any of it."""
    if value.splitlines() != [value]:
        return "a line break"
    if any(ch.isspace() for ch in value):
        return "whitespace"
    return "a control or invisible character"


def _report(
    destination: _Destination, name: str | None, who: str, added: bool, converted: bool
) -> None:
    """What was written where, naming the account and never a token value."""
    accounts, pair = destination.labels
    to_env = not destination.json_object
    where = _show(os.path.abspath(destination.given) if to_env else destination.given)
    if to_env:
        where += " (mode 0600, other lines kept)"
    if name is None:
        as_names = f" as {' and '.join(ENV_NAMES.values())}" if to_env else ""
        line = f"Wrote the access token and secret of {who} to {where}{as_names}"
    elif added:
        line = f"Added the account {_show(name)}, {who}, to {accounts} in {where}"
    else:
        line = f"Updated the account {_show(name)}, {who}, in {accounts} in {where}"
    print(f"3. {line}{'.' if to_env else ''}")
    if converted:
        print(f"   Moved {pair} into {accounts} as the account {DEFAULT_ACCOUNT}.")
    if not to_env:
        return
    settings = "accounts" if name is not None else "access_token and access_token_secret"
    print(
        "   Check: `meltano config list tap-twitter-engagement` in the project directory "
        f"lists {settings}, redacted."
    )
    project = Path(os.path.abspath(destination.given)).parent
    if not (project / "meltano.yml").exists():
        print(f"   Note: {_show(project)} has no meltano.yml; Meltano reads the project's .env.")


def _pin_flow(key: str, secret: str, given_url: str, base: str) -> dict[str, str]:
    """Request token, authorize URL, PIN, access token: the token response."""
    session = OAuth1Session(key, client_secret=secret, callback_uri="oob")
    endpoint = f"{base}/oauth/request_token"
    try:
        session.fetch_request_token(endpoint, timeout=TIMEOUT_SECONDS)
        print(
            "1. Open this URL signed in as the account that owns the tweets, and authorize "
            f"the app:\n   {session.authorization_url(f'{base}/oauth/authorize')}",
            flush=True,
        )
        try:
            pin = input("2. Enter the PIN shown after authorizing: ").strip()
        except EOFError:
            print(flush=True)  # end the prompt line
            raise UsageError(
                "no PIN was entered (input ended); run the command again and enter the PIN "
                "shown after authorizing"
            ) from None
        if not pin:
            raise UsageError(
                "the PIN is empty; run the command again and enter the PIN shown after authorizing"
            )
        endpoint = f"{base}/oauth/access_token"
        token: dict[str, str] = session.fetch_access_token(
            endpoint, verifier=pin, timeout=TIMEOUT_SECONDS
        )
        return token
    except TokenRequestDenied as exc:
        raise UsageError(
            f"X refused the request ({exc.status_code}); check the consumer key and "
            "secret, and the PIN (it is single-use)"
        ) from None
    except requests.RequestException as exc:
        raise UsageError(
            f"cannot reach {_show(given_url)} ({_why_unreachable(exc)}); check --oauth-url"
        ) from None
    except ValueError:  # a 2xx answer that is not a form-encoded token
        raise UsageError(
            f"{_show(endpoint)} did not answer with an OAuth token; check --oauth-url"
        ) from None


def _check_oauth_url(url: str) -> str:
    """The base URL without a trailing slash, or a UsageError before any request is made."""
    refused = UsageError(
        f"--oauth-url {url!r} is not an http(s) URL with a host, such as https://api.twitter.com"
    )
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is not a number in range
    except ValueError:
        raise refused from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
        or any(ch.isspace() or not ch.isprintable() for ch in url)
    ):
        raise refused
    return url.rstrip("/")


def _why_unreachable(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {TIMEOUT_SECONDS} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    causes = list(_causes(exc))
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "connection refused"
    if any(isinstance(cause, socket.gaierror) for cause in causes):
        return "host not found"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return f"request failed: {type(exc).__name__}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (urllib3 keeps the socket error in ``reason``)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


@dataclass
class _Destination:
    """The file the tokens go into, checked before the PIN flow and rewritten after it."""

    option: str
    given: Path
    json_object: bool

    @property
    def path(self) -> Path:
        # Write through a symlink to the file it names, so the link stays a link.
        return Path(os.path.realpath(self.given))

    def _refuse(self, problem: str) -> UsageError:
        return UsageError(f"{self.option} {_show(self.given)} {problem}")

    def read(self) -> dict[str, object] | str | None:
        """The current content (a JSON object or .env text; None if there is no file yet).

        Refuses a path that cannot be written with a UsageError naming the cause.
        """
        path = self.path
        directory = path.parent
        if path.is_dir():
            raise self._refuse("is a directory; give the path of a file")
        if not directory.exists():
            raise self._refuse(f"cannot be created: directory {_show(directory)} does not exist")
        if not directory.is_dir():
            raise self._refuse(f"cannot be created: {_show(directory)} is not a directory")
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise self._refuse(f"cannot be read ({exc.strerror})") from None
        if mode is not None and not stat.S_ISREG(mode):
            raise self._refuse("is not a regular file")
        try:
            _probe(directory)
        except OSError as exc:
            raise self._refuse(
                f"cannot be written: no new file can be created in {_show(directory)} "
                f"({exc.strerror})"
            ) from None
        if mode is None:
            return None
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise self._refuse(f"cannot be read ({exc.strerror})") from None
        return self._parse(raw)

    def _parse(self, raw: bytes) -> dict[str, object] | str:
        if not self.json_object:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self._refuse(f"is not UTF-8 text; {_FIX}") from None
            problem = _check_env_text(text)
            if problem:
                raise self._refuse(f"{problem}; {_FIX}")
            return text
        if not raw.strip():
            raise self._refuse(f"is empty, not a JSON object; {_FIX}")
        try:
            content = json.loads(raw)
        except UnicodeDecodeError:
            raise self._refuse(f"is not JSON (not UTF-8 text); {_FIX}") from None
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise self._refuse(f"is not JSON ({exc.msg} at {where}); {_FIX}") from None
        except (ValueError, RecursionError):
            raise self._refuse(f"is not JSON; {_FIX}") from None
        if not isinstance(content, dict):
            raise self._refuse(f"holds a JSON {_json_kind(content)}, not an object; {_FIX}")
        return content

    @property
    def labels(self) -> tuple[str, str]:
        """The names of the accounts list and of the single account's token pair in the file."""
        if self.json_object:
            return "accounts", "access_token/access_token_secret"
        return ACCOUNTS_ENV, f"{ENV_NAMES['access_token']}/_SECRET"

    def accounts(
        self, content: dict[str, object] | str | None, name: str | None
    ) -> tuple[list[dict[str, object]], bool]:
        """The accounts list to add the account ``name`` to (``[]`` without a name), and whether
        the single account's top-level token moved into it as the entry ``default``.

        Refuses, before the PIN flow, a file the new token cannot be written into.
        """
        accounts_label, pair_label = self.labels
        listed: object
        pair: list[object]
        if self.json_object:
            config = content if isinstance(content, dict) else {}
            listed, pair = config.get("accounts"), [config.get(key) for key in ENV_NAMES]
        else:
            text = content if isinstance(content, str) else ""
            listed = _env_value(text, ACCOUNTS_ENV) or None
            if listed is not None and "${" in listed:
                raise self._refuse(
                    f"has {accounts_label} with '${{', which python-dotenv expands and this "
                    f"command does not rewrite; {_FIX}"
                )
            with contextlib.suppress(ValueError, RecursionError):  # else refused as not a list
                listed = None if listed is None else json.loads(listed)
            pair = [_env_value(text, key) for key in ENV_NAMES.values()]
        if listed is None:
            accounts: list[dict[str, object]] = []
        elif _list_of_objects(listed):
            accounts = listed
        else:
            raise self._refuse(
                f"has {accounts_label} set to something other than a JSON list of objects; {_FIX}"
            )
        if name is None and listed is not None:
            raise self._refuse(
                f"has {accounts_label}; add --account NAME (such as the handle) to add this "
                "account to it"
            )
        if name is None or not any(pair):
            return accounts, False
        if listed is not None:
            raise self._refuse(
                f"has {pair_label} besides {accounts_label}, which the tap refuses; {_FIX}"
            )
        token, secret = pair
        if not (isinstance(token, str) and token and isinstance(secret, str) and secret):
            raise self._refuse(f"has only one of {pair_label}; {_FIX}")
        entry: dict[str, object] = {
            "name": DEFAULT_ACCOUNT,
            "access_token": token,
            "access_token_secret": secret,
        }
        return [entry], True

    def write(self, values: dict[str, str], name: str | None, handle: str) -> tuple[bool, bool]:
        """Write the token and secret of ``handle``: top-level, or as the account ``name``.

        Whether that account was added (not updated), and whether the top-level token moved
        into the accounts list.
        """
        content = self.read()  # read again: keep what was edited while the owner approved
        accounts, converted = self.accounts(content, name)
        added = False
        if name is not None:
            for entry in accounts:
                if (
                    entry.get("access_token") == values["access_token"]
                    and entry.get("name") != name
                ):
                    raise UsageError(
                        f"the token of {handle} is already in {self.labels[0]} as "
                        f"{_show(entry.get('name'))}; nothing was written"
                    )
            same_name = [entry for entry in accounts if entry.get("name") == name]
            added = not same_name
            if same_name:
                same_name[0].update(values)  # its other keys kept
            else:
                accounts.append({"name": name, **values})
        if self.json_object:
            config = content if isinstance(content, dict) else {}
            if name is None:
                config.update(values)
            else:
                for key in values:
                    config.pop(key, None)
                config["accounts"] = accounts
            self._write(json.dumps(config, indent=2) + "\n")
            return added, converted
        env: dict[str, str | None] = {ENV_NAMES[key]: value for key, value in values.items()}
        if name is not None:  # the single account's two lines go; the list is one JSON value
            compact = json.dumps(accounts, separators=(",", ":"))
            # The same JSON without "${", which python-dotenv would expand even in quotes.
            env = dict.fromkeys(env) | {ACCOUNTS_ENV: compact.replace("${", "\\u0024{")}
        self._write(update_env_text(content if isinstance(content, str) else "", env))
        return added, converted

    def _write(self, text: str) -> None:
        try:
            write_private(self.path, text)
        except OSError as exc:
            raise self._refuse(
                f"could not be written ({exc.strerror}) and is unchanged; {_RETRY_HINT}"
            ) from None


def _list_of_objects(value: object) -> TypeGuard[list[dict[str, object]]]:
    return isinstance(value, list) and all(isinstance(entry, dict) for entry in value)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _probe(directory: Path) -> None:
    """Create and remove an empty private file in ``directory``: can the real write succeed?"""
    fd, temp = _private_temp(directory, "probe")
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(temp)


def _private_temp(directory: Path, name: str) -> tuple[int, Path]:
    """A new file in ``directory``, open for writing, mode 0600 from its creation."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    for _ in range(20):
        temp = directory / f".{name[:100]}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temp, flags, 0o600)
        except FileExistsError:
            continue
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # the umask can only narrow 0600; make it exactly 0600
        return fd, temp
    raise FileExistsError(f"no free temporary name in {directory}")


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with a file holding ``text``, readable by its owner only at every moment.

    The text goes into a temporary 0600 file in the same directory, is flushed to disk, and the
    temporary file is renamed onto ``path``: the old file is never opened for writing, so a
    wider mode it had never applies to the new content, and a crash leaves the old or the new
    file, never a half-written one.
    """
    fd, temp = _private_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the OS allows
        directory_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)


# --- .env files ----------------------------------------------------------------------------
# The grammar python-dotenv (and so Meltano) reads: optional `export `, a key (bare, or in single
# quotes), optional `=` and a value that is single-quoted, double-quoted (both may span lines,
# a backslash escapes the next character) or bare up to the end of the line, then an optional
# comment. The reader skips a line that does not fit; it is kept as is here.
_SPACE = r"[^\S\r\n]*"
_ENV_LEAD = re.compile(r"\s*")
_ENV_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_ENV_KEY = re.compile(rf"(?:'([^']+)'|([^=#\s'][^=#\s]*)){_SPACE}")
_ENV_EQUALS = re.compile(rf"={_SPACE}")
_ENV_QUOTED = {
    "'": re.compile(r"'(?:\\.|[^'\\])*'", re.DOTALL),
    '"': re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL),
}
_ENV_BARE = re.compile(r"[^\r\n]*")
_ENV_END = re.compile(rf"(?:{_SPACE}#[^\r\n]*)?{_SPACE}(?:\r\n|\n|\r|$)")
_ENV_REST = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)?")
_NEWLINE = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True)
class _EnvPiece:
    text: str
    start: int
    key: str | None = None
    exported: bool = False
    #: A quote that no later quote closes: the reader skips the line, but a quote written after
    #: it would close it and change how everything in between is read.
    unterminated: bool = False


def _match(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where a pattern that matches the empty string ends at ``pos``."""
    found = pattern.match(text, pos)
    return pos if found is None else found.end()  # each of them matches the empty string


def _env_pieces(text: str) -> Iterator[_EnvPiece]:
    """Cut .env text into pieces that join back into it; a binding's piece names its key."""
    pos = 0
    while pos < len(text):
        start = pos
        pos = _match(_ENV_LEAD, text, pos)
        if pos > start:
            yield _EnvPiece(text[start:pos], start)
            continue
        pos = _match(_ENV_EXPORT, text, pos)
        exported = pos > start
        name, pos, unterminated = _env_binding(text, pos)
        if name is None:  # a comment, or a line the reader skips from ``pos`` to its end
            pos = _match(_ENV_REST, text, pos)
        yield _EnvPiece(text[start:pos], start, name, exported, unterminated)


def _env_binding(text: str, pos: int) -> tuple[str | None, int, bool]:
    """The key of the binding at ``pos`` and where it ends; if there is none, where reading
    failed and whether it failed on a quote that is never closed."""
    key = _ENV_KEY.match(text, pos)
    if key is None:
        return None, pos, text.startswith("'", pos) and text.find("'", pos + 1) < 0
    pos = key.end()
    equals = _ENV_EQUALS.match(text, pos)
    if equals is not None:
        pos = equals.end()
        quote = _ENV_QUOTED.get(text[pos : pos + 1])
        value = (quote or _ENV_BARE).match(text, pos)
        if value is None:
            return None, pos, True
        pos = value.end()
    end = _ENV_END.match(text, pos)
    if end is None:
        return None, pos, False
    return key.group(1) or key.group(2), end.end(), False


def _check_env_text(text: str) -> str | None:
    """Why ``text`` cannot safely get new lines, or None."""
    text = text.removeprefix("\ufeff")
    for piece in _env_pieces(text):
        if piece.unterminated:
            line = len(_NEWLINE.findall(text, 0, piece.start)) + 1
            return f"has a quote that is never closed on line {line}"
    return None


def env_quote(value: str) -> str:
    """``value`` as a .env value that python-dotenv reads back exactly (single-quoted)."""
    if "${" in value:
        # python-dotenv expands ${NAME} even inside quotes, and nothing escapes it.
        raise UsageError(
            f"the issued token holds '${{', which a .env file cannot hold; {_RETRY_HINT} "
            "with --config"
        )
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _env_value(text: str, key: str) -> str | None:
    """The value python-dotenv reads for ``key`` (its last binding), not expanded."""
    bindings = [piece for piece in _env_pieces(text.removeprefix("\ufeff")) if piece.key == key]
    if not bindings:
        return None
    # One binding the grammar above accepts: python-dotenv parses it without a warning.
    return dotenv_values(stream=io.StringIO(bindings[-1].text), interpolate=False).get(key)


def update_env_text(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with the variables of ``values`` set (None: removed): each one's first line
    replaced in place, its later lines dropped, missing ones appended; every other byte kept as
    it was."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text.removeprefix(bom)
    newline = "\r\n" if "\r\n" in text else "\n"
    pending = dict(values)
    out: list[str] = []
    for piece in _env_pieces(text):
        if piece.key not in values:
            out.append(piece.text)
        elif piece.key in pending:
            value = pending.pop(piece.key)
            if value is not None:
                export = "export " if piece.exported else ""
                line = f"{export}{piece.key}={env_quote(value)}"
                out.append(line + (newline if piece.text.endswith(("\n", "\r")) else ""))
    body = "".join(out)
    appended = {key: value for key, value in pending.items() if value is not None}
    if appended:
        if body and not body.endswith(("\n", "\r")):
            body += newline
        body += "".join(f"{key}={env_quote(value)}{newline}" for key, value in appended.items())
    return bom + body


# --- output hygiene ------------------------------------------------------------------------
def _show(value: object) -> str:
    """A path or URL as one printable line (quoted when it holds control characters)."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def _scrub(message: str, hidden: list[str]) -> str:
    for value in sorted({v for v in hidden if len(v) >= 4}, key=len, reverse=True):
        message = message.replace(value, "***")
    return " ".join(message.splitlines())


@contextlib.contextmanager
def _quiet_oauth_debug_logs() -> Iterator[None]:
    """oauthlib and requests-oauthlib log signed parameters and tokens at DEBUG: never show them."""
    loggers = [logging.getLogger(name) for name in ("oauthlib", "requests_oauthlib")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


if __name__ == "__main__":
    raise SystemExit(main())
