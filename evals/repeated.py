"""`--repeat-evals N`: a sampled task (temperature above 0) run N times, each with a seed of its
own; its row keeps every run's score and is judged on their mean, with the Wilson interval over
all the samples scored. A greedy task (temperature 0) gives the same answers again: it runs once."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from evals.config import EvalTask
from evals.plan import TaskPlan
from evals.scoring import judge

INTERVAL_METHOD = "Wilson over the samples of every run"


def sampled(task: EvalTask) -> bool:
    """Whether the task samples its answers (a temperature above 0), so runs differ."""
    temperature = task.gen_kwargs.get("temperature", 0)
    return isinstance(temperature, (int, float)) and temperature > 0


def runs_for(plan: TaskPlan, repeat: int) -> list[TaskPlan]:
    """The plan once, or (a sampled task) `repeat` times, seeds counting up from the task's."""
    if repeat <= 1 or not sampled(plan.task):
        return [plan]
    return [
        dataclasses.replace(plan, task=dataclasses.replace(plan.task, seed=plan.task.seed + run))
        for run in range(repeat)
    ]


def _run_entry(run: int, row: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("seed", "status", "score", "n_samples", "interval_95", "files")
    return {"run": run, **{key: row.get(key) for key in keep}}


def summary_row(plan: TaskPlan, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One row for the task: each run's score, their mean judged with the pooled interval; a
    run that scored nothing (an ERROR) makes the whole task an ERROR."""
    if len(rows) == 1:
        return dict(rows[0])
    runs = [_run_entry(run, row) for run, row in enumerate(rows, 1)]
    broken = [row for row in rows if row.get("score") is None]
    if broken:
        number = rows.index(broken[0]) + 1
        return dict(broken[0]) | {"runs": runs, "reason": f"run {number}: {broken[0]['reason']}"}
    scores = [float(row["score"]) for row in rows]
    total = sum(int(row["n_samples"]) for row in rows)
    mean = statistics.fmean(scores)
    verdict = judge(plan.task, mean, total, plan.limit, plan.samples is not None)
    reason = f"mean of {len(rows)} runs ({', '.join(f'{s:.4f}' for s in scores)}): {verdict.reason}"
    return dict(rows[0]) | {
        "status": verdict.status,
        "reason": reason,
        "score": mean,
        "n_samples": total,
        "interval_95": list(verdict.interval) if verdict.interval else None,
        "marginal": verdict.marginal,
        "ratio_to_reference": verdict.ratio_to_reference,
        "ratio_to_published": verdict.ratio_to_published,
        "seed": plan.task.seed,
        "runs": runs,
        "interval_method": INTERVAL_METHOD,
    }
