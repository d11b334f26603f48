"""`under_load=first|all|none` (evals; a release measures `first` unless told): an eval task
measured a second time while benchmark traffic at the spec's max concurrency runs against the
same server, beside its score alone.

The traffic is the load generator's endurance mode (`python -m benchmarking --mode
stress_tests`) in waves of max-concurrency requests, started with lm-eval and held until lm-eval
sends its first request, then ended when lm-eval is done (the wave in flight gets a few seconds
to finish, then is cut: the traffic runs only while the eval does). The second run takes the
first `under_load_samples` documents of the first run (16 by default: the release stays short),
so the two are paired document by document (evals/paired.py)."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from benchmarking.server_api import API_KEY_ENV
from evals.config import Limit
from evals.paired import PairingError, comparison_fields, pair, sample_outcomes
from evals.plan import TaskPlan
from reports.status import Status
from workflows import command
from workflows.context import RunContext
from workflows.errors import UsageError
from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import ModelSpec
from workflows.workflow_args import WorkflowArgs
from workflows.workflow_load import VENV as LOAD_VENV

CHOICES = ("first", "all", "none")
DEFAULT_SAMPLES = 16
DEFAULT_SHAPE = (128, 128)  # ISL, OSL of the traffic when the spec has no target point
REQUESTS_START = re.compile(r"Running \w+ requests")  # lm-eval is about to send its requests
WAVE_GRACE_S = 3.0  # for the traffic's wave in flight to end once told to stop; then it is cut
RunTask = Callable[[TaskPlan, str, Callable[[str], None]], dict[str, Any]]


def choice(args: WorkflowArgs) -> str:
    value = str(args.get("under_load", "none"))
    if value not in CHOICES:
        raise UsageError(
            f"--workflow-args: under_load={value}: expected one of {', '.join(CHOICES)} "
            "(first: the first task that scored, measured again under benchmark traffic)"
        )
    return value


def sample_count(args: WorkflowArgs) -> int:
    value = args.get("under_load_samples", DEFAULT_SAMPLES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(
            f"--workflow-args: under_load_samples must be a whole number of 1 or more, "
            f"got {value!r}"
        )
    return value


def traffic_shape(spec: ModelSpec) -> tuple[int, int]:
    """The ISL and OSL of the spec's target point at the highest concurrency (the load it is
    judged at), else 128 and 128."""
    if not spec.perf_reference:
        return DEFAULT_SHAPE
    busiest = max(spec.perf_reference, key=lambda target: target.concurrency)
    return busiest.isl, busiest.osl


def loaded_plan(plan: TaskPlan, alone_samples: int, count: int) -> TaskPlan:
    """The first `count` documents of those the task answered alone."""
    count = min(count, alone_samples)
    if plan.samples is not None:
        return dataclasses.replace(plan, samples=plan.samples[:count])
    return dataclasses.replace(plan, limit=Limit(samples=count))


class Traffic:
    """The benchmark traffic: started beside lm-eval, let go when lm-eval starts sending,
    stopped once lm-eval is done."""

    def __init__(self, ctx: RunContext, folder: Path, tokenizer: Path | None) -> None:
        self.ctx = ctx
        self.folder = folder / "traffic"
        self.control = folder / "traffic_control"
        self.tokenizer = tokenizer
        self.process: command.ManagedProcess | None = None
        self.ended_early: int | None = None
        self.cut = False  # a wave was still in flight when the eval ended

    def argv(self) -> list[str]:
        spec, folder = self.ctx.the_spec, self.ctx.the_folder
        isl, osl = traffic_shape(spec)
        concurrency = spec.max_concurrency
        # the scraper of the server's /metrics: how many requests it held while the eval ran
        args = {
            "run_mode": "endurance", "duration": 86400, "isl": isl, "osl": osl,
            "concurrency": concurrency, "num_prompts": concurrency, "warmups": 0,
            "telemetry_interval": 1,
        }  # fmt: skip
        python = self.ctx.pythons[LOAD_VENV.name]
        url = self.ctx.the_server.base_url
        argv = [
            str(python), "-m", "benchmarking", "--mode", "stress_tests",
            "--runtime-spec", str(folder.runtime_spec), "--server-url", url,
            "--output-dir", str(self.folder), "--workflow-args-json", json.dumps(args),
            "--disable-trace-capture", "--control-dir", str(self.control),
        ]  # fmt: skip
        return argv + (["--tokenizer", str(self.tokenizer)] if self.tokenizer else [])

    def start(self) -> None:
        self.control.mkdir(parents=True, exist_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = command.start(
            self.argv(),
            log_path=self.folder / "traffic.log",
            env={"PYTHONPATH": str(REPO_ROOT), API_KEY_ENV: self.ctx.the_server.auth.token},
            cwd=REPO_ROOT,
        )

    def on_line(self, line: str) -> None:
        """lm-eval's output: its request phase starting lets the traffic go."""
        if REQUESTS_START.search(line):
            (self.control / "start").touch()

    def finish(self) -> dict[str, Any]:
        """Stop after the wave in flight; what the traffic did while the eval ran."""
        if self.process is not None:
            self.ended_early = self.process.poll()
            (self.control / "start").touch()  # a traffic still waiting ends all the same
            (self.control / "stop").touch()
            deadline = time.monotonic() + WAVE_GRACE_S
            while self.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            self.cut = self.process.poll() is None
            self.process.stop()
            shutil.rmtree(self.control, ignore_errors=True)
        return self.summary()

    def summary(self) -> dict[str, Any]:
        isl, osl = traffic_shape(self.ctx.the_spec)
        found = self.folder / "stress_endurance.json"
        record: Mapping[str, Any] = json.loads(found.read_text()) if found.is_file() else {}
        windows = list(record.get("windows") or ())
        run = self.ctx.the_folder.path
        return {
            "concurrency": self.ctx.the_spec.max_concurrency,
            "isl": isl,
            "osl": osl,
            "waves": len(windows),
            "completed": sum(int(w.get("completed") or 0) for w in windows),
            "failed": sum(int(w.get("failed") or 0) for w in windows),
            "ended_early": self.ended_early,
            "cut_at_the_end": self.cut,
            "server_peak": server_peak(self.folder / "server_metrics.jsonl"),
            "files": {
                "log": str((self.folder / "traffic.log").relative_to(run)),
                "results": str(found.relative_to(run)) if found.is_file() else None,
            },
        }


def server_peak(samples: Path) -> dict[str, float | int] | None:
    """The most requests the server said it was running and had waiting while the traffic ran
    (its /metrics, scraped each second): the eval's own and the traffic's together."""
    peaks: dict[str, float] = {}
    scrapes = 0
    for line in samples.read_text().splitlines() if samples.is_file() else ():
        gauges = json.loads(line).get("gauges") or {} if line.strip() else {}
        scrapes += bool(gauges)
        for name in ("running", "waiting"):
            if isinstance(gauges.get(name), (int, float)):
                peaks[name] = max(peaks.get(name, 0.0), float(gauges[name]))
    return {**peaks, "scrapes": scrapes} if peaks else None


def traffic_problem(traffic: Mapping[str, Any]) -> str | None:
    """Why the traffic cannot vouch that the eval ran under load, if it cannot."""
    if traffic["ended_early"] is not None:
        return (
            f"the benchmark traffic ended before the eval did (exit {traffic['ended_early']}; "
            f"see {traffic['files']['log']})"
        )
    return None


def measure(
    ctx: RunContext, plan: TaskPlan, alone: Mapping[str, Any], run_task: RunTask, count: int,
    tokenizer: Path | None,
) -> dict[str, Any]:  # fmt: skip
    """The task again, on the first `count` of its documents, under benchmark traffic: the
    under-load block of its row."""
    loaded = loaded_plan(plan, int(alone["n_samples"]), count)
    traffic = Traffic(ctx, ctx.the_folder.path / "evals" / plan.task.task / "under_load", tokenizer)
    started = time.monotonic()
    traffic.start()
    try:
        row = run_task(loaded, "under_load", traffic.on_line)
    finally:
        load = traffic.finish()
    block = compared(ctx.the_folder.path, plan, alone, row, load)
    return block | {"duration_s": round(time.monotonic() - started, 1)}


def compared(
    run: Path, plan: TaskPlan, alone: Mapping[str, Any], row: Mapping[str, Any],
    traffic: Mapping[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """The under-load run against the same documents alone; an ERROR when either cannot
    vouch for it."""
    kept = {"traffic": dict(traffic), "files": row.get("files")}
    problem = traffic_problem(traffic)
    if row.get("score") is None or problem:
        why = problem or f"lm-eval under load: {row.get('reason') or row.get('status')}"
        return {"status": Status.ERROR, "reason": why} | kept
    keys = plan.task.result_keys
    try:
        paired = pair(
            sample_outcomes([run / p for p in alone["files"]["samples"]], keys),
            sample_outcomes([run / p for p in row["files"]["samples"]], keys),
        )
    except (PairingError, OSError, ValueError, KeyError) as error:
        return {"status": Status.NOT_COMPARABLE, "reason": str(error)} | kept
    return comparison_fields(paired) | kept
