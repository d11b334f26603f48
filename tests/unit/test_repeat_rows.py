"""`--repeat` and the request rows: each row says which measurement of its point it came from,
so a summary's rows (every repeat's) can be told apart; and why an endurance run refuses it."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from benchmarking import __main__ as benchmarks_main
from benchmarking.client import driver
from benchmarking.settings import SettingsError
from benchmarking.stress_plan import stress_plan
from benchmarking.sweep import Point
from tests.helpers import Emulator, context
from workflows.errors import UsageError
from workflows.workflow_args import parse_workflow_args
from workflows.workflow_load import STRESS_TESTS

POINT = Point(16, 4, 2, 6)
ROWS = "benchmark_isl-16_osl-4_maxcon-2_n-6_requests.jsonl"


def in_process(plan: driver.Plan, total: int) -> driver.RunOutcome:
    del total
    return driver.run(plan)


def measured(url: str, out: Path, repeat: int) -> dict[str, Any]:
    ctx = context(url, out, seed=5, repeat=repeat)
    console = Console(file=io.StringIO())
    return benchmarks_main.measured(ctx, console, POINT, None, lambda label: in_process, {})


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_request_row_names_its_repeat(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator("--ttft-ms", "2", "--itl-ms", "1")
    measured(url, tmp_path / "twice", repeat=3)
    pooled = rows(tmp_path / "twice" / ROWS)
    assert [row["repeat"] for row in pooled] == [1] * 6 + [2] * 6 + [3] * 6
    second = rows(tmp_path / "twice" / ROWS.replace("_requests", "_repeat-2_requests"))
    assert {row["repeat"] for row in second} == {2}
    assert [(row["repeat"], row["index"]) for row in pooled][5:8] == [(1, 5), (2, 0), (2, 1)]
    measured(url, tmp_path / "once", repeat=1)
    assert {row["repeat"] for row in rows(tmp_path / "once" / ROWS)} == {None}


def test_an_endurance_run_refuses_repeat_and_says_what_to_give_instead() -> None:
    with pytest.raises(SettingsError, match="give a longer duration instead"):
        stress_plan({"duration": 60, "repeat": 2}, max_context=4096, max_concurrency=8)
    single = stress_plan({"run_mode": "single", "repeat": 2}, max_context=4096, max_concurrency=8)
    assert single.settings.repeat == 2 and single.duration_s == 0
    assert stress_plan({"duration": 60, "repeat": 1}, 4096, 8).duration_s == 60


def test_the_runner_refuses_repeat_for_an_endurance_run_before_it_starts() -> None:
    from workflows.run_config import RunConfig

    config = RunConfig(
        model="SmolLM2-135M-Instruct", device="cpu", workflow="stress_tests", local_server=True,
        workflow_args=parse_workflow_args("duration=600 repeat=3"),
    )  # fmt: skip
    with pytest.raises(UsageError, match="--workflow-args: repeat: an endurance run"):
        STRESS_TESTS.check_args(config)
