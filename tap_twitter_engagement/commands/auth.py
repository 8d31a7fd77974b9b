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

import contextlib
import io
import json
import logging
import os
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

import click
import requests
from click.core import ParameterSource
from dotenv import dotenv_values, set_key, unset_key
from dotenv.parser import parse_stream
from requests_oauthlib import OAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

from tap_twitter_engagement.commands.cli import CONTEXT_SETTINGS, run
from tap_twitter_engagement.inputs import ENV_PREFIX
from tap_twitter_engagement.settings import clean_token

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
#: What the write rehearsed before the PIN flow stores: no listed token can equal it, as the
#: tap refuses whitespace in a token.
REHEARSAL = {"access_token": "not a token", "access_token_secret": "not a secret"}
_FIX = "fix it or give another path"
_RETRY_HINT = "the PIN is used up: run the command again"


class UsageError(Exception):
    """A mistake the user can fix: printed as one ``error: ...`` line, exit code 1."""


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _consumer_option(part: str, help_text: str) -> Callable[[_Command], _Command]:
    """``--consumer-<part>``, also read from ``TAP_TWITTER_ENGAGEMENT_CONSUMER_<PART>``."""
    return click.option(
        f"--consumer-{part}",
        metavar=part.upper(),
        envvar=f"{ENV_PREFIX}CONSUMER_{part.upper()}",
        show_envvar=True,
        help=help_text,
    )


@click.command(name="tap-twitter-engagement-auth", help=__doc__, context_settings=CONTEXT_SETTINGS)
# The consumer key and secret may come from the environment, which keeps them out of the shell
# history; a refusal names the option or the variable the value came from (_source).
@_consumer_option("key", "the app's API key")
@_consumer_option("secret", "the app's API key secret")
@click.option(
    "--oauth-url",
    metavar="URL",
    default="https://api.twitter.com",
    show_default=True,
    help="base URL of /oauth/* (the sandbox's URL to try it)",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help="tap config JSON to write access_token and access_token_secret into (created if "
    "missing, other settings kept, mode 0600); this or --meltano",
)
@click.option(
    "--meltano",
    is_flag=True,
    help=f"write {' and '.join(ENV_NAMES.values())} into the Meltano project's .env file (other "
    "lines kept, mode 0600); this or --config",
)
@click.option(
    "--env-file",
    type=click.Path(path_type=Path),
    help="with --meltano: the .env file to write (default: .env in the current directory)",
)
@click.option(
    "--account",
    metavar="NAME",
    help="add the token to the accounts list as the entry NAME (use the account's handle): an "
    f"entry NAME gets the new token, else one is appended; a top-level token becomes the entry "
    f"{DEFAULT_ACCOUNT!r} (with --meltano: {ACCOUNTS_ENV})",
)
@click.pass_context
def command(
    ctx: click.Context,
    consumer_key: str | None,
    consumer_secret: str | None,
    oauth_url: str,
    config: Path | None,
    meltano: bool,
    env_file: Path | None,
    account: str | None,
) -> int:
    """The PIN flow, from the parsed command line to the written file."""
    if config is None and not meltano:
        raise click.UsageError("Missing option '--config' or '--meltano'.")
    if config is not None and meltano:
        raise click.UsageError("Options '--config' and '--meltano' exclude each other.")
    hidden: list[str] = ctx.obj  # values no message may show, for main() to mask
    key, secret = consumer_key or "", consumer_secret or ""
    hidden += [key, secret]
    if not key or not secret:
        raise UsageError(
            "set --consumer-key and --consumer-secret (or the "
            f"{ENV_PREFIX}CONSUMER_KEY/_SECRET variables)"
        )
    for param, value in (("consumer_key", key), ("consumer_secret", secret)):
        if not clean_token(value):
            raise UsageError(
                f"{_source(ctx, param)} holds {_flaw(value)}, which the tap refuses (a "
                "copy-paste slip?); set it to the value alone"
            )
    if env_file is not None and not meltano:
        raise UsageError(
            "--env-file goes with --meltano; with --config the tokens go into the JSON"
        )
    if account is not None and not account.strip():
        raise UsageError("--account needs a name, such as the account's handle")
    base = _check_oauth_url(oauth_url)
    if config is not None:
        destination = _Destination("--config", config, json_object=True)
    else:
        destination = _Destination("--env-file", env_file or Path(".env"), json_object=False)
    # Refuse an unusable destination now: once the PIN is exchanged it cannot be used again.
    destination.write(REHEARSAL, account, "", rehearse=True)

    token = _pin_flow(key, secret, oauth_url, base)
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
    added, converted = destination.write(values, account, handle)
    _report(
        destination, account, f"{handle} (user id {token.get('user_id', '?')})", added, converted
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """The console script: exit code 0, 1 (one ``error:`` line) or 130 (Ctrl-C)."""
    hidden: list[str] = []
    try:
        with _quiet_library_logs():
            return run(command, argv, _print_error, obj=hidden)
    except UsageError as exc:
        _print_error(_scrub(str(exc), hidden))
        return 1
    except KeyboardInterrupt:
        print(file=sys.stdout, flush=True)  # end the prompt line
        _print_error("interrupted; nothing was written")
        return 130


def _print_error(line: str) -> None:
    print(f"error: {line}", file=sys.stderr)


def _source(ctx: click.Context, name: str) -> str:
    """Where the value of the parameter ``name`` came from, for a refusal to name: its option
    or its environment variable."""
    param = next(p for p in ctx.command.params if p.name == name)
    if ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT:
        return str(param.envvar)
    return param.opts[0]


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
    """The file the tokens go into: its write rehearsed before the PIN flow, done after it."""

    option: str
    given: Path
    json_object: bool

    @property
    def path(self) -> Path:
        # Write through a symlink to the file it names, so the link stays a link.
        return Path(os.path.realpath(self.given))

    def _refuse(self, problem: str) -> UsageError:
        return UsageError(f"{self.option} {_show(self.given)} {problem}")

    def read(self) -> dict[str, object] | None:
        """The current settings (the JSON object, or the .env variables unexpanded; None if
        there is no file yet), or a UsageError naming why the path cannot be used."""
        path = self.path
        directory = path.parent
        if path.is_dir():
            raise self._refuse("is a directory; give the path of a file")
        if not directory.exists():
            raise self._refuse(f"cannot be created: directory {_show(directory)} does not exist")
        if not directory.is_dir():
            raise self._refuse(f"cannot be created: {_show(directory)} is not a directory")
        try:
            raw = path.read_bytes() if stat.S_ISREG(path.stat().st_mode) else None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._refuse(f"cannot be read ({exc.strerror})") from None
        if raw is None:
            raise self._refuse("is not a regular file")
        return self._parse(raw)

    def _parse(self, raw: bytes) -> dict[str, object]:
        if not self.json_object:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self._refuse(f"is not UTF-8 text; {_FIX}") from None
            return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))
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
        self, content: Mapping[str, object], name: str | None
    ) -> tuple[list[dict[str, object]], bool]:
        """The accounts list to add the account ``name`` to (``[]`` without a name), and whether
        the single account's top-level token moved into it as the entry ``default``.

        Refuses a file the new token cannot be written into.
        """
        accounts_label, pair_label = self.labels
        if self.json_object:
            listed = content.get("accounts")
            pair = [content.get(key) for key in ENV_NAMES]
        else:
            listed = content.get(ACCOUNTS_ENV) or None
            if isinstance(listed, str) and "${" in listed:
                raise self._refuse(
                    f"has {accounts_label} with '${{', which python-dotenv expands and this "
                    f"command does not rewrite; {_FIX}"
                )
            with contextlib.suppress(ValueError, RecursionError):  # else refused as not a list
                listed = None if listed is None else json.loads(str(listed))
            pair = [content.get(key) for key in ENV_NAMES.values()]
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

    def write(
        self, values: dict[str, str], name: str | None, handle: str, rehearse: bool = False
    ) -> tuple[bool, bool]:
        """Write the token and secret of ``handle``: top-level, or as the account ``name``.

        Whether that account was added (not updated), and whether the top-level token moved
        into the accounts list. ``rehearse``: everything but the final rename, so that a file
        this command cannot write is refused before the single-use PIN is spent.
        """
        content = self.read() or {}  # read again: keep what was edited while the owner approved
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
            config = dict(content)
            if name is None:
                config.update(values)
            else:
                for key in values:
                    config.pop(key, None)
                config["accounts"] = accounts
            text = json.dumps(config, indent=2) + "\n"
            self._replace(lambda copy: copy.write_text(text, encoding="utf-8"), rehearse)
            return added, converted
        changes: dict[str, str | None] = {ENV_NAMES[key]: value for key, value in values.items()}
        if name is not None:  # the single account's two lines go; the list is one JSON value
            compact = json.dumps(accounts, separators=(",", ":"))
            # The same JSON without "${": \u0024 is "$" to JSON, and nothing to python-dotenv.
            changes = dict.fromkeys(changes) | {ACCOUNTS_ENV: compact.replace("${", "\\u0024{")}
        if any("${" in value for value in changes.values() if value is not None):
            # python-dotenv expands ${NAME} even inside quotes, and nothing escapes it.
            raise UsageError(
                f"the issued token holds '${{', which a .env file cannot hold; {_RETRY_HINT} "
                "with --config"
            )

        def edit(copy: Path) -> None:
            if not update_env(copy, changes):
                lines = _unparsable_lines(self.path.read_text(encoding="utf-8"))
                raise self._refuse(
                    f"cannot take new lines: python-dotenv cannot parse line "
                    f"{', '.join(map(str, lines)) or '?'} (a quote never closed?), and new lines "
                    f"would change how it reads the file; {_FIX}"
                )

        self._replace(edit, rehearse)
        return added, converted

    def _replace(self, edit: Callable[[Path], object], rehearse: bool) -> None:
        """Edit a private copy of the file, then rename it over the file (rehearse: drop it).

        ``tempfile.mkstemp`` creates the copy in the file's directory with mode 0600: the tokens
        are never in a file others may read, whatever mode the old file had. The rename replaces
        the file at once: a reader sees the old file or the new one, never a half-written one.
        """
        path = self.path
        directory = path.parent
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        except OSError as exc:
            raise self._refuse(
                f"cannot be written: no new file can be created in {_show(directory)} "
                f"({exc.strerror})"
            ) from None
        os.close(fd)
        copy = Path(name)
        try:
            if path.exists():
                shutil.copyfile(path, copy)  # into the 0600 copy: its mode stays
            edit(copy)
            _fsync(copy)
            if not rehearse:
                os.replace(copy, path)
                with contextlib.suppress(OSError):  # make the rename durable where the OS can
                    _fsync(directory)
        except OSError as exc:
            unchanged = f"; {_FIX}" if rehearse else f" and is unchanged; {_RETRY_HINT}"
            raise self._refuse(f"could not be written ({exc.strerror}){unchanged}") from None
        finally:
            copy.unlink(missing_ok=True)  # after the rename, there is nothing left to remove


def update_env(path: Path, changes: Mapping[str, str | None]) -> bool:
    """Set the variables of ``changes`` in the .env file ``path`` (None: remove them), with
    python-dotenv: every other line kept, each earlier line of a variable replaced. Whether
    python-dotenv now reads the file (unexpanded) as it did with ``changes`` applied.

    ``set_key`` single-quotes each value (``quote_mode="always"``, backslashes and quotes
    escaped), which python-dotenv reads back exactly; a line it cannot parse, such as a quote
    never closed, may swallow the lines written after it: the check finds that.
    """
    before = dotenv_values(path, interpolate=False)
    for key, value in changes.items():
        if value is not None:
            set_key(path, key, value, quote_mode="always")
        elif key in before:
            unset_key(path, key)
    kept = {key: value for key, value in before.items() if key not in changes}
    written = {key: value for key, value in changes.items() if value is not None}
    return dotenv_values(path, interpolate=False) == kept | written


def _unparsable_lines(text: str) -> list[int]:
    """The lines where python-dotenv starts a statement it cannot parse."""
    return [binding.original.line for binding in parse_stream(io.StringIO(text)) if binding.error]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
def _quiet_library_logs() -> Iterator[None]:
    """oauthlib and requests-oauthlib log signed parameters and tokens at DEBUG: never show
    them. python-dotenv warns about each line it cannot parse, at every read: the lines are kept
    as they are, and a refusal names them where they matter."""
    levels = {"oauthlib": logging.WARNING, "requests_oauthlib": logging.WARNING}
    levels["dotenv"] = logging.ERROR
    loggers = [logging.getLogger(name) for name in levels]
    saved = [logger.level for logger in loggers]
    for logger, level in zip(loggers, levels.values(), strict=True):
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)


if __name__ == "__main__":
    raise SystemExit(main())
