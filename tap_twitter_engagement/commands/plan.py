"""``tap-twitter-engagement-plan --config CONFIG [--state STATE]``: a plan, without a sync.

It validates the config, selects each account's tweets (v2 calls only; never the Engagement
API), reads the state if one is given, and prints the period, each account's windows and
requests (backfill and incremental apart), the time the whole run needs at the configured pace,
and the handles billed (the accounts and the distinct authors of their tweets), since X bills
the Engagement API per handle. A failed account is one line at the end, and exit code 1.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from tap_twitter_engagement import redact
from tap_twitter_engagement.api import (
    LOOKUP_MAX_IDS,
    MAX_IDS,
    TOTALS_RECENT_DAYS,
    format_api_time,
)
from tap_twitter_engagement.commands.cli import CONTEXT_SETTINGS, run
from tap_twitter_engagement.errors import (
    LOGGER_NAME,
    STDOUT_CLOSED,
    AccessRefused,
    OutputClosed,
)
from tap_twitter_engagement.inputs import ENV_PREFIX, account_state, read_config, read_state
from tap_twitter_engagement.metrics import API_TITLES
from tap_twitter_engagement.pacing import SAFETY
from tap_twitter_engagement.run import Run
from tap_twitter_engagement.settings import Settings, secret_values
from tap_twitter_engagement.streams.historical import shape_stream_name
from tap_twitter_engagement.tap import TapTwitterEngagement, one_line, validated, writing_stdout

PLAN_CUT = (
    "The reader of stdout stopped reading (broken pipe) before the plan was complete; read "
    "all of it."
)


def describe(run: Run, state: Mapping[str, Any] | None, now: datetime) -> list[str]:
    """The plan, account by account, then the whole run (failed accounts are left out and
    reported by the caller). Built on the historical engine, as a sync plans, with no Tap."""
    settings, engine = run.settings, run.engine
    stream = shape_stream_name(settings.group_by, settings.metrics_layout)
    period = engine.period(now)
    days = (period.end - period.start).total_seconds() / 86400
    lines = [
        f"Plan for {stream} (api {settings.api}; no call to {API_TITLES[settings.api]} was made):",
        f"  period: {format_api_time(period.start)} to {format_api_time(period.end)} "
        f"({days:g} days)",
        f"  metrics: {len(settings.engagement_types)}; group_by: {', '.join(settings.group_by)}",
    ]
    handles: set[str] = set()
    total = 0
    all_ids: list[str] = []
    lookups = 0
    for account in run.ready():
        mode = account.settings.tweet_selection
        try:
            tweet_ids = account.selection().tweet_ids
            partition = account_state(state or {}, stream, account.user_id)
            plan = engine.plan(account.settings, tweet_ids, partition, now)
            authors = account.tweet_metadata().values() if mode == "manual" else ()
        except AccessRefused as exc:
            run.fail(account, exc)
            continue
        handles.add(account.user_id)
        handles.update(str(t.get("author_id")) for t in authors)
        if mode == "manual":
            lookups += _calls(tweet_ids, LOOKUP_MAX_IDS)
        in_window: dict[int, set[str]] = {}
        for request in plan.planned:
            in_window.setdefault(request.window_index, set()).update(request.tweet_ids)
        groups = len({frozenset(ids) for ids in in_window.values()})
        total += len(plan.planned)
        all_ids += tweet_ids
        lines += [
            f"  account {account.label}: {len(tweet_ids)} tweets ({mode} mode)",
            f"    groups of tweets that need the same days: {groups}; their windows of <= "
            f"{engine.limits.max_days} days: {len(in_window)}; batches of <= "
            f"{engine.limits.max_ids} ids per window",
            f"    requests: {len(plan.planned)}: {plan.backfill} backfill (days never "
            f"delivered), {len(plan.planned) - plan.backfill} incremental (lookback and new days)",
        ]
    billed = (
        f"; billed handles (the accounts and the distinct authors of their tweets): {len(handles)}"
        if settings.api == "engagement_api"
        else ""
    )
    lines += [
        f"  accounts: {len(run.ready())}{billed}",
        f"  time: {_timing(run, total)}",
        "Other streams, if selected:",
        *(
            [
                f"  engagement_totals: {_calls(all_ids, MAX_IDS['totals'])} to "
                f"{2 * _calls(all_ids, MAX_IDS['totals'])} requests (tweets younger and older "
                f"than {TOTALS_RECENT_DAYS} days are asked apart)",
                f"  engagement_28hr: {_calls(all_ids, MAX_IDS['28hr'])} requests",
            ]
            if settings.api == "engagement_api"
            else ["  engagement_totals, engagement_28hr: not served by Post analytics (refused)"]
        ),
        f"  tweets: {lookups} v2 lookups",
        "  accounts: no more requests (GET /2/users/me, read once per account)",
    ]
    return lines


def _timing(run: Run, requests: int) -> str:
    """How long the whole run's historical requests take at the configured limits: the
    accounts share one pace, since the limits are the app's."""
    settings, backend = run.settings, run.backend
    limits = [
        f"{limit}/{unit}"
        for limit, unit in (
            (settings.max_requests_per_minute, "min"),
            (settings.max_requests_per_second, "s"),
            (backend.budget[0] if backend.budget else None, "15 min per app"),
        )
        if limit
    ]
    if not limits:
        return (
            f"{requests} requests; no max_requests_per_minute or _per_second set: bound by "
            "latency and the API's own limits (the tap paces to the limits its responses report)"
        )
    seconds = math.ceil(max(0, requests - 1) * run.pacer.interval(backend.bucket))
    return (
        f"{requests} requests at {' and '.join(limits)} (paced at {SAFETY:.0%} of it): at "
        f"least {seconds} s ({_duration(seconds)}) for the whole run"
    )


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def _calls(ids: Sequence[str], per_call: int) -> int:
    return math.ceil(len(ids) / per_call)


@click.command(name="tap-twitter-engagement-plan", help=__doc__, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--config",
    "configs",
    multiple=True,
    required=True,
    help=f"the tap's config JSON, or ENV to read {ENV_PREFIX}* variables (and .env); repeat "
    "to merge several",
)
@click.option(
    "--state",
    type=click.Path(path_type=Path),
    help="a state JSON (what `meltano state get` prints): plan the incremental run from it",
)
def command(configs: tuple[str, ...], state: Path | None) -> int:
    """The plan of the configured run, printed in one write."""
    try:
        if sys.stdout is None:  # closed at the start (>&-): print() would drop the plan
            raise OutputClosed(STDOUT_CLOSED)
        schema = TapTwitterEngagement.full_config_schema()
        config = read_config(configs, schema)
        redact.register(secret_values(config))
        config = validated(config, schema, datetime.now(UTC))
        previous = read_state(state) if state else None
        planned = Run(Settings.from_config(config), logging.getLogger(LOGGER_NAME))
        lines = describe(planned, previous, planned.started_at)
        with writing_stdout(PLAN_CUT):  # one write: `| head -1` reads it all, no broken pipe
            sys.stdout.write("".join(f"{line}\n" for line in lines))
        planned.raise_failures()
    except click.ClickException as exc:  # config errors, API refusals, stdout closed: one line
        exc.show()
        return 1
    except Exception as exc:  # one masked line, never a traceback
        logging.getLogger(LOGGER_NAME).error("%s", one_line(exc))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """The console script: exit code 0, or 1 after one ERROR line (a usage mistake too)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    redact.install()
    return run(command, argv, lambda line: logging.getLogger(LOGGER_NAME).error("%s", line))


if __name__ == "__main__":
    sys.exit(main())
