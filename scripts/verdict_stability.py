#!/usr/bin/env python3
"""How stable is the CPU release's verdict? Runs the README's release K times in this checkout

    python3 run.py --model SmolLM2-135M-Instruct --device cpu --workflow release --local-server

and prints how often the verdict agreed, how often each check agreed (its outcome, and whether
it was marginal), which checks were marginal, and each release's wall time. A benchmark, not a
test: it takes about three minutes a release on 2 cores.

    python3 scripts/verdict_stability.py [-k 5] [--port 8123] [-- extra run.py arguments]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for imports

from workflows.paths import REPO_ROOT

COMMAND = (
    "run.py",
    "--model",
    "SmolLM2-135M-Instruct",
    "--device",
    "cpu",
    "--workflow",
    "release",
    "--local-server",
)
RUN_FOLDER = re.compile(r"run folder: (\S+)")


@dataclass(frozen=True)
class Release:
    """One release's verdict, each check's outcome (MARGINAL appended where the mean decided),
    and its wall time."""

    exit_code: int
    verdict: str
    checks: dict[str, str]
    seconds: float
    folder: str


def run_release(port: int, extra: Sequence[str]) -> Release:
    python = shutil.which("python3") or sys.executable
    started = time.monotonic()
    result = subprocess.run(
        [python, *COMMAND, "--service-port", str(port), *extra],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    found = RUN_FOLDER.findall(result.stdout + result.stderr)
    if not found:
        return Release(result.returncode, f"no report (exit {result.returncode})", {}, seconds, "")
    folder = REPO_ROOT / found[-1]
    report = json.loads((folder / "report" / "report.json").read_text())
    return Release(
        result.returncode, report["acceptance"]["verdict"], outcomes(report), seconds, found[-1]
    )


def outcomes(report: dict[str, object]) -> dict[str, str]:
    acceptance = report["acceptance"]
    assert isinstance(acceptance, dict)
    return {
        check["key"]: check["outcome"] + (" MARGINAL" if check.get("marginal") else "")
        for check in acceptance["checks"]
    }


def agreement(values: Sequence[str]) -> tuple[str, int]:
    """The most common value and how many times it came."""
    value, count = collections.Counter(values).most_common(1)[0]
    return value, count


def summary(releases: Sequence[Release]) -> list[str]:
    k = len(releases)
    verdict, same = agreement([r.verdict for r in releases])
    times = [r.seconds for r in releases]
    lines = [
        f"verdict: {same} of {k} identical ({verdict})"
        + ("" if same == k else f"; all: {', '.join(r.verdict for r in releases)}"),
        f"release time: median {statistics.median(times):.0f} s, min {min(times):.0f} s, "
        f"max {max(times):.0f} s",
    ]
    keys = sorted({key for r in releases for key in r.checks})
    steady = 0
    for key in keys:
        seen = [r.checks.get(key, "absent") for r in releases]
        value, count = agreement(seen)
        if count == k and "MARGINAL" not in value:
            steady += 1
            continue
        lines.append(
            f"  {key}: {count} of {k} {value}" + ("" if count == k else f" ({', '.join(seen)})")
        )
    lines.insert(
        1, f"checks: {steady} of {len(keys)} agreed in every release and were never marginal"
    )
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-k", type=int, default=5, help="releases to run (default 5)")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("extra", nargs="*", help="more run.py arguments (after --)")
    args = parser.parse_args(argv)
    releases = []
    for number in range(1, args.k + 1):
        release = run_release(args.port, args.extra)
        print(
            f"[{number}/{args.k}] {release.verdict} in {release.seconds:.0f} s "
            f"(exit {release.exit_code}) {release.folder}",
            flush=True,
        )
        releases.append(release)
    print("\n".join(summary(releases)))
    _, same = agreement([r.verdict for r in releases])
    return 0 if same == len(releases) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
