"""Workflow name -> the module that runs it. Each module satisfies the Workflow protocol."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console

from workflows import workflow_server
from workflows.errors import ExitCode
from workflows.run_config import RunConfig
from workflows.run_folder import RunFolder
from workflows.runtime_spec import RuntimeSpec
from workflows.servers.base import Server
from workflows.workflow_load import BENCHMARKS, STRESS_TESTS


class Workflow(Protocol):
    def check_args(self, config: RunConfig) -> None:
        """Reject workflow arguments this workflow does not read, before anything starts."""

    def keeps_server(self, config: RunConfig) -> bool:
        """Whether a server the runner started stays up after the workflow."""

    def run(
        self,
        runtime: RuntimeSpec,
        config: RunConfig,
        server: Server,
        folder: RunFolder,
        console: Console,
    ) -> ExitCode:
        """Drive the ready server; results go into the run folder."""


WORKFLOWS: dict[str, Workflow] = {
    "server": workflow_server,
    "benchmarks": BENCHMARKS,
    "stress_tests": STRESS_TESTS,
}
