"""Workflow name -> the object that runs it: the one list of the runner's workflows."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from workflows.errors import UsageError
from workflows.workflow_args import did_you_mean

if TYPE_CHECKING:
    from workflows.context import RunContext
    from workflows.envs.venvs import VenvSpec
    from workflows.errors import ExitCode
    from workflows.registry.model_spec import ModelSpec
    from workflows.run_config import RunConfig


class Workflow(Protocol):
    @property
    def name(self) -> str:
        """What `--workflow` calls it; also its results folder's name."""

    def check_args(self, config: RunConfig) -> None:
        """Reject workflow arguments this workflow does not read, before anything starts."""

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        """Reject what this model's spec cannot run (an eval task it lacks), before any work."""

    def environments(self, config: RunConfig) -> tuple[VenvSpec, ...]:
        """The workflow's own environments, built by the runner before the server starts."""

    def keeps_server(self, config: RunConfig) -> bool:
        """Whether a server the runner started stays up after the workflow."""

    def run(self, ctx: RunContext) -> ExitCode:
        """Drive the ready server (`ctx.server`); results go into the run folder."""


@dataclass(frozen=True)
class Entry:
    """Where a workflow's object lives, and what it does that run-wide flags can change."""

    module: str
    attribute: str
    does: frozenset[str] = frozenset()


# What flags ask of a workflow: each name below is checked against these, never against names.
RUNS_EVALS = "evals"  # --limit-samples-mode, --eval-samples, --ci-mode's eval limit
RUNS_LOAD = "load"  # --percentile-report
RUNS_SWEEP = "sweep"  # --concurrency-sweeps
RENDERS_REPORT = "report"  # --requirements, --compare-to
SHIPS_SERVER = "ships"  # keeps or releases a server: the host's firmware/KMD are checked

# The one list of workflows. A workflow's module is imported only when a run asks for it, so
# `--help` and `--list-models` never load pandas, requests or the eval harness's helpers.
ENTRIES: dict[str, Entry] = {
    "server": Entry("workflows.workflow_server", "SERVER", frozenset({SHIPS_SERVER})),
    "benchmarks": Entry(
        "workflows.workflow_load", "BENCHMARKS", frozenset({RUNS_LOAD, RUNS_SWEEP})
    ),
    "stress_tests": Entry("workflows.workflow_load", "STRESS_TESTS", frozenset({RUNS_LOAD})),
    "evals": Entry("workflows.workflow_evals", "EVALS", frozenset({RUNS_EVALS})),
    "spec_tests": Entry("workflows.workflow_spec_tests", "SPEC_TESTS"),
    "release": Entry(
        "workflows.workflow_release",
        "RELEASE",
        frozenset({RUNS_EVALS, RUNS_LOAD, RUNS_SWEEP, RENDERS_REPORT, SHIPS_SERVER}),
    ),
}


def workflows_that(what: str) -> tuple[str, ...]:
    """The workflows that do `what` (one of the names above), in table order."""
    return tuple(name for name, entry in ENTRIES.items() if what in entry.does)


def does(workflow: str, what: str) -> bool:
    entry = ENTRIES.get(workflow)
    return entry is not None and what in entry.does


class _Workflows(dict[str, "Workflow"]):
    """The workflow objects by name, each imported the first time it is looked up."""

    def __missing__(self, name: str) -> Workflow:
        entry = ENTRIES[name]
        workflow: Workflow = getattr(importlib.import_module(entry.module), entry.attribute)
        self[name] = workflow
        return workflow


WORKFLOWS: dict[str, Workflow] = _Workflows()

REPORTS = "reports"  # renders from a run folder: no model, device or server


def workflow_names() -> tuple[str, ...]:
    return (*ENTRIES, REPORTS)


def check_workflow(name: str) -> str:
    workflow = name.lower()
    if workflow not in ENTRIES:
        raise UsageError(
            f"unknown workflow '{name}'{did_you_mean(workflow, workflow_names())}; "
            f"valid workflows: {', '.join(workflow_names())}"
        )
    return workflow
