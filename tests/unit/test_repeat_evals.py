"""`--repeat-evals N`: a sampled eval task runs N times, a seed each, and is judged on the mean
of its runs with the interval over all their samples; a greedy task runs once. A task its
interval could not decide is marked MARGINAL on the console."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from evals.plan import plan_task
from evals.repeated import runs_for, sampled, summary_row
from evals.table import evals_table
from evals.task_result import scored_row
from tests.helpers import EVAL_TASK as TASK
from tests.helpers import Run, lm_eval_results
from tests.unit.test_runner_flags import CPU, config_of

SAMPLED = replace(TASK, gen_kwargs={"temperature": 0.6, "do_sample": True})


def run_row(tmp_path: Path, run: int, score: float, n: int = 30) -> dict[str, object]:
    """One run's row as the evals workflow scores it from lm-eval's results file."""
    path = tmp_path / f"results-{run}.json"
    path.write_text(json.dumps(lm_eval_results({"exact_match,strict-match": score}, n)))
    plan = runs_for(plan_task(SAMPLED, "llama_cpp", 4096, 8, None, {}), 3)[run - 1]
    return scored_row(plan, path, {"results": path.name})


def test_only_a_sampled_task_runs_again_each_time_with_a_seed_of_its_own() -> None:
    greedy = plan_task(TASK, "llama_cpp", 4096, 8, None, {})
    assert not sampled(TASK) and runs_for(greedy, 3) == [greedy]
    runs = runs_for(plan_task(SAMPLED, "llama_cpp", 4096, 8, None, {}), 3)
    assert [run.task.seed for run in runs] == [TASK.seed, TASK.seed + 1, TASK.seed + 2]


def test_the_task_is_judged_on_the_mean_of_its_runs(tmp_path: Path) -> None:
    plan = plan_task(SAMPLED, "llama_cpp", 4096, 8, None, {})
    rows = [run_row(tmp_path, run, score) for run, score in ((1, 0.6), (2, 0.7), (3, 0.8))]
    row = summary_row(plan, rows)
    assert row["score"] == pytest.approx(0.7) and row["n_samples"] == 90
    assert [(r["run"], r["seed"], r["score"]) for r in row["runs"]] == [
        (1, TASK.seed, 0.6),
        (2, TASK.seed + 1, 0.7),
        (3, TASK.seed + 2, 0.8),
    ]
    low, high = row["interval_95"]
    assert low < 0.7 < high and high - low < 0.2, "90 samples: narrower than one run's 30"
    assert row["reason"].startswith("mean of 3 runs (0.6000, 0.7000, 0.8000): ")
    assert row["interval_method"] == "Wilson over the samples of every run"


def test_a_run_that_scored_nothing_makes_the_task_an_error(tmp_path: Path) -> None:
    plan = plan_task(SAMPLED, "llama_cpp", 4096, 8, None, {})
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(lm_eval_results({"other,none": 0.9})))
    rows = [run_row(tmp_path, 1, 0.6), scored_row(plan, broken, {})]
    row = summary_row(plan, rows)
    assert row["status"] == "ERROR" and row["reason"].startswith("run 2: ")


def test_repeat_evals_reaches_the_run_and_is_refused_where_no_eval_runs(run_cli: Run) -> None:
    assert config_of("--workflow", "release", "--repeat-evals", "3").repeat_evals == 3
    refused = run_cli(*CPU, "--workflow", "benchmarks", "--repeat-evals", "2")
    assert refused.code == 2 and "--repeat-evals sets what evals run" in refused.err
    zero = run_cli(*CPU, "--workflow", "evals", "--repeat-evals", "0")
    assert zero.code == 2 and "run each task at least once" in zero.err


def test_the_evals_table_marks_a_marginal_task() -> None:
    row = {"task": "qa", "n_samples": 30, "score": 0.5, "status": "PASS", "marginal": True}
    console = Console(record=True, width=200)
    console.print(evals_table([row], "evals"))
    assert "PASS MARGINAL" in console.export_text()
