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
    labels = [row.split(" | ")[0][2:4] for row in rows]
    # Rows 9. are benchmarks/batch.py's (RECORD vs BATCH): one until it exists, then its own.
    assert labels[:16] == [
        "1.",
        "1b",
        "2.",
        "3.",
        "3.",
        "3.",
        "4.",
        "4b",
        "5.",
        "5b",
        "6.",
        "6b",
        "7.",
        "8.",
        "8.",
        "9.",
    ]
    assert set(labels[16:]) <= {"9."}
    assert "| 2. requests made vs minimum ceil(ids/25) x ceil(days/28) | 1 vs 1 = 1.00 |" in (
        result.stdout
    )
    # The throughput floor is at the tap's own conformance level, in wall and CPU seconds.
    assert "25 tweets x 5 days x 17 metrics" in rows[0]
    assert "2,125 records" in rows[0]  # the historical stream's records alone
    assert "NONE conformance as the tap" in rows[0]
    assert "CPU: tap " in rows[0]
    # Peak RSS at both grains, 1x against 10x the records, each with its ratio.
    assert "daily grain, 170 vs 1,700 records (10x)" in rows[6]
    assert "hourly grain, 24,480 vs 244,800 records (10x; 2 vs 20 tweets x 30 days" in rows[7]
    assert " MiB = " in rows[6]
    assert " MiB = " in rows[7]
    assert "x (one request alone: " in rows[7]
    assert "0 x 429" in rows[8]
    assert "0 x 429" in rows[9]
    assert "one entry: the ids once" in rows[10]
    assert "run: " in rows[12]
    assert ", 12 requests, 0 x 429" in rows[12]  # 3 accounts x 2 batches x 2 windows
    # Pacing across accounts: 2 requests per account, against the ideal, without a 429.
    assert "8. pacing across 1 account(s), 300/min and 5/s, latency 300 ms, 2 requests" in rows[13]
    assert "8. pacing across 3 account(s), 300/min and 5/s, latency 300 ms, 6 requests" in rows[14]
    assert "vs ideal 0.4 s = " in rows[13]
    assert "vs ideal 1.2 s = " in rows[14]
    assert "; 0 x 429" in rows[13]
    assert "; 0 x 429" in rows[14]


def test_benchmark_runs_only_the_measurements_asked():
    result = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--smoke", "--only", "state_size,record_vs_batch"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    labels = [
        line.split(" | ")[0][2:4]
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| measure")
    ]
    assert labels[:2] == ["6.", "6b"]
    assert set(labels[2:]) == {"9."}
    unknown = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--only", "speed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unknown.returncode == 2
    assert "unknown measurement(s) speed; choose from throughput_and_requests" in unknown.stderr
