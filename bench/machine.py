"""The machine a run was measured on, read from /proc so figures can be compared honestly."""

from __future__ import annotations

import os
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path


def describe() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
    }


def reference_loop_ms(rounds: int = 3) -> float:
    """Milliseconds one core takes for a fixed pure-Python loop, best of `rounds`.

    A shared virtual machine's cores are not always as fast as its model name says (neighbours
    take their share): the same code measured an hour apart differed by three quarters here.
    Printed beside a run's figures, it tells whether two runs can be compared.
    """
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for n in range(2_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return best * 1000
