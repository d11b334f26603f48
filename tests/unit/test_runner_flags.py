"""The upstream runner's flags made real: --engine (test_registry.py), --ci-mode,
--percentile-report, --concurrency-sweeps and --repeat: what each changes and where each is
refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from benchmarking import report
from benchmarking.settings import settings_from
from benchmarking.sweep import concurrency_levels, plan_sweep
from tests.helpers import Run
from workflows.cli import _config
from workflows.dispatch import workflow_names
from workflows.options import parse
from workflows.run_config import RunConfig
from workflows.workflow_load import load_args

CPU = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--local-server"]


def config_of(*argv: str) -> RunConfig:
    options = parse([*CPU, *argv], workflow_names())
    assert options is not None
    return _config(options)


@pytest.mark.parametrize(
    ("highest", "levels"),
    [(8, [1, 2, 4, 8]), (6, [1, 2, 4, 6]), (1, [1]), (32, [1, 2, 4, 8, 16, 32])],
)
def test_concurrency_sweeps_are_powers_of_two_and_the_maximum(
    highest: int, levels: list[int]
) -> None:
    assert concurrency_levels(highest, powers=True) == levels
    assert concurrency_levels(highest) == sorted({1, highest})


def test_the_sweep_with_concurrency_sweeps_covers_every_level() -> None:
    settings = settings_from({"concurrency_sweeps": True})
    points = plan_sweep(4096, 8, settings)
    at_128 = [p.concurrency for p in points if (p.isl, p.osl) == (128, 128)]
    assert at_128 == [1, 2, 4, 8]
    long = [p.concurrency for p in points if (p.isl, p.osl) == (2048, 128)]
    assert long == [1]  # 4096 // 2176 = 1: the context allows one request at a time
    chosen = plan_sweep(4096, 8, settings_from({"concurrency_sweeps": True, "isl": "64"}))
    assert [p.concurrency for p in chosen] == [1, 2, 4, 8]


def test_ci_mode_sets_the_nightly_limit_unless_the_user_chose_one() -> None:
    assert config_of("--workflow", "evals", "--ci-mode").limit_samples_mode == "ci-nightly"
    chosen = config_of("--workflow", "evals", "--ci-mode", "--limit-samples-mode", "smoke")
    assert chosen.limit_samples_mode == "smoke"  # upstream overwrites it; the user wins here
    assert config_of("--workflow", "release", "--ci-mode").limit_samples_mode == "ci-nightly"
    benchmarks = config_of("--workflow", "benchmarks", "--ci-mode")
    assert benchmarks.ci_mode and benchmarks.limit_samples_mode is None
    samples = config_of("--workflow", "evals", "--ci-mode", "--eval-samples", '{"t": [0]}')
    assert samples.limit_samples_mode is None


def test_load_flags_reach_the_load_generator() -> None:
    seeded = ("--workflow-args", "seed=1")  # given, or the runner draws one
    release = config_of(
        "--workflow", "release", "--percentile-report", "--concurrency-sweeps", *seeded
    )
    assert load_args(release, "benchmarks") == {
        "seed": 1,
        "percentile_report": True,
        "concurrency_sweeps": True,
    }
    assert load_args(release, "stress_tests") == {"seed": 1, "percentile_report": True}
    plain = config_of("--workflow", "benchmarks", "--workflow-args", "smoke=true seed=1")
    assert load_args(plain, "benchmarks") == {"smoke": True, "seed": 1}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workflow", "evals", "--percentile-report"], "the evals workflow runs none"),
        (["--workflow", "stress_tests", "--concurrency-sweeps"], "use --workflow benchmarks or"),
        (
            [
                "--workflow",
                "benchmarks",
                "--concurrency-sweeps",
                "--workflow-args",
                "concurrency=2",
            ],
            "both choose the concurrency levels",
        ),
    ],
)
def test_load_flags_are_refused_where_they_change_nothing(
    run_cli: Run, argv: list[str], message: str
) -> None:
    result = run_cli(*CPU, *argv)
    assert result.code == 2 and message in result.err


def test_the_percentile_table_shows_each_percentile(tmp_path: Path) -> None:
    document = {
        "isl": 128, "osl": 32, "concurrency": 2, "num_prompts": 4, "completed": 4, "failed": 0,
        "mean_ttft_ms": 10.0, "p50_ttft_ms": 9.0, "p90_ttft_ms": 14.0, "p99_ttft_ms": 19.5,
    }  # fmt: skip
    console = Console(record=True, width=200)
    code = report.verdict(console, [document], 0.0, tmp_path, "stress_tests", True, (50, 90, 99))
    text = console.export_text()
    assert code == 0
    assert "stress_tests: percentiles (ms)" in text
    ttft = next(line for line in text.splitlines() if "TTFT" in line and "C 2" in line)
    assert ttft.replace("│", " ").split()[-4:] == ["10.0", "9.0", "14.0", "19.5"]


def test_repeat_reaches_every_load_child_of_a_release() -> None:
    release = config_of("--workflow", "release", "--repeat", "3", "--workflow-args", "seed=1")
    assert load_args(release, "benchmarks") == {"seed": 1, "repeat": 3}
    assert load_args(release, "stress_tests") == {"seed": 1, "repeat": 3}
    assert settings_from(load_args(release, "benchmarks")).repeat == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workflow", "evals", "--repeat", "2"], "--repeat changes what the load generator"),
        (["--workflow", "benchmarks", "--repeat", "0"], "measure each point at least once"),
    ],
)
def test_repeat_is_refused_where_it_changes_nothing(
    run_cli: Run, argv: list[str], message: str
) -> None:
    result = run_cli(*CPU, *argv)
    assert result.code == 2 and message in result.err
