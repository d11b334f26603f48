#!/usr/bin/env python3
"""The whole test suite, from a fresh clone: lint, types, unit tests, then integration tests.

    python3 scripts/test.py            # everything (CI runs this)
    python3 scripts/test.py --unit     # lint, types and unit tests only (fast)
    python3 scripts/test.py -- -k cli  # extra arguments go to pytest

Needs only Python >= 3.10 with pip: it builds `.workflow_venvs/dev` from uv.lock first.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for imports

from workflows import command
from workflows.envs import bootstrap
from workflows.paths import REPO_ROOT

DOCKER = REPO_ROOT / "docker"


# Unit tests in two processes (pytest-xdist): most of their time is spent waiting on emulators and
# subprocesses, so two cores halve it. The sandbox's tests then run alone: they check that no
# sandboxed process is left, machine-wide, and time how fast a killed one goes.
# Integration tests run one at a time: their real servers' figures want the cores to themselves.
UNIT_WORKERS = ("-n", "2")
COMPILED = ("run.py", "workflows", "benchmarking", "reports", "evals", "scripts", "tests")
ALONE = ("tests/unit/test_sandbox.py", "tests/unit/test_humaneval_task.py")


def tool(python: str, name: str) -> str:
    """A linter installed in the dev environment, beside its Python."""
    return str(Path(python).parent / name)


def shell_scripts() -> list[Path]:
    return sorted([*DOCKER.rglob("*.sh"), *(REPO_ROOT / "scripts").rglob("*.sh")])


def compile_checkout(python: str) -> None:
    """The checkout's own modules compiled once (under a second): with PYTHONDONTWRITEBYTECODE
    set, as on CI machines, each of the suite's hundreds of processes would compile what it
    imports from source again (0.1-0.2 s for the runner's modules)."""
    sources = [str(REPO_ROOT / name) for name in COMPILED]
    command.run([python, "-m", "compileall", "-q", "-j", "0", *sources], cwd=REPO_ROOT)


def stages(python: str, unit_only: bool, pytest_args: list[str]) -> list[tuple[str, list[str]]]:
    planned = [
        ("ruff check", [python, "-m", "ruff", "check", "."]),
        ("ruff format", [python, "-m", "ruff", "format", "--check", "."]),
        ("mypy", [python, "-m", "mypy"]),
        ("hadolint", [tool(python, "hadolint"), *map(str, sorted(DOCKER.glob("*/Dockerfile")))]),
        ("shellcheck", [tool(python, "shellcheck"), *map(str, shell_scripts())]),
        (
            "unit tests",
            [
                *(python, "-m", "pytest", "-m", "not integration", *UNIT_WORKERS),
                *(f"--ignore={path}" for path in ALONE),
                *pytest_args,
            ],
        ),
        (
            "sandbox unit tests",
            [python, "-m", "pytest", "-m", "not integration", *ALONE, *pytest_args],
        ),
    ]
    if not unit_only:
        planned.append(
            (
                "integration tests",
                [python, "-m", "pytest", "-m", "integration", "--durations=15", *pytest_args],
            )
        )
    return planned


def main(argv: list[str]) -> int:
    unit_only = "--unit" in argv
    pytest_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    python = str(bootstrap.env_python(bootstrap.ensure_env(bootstrap.DEV_ENV)))
    compile_checkout(python)
    failed = []
    for name, stage in stages(python, unit_only, pytest_args):
        print(f"== {name}", flush=True)
        result = command.run(stage, cwd=REPO_ROOT, on_line=lambda line: print(line, flush=True))
        if not result.ok:
            failed.append(name)
    print("== " + (f"FAILED: {', '.join(failed)}" if failed else "all stages passed"), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
