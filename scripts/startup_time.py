#!/usr/bin/env python3
"""Measure how long `python3 run.py` takes to its first line of output, once bootstrapped.

Prints the median of N runs for `--help`, `--list-models` and for the first line of a real run
(a `server` run against an address where nothing listens, which then fails fast).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for imports

from workflows.paths import REPO_ROOT

RUNS = 7
CASES = {
    "--help": ["--help"],
    "--list-models": ["--list-models"],
    "first line of a run": [
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "server",
        "--server-url",
        "http://127.0.0.1:9",
        "--workflow-args",
        "ready_timeout=1",
    ],
}


def time_to_first_line(args: list[str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        ["python3", str(REPO_ROOT / "run.py"), *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.communicate()
    return elapsed


def main() -> int:
    time_to_first_line(["--list-models"])  # the first run may bootstrap; not measured
    print(f"{'case':<22} {'median':>8} {'max':>8}   ({RUNS} runs)")
    for name, args in CASES.items():
        samples = [time_to_first_line(args) for _ in range(RUNS)]
        print(f"{name:<22} {statistics.median(samples):>7.3f}s {max(samples):>7.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
