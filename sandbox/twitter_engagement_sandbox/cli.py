"""``tap-twitter-engagement-sandbox``: run the Engagement API emulator until interrupted.

On click, like the tap's own command line. A bad command line is click's usage and one
``Error:`` line on stderr, exit code 2 (click's code for a usage error, which the argparse
version of this command used too): scripts that start the sandbox keep telling a refused
command line (2) from a sandbox that failed (1).
"""

from __future__ import annotations

import json
import shlex
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import click

from twitter_engagement_sandbox.engagement import Behaviour
from twitter_engagement_sandbox.model import REVISION_HOURS, account_username
from twitter_engagement_sandbox.server import (
    ANALYTICS_RATE_LIMIT,
    RATE_LIMIT_PER_SECOND,
    Faults,
    Sandbox,
)
from twitter_engagement_sandbox.tamper import describe, parse_spec

PROG = "tap-twitter-engagement-sandbox"

#: One ``--tamper``: as written, then kind, route (None: every route of the kind) and options.
TamperSpec = tuple[str, str, str | None, dict[str, Any]]


@dataclass(frozen=True)
class Options:
    """What a command line asks for: one field per option, named as click names its value."""

    host: str
    port: int
    seed: int
    tweets: int
    accounts: int
    revoke: list[str]
    config_out: Path | None
    env_out: Path | None
    rate_limit_per_minute: int
    rate_limit_per_second: int
    v2_rate_limit_per_minute: int
    revision_hours: int
    latency_ms: int
    fail_rate: float
    reset_rate: float
    truncate_rate: float
    garbage_rate: float
    burst_429_every: int
    burst_429_length: int
    burst_429_seconds: float
    burst_429_header: str
    tamper: list[TamperSpec]
    history_floor: str
    strict_ids: bool
    accept_numeric_ids: bool
    numeric_counts: bool
    hour_without_day: str
    forbidden_message: str
    unsupported_video_views: str
    analytics_max_days: int
    analytics_history_days: int
    analytics_empty_buckets: str
    analytics_rate_limit: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Options:
        """From click's values: its repeated options come as tuples, kept here as lists."""
        values: dict[str, Any] = {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in params.items()
        }
        return cls(**values)


class _Bounded(click.ParamType[float]):
    """A number as ``base`` reads it, refused unless ``ok``, in the words ``VALUE problem``
    (the value as typed, so the message shows what the user wrote)."""

    def __init__(
        self, base: click.ParamType[float], ok: Callable[[float], bool], problem: str
    ) -> None:
        self.base, self.ok, self.problem = base, ok, problem
        self.name = base.name

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        number = self.base.convert(value, param, ctx)
        if not self.ok(number):
            self.fail(f"{value} {self.problem}", param, ctx)
        return number


class _Tamper(click.ParamType[TamperSpec]):
    """``KIND[@ROUTE][:KEY=VALUE,...]``, read by the tamper module's own parser, so that a bad
    spec is refused before the sandbox starts."""

    name = "tamper"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> TamperSpec:
        if isinstance(value, tuple):  # already read (click's contract for types)
            return cast(TamperSpec, value)
        try:
            return (value, *parse_spec(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_NON_NEGATIVE = _Bounded(click.INT, lambda n: n >= 0, "is negative")
_POSITIVE = _Bounded(click.INT, lambda n: n >= 1, "is not 1 or more")
_FRACTION = _Bounded(click.FLOAT, lambda r: 0 <= r <= 1, "is not a fraction between 0 and 1")
_BEHAVIOUR = Behaviour()

#: The options under the headings ``--help`` lists them by (click itself has no groups).
SECTIONS: list[tuple[str, list[click.Option]]] = [
    (
        "Options",
        [
            click.Option(
                ["--host"], default="127.0.0.1", help="interface to bind (default 127.0.0.1)"
            ),
            click.Option(
                ["--port"], type=int, default=0, help="port; 0 picks a free one (default)"
            ),
            click.Option(
                ["--seed"],
                type=int,
                default=42,
                help="seed of the account, tweets, counts, credentials",
            ),
            click.Option(
                ["--tweets"],
                type=int,
                default=120,
                help="number of tweets of each account (default 120)",
            ),
            click.Option(
                ["--accounts"],
                type=_POSITIVE,
                default=1,
                metavar="N",
                help="brand accounts authorizing the one app, each with its own handle "
                "(sandbox_brand, sandbox_brand_2, ...), user id, tweets and access token; they "
                "share the rate limits (default 1)",
            ),
            click.Option(
                ["--revoke"],
                multiple=True,
                metavar="HANDLE",
                help="this account has revoked the app: its token gets 401 `Access token not "
                "found` (repeatable)",
            ),
            click.Option(
                ["--config-out"],
                type=click.Path(path_type=Path),
                help="also write a ready tap config (JSON) to this path; with --accounts above "
                "1, the `accounts` list form",
            ),
            click.Option(
                ["--env-out"],
                type=click.Path(path_type=Path),
                help="also write shell `export` lines (SANDBOX_URL and the "
                "TAP_TWITTER_ENGAGEMENT_* credentials; with --accounts above 1, "
                "TAP_TWITTER_ENGAGEMENT_ACCOUNTS as JSON) for Meltano's demo environment: "
                "`source` the file, then `meltano --environment demo run ...`",
            ),
            click.Option(
                ["--rate-limit-per-minute"],
                type=int,
                default=6000,
                help="Engagement API requests per endpoint and minute (0 = unlimited; default "
                "6000)",
            ),
            click.Option(
                ["--rate-limit-per-second"],
                type=_NON_NEGATIVE,
                default=RATE_LIMIT_PER_SECOND,
                help="Engagement API requests per endpoint and second, with x-per-second-* "
                f"headers (0 = none; default {RATE_LIMIT_PER_SECOND})",
            ),
            click.Option(
                ["--v2-rate-limit-per-minute"],
                type=int,
                default=900,
                help="v2 requests per endpoint and minute (default 900)",
            ),
            click.Option(
                ["--revision-hours"],
                type=_NON_NEGATIVE,
                default=REVISION_HOURS,
                help="hours after an hour during which its counts are still revised upwards "
                f"(0 = final at once; default {REVISION_HOURS})",
            ),
        ],
    ),
    (
        "Faults",
        [
            click.Option(["--latency-ms"], type=int, default=0, help="added latency per request"),
            click.Option(
                ["--fail-rate"],
                type=_FRACTION,
                default=0.0,
                help="fraction of API requests answered 500/502/503",
            ),
            click.Option(
                ["--reset-rate"],
                type=_FRACTION,
                default=0.0,
                help="fraction of responses whose connection is reset mid-body",
            ),
            click.Option(
                ["--truncate-rate"],
                type=_FRACTION,
                default=0.0,
                help="fraction of 200 responses whose JSON is cut short",
            ),
            click.Option(
                ["--garbage-rate"],
                type=_FRACTION,
                default=0.0,
                help="fraction of 200 responses with a non-JSON (HTML) body",
            ),
            click.Option(
                ["--burst-429-every"],
                type=int,
                default=0,
                help="every Nth API request starts a burst of 429s (0 = never)",
            ),
            click.Option(["--burst-429-length"], type=int, default=3, help="429s per burst"),
            click.Option(
                ["--burst-429-seconds"],
                type=float,
                default=1.0,
                help="reset a burst's 429s announce, in seconds",
            ),
            click.Option(
                ["--burst-429-header"],
                type=click.Choice(
                    ["per-minute", "per-second", "retry-after", "rate-limit", "none"]
                ),
                default="per-minute",
                help="header a burst's 429 names its reset in",
            ),
        ],
    ),
    (
        "Hostile 200 answers",
        [
            click.Option(
                ["--tamper"],
                type=_Tamper(),
                multiple=True,
                metavar="KIND[@ROUTE][:KEY=VALUE,...]",
                help="change every 200 answer of ROUTE (default: every route the kind applies "
                "to) the way KIND says (kinds below), e.g. drop-tweet@insights/historical:index=1"
                " or 'count:value=\"abc\"'; `value` is read as JSON when it parses, else as "
                "text; repeatable, and each answer gets the first --tamper that applies to its "
                "route",
            ),
        ],
    ),
    (
        "Behaviour where the sources disagree",
        [
            click.Option(
                ["--history-floor"],
                type=click.Choice(["365d", "2014"]),
                default="365d",
                help="historical serves the last 365 days, or since 2014-09-01",
            ),
            click.Option(
                ["--strict-ids"],
                is_flag=True,
                help="reject tweet ids sent as JSON numbers (accepted by default, as the docs' "
                "example sends them)",
            ),
            click.Option(
                ["--accept-numeric-ids"],
                is_flag=True,
                help="no effect: numeric ids are accepted by default (kept for old scripts)",
            ),
            click.Option(
                ["--numeric-counts"],
                is_flag=True,
                help="send counts as bare JSON numbers instead of strings",
            ),
            click.Option(
                ["--hour-without-day"],
                type=click.Choice(["profile", "dated"]),
                default="profile",
                help="engagement.hour without engagement.day: hour-of-day profile, or keep a "
                "day level",
            ),
            click.Option(
                ["--forbidden-message"],
                type=click.Choice(["author", "plain", "none"]),
                default="author",
                help="how a 403 for other authors' tweets names them",
            ),
            click.Option(
                ["--unsupported-video-views"],
                type=click.Choice(["omit", "zero"]),
                default="omit",
                help="video_views of video tweets older than 1800 days",
            ),
        ],
    ),
    (
        "Post analytics (GET /2/tweets/analytics) where no source says",
        [
            click.Option(
                ["--analytics-max-days"],
                type=_POSITIVE,
                default=_BEHAVIOUR.analytics_max_days,
                metavar="DAYS",
                help="longest start_time..end_time span one request may cover (default "
                f"{_BEHAVIOUR.analytics_max_days}, the Engagement API's window)",
            ),
            click.Option(
                ["--analytics-history-days"],
                type=_POSITIVE,
                default=_BEHAVIOUR.analytics_history_days,
                metavar="DAYS",
                help="how many days before now start_time may go back (default "
                f"{_BEHAVIOUR.analytics_history_days})",
            ),
            click.Option(
                ["--analytics-empty-buckets"],
                type=click.Choice(["present", "omitted"]),
                default=_BEHAVIOUR.analytics_empty_buckets,
                help="a bucket whose asked metrics are all 0: present in timestamped_metrics "
                "(default), or left out",
            ),
            click.Option(
                ["--analytics-rate-limit"],
                type=_NON_NEGATIVE,
                default=ANALYTICS_RATE_LIMIT,
                metavar="N",
                help="requests per 15 minutes, per app and again per user; the headers show "
                f"the user's budget (0 = no limit; default {ANALYTICS_RATE_LIMIT})",
            ),
        ],
    ),
]


class _SandboxCommand(click.Command):
    """click's command, with ``--help`` listing the options under ``SECTIONS``' headings."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        help_option = self.get_help_option(ctx)
        for index, (title, options) in enumerate(SECTIONS):
            shown: list[click.Option] = [*options]
            if index == 0 and help_option is not None:
                shown.insert(0, help_option)
            with formatter.section(title):
                formatter.write_dl([row for o in shown if (row := o.get_help_record(ctx))])


def env_lines(config: dict[str, Any]) -> str:
    """``export`` lines pointing Meltano's demo environment at this sandbox: the two tokens, or
    with an ``accounts`` list, ``TAP_TWITTER_ENGAGEMENT_ACCOUNTS`` as JSON."""
    lines = [f"export SANDBOX_URL={shlex.quote(config['api_url'])}"]
    names = ["consumer_key", "consumer_secret"]
    if "accounts" not in config:
        names += ["access_token", "access_token_secret"]
    for name in names:
        lines.append(f"export TAP_TWITTER_ENGAGEMENT_{name.upper()}={shlex.quote(config[name])}")
    if "accounts" in config:
        value = json.dumps(config["accounts"], separators=(",", ":"))
        lines.append(f"export TAP_TWITTER_ENGAGEMENT_ACCOUNTS={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def _credential_lines(sandbox: Sandbox, config: dict[str, Any]) -> list[str]:
    """The credentials to print: the four values, or the app's and then each account's."""
    if "accounts" not in config:
        return [
            *(
                f"  {key}: {value}"
                for key, value in config.items()
                if key.endswith(("key", "secret", "token"))
            ),
            f"  bearer_token: {sandbox.credentials.bearer_token}",
        ]
    app = sandbox.credentials
    lines = [
        f"  consumer_key: {app.consumer_key}",
        f"  consumer_secret: {app.consumer_secret}",
        f"  bearer_token: {app.bearer_token}",
    ]
    revoked = set(sandbox.revoked())
    for index, user in enumerate(sandbox.accounts):
        own = sandbox.account_credentials(index)
        mark = ", revoked" if user.username in revoked else ""
        lines += [
            f"  account {index}: @{user.username} (user id {user.id}){mark}",
            f"    access_token: {own.access_token}",
            f"    access_token_secret: {own.access_token_secret}",
        ]
    return lines


def build_sandbox(options: Options) -> Sandbox:
    """The sandbox the options describe, not started: revocations and tampers set."""
    sandbox = Sandbox(
        host=options.host,
        port=options.port,
        seed=options.seed,
        tweets=options.tweets,
        rate_limit_per_minute=options.rate_limit_per_minute,
        v2_rate_limit_per_minute=options.v2_rate_limit_per_minute,
        rate_limit_per_second=options.rate_limit_per_second,
        analytics_rate_limit=options.analytics_rate_limit,
        revision_hours=options.revision_hours,
        accounts=options.accounts,
        faults=Faults(
            latency_ms=options.latency_ms,
            fail_rate=options.fail_rate,
            reset_rate=options.reset_rate,
            truncate_rate=options.truncate_rate,
            garbage_rate=options.garbage_rate,
            burst_429_every=options.burst_429_every,
            burst_429_length=options.burst_429_length,
            burst_429_seconds=options.burst_429_seconds,
            burst_429_header=options.burst_429_header,
        ),
        behaviour=Behaviour(
            history_floor=options.history_floor,
            accept_numeric_ids=not options.strict_ids,
            numeric_counts=options.numeric_counts,
            hour_without_day=options.hour_without_day,
            forbidden_message=options.forbidden_message,
            unsupported_video_views=options.unsupported_video_views,
            analytics_max_days=options.analytics_max_days,
            analytics_history_days=options.analytics_history_days,
            analytics_empty_buckets=options.analytics_empty_buckets,
        ),
    )
    for handle in options.revoke:
        sandbox.revoke(handle)
    for _, kind, route, tamper_options in options.tamper:
        sandbox.tamper(kind, route=route, **tamper_options)
    return sandbox


def serve(options: Options) -> None:
    """Start the sandbox, write the files asked for, print how to reach it, and serve until
    SIGINT or SIGTERM."""
    sandbox = build_sandbox(options)
    sandbox.start()
    config = sandbox.tap_config_accounts() if options.accounts > 1 else sandbox.tap_config()
    if options.config_out:
        options.config_out.write_text(json.dumps(config, indent=2) + "\n")
    if options.env_out:
        options.env_out.write_text(env_lines(config))
    user = sandbox.model.user
    lines = [f"Engagement API sandbox listening on {sandbox.base_url}"]
    if options.accounts == 1:
        lines.append(
            f"account: @{user.username} (user id {user.id}), {len(sandbox.model.tweets)} tweets"
        )
    else:
        lines.append(
            f"accounts: {options.accounts} under one app (one consumer key, shared rate "
            f"limits), {options.tweets} tweets each"
        )
    if options.revoke:
        lines.append(
            "revoked: "
            + ", ".join(f"@{h}" for h in sandbox.revoked())
            + " (401 Access token not found)"
        )
    if options.tamper:
        lines.append(
            "tampers (every matching 200 answer): " + " ".join(s[0] for s in options.tamper)
        )
    lines += [
        "sandbox-only credentials (they work nowhere else):",
        *_credential_lines(sandbox, config),
    ]
    if options.config_out:
        lines.append(f"tap config written to {options.config_out}")
    if options.env_out:
        lines.append(
            f"Meltano variables written to {options.env_out}: in another shell, `source "
            f"{options.env_out}` then `meltano --environment demo run tap-twitter-engagement "
            "target-jsonl`"
        )
    lines.append("Press Ctrl+C to stop.")
    # Handlers first: a signal sent as soon as the last line is read still stops it cleanly.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    click.echo("\n".join(lines))
    stop.wait()
    sandbox.stop()
    click.echo("sandbox stopped", err=True)


def _run(**params: Any) -> None:
    """The command: refuse a handle no account has (a usage error), then serve."""
    options = Options.from_params(params)
    handles = {account_username(index): index for index in range(options.accounts)}
    for handle in options.revoke:
        if handle.removeprefix("@").lower() not in handles:
            raise click.UsageError(
                f"--revoke {handle}: no such account; the accounts are "
                + ", ".join(f"@{h}" for h in handles),
                ctx=click.get_current_context(),
            )
    serve(options)


main = _SandboxCommand(
    PROG,
    params=[option for _, options in SECTIONS for option in options],
    callback=_run,
    help="A local emulator of the X Enterprise Engagement API (and the v2 endpoints "
    "tap-twitter-engagement needs). Sandbox-only credentials; no real data.",
    # \b keeps click from rewrapping the list of kinds.
    epilog="\n".join(
        [
            "\b",
            "tamper kinds (--tamper KIND[@ROUTE][:key=value,...]; options with no value are",
            "derived from the request; a kind that finds nothing to change answers 500):",
            *describe(88),
        ]
    ),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def parse_args(argv: Sequence[str]) -> Options:
    """The options of a command line, read as the console script reads them, without starting
    anything: a bad one is click's ``Error:`` line on stderr and ``SystemExit`` 2."""
    try:
        with main.make_context(PROG, list(argv)) as ctx:
            return Options.from_params(ctx.params)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Exit as exc:  # --help
        raise SystemExit(exc.exit_code) from None


def help_text() -> str:
    """What ``--help`` prints, the tamper kinds included."""
    with main.make_context(PROG, [], resilient_parsing=True) as ctx:
        return main.get_help(ctx)


if __name__ == "__main__":
    main(prog_name=PROG)
