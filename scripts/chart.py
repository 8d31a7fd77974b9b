"""The demo's picture: daily impressions and engagement rate over the whole period, as a PNG.

Drawn with matplotlib; provisional days (counts X still revises) are shaded, so that their
revision is not read as a trend. The plotted series, with the provisional days, are also
written into the PNG's text metadata (``Series``, JSON), so a test can check the picture holds
exactly the expected numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # no display: files only

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, PercentFormatter


@dataclass(frozen=True)
class DailySeries:
    """What the picture shows, one entry per UTC day."""

    day: list[str]
    impressions: list[int]
    engagements: list[int]
    engagement_rate: list[float | None]
    #: Days whose counts may still change (not final), in order.
    provisional: list[str]

    @classmethod
    def from_rows(
        cls, rows: Sequence[tuple[str, int, int]], provisional: Iterable[str] = ()
    ) -> DailySeries:
        """From (day, impressions, engagements), sorted by day, and the provisional days; the
        rate is None without impressions."""
        rows = sorted(rows)
        days = [str(r[0]) for r in rows]
        marked = set(map(str, provisional))
        return cls(
            day=days,
            impressions=[int(r[1]) for r in rows],
            engagements=[int(r[2]) for r in rows],
            engagement_rate=[round(r[2] / r[1], 6) if r[1] else None for r in rows],
            provisional=[d for d in days if d in marked],
        )


def draw(series: DailySeries, path: Path, title: str) -> Path:
    """Bars of daily impressions, a line of the engagement rate on a second axis, the
    provisional days shaded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, bars = plt.subplots(figsize=(11, 4.8), dpi=110)
    positions = range(len(series.day))
    bars.bar(positions, series.impressions, color="#9ecae1", label="impressions")
    bars.set_ylabel("impressions per day")
    bars.set_ylim(0, max(series.impressions, default=0) * 1.3 or 1)  # room for the legend
    bars.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    rate = bars.twinx()
    rate.plot(
        positions,
        [r if r is not None else float("nan") for r in series.engagement_rate],
        color="#d94801",
        marker="o",
        markersize=3,
        label="engagement rate",
    )
    marked = [i for i, d in enumerate(series.day) if d in series.provisional]
    for n, (first, last) in enumerate(_runs(marked)):
        label = "provisional (X still revises these days: no trend)" if n == 0 else None
        bars.axvspan(first - 0.5, last + 0.5, color="#bdbdbd", alpha=0.45, label=label, zorder=0)
    rate.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    rate.set_ylabel("engagements / impressions")
    step = max(1, len(series.day) // 12)
    bars.set_xticks(list(positions)[::step], series.day[::step], rotation=45, ha="right")
    bars.set_title(title)
    fig.legend(loc="upper left", bbox_to_anchor=(0.08, 0.88))
    fig.tight_layout()
    fig.savefig(path, metadata={"Series": json.dumps(asdict(series)), "Title": title})
    plt.close(fig)
    return path


def _runs(positions: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive positions as (first, last) runs: one shaded band each."""
    runs: list[tuple[int, int]] = []
    for position in positions:
        if runs and runs[-1][1] == position - 1:
            runs[-1] = (runs[-1][0], position)
        else:
            runs.append((position, position))
    return runs
