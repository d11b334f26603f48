"""Workflow name -> the object that runs it: the one list of the runner's workflows."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from workflows.errors import UsageError

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


# name -> (module, attribute): a workflow's module is imported only when a run asks for it,
# so `--help` and `--list-models` never load pandas, requests or the eval harness's helpers.
WORKFLOW_OBJECTS: dict[str, tuple[str, str]] = {
    "server": ("workflows.workflow_server", "SERVER"),
    "benchmarks": ("workflows.workflow_load", "BENCHMARKS"),
    "stress_tests": ("workflows.workflow_load", "STRESS_TESTS"),
    "evals": ("workflows.workflow_evals", "EVALS"),
    "spec_tests": ("workflows.workflow_spec_tests", "SPEC_TESTS"),
    "release": ("workflows.workflow_release", "RELEASE"),
}


class _Workflows(dict[str, "Workflow"]):
    """The workflow objects by name, each imported the first time it is looked up."""

    def __missing__(self, name: str) -> Workflow:
        module, attribute = WORKFLOW_OBJECTS[name]
        workflow: Workflow = getattr(importlib.import_module(module), attribute)
        self[name] = workflow
        return workflow


WORKFLOWS: dict[str, Workflow] = _Workflows()

REPORTS = "reports"  # renders from a run folder: no model, device or server


def workflow_names() -> tuple[str, ...]:
    return (*WORKFLOW_OBJECTS, REPORTS)


def check_workflow(name: str) -> str:
    workflow = name.lower()
    if workflow not in WORKFLOW_OBJECTS:
        raise UsageError(
            f"unknown workflow '{name}'; valid workflows: {', '.join(workflow_names())}"
        )
    return workflow
