"""``tap-twitter-engagement-plan --config CONFIG [--state STATE]``: a plan, without a sync.

It validates the config, selects the tweets (v2 calls only; never the Engagement API), reads the
state if one is given, and prints the period, the windows and requests (backfill and incremental
apart), the time they need at the configured pace, and the number of distinct tweet authors,
since X bills the Engagement API per handle.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from tap_twitter_engagement import redact
from tap_twitter_engagement.api import (
    LOOKUP_MAX_IDS,
    MAX_IDS,
    MAX_WINDOW_DAYS,
    TOTALS_RECENT_DAYS,
)
from tap_twitter_engagement.errors import LOGGER_NAME
from tap_twitter_engagement.inputs import read_config, read_state
from tap_twitter_engagement.pacing import SAFETY
from tap_twitter_engagement.plan import format_api_time
from tap_twitter_engagement.streams import HistoricalEngagementStream
from tap_twitter_engagement.tap import TapTwitterEngagement, one_line


def describe(tap: TapTwitterEngagement, now: datetime) -> list[str]:
    stream = tap.streams["historical_engagement"]
    if not isinstance(stream, HistoricalEngagementStream):  # pragma: no cover - wiring error
        raise TypeError(type(stream))
    settings = tap.settings
    chosen = tap.run.selection()
    period, tweet_ids, _, planned = stream.run_plan(now, None)
    in_window: dict[int, set[str]] = {}
    for request in planned:
        in_window.setdefault(request.window_index, set()).update(request.tweet_ids)
    groups = len({frozenset(ids) for ids in in_window.values()})
    windows = len(in_window)
    backfill = sum(r.backfill for r in planned)
    mode = settings.tweet_selection
    if mode == "recent":
        authors = {chosen.user_id} if chosen.tweet_ids else set()
    else:
        authors = {str(t.get("author_id")) for t in tap.run.tweet_metadata().values()}
    days = (period.end - period.start).total_seconds() / 86400
    limits = [
        f"{limit}/{unit}"
        for limit, unit in (
            (settings.max_requests_per_minute, "min"),
            (settings.max_requests_per_second, "s"),
        )
        if limit
    ]
    interval = tap.run.pacer.interval("historical")
    timing = (
        f"{len(planned)} requests at {' and '.join(limits)} (paced at {SAFETY:.0%} of it): at "
        f"least {math.ceil(max(0, len(planned) - 1) * interval)} s"
        if limits
        else "no max_requests_per_minute or _per_second set: bound by latency and the API's "
        "own limits (the tap paces to the limits its responses report)"
    )
    return [
        "Plan for historical_engagement (no Engagement API call was made):",
        f"  tweets: {len(tweet_ids)} ({mode} mode); distinct authors (billed handles): "
        f"{len(authors)}",
        f"  period: {format_api_time(period.start)} to {format_api_time(period.end)} "
        f"({days:g} days)",
        f"  groups of tweets that need the same days: {groups}; their windows of <= "
        f"{MAX_WINDOW_DAYS} days: {windows}; batches of <= {MAX_IDS['historical']} ids per window",
        f"  requests: {len(planned)}: {backfill} backfill (days never delivered), "
        f"{len(planned) - backfill} incremental (lookback and new days)",
        f"  metrics: {len(settings.engagement_types)}; group_by: {', '.join(settings.group_by)}",
        f"  time: {timing}",
        "Other streams, if selected:",
        f"  engagement_totals: {_calls(chosen.tweet_ids, MAX_IDS['totals'])} to "
        f"{2 * _calls(chosen.tweet_ids, MAX_IDS['totals'])} requests (tweets younger and older "
        f"than {TOTALS_RECENT_DAYS} days are asked apart)",
        f"  engagement_28hr: {_calls(chosen.tweet_ids, MAX_IDS['28hr'])} requests",
        f"  tweets: {0 if mode == 'recent' else _calls(chosen.tweet_ids, LOOKUP_MAX_IDS)} v2 "
        "lookups",
    ]


def _calls(ids: Sequence[str], per_call: int) -> int:
    return math.ceil(len(ids) / per_call)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tap-twitter-engagement-plan", description=__doc__)
    parser.add_argument(
        "--config",
        action="append",
        required=True,
        help="the tap's config JSON, or ENV to read TAP_TWITTER_ENGAGEMENT_* variables (and "
        ".env); repeat to merge several",
    )
    parser.add_argument(
        "--state",
        type=Path,
        help="a state JSON (what `meltano state get` prints): plan the incremental run from it",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    redact.install()
    try:
        config = read_config(args.config, TapTwitterEngagement.full_config_schema())
        state = read_state(args.state) if args.state else None
        tap = TapTwitterEngagement(config=config, state=state)
        print("\n".join(describe(tap, datetime.now(UTC))))
    except click.ClickException as exc:  # config errors and API refusals: one line
        exc.show()
        return 1
    except Exception as exc:  # one masked line, never a traceback
        logging.getLogger(LOGGER_NAME).error("%s", one_line(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
