"""The progress line long syncs print on stderr."""

from __future__ import annotations

import logging

from tap_twitter_engagement.progress import Progress


def test_progress_line_and_interval(caplog):
    logger = logging.getLogger("tap-twitter-engagement.test")
    progress = Progress(logger, planned=8, interval=3600)
    assert progress.line(progress._started + 1) == (
        "Progress: 0/8 requests, 0 records, 0 records/s, ETA unknown"
    )
    for _ in range(2):
        progress.request_done(700)
    assert progress.line(progress._started + 10) == (
        "Progress: 2/8 requests, 1,400 records, 140 records/s, ETA 0m30s"
    )
    with caplog.at_level(logging.INFO):
        progress.request_done(10)  # inside the interval: nothing logged
        progress.finish()
    assert [r.getMessage().split(",")[0] for r in caplog.records] == ["Done: 3/8 requests"]
