"""Progress of a long sync on stderr: requests done of planned, rows, rate, ETA, now and then."""

from __future__ import annotations

import logging
import math
import time


class Progress:
    """Logs one line at most every ``interval`` seconds, and a last one at the end."""

    def __init__(self, logger: logging.Logger, planned: int, interval: float = 10.0) -> None:
        self.logger = logger
        self.planned = planned
        self.interval = interval
        self.requests = 0
        self.rows = 0
        self._started = time.monotonic()
        self._last = self._started

    def request_done(self, rows: int) -> None:
        self.requests += 1
        self.rows += rows
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.logger.info("%s", self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = max(1e-9, (now or time.monotonic()) - self._started)
        rate = self.rows / elapsed
        left = self.planned - self.requests
        eta = elapsed / self.requests * left if self.requests else float("nan")
        return (
            f"Progress: {self.requests}/{self.planned} requests, {self.rows:,} rows, "
            f"{rate:,.0f} rows/s, ETA {_duration(eta)}"
        )

    def finish(self) -> None:
        self.logger.info("%s", self.line().replace("Progress:", "Done:", 1))


def _duration(seconds: float) -> str:
    if math.isnan(seconds):  # nothing done yet
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
