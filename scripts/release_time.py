#!/usr/bin/env python3
"""Measure the README's main command cold and warm, as a newcomer meets it.

Clones this checkout's HEAD into a temporary folder (so no `.workflow_venvs/` exists: the runner's
environment and the CPU server's environment, the xllamacpp wheel, are installed), runs

    python3 run.py --model SmolLM2-135M-Instruct --device cpu --workflow release --local-server

there twice, and prints each run's wall time with its phases (bootstrap, the workflow environments,
release) and the verdict. uv's package cache is the machine's own, as it would be on a second
checkout; `--empty-uv-cache` gives the cold run an empty one (every package downloaded, as on a
clean machine).

    python3 scripts/release_time.py [--keep] [--port 8123] [--empty-uv-cache]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for imports

from workflows.paths import REPO_ROOT

COMMAND = [
    "run.py",
    "--model",
    "SmolLM2-135M-Instruct",
    "--device",
    "cpu",
    "--workflow",
    "release",
    "--local-server",
]
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \S+\s+\S+ (.*)$")


def _stamps(run_log: Path) -> list[tuple[datetime, str]]:
    found = []
    for line in run_log.read_text().splitlines():
        match = STAMP.match(line)
        if match:
            found.append((datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f"), match[2]))
    return found


def _phases(run_log: Path, started: float, ended: float) -> str:
    """Bootstrap (before the run log's first line), the workflow environments, the release."""
    stamps = _stamps(run_log)
    if not stamps:
        return "no run log"
    first = stamps[0][0]
    wall = ended - started
    run_seconds = (stamps[-1][0] - first).total_seconds()
    installing = next((stamp for stamp, text in stamps if "installing llama.cpp" in text), None)
    engine = next((stamp for stamp, text in stamps if text.startswith("engine:")), None)
    installed = (engine - installing).total_seconds() if installing and engine else 0.0
    ready = next((stamp for stamp, text in stamps if "server ready" in text), None)
    release = (stamps[-1][0] - ready).total_seconds() if ready else 0.0
    return (
        f"bootstrap {wall - run_seconds:.0f} s, environments {installed:.0f} s, "
        f"release (server ready to report) {release:.0f} s"
    )


def measure(checkout: Path, port: int, label: str, env: dict[str, str] | None = None) -> int:
    logs = checkout / "workflow_logs"
    started = time.monotonic()
    python = shutil.which("python3") or sys.executable  # what a newcomer types
    result = subprocess.run(
        [python, *COMMAND, "--service-port", str(port)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    ended = time.monotonic()
    verdict = next(  # the verdict panel's first line, inside its border
        (
            line.strip("│ ")
            for line in result.stdout.splitlines()
            if line.strip("│ ").startswith("release report:")
        ),
        "no verdict",
    )
    run_log = (logs / "latest").resolve() / "run.log"
    phases = _phases(run_log, started, ended) if run_log.is_file() else "no run log"
    minutes, seconds = divmod(ended - started, 60)
    print(f"{label}: {int(minutes)} min {seconds:.0f} s, exit {result.returncode}; {phases}")
    print(f"  {verdict}")
    return result.returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary checkout")
    parser.add_argument("--port", type=int, default=8123, help="the server's port")
    parser.add_argument(
        "--empty-uv-cache", action="store_true", help="the cold run downloads every package"
    )
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="release-time-"))
    checkout = folder / "checkout"
    try:
        subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(checkout)], check=True)
        cold_env = None
        if args.empty_uv_cache:
            cold_env = dict(os.environ, UV_CACHE_DIR=str(folder / "uv-cache"))
            cold_env["PIP_NO_CACHE_DIR"] = "1"
        cold = measure(checkout, args.port, "cold (fresh checkout)", cold_env)
        warm = measure(checkout, args.port, "warm (second run)")
    finally:
        if args.keep:
            print(f"checkout kept in {checkout}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if cold == warm == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
