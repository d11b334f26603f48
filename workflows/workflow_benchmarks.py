"""The `benchmarks` workflow: the load generator in its own environment, against the server."""

from __future__ import annotations

import json

from rich.console import Console

from benchmarking.settings import SettingsError, settings_from
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
    requirements=("uvloop==0.23.0", "orjson==3.13.0", "requests==2.34.2", "rich==15.0.0"),
)


def check_args(config: RunConfig) -> None:
    try:
        settings_from(workflow_only(config.workflow_args))
    except SettingsError as error:
        raise UsageError(f"--workflow-args: {error}") from None


def keeps_server(config: RunConfig) -> bool:
    del config
    return False


def command_line(
    python: str, runtime: RuntimeSpec, config: RunConfig, server: Server, folder: RunFolder
) -> list[str]:
    del runtime
    argv = [
        python,
        "-m",
        "benchmarking",
        "--runtime-spec",
        str(folder.runtime_spec),
        "--server-url",
        server.base_url,
        "--output-dir",
        str(folder.path / "benchmarks"),
        "--workflow-args-json",
        json.dumps(workflow_only(config.workflow_args)),
    ]
    if config.disable_trace_capture:
        argv.append("--disable-trace-capture")
    return argv


def run(
    runtime: RuntimeSpec, config: RunConfig, server: Server, folder: RunFolder, console: Console
) -> ExitCode:
    python = ensure_venv(VENV, folder.path / f"venv-{VENV.name}.log")
    argv = command_line(str(python), runtime, config, server, folder)
    env = {"PYTHONPATH": str(REPO_ROOT), "OPENAI_API_KEY": server.auth.token}
    result = command.run(argv, env=env, cwd=REPO_ROOT, passthrough=True)
    if not result.ok:
        console.print(
            f"benchmarks failed (exit {result.returncode}); partial results in "
            f"{folder.path / 'benchmarks'}",
            markup=False,
        )
        return ExitCode.WORKFLOW_FAILED
    return ExitCode.OK
