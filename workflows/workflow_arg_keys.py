"""`--help-workflow-args W`: the `--workflow-args` keys workflow W takes, read from the
workflows' own lists (the ones their checks refuse other keys with)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workflows.dispatch import REPORTS, check_workflow
from workflows.workflow_args import RUNNER_KEYS

if TYPE_CHECKING:
    from rich.console import Console


def accepted_keys(workflow: str) -> tuple[str, ...]:
    """The keys `--workflow W --workflow-args` takes (the release: its own, not its children's)."""
    from workflows import workflow_evals, workflow_load, workflow_release, workflow_spec_tests

    own: dict[str, tuple[str, ...]] = {
        "server": (),
        "benchmarks": workflow_load.BENCHMARKS.accepted,
        "stress_tests": workflow_load.STRESS_TESTS.accepted,
        "evals": workflow_evals.ARG_KEYS,
        "spec_tests": workflow_spec_tests.ARG_KEYS,
        "release": workflow_release.OWN_KEYS,
    }
    return tuple(sorted({*own[workflow], *RUNNER_KEYS}))


def describe(name: str) -> list[str]:
    """What --help-workflow-args prints for workflow `name` (a mistyped one is refused)."""
    if name.lower() == REPORTS:
        return ["reports takes no --workflow-args: it renders from a run folder's files"]
    workflow = check_workflow(name)
    keys = ", ".join(accepted_keys(workflow))
    lines = [f'{workflow} takes --workflow-args "KEY=VALUE ...", KEY one of: {keys}']
    if workflow == "release":
        from workflows.workflow_release import child_keys

        lines.append("and the keys of the workflows it runs, each named by its workflow:")
        for child, child_own in child_keys().items():
            lines.append(f"  {child}.KEY, KEY one of: {', '.join(sorted(child_own))}")
        lines.append('  e.g. --workflow-args "benchmarks.concurrency=1,8 evals.tasks=..."')
    return lines


def show(name: str, console: Console) -> int:
    for line in describe(name):
        console.print(line, markup=False, highlight=False)
    return 0
