"""A rate-limit clock that moves only when a test moves it, so budgets are tested exactly."""

from __future__ import annotations

#: The rate-limit clock starts a quarter into an epoch second.
EPOCH = 1_800_000_000


class EpochClock:
    """Epoch seconds that move only when a test moves them (``rewind`` puts them back)."""

    def __init__(self) -> None:
        self.now = EPOCH + 0.25

    def __call__(self) -> float:
        return self.now

    def rewind(self) -> None:
        self.now = EPOCH + 0.25
