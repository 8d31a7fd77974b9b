"""The PIN-flow helper end to end against the sandbox's /oauth/* endpoints.

Besides the flow itself: the token file is 0600 from its first byte (a 0600 copy made with
``tempfile.mkstemp``, edited, and renamed over it), --meltano writes .env with python-dotenv
instead of printing values, and every mistake a user can make is one ``error:`` line, exit code
1, that shows no value, before the single-use PIN is spent where possible.
"""

from __future__ import annotations

import http.server
import io
import json
import logging
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import dotenv
import pytest
import requests
from requests_oauthlib import OAuth1, OAuth1Session

from tap_twitter_engagement.commands import auth
from tap_twitter_engagement.inputs import ENV_PREFIX, config_from_env
from tap_twitter_engagement.tap import TapTwitterEngagement
from tests.hostile import oauth_issuing

ROOT = Path(__file__).resolve().parents[2]
TOKEN = auth.ENV_NAMES["access_token"]
SECRET = auth.ENV_NAMES["access_token_secret"]
ACCOUNTS = auth.ACCOUNTS_ENV
PROMPT = "2. Enter the PIN shown after authorizing: "


def _command(sandbox, *args: str, oauth_url: str | None = None) -> list[str]:
    c = sandbox.credentials
    return [
        sys.executable,
        "-m",
        "tap_twitter_engagement.commands.auth",
        "--consumer-key",
        c.consumer_key,
        "--consumer-secret",
        c.consumer_secret,
        "--oauth-url",
        oauth_url or sandbox.base_url,
        *args,
    ]


def _env() -> dict[str, str]:
    """The test process's environment, for a subprocess that imports the package from ROOT."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env["PYTHONPATH"] = str(ROOT)
    return env


class _Helper:
    """The helper in a subprocess, stdout read unbuffered: reading the authorize URL line by
    line must not swallow the prompt that follows it."""

    def __init__(self, sandbox, *args: str, cwd: Path = ROOT) -> None:
        self.process = subprocess.Popen(
            _command(sandbox, *args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            cwd=cwd,
            env=_env(),
        )
        self.seen = ""

    def readline(self) -> str:
        line = self.process.stdout.readline().decode()  # unbuffered: one byte at a time
        self.seen += line
        return line

    def finish(self, stdin: str | None) -> tuple[int, str, str]:
        """Send ``stdin`` (None: close it at once): exit code, all of stdout, stderr."""
        out, err = self.process.communicate(None if stdin is None else stdin.encode(), timeout=30)
        return self.process.returncode, self.seen + out.decode(), err.decode()


def _pin_from(url: str) -> str:
    """'Approve' the authorize URL as the owner; the PIN the page shows."""
    page = requests.get(url, timeout=10).text
    return re.search(r'id="pin">(\d{7})<', page).group(1)


def _authorize(helper: _Helper) -> str:
    """Read the printed authorize URL, approve it, return the PIN shown."""
    first = helper.readline()
    assert first.startswith("1. Open this URL"), first
    return _pin_from(helper.readline().strip())


def _run_flow(sandbox, *args: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    """Run the helper through the whole flow: exit code, all of stdout, stderr."""
    helper = _Helper(sandbox, *args, cwd=cwd)
    return helper.finish(_authorize(helper) + "\n")


def _assert_nothing_leaked(sandbox, *texts: str, tokens: tuple[str, ...] = ()) -> None:
    """No consumer key/secret, sandbox token or issued token in the output, no traceback."""
    text = "\n".join(texts)
    leaked = sum(value in text for value in [*sandbox.credentials.values(), *tokens])
    assert not leaked, f"{leaked} secret value(s) in the output"  # never the values themselves
    assert "Traceback" not in text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _working(sandbox, token: str, secret: str) -> bool:
    c = sandbox.credentials
    auth1 = OAuth1(c.consumer_key, c.consumer_secret, token, secret)
    me = requests.get(f"{sandbox.base_url}/2/users/me", auth=auth1, timeout=10)
    return me.ok and me.json()["data"]["username"] == "sandbox_brand"


# --- --config ---------------------------------------------------------------------------------
def test_pin_flow_rewrites_an_existing_0644_config_as_a_new_0600_file(sandbox, tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"number_of_tweets": 5, "api_url": "https://x.test"}))
    config_path.chmod(0o644)
    inode = config_path.stat().st_ino

    code, out, err = _run_flow(sandbox, "--config", str(config_path))

    assert code == 0, err
    assert err == ""
    assert out.endswith(
        f"3. Wrote the access token and secret of @sandbox_brand (user id "
        f"{sandbox.model.user.id}) to {config_path}\n"
    )
    config = json.loads(config_path.read_text())
    assert list(config) == ["number_of_tweets", "api_url", "access_token", "access_token_secret"]
    assert config["number_of_tweets"] == 5
    assert config["api_url"] == "https://x.test"
    assert config["access_token"] != sandbox.credentials.access_token  # a new token was issued
    assert _working(sandbox, config["access_token"], config["access_token_secret"])
    assert _mode(config_path) == 0o600
    assert config_path.stat().st_ino != inode  # replaced by the renamed temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temp file left
    _assert_nothing_leaked(
        sandbox, out, err, tokens=(config["access_token"], config["access_token_secret"])
    )


def test_pin_flow_creates_a_new_config_0600(sandbox, tmp_path):
    config_path = tmp_path / "new" / "config.json"
    config_path.parent.mkdir()

    code, out, err = _run_flow(sandbox, "--config", str(config_path))

    assert code == 0, err
    config = json.loads(config_path.read_text())
    assert sorted(config) == ["access_token", "access_token_secret"]
    assert _mode(config_path) == 0o600
    assert [p.name for p in config_path.parent.iterdir()] == ["config.json"]
    _assert_nothing_leaked(sandbox, out, err, tokens=tuple(config.values()))


@pytest.fixture
def in_process_pin(monkeypatch) -> None:
    """Run main() in-process: the fake prompt approves the authorize URL main printed."""
    urls: list[str] = []
    real = OAuth1Session.authorization_url

    def record(self, url, request_token=None, **kwargs):
        urls.append(real(self, url, request_token, **kwargs))
        return urls[-1]

    monkeypatch.setattr(OAuth1Session, "authorization_url", record)
    monkeypatch.setattr("builtins.input", lambda _prompt="": _pin_from(urls[-1]))


@pytest.fixture
def oauth_debug_logs_on() -> Iterator[None]:
    """oauthlib's DEBUG records carry the consumer key: let them through, as a plain CLI run
    would (the tap's client module, imported by the suite, quiets them process-wide)."""
    loggers = [logging.getLogger(name) for name in ("oauthlib", "requests_oauthlib")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.NOTSET)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.mark.usefixtures("in_process_pin", "oauth_debug_logs_on")
@pytest.mark.parametrize("option", ["--config", "--env-file"])
def test_the_target_never_holds_tokens_under_a_wider_mode(
    sandbox, tmp_path, monkeypatch, capsys, option
):
    """Every file created is O_EXCL with mode 0600; the target is only ever renamed over, once.

    python-dotenv's ``set_key`` renames its own temporary file onto the private copy: those
    renames stay in 0600 files beside the target."""
    target = tmp_path / ("config.json" if option == "--config" else ".env")
    original = '{"number_of_tweets": 5}\n' if option == "--config" else "OTHER=1\n"
    target.write_text(original)
    target.chmod(0o644)
    inode = target.stat().st_ino
    created: list[tuple[str, int, int]] = []
    renamed: list[dict[str, object]] = []
    timeouts: list[object] = []
    real_open, real_replace, real_request = os.open, os.replace, requests.Session.request

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT and Path(path).parent == tmp_path:
            created.append((str(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    def spy_replace(src, dst, *args, **kwargs):
        # The moment before the rename: the tokens are in the 0600 temporary file only.
        renamed.append(
            {
                "src_dir": Path(src).parent,
                "src_mode": _mode(Path(src)),
                "src_text": Path(src).read_text(),
                "dst": Path(dst),
                "dst_text": Path(dst).read_text(),
                "dst_inode": Path(dst).stat().st_ino,
                "dst_mode": _mode(Path(dst)),
            }
        )
        return real_replace(src, dst, *args, **kwargs)

    def spy_request(self, method, url, *args, **kwargs):
        if method == "POST" and "/oauth/" in url:
            timeouts.append(kwargs.get("timeout"))
        return real_request(self, method, url, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(requests.Session, "request", spy_request)
    c = sandbox.credentials
    target_args = (
        [option, str(target)] if option == "--config" else ["--meltano", option, str(target)]
    )
    code = auth.main(
        [
            "--consumer-key",
            c.consumer_key,
            "--consumer-secret",
            c.consumer_secret,
            "--oauth-url",
            sandbox.base_url,
            *target_args,
        ]
    )
    monkeypatch.undo()

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert timeouts == [auth.TIMEOUT_SECONDS, auth.TIMEOUT_SECONDS]
    assert created, "no file was created"
    for _, flags, mode in created:
        assert flags & os.O_EXCL
        assert mode == 0o600
    written = target.read_text()
    if option == "--config":
        tokens = (json.loads(written)["access_token"], json.loads(written)["access_token_secret"])
    else:
        tokens = (dotenv.dotenv_values(target)[TOKEN], dotenv.dotenv_values(target)[SECRET])
    assert all(token in written for token in tokens)
    for rename in renamed:
        assert rename["src_dir"] == tmp_path
        assert rename["src_mode"] == 0o600
        assert rename["dst"] == target or rename["dst_mode"] == 0o600
    assert [rename for rename in renamed if rename["dst"] == target] == [
        {
            "src_dir": tmp_path,
            "src_mode": 0o600,
            "src_text": written,  # the tokens were only ever in the 0600 temporary file
            "dst": target,
            "dst_text": original,  # untouched until the rename
            "dst_inode": inode,
            "dst_mode": 0o644,
        }
    ]
    assert _mode(target) == 0o600
    assert target.stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    _assert_nothing_leaked(sandbox, captured.out, captured.err, tokens=tokens)


# --- --meltano: .env ----------------------------------------------------------------------------
ENV_BEFORE = (
    "# project secrets\n"
    "TAP_TWITTER_ENGAGEMENT_CONSUMER_KEY='kept'\n"
    f"{TOKEN}=old-token\n"
    'MULTI="line one\n'
    f"{SECRET}=inside a quoted value, not a binding\n"
    'line three"\n'
    f"export {SECRET}='old-secret' # comment\n"
    f"{TOKEN}=duplicate\n"
    "LAST=no newline at the end"
)


@pytest.mark.parametrize(
    ("existing", "env_file_arg"),
    [
        pytest.param(None, None, id="new .env in the current directory (the default)"),
        pytest.param(ENV_BEFORE, ".env", id="existing 0644 .env, other lines kept"),
    ],
)
def test_meltano_writes_the_tokens_into_dotenv_and_prints_no_value(
    sandbox, tmp_path, existing, env_file_arg
):
    (tmp_path / "meltano.yml").write_text("project_id: test\n")
    env_path = tmp_path / ".env"
    inode = None
    if existing is not None:
        env_path.write_text(existing)
        env_path.chmod(0o644)
        inode = env_path.stat().st_ino
    extra = ["--env-file", str(env_path)] if env_file_arg else []

    code, out, err = _run_flow(sandbox, "--meltano", *extra, cwd=tmp_path)

    assert code == 0, err
    assert err == ""
    values = dotenv.dotenv_values(env_path)
    token, secret = values[TOKEN], values[SECRET]
    assert token != sandbox.credentials.access_token
    assert _working(sandbox, token, secret)
    assert out.endswith(  # after the authorize URL: no value, only the names and the path
        f"{PROMPT}3. Wrote the access token and secret of @sandbox_brand (user id "
        f"{sandbox.model.user.id}) to {env_path} (mode 0600, other lines kept) as "
        f"{TOKEN} and {SECRET}.\n"
        "   Check: `meltano config list tap-twitter-engagement` in the project directory "
        "lists access_token and access_token_secret, redacted.\n"
    )
    if existing is None:
        assert env_path.read_text() == f"{TOKEN}='{token}'\n{SECRET}='{secret}'\n"
    else:
        assert env_path.read_text() == (
            "# project secrets\n"
            "TAP_TWITTER_ENGAGEMENT_CONSUMER_KEY='kept'\n"
            f"{TOKEN}='{token}'\n"
            'MULTI="line one\n'
            f"{SECRET}=inside a quoted value, not a binding\n"
            'line three"\n'
            f"{SECRET}='{secret}'\n"  # set_key writes the line anew: no export, no comment
            f"{TOKEN}='{token}'\n"  # every binding of the variable gets the new value
            "LAST=no newline at the end"
        )
        assert values == {
            "TAP_TWITTER_ENGAGEMENT_CONSUMER_KEY": "kept",
            TOKEN: token,
            "MULTI": f"line one\n{SECRET}=inside a quoted value, not a binding\nline three",
            SECRET: secret,
            "LAST": "no newline at the end",
        }
        assert env_path.stat().st_ino != inode
    assert _mode(env_path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "meltano.yml"]
    _assert_nothing_leaked(sandbox, out, err, tokens=(token, secret))


def test_meltano_notes_a_directory_without_meltano_yml(sandbox, tmp_path):
    code, out, err = _run_flow(sandbox, "--meltano", cwd=tmp_path)
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"   Note: {tmp_path} has no meltano.yml; Meltano reads the project's .env."
    )
    values = dotenv.dotenv_values(tmp_path / ".env")
    _assert_nothing_leaked(sandbox, out, err, tokens=(values[TOKEN], values[SECRET]))


NEW = {TOKEN: "1500-tok", SECRET: "sec"}
SET = f"{TOKEN}='1500-tok'\n{SECRET}='sec'\n"


def _update_env(tmp_path: Path, before: str, changes: dict[str, str | None]) -> str:
    """``before`` as a .env file, updated with ``changes``: the text written."""
    path = tmp_path / ".env"
    path.write_text(before, newline="")
    assert auth.update_env(path, changes)
    return path.read_bytes().decode()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", SET),
        ("\n\n", "\n\n" + SET),
        ("OTHER=1\n", "OTHER=1\n" + SET),
        ("OTHER=1", "OTHER=1\n" + SET),
        (
            f'# c\n{TOKEN}=old\nX=2\n{SECRET}="old"\n',
            f"# c\n{TOKEN}='1500-tok'\nX=2\n{SECRET}='sec'\n",
        ),
        (f"{SECRET}=old\n", f"{SECRET}='sec'\n{TOKEN}='1500-tok'\n"),
        # python-dotenv's set_key: every binding of the variable becomes the new line ...
        (
            f"{TOKEN}=a\n{TOKEN}=b\nY=3\n",
            f"{TOKEN}='1500-tok'\n{TOKEN}='1500-tok'\nY=3\n{SECRET}='sec'\n",
        ),
        # ... written anew: no `export`, indent or comment of the line it replaces
        (f"export {TOKEN}=old\n", SET),
        (f"'{TOKEN}'=old\n", SET),
        (f"  {TOKEN} = old # note\n", SET),
        (f"{TOKEN}\n", SET),
        (f"{TOKEN}_OLD=1\n", f"{TOKEN}_OLD=1\n" + SET),
        (f"M='a\n{TOKEN}=x\nb'\n", f"M='a\n{TOKEN}=x\nb'\n" + SET),
        (f"M='a\n{TOKEN}=x\n' junk\n", f"M='a\n{TOKEN}=x\n' junk\n" + SET),
        ("not a binding at all\n", "not a binding at all\n" + SET),
        # python-dotenv rewrites the file as text: CRLF line ends become LF, a BOM goes
        ("X=1\r\n", "X=1\n" + SET),
        ("\ufeffX=1\n", "X=1\n" + SET),
        (f"\ufeff{TOKEN}=old\n", SET),
        ("P=${HOME}/x\n", "P=${HOME}/x\n" + SET),
    ],
)
def test_update_env_replaces_only_the_two_variables(tmp_path, before, after):
    written = _update_env(tmp_path, before, NEW)
    assert written == after
    old = dotenv.dotenv_values(stream=io.StringIO(before), interpolate=False)
    new = dotenv.dotenv_values(stream=io.StringIO(written), interpolate=False)
    assert new == {**{k: v for k, v in old.items() if k not in NEW}, **NEW}


#: Values a token could hold that .env syntax gives a meaning to (the tap refuses whitespace
#: and control characters in a token, but a value holding them reads back too).
AWKWARD = [
    "1500-aB3",
    "a=b",
    "=lead",
    "#lead",
    "a#b",
    "a # b",
    "it's",
    "'",
    "''",
    'dq"',
    '"',
    "'\"'",
    "$",
    "$HOME",
    "a$b",
    "$(id)",
    "`id`",
    "back\\slash",
    "back\\",
    "\\",
    "\\'",
    "\\n",
    "\\u0024",
    "!",
    "ü€",
    " spaced ",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_env_values_are_read_back_exactly_by_the_tap(tmp_path, value):
    """What ``--meltano`` writes (python-dotenv's ``set_key``, ``quote_mode="always"``) is what
    the tap reads with ``--config ENV`` (python-dotenv's ``dotenv_values``, expanding)."""
    path = tmp_path / ".env"
    path.write_text(f"OTHER='kept'\n{TOKEN}=old\n")
    destination = auth._Destination("--env-file", path, json_object=False)
    destination.write({"access_token": value, "access_token_secret": value + "2"}, None, "@x")
    schema = TapTwitterEngagement.full_config_schema()
    assert config_from_env(schema, environ={}, dotenv=path) == {
        "access_token": value,
        "access_token_secret": value + "2",
    }
    assert dotenv.dotenv_values(path) == {"OTHER": "kept", TOKEN: value, SECRET: value + "2"}
    assert _mode(path) == 0o600


@pytest.mark.parametrize("value", AWKWARD)
def test_an_accounts_list_is_read_back_exactly_by_the_tap(tmp_path, value):
    """The ``accounts`` JSON in .env, with names holding the same characters, and ``${``."""
    path = tmp_path / ".env"
    destination = auth._Destination("--env-file", path, json_object=False)
    names = [value, f"our ${{{value}}}"]
    for i, name in enumerate(names):
        destination.write({"access_token": f"t{i}-{value}", "access_token_secret": "s"}, name, "@x")
    schema = TapTwitterEngagement.full_config_schema()
    assert config_from_env(schema, environ={}, dotenv=path) == {
        "accounts": [
            {"name": name, "access_token": f"t{i}-{value}", "access_token_secret": "s"}
            for i, name in enumerate(names)
        ]
    }


def test_an_env_value_dotenv_would_expand_is_refused(tmp_path):
    path = tmp_path / ".env"
    path.write_text("OTHER=1\n")
    destination = auth._Destination("--env-file", path, json_object=False)
    with pytest.raises(auth.UsageError, match=r"holds '\$\{'"):
        destination.write({"access_token": "a${HOME}", "access_token_secret": "s"}, None, "@x")
    assert path.read_text() == "OTHER=1\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (f"{TOKEN}=a\nX=1\n{SECRET}='b' # c\n", f"X=1\n{ACCOUNTS}='[]'\n"),
        (f"export {TOKEN}=a\n{TOKEN}=duplicate\n", f"{ACCOUNTS}='[]'\n"),
        (f"{ACCOUNTS}='old'\n{TOKEN}=a", f"{ACCOUNTS}='[]'\n"),
        (f"M='\n{TOKEN}=inside\n'\n", f"M='\n{TOKEN}=inside\n'\n{ACCOUNTS}='[]'\n"),
        ("X=1", f"X=1\n{ACCOUNTS}='[]'\n"),
    ],
)
def test_update_env_removes_the_variables_set_to_none(tmp_path, before, after):
    changes = {TOKEN: None, SECRET: None, ACCOUNTS: "[]"}
    assert _update_env(tmp_path, before, changes) == after


@pytest.mark.parametrize(
    "before",
    [
        "A=1\nB='never closed\nC=3\n",
        "A=1\nB='never closed",
        f'A=1\nB="never closed\n{ACCOUNTS}=x\n',
    ],
)
def test_update_env_finds_lines_the_new_lines_would_change(tmp_path, before):
    """A quote never closed: the quotes of the lines written after it would close it."""
    path = tmp_path / ".env"
    path.write_text(before)
    assert not auth.update_env(path, {TOKEN: "t", SECRET: "s", ACCOUNTS: '[{"name":"x"}]'})


# --- --account: several accounts in one config --------------------------------------------------
OLD = {"access_token": "1-oldTOKENvalue", "access_token_secret": "oldSECRETvalue"}
OTHER = {
    "name": "brand_es",
    "access_token": "2-otherTOKENvalue",
    "access_token_secret": "otherSECRETvalue",
    "tweet_ids": ["7"],
}
SECRETS = (*OLD.values(), OTHER["access_token"], OTHER["access_token_secret"])
URL = "https://x.test"
ENV_NAME = {"access_token": TOKEN, "access_token_secret": SECRET, "accounts": ACCOUNTS}


def _env_text(settings: dict[str, object], other: bool = True) -> str:
    """``settings`` as a Meltano .env (accounts as compact JSON), after a line of another
    variable (unless not ``other``)."""
    lines = ["# project secrets\n", "OTHER='kept'\n"] if other else []
    for key, value in settings.items():
        name = ENV_NAME.get(key, f"{ENV_PREFIX}{key.upper()}")
        text = json.dumps(value, separators=(",", ":")) if key == "accounts" else value
        # python-dotenv expands ${ even in quotes: \\u0024 in the file is \u0024 to it, $ to JSON
        text = text.replace("${", "\\\\u0024{")
        lines.append(f"{name}='{text}'\n")
    return "".join(lines)


def _write_settings(target: str, path: Path, settings: dict[str, object]) -> None:
    text = json.dumps(settings, indent=2) + "\n" if target == "--config" else _env_text(settings)
    path.write_text(text)
    path.chmod(0o644)


def _read_settings(target: str, path: Path) -> dict[str, object]:
    if target == "--config":
        return json.loads(path.read_text())
    values = dotenv.dotenv_values(path)
    assert values.pop("OTHER", "kept") == "kept"
    setting = {name: key for key, name in ENV_NAME.items()} | {f"{ENV_PREFIX}API_URL": "api_url"}
    return {setting[k]: json.loads(v) if k == ACCOUNTS else v for k, v in values.items()}


def _target(target: str, path: Path) -> list[str]:
    return [target, str(path)] if target == "--config" else ["--meltano", "--env-file", str(path)]


def _new(name: str, **more: object) -> Callable[[dict[str, str]], dict[str, object]]:
    """The entry ``name`` with the token the flow issued (``tokens``), then ``more``."""
    return lambda tokens: {"name": name, **tokens, **more}


ME = "sandbox_brand"
ACCOUNT_CASES = [
    pytest.param(None, ME, [_new(ME)], "added", id="first account into a new file"),
    pytest.param({}, ME, [_new(ME)], "added", id="first account into an empty config"),
    pytest.param(
        {**OLD, "api_url": URL},
        ME,
        [lambda _: {"name": "default", **OLD}, _new(ME)],
        "added, converted",
        id="single account converted: its token becomes the entry default",
    ),
    pytest.param(
        {"api_url": URL, "accounts": [OTHER]},
        ME,
        [lambda _: OTHER, _new(ME)],
        "added",
        id="appended after an existing account",
    ),
    pytest.param(
        {"accounts": [{"name": ME, **OLD, "number_of_tweets": 3}, OTHER]},
        ME,
        [_new(ME, number_of_tweets=3), lambda _: OTHER],
        "updated",
        id="same name: new token, other keys kept",
    ),
    pytest.param(
        {**OLD},
        "default",
        [_new("default")],
        "updated, converted",
        id="--account default replaces the converted single account",
    ),
    pytest.param({}, "our ${brand}", [_new("our ${brand}")], "added", id="name with ${"),
]


@pytest.mark.parametrize(("before", "name", "entries", "outcome"), ACCOUNT_CASES)
@pytest.mark.parametrize("target", ["--config", "--meltano"])
def test_account_is_added_to_the_accounts_list(
    sandbox, tmp_path, target, before, name, entries, outcome
):
    (tmp_path / "meltano.yml").write_text("project_id: test\n")
    path = tmp_path / ("config.json" if target == "--config" else ".env")
    if before is not None:
        _write_settings(target, path, before)

    code, out, err = _run_flow(sandbox, *_target(target, path), "--account", name, cwd=tmp_path)

    assert code == 0, err
    assert err == ""
    after = _read_settings(target, path)
    new = next(entry for entry in after["accounts"] if entry["name"] == name)
    tokens = {key: new[key] for key in OLD}
    assert tokens["access_token"] not in SECRETS  # a new token was issued
    assert _working(sandbox, tokens["access_token"], tokens["access_token_secret"])
    expected = {"api_url": URL} if "api_url" in (before or {}) else {}
    expected["accounts"] = [entry(tokens) for entry in entries]
    assert after == expected  # the top-level token is gone: one form only
    who = f"{name}, @sandbox_brand (user id {sandbox.model.user.id}),"
    added = "added" in outcome
    verb = f"Added the account {who} to" if added else f"Updated the account {who} in"
    if target == "--config":
        assert path.read_text() == json.dumps(expected, indent=2) + "\n"
        lines = [f"3. {verb} accounts in {path}"]
        pair, listed = "access_token/access_token_secret", "accounts"
    else:
        assert path.read_text() == _env_text(expected, other=before is not None)
        lines = [f"3. {verb} {ACCOUNTS} in {path} (mode 0600, other lines kept)."]
        pair, listed = f"{TOKEN}/_SECRET", ACCOUNTS
    if "converted" in outcome:
        lines.append(f"   Moved {pair} into {listed} as the account default.")
    if target == "--meltano":
        lines.append(
            "   Check: `meltano config list tap-twitter-engagement` in the project directory "
            "lists accounts, redacted."
        )
    assert out.endswith(PROMPT + "".join(line + "\n" for line in lines))
    assert _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, "meltano.yml"])
    _assert_nothing_leaked(sandbox, out, err, tokens=(*tokens.values(), *SECRETS))


@pytest.mark.usefixtures("in_process_pin")
@pytest.mark.parametrize("target", ["--config", "--meltano"])
def test_a_token_already_listed_under_another_name_is_refused(
    sandbox, tmp_path, monkeypatch, capsys, target
):
    """X issues the same token again when an account authorizes the app again: under a second
    name the tap would read that account twice."""
    path = tmp_path / ("config.json" if target == "--config" else ".env")
    _write_settings(target, path, {"accounts": [OTHER]})
    before = path.read_bytes()
    real = OAuth1Session.fetch_access_token

    def the_same_token_again(self, *args, **kwargs):
        token = real(self, *args, **kwargs)  # the sandbox issues a new one: make it brand_es's
        token.update(
            oauth_token=OTHER["access_token"], oauth_token_secret=OTHER["access_token_secret"]
        )
        return token

    monkeypatch.setattr(OAuth1Session, "fetch_access_token", the_same_token_again)
    c = sandbox.credentials
    code = auth.main(
        [
            *("--consumer-key", c.consumer_key, "--consumer-secret", c.consumer_secret),
            *("--oauth-url", sandbox.base_url, *_target(target, path), "--account", ME),
        ]
    )

    out, err = capsys.readouterr()
    assert code == 1
    listed = "accounts" if target == "--config" else ACCOUNTS
    assert err == (
        f"error: the token of @sandbox_brand is already in {listed} as brand_es; "
        "nothing was written\n"
    )
    assert out.startswith("1. Open this URL")
    assert "\n3. " not in out
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    _assert_nothing_leaked(sandbox, out, err, tokens=SECRETS)


# --- refusals before the PIN flow ---------------------------------------------------------------
Setup = Callable[[Path], list[str]]


def _file(
    name: str, content: bytes | None = None, mode: int | None = None
) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        if content is not None:
            path.write_bytes(content)
        if mode is not None:
            path.chmod(mode)
        return path

    return make


def _config(content: bytes | None) -> Setup:
    return lambda tmp: ["--config", str(_file("c.json", content)(tmp))]


def _env_file(content: bytes | None, *more: str) -> Setup:
    return lambda tmp: ["--meltano", "--env-file", str(_file(".env", content)(tmp)), *more]


def _settings(target: str, settings: dict[str, object], *more: str) -> Setup:
    def make(tmp: Path) -> list[str]:
        path = tmp / ("config.json" if target == "--config" else ".env")
        _write_settings(target, path, settings)
        return [*_target(target, path), *more]

    return make


def _readonly_dir(option: str) -> Setup:
    def make(tmp: Path) -> list[str]:
        (tmp / "ro").mkdir(mode=0o500)
        return (["--meltano"] if option == "--env-file" else []) + [option, str(tmp / "ro/f")]

    return make


NOT_ROOT = pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into a 0500 directory"
)
SYSFS = pytest.mark.skipif(
    not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs (no files can be created in /sys)"
)
FIX = "fix it or give another path"

REFUSALS = [
    pytest.param(
        lambda tmp: ["--config", str(tmp)],
        "--config {tmp} is a directory; give the path of a file",
        id="config is a directory",
    ),
    pytest.param(
        lambda tmp: ["--config", str(tmp / "missing/c.json")],
        "--config {tmp}/missing/c.json cannot be created: directory {tmp}/missing does not exist",
        id="config parent missing",
    ),
    pytest.param(
        lambda tmp: ["--config", str(_file("plain", b"x")(tmp) / "c.json")],
        "--config {tmp}/plain/c.json cannot be created: {tmp}/plain is not a directory",
        id="config parent is a file",
    ),
    pytest.param(
        _readonly_dir("--config"),
        "--config {tmp}/ro/f cannot be written: no new file can be created in {tmp}/ro "
        "(Permission denied)",
        id="config parent not writable",
        marks=NOT_ROOT,
    ),
    pytest.param(
        lambda _tmp: ["--config", "/sys/tap-twitter-engagement-test.json"],
        "--config /sys/tap-twitter-engagement-test.json cannot be written: no new file can be "
        "created in /sys (Permission denied)",
        id="config in a directory nobody may write (sysfs)",
        marks=SYSFS,
    ),
    pytest.param(
        lambda _tmp: ["--config", "/dev/null"],
        "--config /dev/null is not a regular file",
        id="config is a device",
    ),
    pytest.param(
        _config(b""),
        f"--config {{tmp}}/c.json is empty, not a JSON object; {FIX}",
        id="config empty",
    ),
    pytest.param(
        _config(b"consumer_key: x\n"),
        f"--config {{tmp}}/c.json is not JSON (Expecting value at line 1 column 1); {FIX}",
        id="config not JSON",
    ),
    pytest.param(
        _config(b'{"a": 1'),
        f"--config {{tmp}}/c.json is not JSON (Expecting ',' delimiter at line 1 column 8); {FIX}",
        id="config truncated JSON",
    ),
    pytest.param(
        _config(b'{"a": "\xff"}'),
        f"--config {{tmp}}/c.json is not JSON (not UTF-8 text); {FIX}",
        id="config not UTF-8",
    ),
    *[
        pytest.param(
            _config(content),
            f"--config {{tmp}}/c.json holds a JSON {kind}, not an object; {FIX}",
            id=f"config holds a JSON {kind}",
        )
        for content, kind in [
            (b"[]", "array"),
            (b'"x"', "string"),
            (b"1", "number"),
            (b"true", "boolean"),
            (b"null", "null"),
        ]
    ],
    pytest.param(
        lambda tmp: ["--meltano", "--env-file", str(tmp)],
        "--env-file {tmp} is a directory; give the path of a file",
        id="env-file is a directory",
    ),
    pytest.param(
        lambda tmp: ["--meltano", "--env-file", str(tmp / "nope/.env")],
        "--env-file {tmp}/nope/.env cannot be created: directory {tmp}/nope does not exist",
        id="env-file parent missing",
    ),
    pytest.param(
        _readonly_dir("--env-file"),
        "--env-file {tmp}/ro/f cannot be written: no new file can be created in {tmp}/ro "
        "(Permission denied)",
        id="env-file parent not writable",
        marks=NOT_ROOT,
    ),
    pytest.param(
        _env_file(b"A=\xff\n"),
        f"--env-file {{tmp}}/.env is not UTF-8 text; {FIX}",
        id="env-file not UTF-8",
    ),
    pytest.param(
        _env_file(b"A=1\nB='never closed\nC=3\n"),
        f"--env-file {{tmp}}/.env cannot take new lines: python-dotenv cannot parse line 2 (a "
        f"quote never closed?), and new lines would change how it reads the file; {FIX}",
        id="env-file with an unclosed quote",
    ),
    pytest.param(
        lambda tmp: ["--config", str(tmp / "c.json"), "--env-file", str(tmp / ".env")],
        "--env-file goes with --meltano; with --config the tokens go into the JSON",
        id="env-file without --meltano",
    ),
    *[
        pytest.param(
            lambda tmp, url=url: ["--oauth-url", url, "--config", str(tmp / "c.json")],
            f"--oauth-url {url!r} is not an http(s) URL with a host, such as "
            "https://api.twitter.com",
            id=f"oauth-url {url!r}",
        )
        for url in [
            "",
            "api.twitter.com",
            "ftp://api.twitter.com",
            "http://",
            "https:///oauth",
            "https://api.twitter.com:99999",
            "https://[::1",
            "https://api.twitter.com/?x=1",
            "https://api.twitter.com/#x",
            "https://user:pw@api.twitter.com",
            "https://api.twitter.com/a b",
        ]
    ],
    pytest.param(
        lambda tmp: ["--consumer-key", "", "--config", str(tmp / "c.json")],
        "set --consumer-key and --consumer-secret (or the "
        "TAP_TWITTER_ENGAGEMENT_CONSUMER_KEY/_SECRET variables)",
        id="consumer key missing",
    ),
    *[
        pytest.param(
            lambda tmp, option=option, value=value: [
                option,
                value,
                "--config",
                str(tmp / "c.json"),
            ],
            f"{option} holds {flaw}, which the tap refuses (a copy-paste slip?); set it to the "
            "value alone",
            id=f"{option} with {flaw}",
        )
        for option, value, flaw in [
            ("--consumer-key", "key-and-a-newline\n", "a line break"),
            ("--consumer-secret", "secret\rwith-a-CR", "a line break"),
            ("--consumer-secret", "two words", "whitespace"),
            ("--consumer-key", "key\x1b[0m", "a control or invisible character"),
        ]
    ],
    pytest.param(
        lambda _tmp: [],
        "Missing option '--config' or '--meltano'. See tap-twitter-engagement-auth --help.",
        id="no destination",
    ),
    pytest.param(
        lambda tmp: ["--config", str(tmp / "c.json"), "--meltano"],
        "Options '--config' and '--meltano' exclude each other. See "
        "tap-twitter-engagement-auth --help.",
        id="both destinations",
    ),
    *[
        pytest.param(
            lambda tmp, name=name: ["--config", str(tmp / "c.json"), "--account", name],
            "--account needs a name, such as the account's handle",
            id=f"account name {name!r}",
        )
        for name in ["", "  "]
    ],
    pytest.param(
        _settings("--config", {"accounts": [OTHER]}),
        "--config {tmp}/config.json has accounts; add --account NAME (such as the handle) to add "
        "this account to it",
        id="config with accounts, no --account",
    ),
    pytest.param(
        _settings("--meltano", {"accounts": [OTHER]}),
        f"--env-file {{tmp}}/.env has {ACCOUNTS}; add --account NAME (such as the handle) to add "
        "this account to it",
        id="env-file with accounts, no --account",
    ),
    *[
        pytest.param(
            _settings("--config", {"accounts": accounts}, *account),
            f"--config {{tmp}}/config.json has accounts set to something other than a JSON list "
            f"of objects; {FIX}",
            id=f"config accounts {kind}",
        )
        for kind, accounts, account in [
            ("an object", {"name": "x"}, ["--account", ME]),
            ("with a list in it", [OTHER, []], ["--account", ME]),
            ("a string", "[]", ["--account", ME]),
            ("of numbers, no --account", [1], []),
        ]
    ],
    *[
        pytest.param(
            _env_file(f"{ACCOUNTS}={value}\n".encode(), "--account", ME),
            f"--env-file {{tmp}}/.env has {ACCOUNTS} set to something other than a JSON list of "
            f"objects; {FIX}",
            id=f"env-file accounts {kind}",
        )
        for kind, value in [
            ("not JSON", "not-json"),
            ("truncated", f'\'[{{"name":"x","access_token":"{OLD["access_token"]}"\''),
            ("an object", '\'{"name":"x"}\''),
            ("of numbers", "'[1]'"),
            ("of lists", "'[[]]'"),
        ]
    ],
    pytest.param(
        _env_file(
            f'{ACCOUNTS}=\'[{{"access_token":"${{A_TOKEN}}"}}]\'\n'.encode(), "--account", ME
        ),
        f"--env-file {{tmp}}/.env has {ACCOUNTS} with '${{{{', which python-dotenv expands and "
        f"this command does not rewrite; {FIX}",
        id="env-file accounts with a ${reference}",
    ),
    pytest.param(
        _settings("--config", {**OLD, "accounts": [OTHER]}, "--account", ME),
        f"--config {{tmp}}/config.json has access_token/access_token_secret besides accounts, "
        f"which the tap refuses; {FIX}",
        id="config with both forms",
    ),
    pytest.param(
        _settings("--meltano", {**OLD, "accounts": []}, "--account", ME),
        f"--env-file {{tmp}}/.env has {TOKEN}/_SECRET besides {ACCOUNTS}, which the tap "
        f"refuses; {FIX}",
        id="env-file with both forms",
    ),
    pytest.param(
        _settings("--config", {"access_token": OLD["access_token"]}, "--account", ME),
        f"--config {{tmp}}/config.json has only one of access_token/access_token_secret; {FIX}",
        id="config with a token but no secret",
    ),
    pytest.param(
        _settings("--meltano", {**OLD, "access_token": ""}, "--account", ME),
        f"--env-file {{tmp}}/.env has only one of {TOKEN}/_SECRET; {FIX}",
        id="env-file with a secret but an empty token",
    ),
]


@pytest.mark.parametrize(("setup", "message"), REFUSALS)
def test_unusable_arguments_are_refused_before_the_pin_flow(
    sandbox, tmp_path, monkeypatch, capsys, setup, message
):
    monkeypatch.delenv(f"{ENV_PREFIX}CONSUMER_KEY", raising=False)
    monkeypatch.delenv(f"{ENV_PREFIX}CONSUMER_SECRET", raising=False)
    monkeypatch.chdir(tmp_path)
    c = sandbox.credentials
    args = setup(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    argv = [
        "--consumer-key",
        c.consumer_key,
        "--consumer-secret",
        c.consumer_secret,
        "--oauth-url",
        sandbox.base_url,
        *args,
    ]

    code = auth.main(argv)

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""  # the flow did not start: no authorize URL, no prompt
    assert err == f"error: {message.format(tmp=tmp_path)}\n"
    assert sandbox.requests() == []
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    _assert_nothing_leaked(sandbox, out, err)


TYPED = "s3cr3tVALUE42"
#: Command lines with a value where click expects an option, or none at all: each is one line
#: naming at most the option, never the value.
MISUSES = [
    pytest.param(
        ["--consumer-secert", TYPED], "No such option '--consumer-secert'.", id="misspelt"
    ),
    pytest.param(
        [f"--consumer-secert={TYPED}"], "No such option '--consumer-secert'.", id="misspelt="
    ),
    pytest.param([f"-{TYPED}"], "No such option '-s'.", id="value as short options"),
    pytest.param([TYPED], "Got an unexpected argument (not shown", id="value alone"),
    pytest.param(["--meltano", TYPED], "Got an unexpected argument (not shown", id="after a flag"),
    pytest.param(["--", TYPED], "Got an unexpected argument (not shown", id="after --"),
    pytest.param([f"--meltano={TYPED}"], "Option '--meltano' does not take a value.", id="flag="),
    pytest.param(
        ["--consumer-key"], "Option '--consumer-key' requires an argument.", id="no value"
    ),
]


@pytest.mark.parametrize(("args", "start"), MISUSES)
def test_a_bad_command_line_is_one_line_that_shows_no_value(tmp_path, capsys, args, start):
    code = auth.main(["--consumer-key", "k" * 8, "--config", str(tmp_path / "c.json"), *args])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: {start}")
    assert err.endswith(" See tap-twitter-engagement-auth --help.\n")
    assert err.count("\n") == 1
    assert TYPED[1:] not in err
    assert list(tmp_path.iterdir()) == []


def test_help_is_printed_with_exit_code_0(capsys):
    assert auth.main(["--help"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Usage: tap-twitter-engagement-auth [OPTIONS]")
    assert f"[env var: {ENV_PREFIX}CONSUMER_SECRET]" in " ".join(out.split())
    assert err == ""


def test_a_consumer_secret_from_the_environment_the_tap_refuses_is_named_by_its_variable(
    sandbox, tmp_path, monkeypatch, capsys
):
    """The same rule for a value read from the environment; the refusal names the variable."""
    c = sandbox.credentials
    monkeypatch.setenv(f"{ENV_PREFIX}CONSUMER_KEY", c.consumer_key)
    monkeypatch.setenv(f"{ENV_PREFIX}CONSUMER_SECRET", c.consumer_secret + "\r")
    monkeypatch.chdir(tmp_path)

    code = auth.main(["--oauth-url", sandbox.base_url, "--meltano"])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err == (
        f"error: {ENV_PREFIX}CONSUMER_SECRET holds a line break, which the tap refuses "
        "(a copy-paste slip?); set it to the value alone\n"
    )
    assert sandbox.requests() == []
    assert list(tmp_path.iterdir()) == []
    _assert_nothing_leaked(sandbox, out, err)


ISSUED_CONFIG = {"number_of_tweets": 5, **OLD}


@pytest.mark.parametrize(
    ("target", "token", "secret", "problem"),
    [
        pytest.param(
            "--config",
            "tok\nen-1",
            "secret-1",
            "an access token that holds a line break",
            id="line break in the token, into --config",
        ),
        pytest.param(
            "--meltano",
            "token-2",
            "secret-2\r",
            "an access token secret that holds a line break",
            id="CR ending the secret, into .env",
        ),
        pytest.param(
            "--meltano",
            "tok\x00en-3",
            "secret-3",
            "an access token that holds a control or invisible character",
            id="NUL in the token, into .env",
        ),
        pytest.param(
            "--config",
            "token-4",
            "sec ret-4",
            "an access token secret that holds whitespace",
            id="space in the secret, into --config",
        ),
    ],
)
def test_an_issued_token_the_tap_would_refuse_is_not_written(
    sandbox, tmp_path, target, token, secret, problem
):
    """X's answer is checked with the tap's own rule before anything is written: an existing
    config stays as it was, and no .env is created."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(ISSUED_CONFIG))
    before = config_path.read_bytes()
    args = ["--config", str(config_path)] if target == "--config" else ["--meltano"]
    with oauth_issuing(token, secret) as url:
        result = subprocess.run(
            _command(sandbox, *args, oauth_url=url),
            input="1234567\n",
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_env(),
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout.endswith(PROMPT)  # the PIN was taken, and nothing reported as written
    assert result.stderr == (
        f"error: {url}/oauth/access_token answered with {problem}, which the tap refuses; "
        "nothing was written; check --oauth-url\n"
    )
    assert config_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no .env, no temp
    _assert_nothing_leaked(sandbox, result.stdout, result.stderr, tokens=(token, secret))


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def not_an_oauth_server() -> Iterator[str]:
    """A loopback HTTP server that answers 200 with a page, not a token."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b"<html>hello</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        pytest.param(
            "closed port",
            "cannot reach {url} (connection refused); check --oauth-url",
            id="unreachable oauth-url",
        ),
        pytest.param(
            "closed port, trailing slash",
            "cannot reach {url} (connection refused); check --oauth-url",
            id="unreachable oauth-url with a trailing slash",
        ),
        pytest.param(
            "not oauth",
            "{url}/oauth/request_token did not answer with an OAuth token; check --oauth-url",
            id="oauth-url answers something else",
        ),
        pytest.param(
            "bad URL",
            "--oauth-url 'nope://x' is not an http(s) URL with a host, such as "
            "https://api.twitter.com",
            id="oauth-url not a URL",
        ),
        pytest.param(
            "misspelt option",
            "No such option '--consumer-secert'. (Did you mean one of: '--consumer-key', "
            "'--consumer-secret'?) See tap-twitter-engagement-auth --help.",
            id="misspelt option followed by a secret",
        ),
        pytest.param(
            "directory",
            "--config {tmp} is a directory; give the path of a file",
            id="config is a directory",
        ),
    ],
)
def test_refusals_are_one_line_in_a_real_process(
    sandbox, tmp_path, not_an_oauth_server, case, message
):
    url = sandbox.base_url
    args = ["--config", str(tmp_path / "c.json")]
    if case.startswith("closed port"):
        url = f"http://127.0.0.1:{_closed_port()}" + ("/" if "slash" in case else "")
    elif case == "not oauth":
        url = not_an_oauth_server
    elif case == "bad URL":
        url = "nope://x"
    elif case == "misspelt option":
        args = [*args, "--consumer-secert", sandbox.credentials.consumer_secret]
    elif case == "directory":
        args = ["--config", str(tmp_path)]
    result = subprocess.run(
        _command(sandbox, *args, oauth_url=url),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"error: {message.format(url=url, tmp=tmp_path)}\n"
    assert list(tmp_path.iterdir()) == []
    _assert_nothing_leaked(sandbox, result.stdout, result.stderr)


# --- failures at the PIN prompt -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("pin", "message"),
    [
        pytest.param(
            None,
            "no PIN was entered (input ended); run the command again and enter the PIN shown "
            "after authorizing",
            id="stdin closed at the prompt",
        ),
        pytest.param(
            "",
            "the PIN is empty; run the command again and enter the PIN shown after authorizing",
            id="empty PIN",
        ),
        pytest.param(
            "   ",
            "the PIN is empty; run the command again and enter the PIN shown after authorizing",
            id="blank PIN",
        ),
        pytest.param(
            "0000000",
            "X refused the request (401); check the consumer key and secret, and the PIN "
            "(it is single-use)",
            id="wrong PIN",
        ),
    ],
)
@pytest.mark.parametrize("target", ["--config", "--meltano"])
def test_pin_prompt_failures_are_one_line_and_write_nothing(
    sandbox, tmp_path, target, pin, message
):
    args = ["--config", str(tmp_path / "c.json")] if target == "--config" else ["--meltano"]
    helper = _Helper(sandbox, *args, cwd=tmp_path)
    _authorize(helper)  # the PIN is shown to the owner, but not passed on
    code, out, err = helper.finish(None if pin is None else pin + "\n")
    assert code == 1
    assert err == f"error: {message}\n"
    assert out.endswith(PROMPT + ("\n" if pin is None else ""))
    assert list(tmp_path.iterdir()) == []
    _assert_nothing_leaked(sandbox, out, err)


def test_ctrl_c_at_the_prompt_is_one_line_and_writes_nothing(sandbox, tmp_path):
    helper = _Helper(sandbox, "--config", str(tmp_path / "c.json"), cwd=tmp_path)
    _authorize(helper)
    prompt = b""
    while len(prompt) < len(PROMPT):  # the process is waiting in input() once this is read
        prompt += helper.process.stdout.read(len(PROMPT) - len(prompt))
    helper.seen += prompt.decode()
    helper.process.send_signal(signal.SIGINT)
    code, out, err = helper.finish(None)
    assert code == 130
    assert err == "error: interrupted; nothing was written\n"
    assert out.endswith(PROMPT + "\n")
    assert list(tmp_path.iterdir()) == []
    _assert_nothing_leaked(sandbox, out, err)
