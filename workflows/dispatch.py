"""Workflow name -> the object that runs it: the one list of the runner's workflows."""

from __future__ import annotations

from typing import Protocol

from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode, UsageError
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig
from workflows.workflow_evals import EVALS
from workflows.workflow_load import BENCHMARKS, STRESS_TESTS
from workflows.workflow_release import RELEASE
from workflows.workflow_server import SERVER
from workflows.workflow_spec_tests import SPEC_TESTS


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


WORKFLOWS: dict[str, Workflow] = {
    workflow.name: workflow
    for workflow in (SERVER, BENCHMARKS, STRESS_TESTS, EVALS, SPEC_TESTS, RELEASE)
}

REPORTS = "reports"  # renders from a run folder: no model, device or server


def workflow_names() -> tuple[str, ...]:
    return (*WORKFLOWS, REPORTS)


def check_workflow(name: str) -> str:
    workflow = name.lower()
    if workflow not in WORKFLOWS:
        raise UsageError(
            f"unknown workflow '{name}'; valid workflows: {', '.join(workflow_names())}"
        )
    return workflow
