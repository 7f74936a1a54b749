"""Time the optimizer matrix as its protocol runs it by default.

``nn-tui compare --datasets spiral,moons,sine,digits`` trains every optimizer of the registry on the
four datasets, each at the 7 rates of the grid over 5 seeds for 30 epochs: 8 x 4 x 7 x 5 = 1,120
short trainings. This runs that command (the installed one, in a fresh process, as a user would)
with one worker process per core and, for the comparison, with one, and prints the seconds, the
trainings per second and the verdict line.

    python benchmarks/bench_matrix.py [--datasets spiral,moons,sine,digits] [--skip-single]

Target: the default command in at most 120 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TARGET_SECONDS = 120.0
ROOT = Path(__file__).resolve().parents[1]


def timed(datasets: str, workers: int | None) -> tuple[float, dict]:
    """Seconds for ``compare --datasets DATASETS --json`` (``--workers`` when given), and its JSON."""
    command = [sys.executable, "-m", "tui_trainer", "compare", "--datasets", datasets, "--json"]
    if workers is not None:
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="spiral,moons,sine,digits")
    parser.add_argument("--skip-single", action="store_true", help="do not time the one-process run")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    runs = [("one process per core", None)] + ([] if args.skip_single else [("one process", 1)])
    print(f"nn-tui compare --datasets {args.datasets}  ({cores} cores)")
    for label, workers in runs:
        seconds, doc = timed(args.datasets, workers)
        p = doc["protocol"]
        trainings = len(doc["matrix"]) * p["seeds"] * len(p["lr_grid"] or [0])
        verdicts = "; ".join(f"{v['dataset']}: {'tie ' if v['tie'] else ''}{', '.join(v['best'])}"
                             for v in doc["verdicts"])
        status = "" if workers is not None else ("  ok" if seconds <= TARGET_SECONDS else "  OVER TARGET")
        print(f"{label:<22}{seconds:7.1f} s  {trainings:,} trainings  {trainings / seconds:5.1f}/s{status}")
    print(f"target: <= {TARGET_SECONDS:.0f} s with one process per core")
    print(f"verdicts: {verdicts}")


if __name__ == "__main__":
    main()
