"""The `release` workflow: one server lifecycle for evals, benchmarks and spec tests (stress tests
on request), each child's results kept in the one run folder whatever a later child does, then
the release report and its verdict.

Workflow arguments for a child are namespaced by its name (`benchmarks.concurrency=1,8`,
`evals.tasks=readiness_basics`); `stress=true` adds the stress tests; `workflows=a,b` runs only
those children; `seed=` (drawn by the runner unless given) seeds the prompts of benchmarks and
stress tests alike. The evals' first task that scored is measured again under benchmark traffic
(`evals.under_load=all` for every task; `none` narrows the release). A child left out (by
`workflows=`, or evals for a model without an eval configuration) is recorded as such: the
report counts it as not run."""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from benchmarking.arg_values import SettingsError, whole
from evals.config import NoEvalConfig, eval_config_for
from evals.spec_tests.catalog import NAMES as SPEC_CHECKS
from reports.capacity_requirement import search_args
from reports.release_scope import narrowed_by
from reports.results import Identity, document, write_json
from reports.run_data import NARROWED_OUT, RELEASE_FILE, REQUIREMENTS_FILE
from workflows import interrupts
from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode, Interrupted, ReadinessError, ServerError, UsageError
from workflows.registry.model_spec import ModelSpec
from workflows.release_eta import previous_durations, step_suffix
from workflows.report_console import load_requirements_or_fail, render_and_tell
from workflows.run_config import RunConfig
from workflows.workflow_args import RUNNER_KEYS, WorkflowArgValue, did_you_mean, workflow_only
from workflows.workflow_evals import ARG_KEYS as EVALS_KEYS
from workflows.workflow_evals import EVALS, selected_tasks
from workflows.workflow_load import BENCHMARKS, STRESS_TESTS
from workflows.workflow_spec_tests import ARG_KEYS as SPEC_TESTS_KEYS
from workflows.workflow_spec_tests import SPEC_TESTS

CHILDREN = {child.name: child for child in (EVALS, BENCHMARKS, SPEC_TESTS, STRESS_TESTS)}
ORDER = ("evals", "benchmarks", "spec_tests", "stress_tests")  # evals first, as upstream settled
OWN_KEYS = ("stress", "workflows", "seed")
SEEDED = ("benchmarks", "stress_tests")  # the children whose prompts `seed=` chooses


def planned_children(config: RunConfig) -> tuple[str, ...]:
    """The children the release runs: all but stress tests, unless `stress=true`; `workflows=`
    chooses among them."""
    args = workflow_only(config.workflow_args)
    stress = args.get("stress", False)
    if not isinstance(stress, bool):
        raise UsageError(f"--workflow-args: stress takes true or false, got {stress!r}")
    default = tuple(name for name in ORDER if name != "stress_tests" or stress)
    if "workflows" not in args:
        return default
    chosen = [name.strip() for name in str(args["workflows"]).split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ORDER))
    if unknown or not chosen:
        raise UsageError(
            f"--workflow-args: workflows={args['workflows']}: release runs {', '.join(ORDER)}"
        )
    if "stress_tests" in chosen and not stress:
        chosen.remove("stress_tests")
        if not chosen:
            raise UsageError("--workflow-args: workflows=stress_tests needs stress=true")
    return tuple(name for name in ORDER if name in chosen)


def left_out(config: RunConfig, spec: ModelSpec | None = None) -> dict[str, str]:
    """Children the release does not run, each with the reason."""
    reasons: dict[str, str] = {}
    planned = planned_children(config)
    stress = "stress_tests" in planned or bool(
        workflow_only(config.workflow_args).get("stress", False)
    )
    for name in ORDER:
        if name not in planned and (name != "stress_tests" or stress):
            reasons[name] = NARROWED_OUT + ",".join(planned)
    if spec is not None and "evals" in planned:
        try:
            eval_config_for(spec.hf_repo, spec.model_name)
        except NoEvalConfig as error:
            reasons["evals"] = error.message
    return reasons


def child_names(config: RunConfig, spec: ModelSpec | None = None) -> tuple[str, ...]:
    skipped = left_out(config, spec)
    return tuple(name for name in planned_children(config) if name not in skipped)


def _split_args(config: RunConfig) -> dict[str, dict[str, WorkflowArgValue]]:
    """`child.key=value` -> {child: {key: value}}; anything else is refused with the fix."""
    split: dict[str, dict[str, WorkflowArgValue]] = {name: {} for name in ORDER}
    for key, value in workflow_only(config.workflow_args).items():
        if key in OWN_KEYS:
            continue
        child, dot, name = key.partition(".")
        if not dot:
            raise UsageError(
                f"--workflow-args: release does not take {key}{_bare_key_hint(key)}; it takes "
                f"{', '.join(sorted((*OWN_KEYS, *RUNNER_KEYS)))} and its workflows' own "
                f"arguments named by workflow, e.g. benchmarks.concurrency=1,8"
            )
        if child not in split:
            raise UsageError(
                f"--workflow-args: {key}: release runs {', '.join(ORDER)}; "
                f"'{child}' is none of them{did_you_mean(child, ORDER)}"
            )
        split[child][name.replace("-", "_")] = value
    for child, given in split.items():
        if given and child not in planned_children(config):
            raise UsageError(
                f"--workflow-args: {child}.* given, but the release does not run {child}"
                + (" (add stress=true)" if child == "stress_tests" else "")
            )
    return split


def child_keys() -> dict[str, tuple[str, ...]]:
    return {
        "evals": EVALS_KEYS,
        "benchmarks": BENCHMARKS.accepted,
        "spec_tests": SPEC_TESTS_KEYS,
        "stress_tests": STRESS_TESTS.accepted,
    }


def _bare_key_hint(key: str) -> str:
    """A key given without its workflow: the nearest of the release's own keys, else the
    nearest workflow key, named with the first workflow that takes it."""
    own = did_you_mean(key, (*OWN_KEYS, *RUNNER_KEYS))
    if own:
        return own
    for child, keys in child_keys().items():
        if key in keys:
            return f" (did you mean {child}.{key}?)"
    everything = {name: child for child, keys in reversed(child_keys().items()) for name in keys}
    close = difflib.get_close_matches(key, sorted(everything), n=1)
    return f" (did you mean {everything[close[0]]}.{close[0]}?)" if close else ""


def _release_seed(config: RunConfig, child: str) -> dict[str, WorkflowArgValue]:
    """The release's `seed=`, for the children whose prompts it seeds: one seed for all."""
    seed = config.workflow_args.get("seed")
    return {"seed": seed} if child in SEEDED and seed is not None else {}


def child_config(config: RunConfig, child: str, spec: ModelSpec | None = None) -> RunConfig:
    """The release's settings as that child sees them: its own arguments (plus the runner's),
    and for evals the release's sample limit (the spec's release default unless given)."""
    runner = {key: value for key, value in config.workflow_args.items() if key in RUNNER_KEYS}
    args: dict[str, WorkflowArgValue] = {**runner, **_split_args(config)[child]}
    measure_targets = spec is not None and spec.perf_reference and not config.concurrency_sweeps
    if child == "benchmarks" and measure_targets and not args:
        args["sweep"] = "targets"  # a release measures the points it is judged on
    if child == "benchmarks" and config.requirements is not None:
        args = {**_capacity_search(config), **args}  # given ones win
    args = {**_release_seed(config, child), **args}  # `benchmarks.seed=` wins over `seed=`
    if child == "evals":
        args.setdefault("under_load", "first")  # a release measures its first task under load
    changes: dict[str, object] = {"workflow": child, "workflow_args": MappingProxyType(args)}
    if child == "evals" and spec is not None and not config.eval_samples:
        changes["limit_samples_mode"] = config.limit_samples_mode or spec.release_limit_samples_mode
    if child == "stress_tests" and "benchmarks" in child_names(config):
        changes["disable_trace_capture"] = True  # the benchmarks captured the traces already
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def _capacity_search(config: RunConfig) -> dict[str, WorkflowArgValue]:
    """A requirements file's `capacity:` asks the benchmarks for a search=goodput beside its
    target points (the file is checked before anything starts)."""
    assert config.requirements is not None
    found = search_args(load_requirements_or_fail(config.requirements))
    return {
        key: value for key, value in found.items() if isinstance(value, (bool, int, float, str))
    }


def narrowing(config: RunConfig, spec: ModelSpec) -> list[str]:
    """What makes this release less than the whole release its status asks for: such a run
    gets a partial verdict, never ACCEPTED or NOT ACCEPTED. Any child argument but the few
    reports/release_scope.py names as neutral (the seed, report options) narrows it; the
    report derives the same from runtime_spec.json."""
    recorded = {
        "workflow_args": dict(config.workflow_args),
        "eval_samples": config.eval_samples,
        "limit_samples_mode": config.limit_samples_mode,
    }
    return narrowed_by(recorded, spec.release_limit_samples_mode)


def unmatched_waivers(spec: ModelSpec, config: RunConfig, children: tuple[str, ...]) -> list[str]:
    """Known issues naming an eval task or spec check this release does not run: they waive
    nothing, and a reader of the registry should know."""
    names: dict[str, set[str]] = {"spec_tests": set(SPEC_CHECKS)}
    if "evals" in children:
        evals_config = child_config(config, "evals", spec)
        names["evals"] = {task.task for task in selected_tasks(spec, evals_config)}
    return [
        f"the known issue for {issue.workflow} task '{issue.task}' matches no "
        f"{issue.workflow} task of this release ({', '.join(sorted(names[issue.workflow]))}); "
        "it waives nothing"
        for issue in spec.known_issues
        if issue.task and issue.workflow in names and issue.task not in names[issue.workflow]
    ]


def _check_child_args(config: RunConfig, child: str) -> None:
    """A child's arguments as the child checks them; the message says whose they are."""
    try:
        CHILDREN[child].check_args(child_config(config, child))
    except UsageError as error:
        raise UsageError(f"{error.message} (in the {child}.* arguments)") from None


def _check_seed(value: object) -> None:
    try:
        whole(value, "seed", 0)
    except SettingsError as error:
        raise UsageError(f"--workflow-args: {error}") from None


@dataclass(frozen=True)
class ReleaseWorkflow:
    name: str = "release"

    def check_args(self, config: RunConfig) -> None:
        _split_args(config)
        if "seed" in config.workflow_args:
            _check_seed(config.workflow_args["seed"])
        for child in child_names(config):
            _check_child_args(config, child)
        if config.requirements is not None:
            load_requirements_or_fail(config.requirements)

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        for child in child_names(config, spec):
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
        self.children = child_names(ctx.config, ctx.the_spec)
        skipped = left_out(ctx.config, ctx.the_spec)
        self.record: list[dict[str, object]] = [
            {
                "workflow": name,
                "status": "left_out" if name in skipped else "not_run",
                "exit_code": None,
                "message": skipped.get(name, ""),
                "duration_s": None,
            }
            for name in ORDER
            if name in self.children or name in skipped
        ]

    def _say(self, line: str) -> None:
        self.ctx.console.print(line, markup=False, highlight=False)

    def run(self) -> ExitCode:
        if self.ctx.config.requirements is not None:
            requirements = load_requirements_or_fail(self.ctx.config.requirements)
            write_json(self.ctx.the_folder.path / REQUIREMENTS_FILE, requirements)
        self._save()
        for entry in self.record:
            if entry["status"] == "left_out":
                self._say(f"release: {entry['workflow']} is not run: {entry['message']}")
        for line in unmatched_waivers(self.ctx.the_spec, self.ctx.config, self.children):
            self._say(f"release: note: {line}")
        narrowed = narrowing(self.ctx.config, self.ctx.the_spec)
        if narrowed:
            self._say(
                f"release: narrowed by {', '.join(narrowed)}: the report gives a partial "
                "verdict, not a release verdict"
            )
        spec = self.ctx.the_spec
        before = previous_durations(self.ctx.the_folder.path, spec.model_name, spec.device.value)
        try:
            for index, name in enumerate(self.children):
                eta = step_suffix(before, self.children[index:], first=index == 0)
                self._say(f"release: [{index + 1}/{len(self.children)}] {name}{eta}")
                self._run_child(name)
        finally:
            self._save()
        return render_and_tell(
            self.ctx.console, self.ctx.the_folder.path, self.ctx.config.compare_to, self.ctx.environ
        )

    def _run_child(self, name: str) -> None:
        entry = next(entry for entry in self.record if entry["workflow"] == name)
        config = child_config(self.ctx.config, name, self.ctx.the_spec)
        entry["args"] = dict(config.workflow_args)
        started = time.monotonic()
        entry["status"] = "running"
        self._save()
        try:
            code = CHILDREN[name].run(self.ctx.with_(config=config))
            interrupts.check()  # a child stopped by Ctrl-C or SIGTERM ends the release
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
            render_and_tell(
                self.ctx.console,
                self.ctx.the_folder.path,
                self.ctx.config.compare_to,
                self.ctx.environ,
            )
        except Exception as error:  # the original failure matters more than this one
            self._say(f"release: the partial report could not be rendered ({error})")

    def _save(self) -> None:
        spec = self.ctx.the_spec
        identity = Identity(
            self.ctx.the_folder.run_id, spec.model_id, spec.hf_repo, spec.device.value, ""
        )
        body: Mapping[str, object] = {
            "children": self.record,
            "narrowed": narrowing(self.ctx.config, spec),
        }
        write_json(self.ctx.the_folder.path / RELEASE_FILE, document("release", identity, body))


RELEASE = ReleaseWorkflow()
