"""`python -m benchmarking.emulator --port 8000 [--ttft-ms 50 --itl-ms 10 ...]`.

It runs in the benchmarks environment, which has what it needs (orjson, uvloop); any other
Python is told which one to use instead of a traceback.
"""

from __future__ import annotations

import importlib.util
import sys

NEEDS = ("orjson", "uvloop")
BENCHMARKS_PYTHON = ".workflow_venvs/benchmarks/bin/python"


def missing_requirement(needs: tuple[str, ...] = NEEDS) -> str | None:
    """One line saying which Python to use, when this one lacks a package the emulator needs."""
    missing = [name for name in needs if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (
        f"error: the emulator needs {', '.join(missing)}, which {sys.executable} lacks: run it "
        f"with the benchmarks environment's Python, {BENCHMARKS_PYTHON} -m benchmarking.emulator "
        "(python3 run.py builds that environment on its first benchmarks run)"
    )


if __name__ == "__main__":
    problem = missing_requirement()
    if problem:
        print(problem, file=sys.stderr)
        sys.exit(2)
    from benchmarking.emulator.cli import main

    sys.exit(main(sys.argv[1:]))
