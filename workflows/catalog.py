"""The workflows the runner knows, and which of them are built."""

from __future__ import annotations

from workflows.errors import UsageError

AVAILABLE = ("server", "benchmarks", "stress_tests")
PLANNED = ("evals", "spec_tests", "reports", "release")
ALL = AVAILABLE + PLANNED
SERVER = "server"


def check_workflow(name: str) -> str:
    workflow = name.lower()
    if workflow in PLANNED:
        raise UsageError(
            f"workflow '{workflow}' is not available yet; available now: {', '.join(AVAILABLE)}"
        )
    if workflow not in AVAILABLE:
        raise UsageError(f"unknown workflow '{name}'; valid workflows: {', '.join(ALL)}")
    return workflow
