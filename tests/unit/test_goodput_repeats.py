"""A `must` goodput share of a requirements file whose Wilson interval straddles its minimum is
measured again like a target check (issue 21, part 2): fresh prompts, up to max_repeats, the
share then over every repeat's requests. Against the emulator with a known jitter (TTFT uniform
in 100-300 ms, seeded), so the outcome is repeatable."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from benchmarking import __main__ as benchmarks_main
from benchmarking.client import driver
from benchmarking.sweep import Point
from reports.requirements import check_requirements, grade_goodput
from reports.run_data import REQUIREMENTS_FILE
from reports.run_data import Point as ResultPoint
from tests.helpers import Emulator, context

JITTERY = ("--ttft-ms", "200", "--itl-ms", "2", "--jitter", "0.5", "--jitter-seed", "11")
POINT = Point(16, 4, 1, 12)
SPEC = {"status": "functional", "max_repeats": 3, "perf_reference": []}


def in_process(plan: driver.Plan, total: int) -> driver.RunOutcome:
    del total
    return driver.run(plan)


def measure_with(url: str, run: Path, requirements: dict[str, Any] | None) -> dict[str, Any]:
    """One point as the benchmarks child measures it, in <run>/benchmarks, with the run's
    requirements file saved where a release saves it."""
    if requirements is not None:
        checked = check_requirements(requirements, "slo.yaml")
        run.mkdir(parents=True, exist_ok=True)
        (run / REQUIREMENTS_FILE).write_text(json.dumps(checked))
    ctx = context(url, run / "benchmarks", seed=11)
    console = Console(file=io.StringIO())
    return benchmarks_main.measured(ctx, console, POINT, None, lambda label: in_process, SPEC)


def goodput(ttft_ms: float, min_share: float, priority: str = "must") -> dict[str, Any]:
    return {"slo": {"ttft_ms": ttft_ms}, "goodput": {"min_share": min_share, "priority": priority}}


MUST_ACCURACY = {  # a file needs one `must` item; this one does not bear on the benchmarks
    "accuracy": [{"task": "readiness_basics", "min_score": 0.5, "priority": "must"}]
}


def repeats_of(run: Path) -> int:
    return len(list((run / "benchmarks").glob("benchmark_*_repeat-*[0-9].json")))


def test_a_straddling_goodput_share_is_measured_again_up_to_max_repeats(
    emulator: Emulator, tmp_path: Path
) -> None:
    """About half the requests meet a 200 ms TTFT: 12 of them cannot tell that share from a
    minimum of one half, nor can 36."""
    document = measure_with(emulator(*JITTERY), tmp_path, goodput(200.0, 0.5))
    assert repeats_of(tmp_path) == 3 and document["completed"] == 36
    assert document["repeat_reason"] == (
        "the interval straddled an enforced target (goodput): measured 3 times, at most "
        "max_repeats 3"
    )
    path = tmp_path / "benchmarks" / "benchmark_isl-16_osl-4_maxcon-1_n-12.json"
    requirements = json.loads((tmp_path / REQUIREMENTS_FILE).read_text())
    [grade] = grade_goodput(requirements, [ResultPoint(document, path)])  # as the report reads it
    assert grade.marginal and "of 36 requests met the SLOs" in grade.detail
    repeats = [row["repeat"] for row in ResultPoint(document, path).request_rows()]
    assert repeats == [1] * 12 + [2] * 12 + [3] * 12, "the first, measured once, became repeat 1"


@pytest.mark.parametrize(
    "requirements",
    [
        goodput(1000.0, 0.5),  # every request meets it: the interval lies above the minimum
        goodput(200.0, 0.5, priority="should") | MUST_ACCURACY,  # straddles, blocks nothing
        None,  # no requirements file: nothing to hold the share to
    ],
    ids=["clearly-met", "should", "no-requirements"],
)
def test_a_goodput_share_its_interval_decides_is_measured_once(
    emulator: Emulator, tmp_path: Path, requirements: dict[str, Any] | None
) -> None:
    document = measure_with(emulator(*JITTERY), tmp_path, requirements)
    assert repeats_of(tmp_path) == 0 and document["completed"] == 12
