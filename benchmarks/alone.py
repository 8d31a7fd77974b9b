"""Run a command and write its own resource usage: ``python benchmarks/alone.py RESULT CMD...``.

Why a launcher: on Linux a child's ``ru_maxrss`` starts at the high-water RSS of the process it
was forked from (``exec`` keeps the larger of the two), so a tap started by the benchmark, whose
process also hosts the sandbox, would report the benchmark's peak. Started from this small
process, the command's ``ru_maxrss`` is its own. RESULT gets ``{"code", "maxrss_kib",
"cpu_seconds", "wall_seconds"}``: the exit code, peak RSS and user + system CPU of the command
alone (``wait4``), and its wall time. Standard input and output are the command's.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    result, command = Path(argv[0]), argv[1:]
    started = time.monotonic()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    result.write_text(
        json.dumps(
            {
                "code": code,
                "maxrss_kib": usage.ru_maxrss,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "wall_seconds": time.monotonic() - started,
            }
        )
    )
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
