"""The default benchmark sweep measures every performance target of the spec (issue 9, fault 9).

Specs come from the real registry and reach the sweep as `runtime_spec.json` carries them
(`thaw`), through the same entry the benchmarks workflow plans with.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from benchmarking.__main__ import plan_points
from benchmarking.sweep import Point, unmeasured_targets
from workflows.registry.frozen import thaw
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import ModelSpec, PerfTarget

Key = tuple[int, int, int]


def runtime_model_spec(spec: ModelSpec) -> dict[str, Any]:
    """The `model_spec` object of runtime_spec.json for this spec."""
    document = thaw(spec)
    assert isinstance(document, dict)
    return document


def planned(spec: dict[str, Any], workflow_args: dict[str, object] | None = None) -> list[Point]:
    _, points, _ = plan_points("benchmarks", workflow_args or {}, spec)
    return points


def keys(points: list[Point]) -> list[Key]:
    return [(p.isl, p.osl, p.concurrency) for p in points]


def llama_8b_n150(*targets: PerfTarget) -> dict[str, Any]:
    """The registry's Llama-3.1-8B-Instruct on n150 (65536 context, 32 users), its own target
    first and then `targets`."""
    spec = load_registry().find("Llama-3.1-8B-Instruct", "n150")
    return runtime_model_spec(
        dataclasses.replace(spec, perf_reference=(*spec.perf_reference, *targets))
    )


OFF_GRID = (
    PerfTarget(isl=128, osl=128, concurrency=8, num_prompts=64, ttft_ms=60, tput_user=20),
    PerfTarget(isl=10000, osl=1024, concurrency=1, ttft_ms=900, tput_user=20),
    PerfTarget(isl=2048, osl=2048, concurrency=16, num_prompts=16, tput=300),
)


def test_targets_off_the_default_grid_are_added_to_the_sweep() -> None:
    spec = llama_8b_n150(*OFF_GRID)
    without_targets = planned({**spec, "perf_reference": []})
    points = planned(spec)
    wanted = {(t["isl"], t["osl"], t["concurrency"]) for t in spec["perf_reference"]}
    assert wanted <= set(keys(points)), f"targets never measured: {wanted - set(keys(points))}"
    assert set(keys(without_targets)) <= set(keys(points)), "the usual pairs still run"
    assert len(points) == len(without_targets) + len(OFF_GRID)
    assert len(set(keys(points))) == len(points), "no point twice"
    assert keys(points) == sorted(keys(points))
    counts = {(p.isl, p.osl, p.concurrency): p.num_prompts for p in points}
    assert counts[(128, 128, 8)] == 64, "a target's own prompt count is used"
    assert counts[(10000, 1024, 1)] == 2, "else the sweep's rule for that size"
    assert unmeasured_targets(spec, points) == []


def test_a_target_on_a_default_point_is_measured_once_with_its_prompt_count() -> None:
    spec = llama_8b_n150(PerfTarget(isl=128, osl=128, concurrency=32, num_prompts=64, tput=600))
    points = planned(spec)
    at_max = [p for p in points if (p.isl, p.osl, p.concurrency) == (128, 128, 32)]
    assert at_max == [Point(128, 128, 32, 64)]


@pytest.mark.parametrize(
    "spec",
    [s for s in load_registry().specs if s.perf_reference],
    ids=lambda s: s.model_id,
)
def test_every_registry_target_is_in_its_default_sweep(spec: ModelSpec) -> None:
    document = runtime_model_spec(spec)
    points = planned(document)
    for target in spec.perf_reference:
        assert (target.isl, target.osl, target.concurrency) in keys(points), target
    assert unmeasured_targets(document, points) == []


def test_a_target_that_cannot_fit_the_context_is_reported_not_dropped() -> None:
    too_long = PerfTarget(isl=65536, osl=128, concurrency=1, ttft_ms=5000)
    spec = llama_8b_n150(too_long)
    points = planned(spec)
    assert (65536, 128, 1) not in keys(points)
    assert unmeasured_targets(spec, points) == [
        "target ISL 65536 OSL 128 concurrency 1 is not measured: "
        "ISL + OSL = 65664 exceeds max_context 65536"
    ]


def test_workflow_args_replace_the_default_sweep_and_its_targets() -> None:
    spec = llama_8b_n150(*OFF_GRID)
    points = planned(spec, {"isl": "2048", "osl": "128", "concurrency": "4"})
    assert keys(points) == [(2048, 128, 4)]
    notes = unmeasured_targets(spec, points)
    assert len(notes) == 1 + len(OFF_GRID)
    assert notes[0] == (
        "target ISL 128 OSL 128 concurrency 1 is not measured: "
        "the workflow arguments chose other points"
    )


def test_smoke_runs_only_the_smoke_point() -> None:
    points = planned(llama_8b_n150(*OFF_GRID), {"smoke": "true"})
    assert keys(points) == [(32, 16, 1), (32, 16, 32)]
