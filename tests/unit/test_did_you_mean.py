"""Did-you-mean everywhere (issue 22, item 3): a mistyped workflow or workflow argument is one
line naming the nearest valid name, and the list of what is accepted leaves none out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarking.arg_values import SettingsError
from benchmarking.settings import settings_from
from benchmarking.stress_plan import stress_plan
from tests.helpers import CliResult

Run = Callable[..., CliResult]
CPU = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu"]
NOWHERE = ["--server-url", "http://127.0.0.1:9"]  # never contacted: the checks come first


def usage_line(result: CliResult) -> str:
    assert result.code == 2, result.out + result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    return lines[0]


def test_a_mistyped_workflow_names_the_nearest(run_cli: Run) -> None:
    line = usage_line(run_cli(*CPU, "--workflow", "benchmark", *NOWHERE))
    assert "unknown workflow 'benchmark' (did you mean benchmarks?)" in line
    assert "valid workflows: server, benchmarks" in line


def test_a_workflow_unlike_any_suggests_none(run_cli: Run) -> None:
    line = usage_line(run_cli(*CPU, "--workflow", "zzzz", *NOWHERE))
    assert "did you mean" not in line and "valid workflows:" in line


@pytest.mark.parametrize(
    ("workflow", "args", "hint"),
    [
        ("benchmarks", "concurency=2", "does not take concurency (did you mean concurrency?)"),
        ("stress_tests", "duratoin=5", "does not take duratoin (did you mean duration?)"),
        ("evals", "taks=x", "does not take taks (did you mean tasks?)"),
        ("spec_tests", "onyl=chat", "does not take onyl (did you mean only?)"),
        ("server", "ready_timout=3", "does not take ready_timout (did you mean ready_timeout?)"),
    ],
)
def test_a_mistyped_key_names_the_nearest_and_every_accepted_key(
    run_cli: Run, workflow: str, args: str, hint: str
) -> None:
    line = usage_line(run_cli(*CPU, "--workflow", workflow, *NOWHERE, "--workflow-args", args))
    assert hint in line
    accepted = line.split("it accepts: ")[1].split(", ")
    assert {"ready_timeout", "served_model"} <= set(accepted), "the runner's own keys are taken"


def test_a_mistyped_eval_task_names_the_nearest(run_cli: Run) -> None:
    line = usage_line(
        run_cli(*CPU, "--workflow", "evals", *NOWHERE, "--workflow-args", "tasks=readines_basics")
    )
    assert "readines_basics (did you mean readiness_basics?) is not an eval task" in line


def test_each_mistyped_key_gets_its_own_suggestion(run_cli: Run) -> None:
    line = usage_line(
        run_cli(*CPU, "--workflow", "benchmarks", *NOWHERE, "--workflow-args", "isll=1 oss=2")
    )
    assert "does not take isll (did you mean isl?), oss (did you mean osl?);" in line


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        ("concurency=2", "release does not take concurency (did you mean benchmarks.concurrency?)"),
        ("tasks=x", "release does not take tasks (did you mean evals.tasks?)"),
        ("sed=3", "release does not take sed (did you mean seed?)"),
        ("benchmark.isl=128", "'benchmark' is none of them (did you mean benchmarks?)"),
        ("benchmarks.concurency=2", "(did you mean concurrency?)"),
    ],
)
def test_a_release_suggests_the_namespaced_key(run_cli: Run, args: str, hint: str) -> None:
    line = usage_line(run_cli(*CPU, "--workflow", "release", *NOWHERE, "--workflow-args", args))
    assert hint in line


def test_the_release_lists_its_own_keys_the_runners_among_them(run_cli: Run) -> None:
    line = usage_line(
        run_cli(*CPU, "--workflow", "release", *NOWHERE, "--workflow-args", "colour=red")
    )
    assert "it takes ready_timeout, seed, served_model, stress, workflows and" in line


def test_the_load_generator_on_its_own_suggests_too() -> None:
    with pytest.raises(SettingsError, match=r"concurency \(did you mean concurrency\?\)"):
        settings_from({"concurency": 2})
    with pytest.raises(SettingsError, match=r"run_mod \(did you mean run_mode\?\)"):
        stress_plan({"run_mod": "single"}, max_context=4096, max_concurrency=8)
