"""Each run draws its own prompt seed (so no run measures a prompt cache an earlier one left on a
long-running server), unless `seed=` pins it; the seed is recorded in runtime_spec.json and in
each point's result file, and a release gives benchmarks and stress tests the same one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarking import bench
from benchmarking.client import driver
from benchmarking.settings import SettingsError, settings_from
from benchmarking.sweep import Point
from tests.helpers import Emulator, context
from workflows import cli
from workflows.dispatch import workflow_names
from workflows.options import parse
from workflows.prompt_seed import with_prompt_seed
from workflows.registry.loader import load_registry
from workflows.run_config import RunConfig
from workflows.runtime_spec import build_runtime_spec
from workflows.workflow_args import parse_workflow_args
from workflows.workflow_load import load_args
from workflows.workflow_release import child_config

CPU_SPEC = load_registry().find("SmolLM2-135M-Instruct", "cpu")
POINT = Point(32, 4, 2, 4)


def configured(workflow: str, args: str = "") -> RunConfig:
    """The settings `run.py` builds from this command line, before anything starts."""
    argv = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", workflow]
    argv += ["--server-url", "http://127.0.0.1:9"]
    options = parse([*argv, *(["--workflow-args", args] if args else [])], workflow_names())
    assert options is not None
    return cli._config(options)


def prompts_of(config: RunConfig, tmp_path: Path) -> list[str]:
    """The prompts the benchmarks child makes at POINT from the arguments the runner gives it."""
    ctx = context("http://127.0.0.1:9", tmp_path, "benchmark", **load_args(config, "benchmarks"))
    return [prompt.text for prompt in bench.dataset_for(ctx, POINT).prompts(4, ctx.tokenizer)]


def recorded_args(config: RunConfig) -> dict[str, object]:
    record = json.loads(build_runtime_spec(CPU_SPEC, config, "run-1").to_json())
    return record["run_config"]["workflow_args"]  # type: ignore[no-any-return]


def test_two_runs_without_a_seed_draw_different_seeds_and_prompts(tmp_path: Path) -> None:
    first, second = configured("benchmarks"), configured("benchmarks")
    seeds = (first.workflow_args["seed"], second.workflow_args["seed"])
    assert seeds[0] != seeds[1], "a second run must not resend the first one's prompts"
    assert (recorded_args(first)["seed"], recorded_args(second)["seed"]) == seeds
    assert prompts_of(first, tmp_path) != prompts_of(second, tmp_path)


def test_a_given_seed_pins_the_prompts(tmp_path: Path) -> None:
    first, second = configured("benchmarks", "seed=1234"), configured("benchmarks", "seed=1234")
    assert first.workflow_args["seed"] == second.workflow_args["seed"] == 1234
    assert recorded_args(first)["seed"] == 1234
    assert prompts_of(first, tmp_path) == prompts_of(second, tmp_path)


def test_the_seed_is_drawn_only_for_workflows_that_send_prompts() -> None:
    assert isinstance(configured("stress_tests").workflow_args["seed"], int)
    assert "seed" not in configured("spec_tests").workflow_args
    server = RunConfig(model="m", device="cpu", workflow="server")
    assert with_prompt_seed(server, lambda: 5) is server


def test_a_release_gives_benchmarks_and_stress_tests_one_seed() -> None:
    release = configured("release", "stress=true")
    seed = release.workflow_args["seed"]
    children = {
        name: dict(child_config(release, name, CPU_SPEC).workflow_args)
        for name in ("evals", "benchmarks", "spec_tests", "stress_tests")
    }
    assert children["benchmarks"] == {"sweep": "targets", "seed": seed}, "still the targets"
    assert children["stress_tests"] == {"seed": seed}
    assert "seed" not in children["evals"] and "seed" not in children["spec_tests"]
    own = configured("release", "stress=true benchmarks.seed=5")
    assert child_config(own, "benchmarks", CPU_SPEC).workflow_args["seed"] == 5
    assert (
        child_config(own, "stress_tests", CPU_SPEC).workflow_args["seed"]
        == own.workflow_args["seed"]
    )


def test_the_load_generator_on_its_own_draws_a_seed_and_records_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    """`python -m benchmarking` given no seed draws one; each point's result file says which."""
    assert settings_from({}, draw=lambda: 77).seed == 77
    assert settings_from({}).seed != settings_from({}).seed
    assert settings_from({"seed": 9}, draw=lambda: 77).seed == 9
    ctx = context(emulator("--ttft-ms", "1", "--itl-ms", "1"), tmp_path)
    document = bench.run_point(ctx, POINT, lambda plan, total: driver.run(plan))
    [path] = tmp_path.glob("benchmark_*[0-9].json")
    assert document["seed"] == json.loads(path.read_text())["seed"] == ctx.settings.seed


def test_a_seed_that_is_no_number_is_refused() -> None:
    with pytest.raises(SettingsError, match="seed: expected a whole number"):
        settings_from({"seed": "abc"})


def test_workflow_args_seed_reaches_the_child_as_given() -> None:
    config = RunConfig(
        model="m", device="cpu", workflow="benchmarks", workflow_args=parse_workflow_args("seed=3")
    )
    assert load_args(with_prompt_seed(config, lambda: 5), "benchmarks") == {"seed": 3}
