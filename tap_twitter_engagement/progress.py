"""Progress of a long sync on stderr: requests done of planned, records written, rate, ETA."""

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
        self.records = 0
        self._started = time.monotonic()
        self._last = self._started

    def request_done(self, records: int, requests: int = 1) -> None:
        """Count a request done and the records it let the stream write."""
        self.requests += requests
        self.records += records
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.logger.info("%s", self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = max(1e-9, (now or time.monotonic()) - self._started)
        rate = self.records / elapsed
        left = self.planned - self.requests
        eta = elapsed / self.requests * left if self.requests else float("nan")
        return (
            f"Progress: {self.requests}/{self.planned} requests, {self.records:,} records, "
            f"{rate:,.0f} records/s, ETA {_duration(eta)}"
        )

    def finish(self) -> None:
        self.logger.info("%s", self.line().replace("Progress:", "Done:", 1))


def _duration(seconds: float) -> str:
    if math.isnan(seconds):  # nothing done yet
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
