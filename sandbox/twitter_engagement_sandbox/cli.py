"""``tap-twitter-engagement-sandbox``: run the Engagement API emulator until interrupted."""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from twitter_engagement_sandbox.engagement import Behaviour
from twitter_engagement_sandbox.model import REVISION_HOURS, account_username
from twitter_engagement_sandbox.server import RATE_LIMIT_PER_SECOND, Faults, Sandbox
from twitter_engagement_sandbox.tamper import describe, parse_spec

#: One ``--tamper``: as written, then kind, route (None: every route of the kind) and options.
TamperSpec = tuple[str, str, str | None, dict[str, Any]]


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return number


def _rate(value: str) -> float:
    rate = float(value)
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a fraction between 0 and 1")
    return rate


def _tamper(value: str) -> TamperSpec:
    try:
        return (value, *parse_spec(value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-twitter-engagement-sandbox",
        description="A local emulator of the X Enterprise Engagement API (and the v2 endpoints\n"
        "tap-twitter-engagement needs). Sandbox-only credentials; no real data.",
        epilog="\n".join(
            [
                "tamper kinds (--tamper KIND[@ROUTE][:key=value,...]; options with no value are",
                "derived from the request; a kind that finds nothing to change answers 500):",
                *describe(88),
            ]
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    add("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    add("--seed", type=int, default=42, help="seed of the account, tweets, counts, credentials")
    add(
        "--tweets",
        type=int,
        default=120,
        help="number of tweets of each account (default 120)",
    )
    add(
        "--accounts",
        type=_positive,
        default=1,
        metavar="N",
        help="brand accounts authorizing the one app, each with its own handle (sandbox_brand, "
        "sandbox_brand_2, ...), user id, tweets and access token; they share the rate limits "
        "(default 1)",
    )
    add(
        "--revoke",
        action="append",
        default=[],
        metavar="HANDLE",
        help="this account has revoked the app: its token gets 401 `Access token not found` "
        "(repeatable)",
    )
    add(
        "--config-out",
        type=Path,
        help="also write a ready tap config (JSON) to this path; with --accounts above 1, "
        "the `accounts` list form",
    )
    add(
        "--env-out",
        type=Path,
        help="also write shell `export` lines (SANDBOX_URL and the TAP_TWITTER_ENGAGEMENT_* "
        "credentials; with --accounts above 1, TAP_TWITTER_ENGAGEMENT_ACCOUNTS as JSON) for "
        "Meltano's demo environment: `source` the file, then `meltano --environment demo run ...`",
    )
    add(
        "--rate-limit-per-minute",
        type=int,
        default=6000,
        help="Engagement API requests per endpoint and minute (0 = unlimited; default 6000)",
    )
    add(
        "--rate-limit-per-second",
        type=_non_negative,
        default=RATE_LIMIT_PER_SECOND,
        help="Engagement API requests per endpoint and second, with x-per-second-* headers "
        f"(0 = none; default {RATE_LIMIT_PER_SECOND})",
    )
    add(
        "--v2-rate-limit-per-minute",
        type=int,
        default=900,
        help="v2 requests per endpoint and minute (default 900)",
    )
    add(
        "--revision-hours",
        type=_non_negative,
        default=REVISION_HOURS,
        help="hours after an hour during which its counts are still revised upwards "
        f"(0 = final at once; default {REVISION_HOURS})",
    )
    faults = parser.add_argument_group("faults")
    faults.add_argument("--latency-ms", type=int, default=0, help="added latency per request")
    faults.add_argument(
        "--fail-rate", type=_rate, default=0.0, help="fraction of API requests answered 500/502/503"
    )
    faults.add_argument(
        "--reset-rate",
        type=_rate,
        default=0.0,
        help="fraction of responses whose connection is reset mid-body",
    )
    faults.add_argument(
        "--truncate-rate",
        type=_rate,
        default=0.0,
        help="fraction of 200 responses whose JSON is cut short",
    )
    faults.add_argument(
        "--garbage-rate",
        type=_rate,
        default=0.0,
        help="fraction of 200 responses with a non-JSON (HTML) body",
    )
    faults.add_argument(
        "--burst-429-every",
        type=int,
        default=0,
        help="every Nth API request starts a burst of 429s (0 = never)",
    )
    faults.add_argument("--burst-429-length", type=int, default=3, help="429s per burst")
    faults.add_argument(
        "--burst-429-seconds",
        type=float,
        default=1.0,
        help="reset a burst's 429s announce, in seconds",
    )
    faults.add_argument(
        "--burst-429-header",
        default="per-minute",
        choices=("per-minute", "per-second", "retry-after", "rate-limit", "none"),
        help="header a burst's 429 names its reset in",
    )
    tampering = parser.add_argument_group("hostile 200 answers")
    tampering.add_argument(
        "--tamper",
        action="append",
        default=[],
        type=_tamper,
        metavar="KIND[@ROUTE][:KEY=VALUE,...]",
        help="change every 200 answer of ROUTE (default: every route the kind applies to) the "
        "way KIND says (kinds below), e.g. drop-tweet@insights/historical:index=1 or "
        "'count:value=\"abc\"'; `value` is read as JSON when it parses, else as text; "
        "repeatable, and each answer gets the first --tamper that applies to its route",
    )
    behaviour = parser.add_argument_group("behaviour where the sources disagree")
    behaviour.add_argument(
        "--history-floor",
        choices=("365d", "2014"),
        default="365d",
        help="historical serves the last 365 days, or since 2014-09-01",
    )
    behaviour.add_argument(
        "--strict-ids",
        action="store_true",
        help="reject tweet ids sent as JSON numbers (accepted by default, as the docs' example "
        "sends them)",
    )
    behaviour.add_argument(
        "--accept-numeric-ids",
        action="store_true",
        help="no effect: numeric ids are accepted by default (kept for old scripts)",
    )
    behaviour.add_argument(
        "--numeric-counts",
        action="store_true",
        help="send counts as bare JSON numbers instead of strings",
    )
    behaviour.add_argument(
        "--hour-without-day",
        choices=("profile", "dated"),
        default="profile",
        help="engagement.hour without engagement.day: hour-of-day profile, or keep a day level",
    )
    behaviour.add_argument(
        "--forbidden-message",
        choices=("author", "plain", "none"),
        default="author",
        help="how a 403 for other authors' tweets names them",
    )
    behaviour.add_argument(
        "--unsupported-video-views",
        choices=("omit", "zero"),
        default="omit",
        help="video_views of video tweets older than 1800 days",
    )
    return parser


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


def build_sandbox(args: argparse.Namespace) -> Sandbox:
    """The sandbox the parsed flags describe, not started: revocations and tampers set."""
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        seed=args.seed,
        tweets=args.tweets,
        rate_limit_per_minute=args.rate_limit_per_minute,
        v2_rate_limit_per_minute=args.v2_rate_limit_per_minute,
        rate_limit_per_second=args.rate_limit_per_second,
        revision_hours=args.revision_hours,
        accounts=args.accounts,
        faults=Faults(
            latency_ms=args.latency_ms,
            fail_rate=args.fail_rate,
            reset_rate=args.reset_rate,
            truncate_rate=args.truncate_rate,
            garbage_rate=args.garbage_rate,
            burst_429_every=args.burst_429_every,
            burst_429_length=args.burst_429_length,
            burst_429_seconds=args.burst_429_seconds,
            burst_429_header=args.burst_429_header,
        ),
        behaviour=Behaviour(
            history_floor=args.history_floor,
            accept_numeric_ids=not args.strict_ids,
            numeric_counts=args.numeric_counts,
            hour_without_day=args.hour_without_day,
            forbidden_message=args.forbidden_message,
            unsupported_video_views=args.unsupported_video_views,
        ),
    )
    for handle in args.revoke:
        sandbox.revoke(handle)
    for _, kind, route, options in args.tamper:
        sandbox.tamper(kind, route=route, **options)
    return sandbox


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handles = {account_username(index): index for index in range(args.accounts)}
    for handle in args.revoke:
        if handle.removeprefix("@").lower() not in handles:
            parser.error(
                f"--revoke {handle}: no such account; the accounts are "
                + ", ".join(f"@{h}" for h in handles)
            )
    sandbox = build_sandbox(args)
    specs: list[TamperSpec] = args.tamper
    sandbox.start()
    config = sandbox.tap_config_accounts() if args.accounts > 1 else sandbox.tap_config()
    if args.config_out:
        args.config_out.write_text(json.dumps(config, indent=2) + "\n")
    if args.env_out:
        args.env_out.write_text(env_lines(config))
    user = sandbox.model.user
    lines = [f"Engagement API sandbox listening on {sandbox.base_url}"]
    if args.accounts == 1:
        lines.append(
            f"account: @{user.username} (user id {user.id}), {len(sandbox.model.tweets)} tweets"
        )
    else:
        lines.append(
            f"accounts: {args.accounts} under one app (one consumer key, shared rate limits), "
            f"{args.tweets} tweets each"
        )
    if args.revoke:
        lines.append(
            "revoked: "
            + ", ".join(f"@{h}" for h in sandbox.revoked())
            + " (401 Access token not found)"
        )
    if specs:
        lines.append("tampers (every matching 200 answer): " + " ".join(s[0] for s in specs))
    lines += [
        "sandbox-only credentials (they work nowhere else):",
        *_credential_lines(sandbox, config),
    ]
    if args.config_out:
        lines.append(f"tap config written to {args.config_out}")
    if args.env_out:
        lines.append(
            f"Meltano variables written to {args.env_out}: in another shell, `source "
            f"{args.env_out}` then `meltano --environment demo run tap-twitter-engagement "
            "target-jsonl`"
        )
    lines.append("Press Ctrl+C to stop.")
    print("\n".join(lines), flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()
    print("sandbox stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
