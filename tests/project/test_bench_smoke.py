"""The benchmark in miniature, so it cannot rot: every measurement runs and reports, no timing
thresholds (those are judged by `make bench` on a quiet machine, as ratios)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_smoke_runs_every_measurement():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| measure")
    ]
    assert [row.split(" | ")[0][2:4] for row in rows] == [
        "1.",
        "1b",
        "2.",
        "3.",
        "3.",
        "3.",
        "4.",
        "5.",
        "5b",
        "6.",
        "6b",
        "7.",
    ]
    assert "| 2. requests made vs minimum ceil(ids/25) x ceil(days/28) | 1 vs 1 = 1.00 |" in (
        result.stdout
    )
    assert "0 x 429" in rows[7]
    assert "0 x 429" in rows[8]
    assert "run: " in rows[11]
    assert ", 12 requests, 0 x 429" in rows[11]  # 3 accounts x 2 batches x 2 windows
    assert "one entry: the ids once" in rows[9]
