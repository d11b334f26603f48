"""The `spec_tests` workflow: the API-conformance suite (evals/spec_tests) in the load
generator's environment, as `python -m evals.spec_tests`, against the served model."""

from __future__ import annotations

from dataclasses import dataclass

from evals.spec_tests import cli as spec_tests_cli
from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode, UsageError
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig
from workflows.workflow_args import number_arg, reject_unknown_keys, workflow_only
from workflows.workflow_load import VENV as BENCHMARKS_VENV
from workflows.workflow_load import run_watched

ARG_KEYS = ("only", "timeout")
DEFAULT_TIMEOUT = 1800.0  # the whole suite


def _check_only(value: object) -> None:
    """`only=a,b`: each a check of the suite, as the child checks it."""
    try:
        spec_tests_cli.checked_names(str(value), "only")
    except spec_tests_cli.UsageError as error:
        raise UsageError(f"--workflow-args: {error}") from None


@dataclass(frozen=True)
class SpecTestsWorkflow:
    name: str = "spec_tests"

    def check_args(self, config: RunConfig) -> None:
        args = workflow_only(config.workflow_args)
        reject_unknown_keys(self.name, args, ARG_KEYS)
        number_arg(args, "timeout", DEFAULT_TIMEOUT)
        if "only" in args:
            _check_only(args["only"])

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        del spec, config

    def environments(self, config: RunConfig) -> tuple[VenvSpec, ...]:
        del config
        return (BENCHMARKS_VENV,)

    def keeps_server(self, config: RunConfig) -> bool:
        del config
        return False

    def command_line(self, ctx: RunContext) -> list[str]:
        folder = ctx.the_folder
        argv = [
            str(ctx.pythons[BENCHMARKS_VENV.name]),
            "-m",
            "evals.spec_tests",
            "--runtime-spec",
            str(folder.runtime_spec),
            "--server-url",
            ctx.the_server.base_url,
            "--output-dir",
            str(folder.path / self.name),
        ]
        only = workflow_only(ctx.config.workflow_args).get("only")
        return argv + (["--only", str(only)] if only else [])

    def run(self, ctx: RunContext) -> ExitCode:
        timeout = number_arg(ctx.config.workflow_args, "timeout", DEFAULT_TIMEOUT)
        return run_watched(ctx, self.command_line(ctx), self.name, timeout)


SPEC_TESTS = SpecTestsWorkflow()
