"""The `release` workflow: one server lifecycle for evals, benchmarks and spec tests (stress tests
on request), each child's results kept in the one run folder whatever a later child does, then
the release report and its verdict.

Workflow arguments for a child are namespaced by its name (`benchmarks.concurrency=1,8`,
`evals.tasks=readiness_basics`); `stress=true` adds the stress tests."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from reports.results import Identity, document, write_json
from reports.run_data import RELEASE_FILE, REQUIREMENTS_FILE
from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode, Interrupted, ReadinessError, ServerError, UsageError
from workflows.registry.model_spec import ModelSpec
from workflows.report_console import load_requirements_or_fail, render_and_tell
from workflows.run_config import RunConfig
from workflows.workflow_args import RUNNER_KEYS, WorkflowArgValue, workflow_only
from workflows.workflow_evals import EVALS
from workflows.workflow_load import BENCHMARKS, STRESS_TESTS
from workflows.workflow_spec_tests import SPEC_TESTS

CHILDREN = {child.name: child for child in (EVALS, BENCHMARKS, SPEC_TESTS, STRESS_TESTS)}
ORDER = ("evals", "benchmarks", "spec_tests", "stress_tests")  # evals first, as upstream settled
OWN_KEYS = ("stress",)


def child_names(config: RunConfig) -> tuple[str, ...]:
    stress = bool(workflow_only(config.workflow_args).get("stress", False))
    return tuple(name for name in ORDER if name != "stress_tests" or stress)


def _split_args(config: RunConfig) -> dict[str, dict[str, WorkflowArgValue]]:
    """`child.key=value` -> {child: {key: value}}; anything else is refused with the fix."""
    split: dict[str, dict[str, WorkflowArgValue]] = {name: {} for name in ORDER}
    for key, value in workflow_only(config.workflow_args).items():
        if key in OWN_KEYS:
            continue
        child, dot, name = key.partition(".")
        if not dot:
            raise UsageError(
                f"--workflow-args: release takes stress=true and arguments for its workflows "
                f"named by workflow, e.g. benchmarks.{key}={value}; got {key}={value}"
            )
        if child not in split:
            raise UsageError(
                f"--workflow-args: {key}: release runs {', '.join(ORDER)}; "
                f"'{child}' is none of them"
            )
        split[child][name.replace("-", "_")] = value
    if split["stress_tests"] and "stress_tests" not in child_names(config):
        raise UsageError(
            "--workflow-args: stress_tests.* given, but stress tests run only with stress=true"
        )
    stress = workflow_only(config.workflow_args).get("stress", False)
    if not isinstance(stress, bool):
        raise UsageError(f"--workflow-args: stress takes true or false, got {stress!r}")
    return split


def child_config(config: RunConfig, child: str, spec: ModelSpec | None = None) -> RunConfig:
    """The release's settings as that child sees them: its own arguments (plus the runner's),
    and for evals the release's sample limit (the spec's release default unless given)."""
    runner = {key: value for key, value in config.workflow_args.items() if key in RUNNER_KEYS}
    args: dict[str, WorkflowArgValue] = {**runner, **_split_args(config)[child]}
    if child == "benchmarks" and spec is not None and spec.perf_reference and not args:
        args["sweep"] = "targets"  # a release measures the points it is judged on
    changes: dict[str, object] = {"workflow": child, "workflow_args": MappingProxyType(args)}
    if child == "evals" and spec is not None and not config.eval_samples:
        changes["limit_samples_mode"] = config.limit_samples_mode or spec.release_limit_samples_mode
    if child == "stress_tests" and "benchmarks" in child_names(config):
        changes["disable_trace_capture"] = True  # the benchmarks captured the traces already
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReleaseWorkflow:
    name: str = "release"

    def check_args(self, config: RunConfig) -> None:
        for child in child_names(config):
            CHILDREN[child].check_args(child_config(config, child))
        if config.requirements is not None:
            load_requirements_or_fail(config.requirements)

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        for child in child_names(config):
            CHILDREN[child].check_spec(spec, child_config(config, child, spec))

    def environments(self, config: RunConfig) -> tuple[VenvSpec, ...]:
        found: dict[str, VenvSpec] = {}
        for child in child_names(config):
            for venv in CHILDREN[child].environments(child_config(config, child)):
                found.setdefault(venv.name, venv)
        return tuple(found.values())

    def keeps_server(self, config: RunConfig) -> bool:
        del config
        return False

    def run(self, ctx: RunContext) -> ExitCode:
        return ReleaseRun(ctx).run()


class ReleaseRun:
    """The children in order against the one server, `release.json` rewritten after each."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.children = child_names(ctx.config)
        self.record: list[dict[str, object]] = [
            {
                "workflow": name,
                "status": "not_run",
                "exit_code": None,
                "message": "",
                "duration_s": None,
            }
            for name in self.children
        ]

    def _say(self, line: str) -> None:
        self.ctx.console.print(line, markup=False, highlight=False)

    def run(self) -> ExitCode:
        if self.ctx.config.requirements is not None:
            requirements = load_requirements_or_fail(self.ctx.config.requirements)
            write_json(self.ctx.the_folder.path / REQUIREMENTS_FILE, requirements)
        self._save()
        try:
            for index, name in enumerate(self.children):
                self._say(f"release: [{index + 1}/{len(self.children)}] {name}")
                self._run_child(index, name)
        finally:
            self._save()
        return render_and_tell(
            self.ctx.console, self.ctx.the_folder.path, self.ctx.config.compare_to
        )

    def _run_child(self, index: int, name: str) -> None:
        entry = self.record[index]
        config = child_config(self.ctx.config, name, self.ctx.the_spec)
        entry["args"] = dict(config.workflow_args)
        started = time.monotonic()
        entry["status"] = "running"
        self._save()
        try:
            code = CHILDREN[name].run(self.ctx.with_(config=config))
        except ServerError as error:
            self._end(entry, started, "crashed", int(error.exit_code), error.message)
            self._render_partial()
            raise
        except Interrupted:
            self._end(entry, started, "interrupted", int(ExitCode.INTERRUPTED), "interrupted")
            self._render_partial()
            raise
        except ReadinessError as error:  # the child could not run; the release goes on
            self._end(entry, started, "crashed", int(error.exit_code), error.message)
            self._say(f"release: {name} could not run: {error.message}")
            return
        except BaseException as error:  # Ctrl-C, SIGTERM, a bug: recorded, then on its way
            self._end(entry, started, "interrupted", None, type(error).__name__)
            self._render_partial()
            raise
        status = "passed" if code is ExitCode.OK else "failed"
        self._end(
            entry, started, status, int(code), "" if code is ExitCode.OK else "see its results"
        )

    def _end(
        self, entry: dict[str, object], started: float, status: str, code: int | None, message: str
    ) -> None:
        entry.update(
            status=status,
            exit_code=code,
            message=message,
            duration_s=round(time.monotonic() - started, 1),
        )
        self._save()

    def _render_partial(self) -> None:
        """A release cut short still leaves a report of what it measured."""
        try:
            render_and_tell(self.ctx.console, self.ctx.the_folder.path, self.ctx.config.compare_to)
        except Exception as error:  # the original failure matters more than this one
            self._say(f"release: the partial report could not be rendered ({error})")

    def _save(self) -> None:
        spec = self.ctx.the_spec
        identity = Identity(
            self.ctx.the_folder.run_id, spec.model_id, spec.hf_repo, spec.device.value, ""
        )
        body: Mapping[str, object] = {"children": self.record}
        write_json(self.ctx.the_folder.path / RELEASE_FILE, document("release", identity, body))


RELEASE = ReleaseWorkflow()
