"""Batch triage at 100k, 300k and 1M students with 3 signals each, one subprocess per size so
peak memory (ru_maxrss) belongs to that size alone. Baseline: a plain groupby-max on the frame."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from datetime import datetime
from datetime import timedelta

import numpy as np
import pandas as pd

from bench.results import Figure

NOW = datetime(2026, 9, 14, 2, 0, 0)
SIZES = (100_000, 300_000, 1_000_000)
QUICK_SIZES = (2_000, 6_000, 20_000)
TIME_TARGET_S, MEMORY_TARGET_GB = 30.0, 4.0
LIMIT_S = 600


def synthetic_signals(students: int, seed: int = 8) -> pd.DataFrame:
    """Three signals per student: a PHQ-9 and a GAD-7 screening, and one academic signal, with
    totals across every band and a few safety flags."""
    rng = np.random.default_rng(seed)
    n = students * 3
    kind = np.tile(np.array([0, 1, 2]), students)
    instrument = np.array(["phq9", "gad7", None], dtype=object)[kind]
    source = np.array(["screening", "screening", "academic"], dtype=object)[kind]
    total = np.where(kind == 2, np.nan, rng.integers(0, 28, n).astype(float))
    flags = np.where((kind == 0) & (rng.random(n) < 0.01), "safety_item", "")
    flags = np.where((kind == 2) & (rng.random(n) < 0.1), "academic_warning", flags)
    observed = pd.Timestamp(NOW - timedelta(days=60)) + pd.to_timedelta(
        rng.integers(0, 60 * 86_400, n), unit="s"
    )
    return pd.DataFrame(
        {
            "student_id": np.repeat(np.arange(1, students + 1), 3),
            "signal_id": np.arange(1, n + 1),
            "source": source,
            "observed_at": observed,
            "instrument": instrument,
            "total": total,
            "flags": flags,
            "explicit_level": None,
        }
    )


def measure_one(students: int, engine: str) -> dict:
    """Run in a fresh process: time one triage (or the baseline) and report peak memory."""
    from warning.batch_triage import triage_frame
    from warning.policy import default_policy

    frame = synthetic_signals(students)
    policy = default_policy()
    start = time.perf_counter()
    if engine == "triage":
        result = triage_frame(policy, frame, NOW)
        rows = len(result)
    else:
        rows = len(frame.groupby("student_id")["total"].max())
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"students": students, "rows": rows, "seconds": seconds, "peak_gb": peak_kb / 1024**2}


def _in_subprocess(students: int, engine: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.triage", str(students), engine],
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(args) -> dict:
    sizes = QUICK_SIZES if args.quick else SIZES
    figures, notes = [], []
    for students in sizes:
        measured = _in_subprocess(students, "triage")
        baseline = _in_subprocess(students, "groupby")
        assert measured["rows"] == students, measured
        largest = students == sizes[-1]
        figures += [
            Figure(
                f"triage {students:,} students: time",
                measured["seconds"],
                "s",
                f"< {TIME_TARGET_S:.0f} s at 1M" if largest else "linear",
                measured["seconds"] < TIME_TARGET_S if largest else None,
                baseline["seconds"],
                "groupby-max",
            ),
            Figure(
                f"triage {students:,} students: time per student",
                measured["seconds"] / students * 1e6,
                "µs",
                "flat across sizes",
                None,
            ),
            Figure(
                f"triage {students:,} students: peak memory (whole process)",
                measured["peak_gb"],
                "GB",
                f"< {MEMORY_TARGET_GB:.0f} GB at 1M" if largest else "—",
                measured["peak_gb"] < MEMORY_TARGET_GB if largest else None,
                baseline["peak_gb"],
                "groupby-max",
            ),
        ]
    per = [f.value for f in figures if "per student" in f.name]
    notes.append(
        "Linearity: time per student at the largest size is "
        f"{per[-1] / per[0]:.2f}× that at the smallest (1.00 = perfectly linear)."
    )
    notes.append(
        "Peak memory is ru_maxrss of a fresh process per size: it includes the synthetic frame "
        "(3 signals per student) and the interpreter."
    )
    return {
        "title": "Batch triage (warning.batch_triage.triage_frame)",
        "figures": figures,
        "notes": notes,
    }


if __name__ == "__main__":
    print(json.dumps(measure_one(int(sys.argv[1]), sys.argv[2])))
