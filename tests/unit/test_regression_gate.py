"""The regression gate alone: a figure regresses only when its 95% interval lies wholly on the
worse side of the baseline's; overlapping intervals are noise; no interval is not judged."""

from __future__ import annotations

from typing import Any

import pytest

from reports.gate import gate, worse_beyond


@pytest.mark.parametrize(
    ("now", "before", "lower_is_better", "worse"),
    [
        ((110.0, 120.0), (90.0, 100.0), True, True),  # slower, apart
        ((99.0, 120.0), (90.0, 100.0), True, False),  # slower, overlapping
        ((70.0, 80.0), (90.0, 100.0), True, False),  # faster
        ((70.0, 80.0), (90.0, 100.0), False, True),  # less throughput, apart
        ((85.0, 95.0), (90.0, 100.0), False, False),  # less, overlapping
    ],
)
def test_worse_only_beyond_the_baseline_interval(
    now: tuple[float, float], before: tuple[float, float], lower_is_better: bool, worse: bool
) -> None:
    assert worse_beyond(now, before, lower_is_better) is worse


def report(ttft: float, spread: float | None, score: float = 0.6) -> dict[str, Any]:
    bounds = (None, None) if spread is None else (ttft * (1 - spread), ttft * (1 + spread))
    return {
        "metadata": {"run_id": "base"},
        "benchmarks": [
            {
                "isl": 128,
                "osl": 32,
                "concurrency": 8,
                "mean_ttft_ms": ttft,
                "mean_ttft_ms_ci95_low": bounds[0],
                "mean_ttft_ms_ci95_high": bounds[1],
                "tput_user": 50.0,
                "tput_user_ci95_low": 48.0,
                "tput_user_ci95_high": 52.0,
                "output_throughput": 400.0,
                "output_throughput_ci95_low": 390.0,
                "output_throughput_ci95_high": 410.0,
            },
        ],
        "evals": {
            "tasks": [
                {"task": "gsm8k", "score": score, "interval_95": [score - 0.05, score + 0.05]}
            ]
        },
    }


def test_the_gate_names_each_regressed_point_and_figure() -> None:
    found = gate(report(300.0, 0.05, score=0.3), report(100.0, 0.05))
    assert [(r["what"], r["metric"]) for r in found["regressions"]] == [
        ("ISL 128 OSL 32 concurrency 8", "TTFT"),
        ("gsm8k", "score"),
    ]
    assert found["regressions"][0]["message"] == (
        "ISL 128 OSL 32 concurrency 8, TTFT: 100 ms [95, 105] -> 300 ms [285, 315]"
    )
    assert found["baseline"] == "base" and found["unjudged"] == 0


def test_noise_within_the_intervals_passes_and_a_missing_interval_is_not_judged() -> None:
    assert gate(report(104.0, 0.05), report(100.0, 0.05))["regressions"] == []
    unjudged = gate(report(300.0, None), report(100.0, 0.05))
    assert unjudged["regressions"] == [] and unjudged["unjudged"] == 1
