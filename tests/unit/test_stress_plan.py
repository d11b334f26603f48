"""The stress parameter space and its modes, from a spec's limits."""

from __future__ import annotations

import pytest

from benchmarking.stress_plan import clamp, concurrency_levels, parameter_space, stress_plan
from benchmarking.sweep import Point, sweep


def test_parameter_space_covers_context_edges_and_concurrency_levels() -> None:
    points = parameter_space(max_context=4096, max_concurrency=8)
    assert all(p.isl + p.osl <= 4096 for p in points)
    pairs = {(p.isl, p.osl) for p in points}
    assert (3968, 128) in pairs, "100% of the context, less the output"
    assert (2048, 2048) in pairs and (409, 128) in pairs and (409, 2048) in pairs
    assert {p.concurrency for p in points} == {1, 2, 4, 8}
    assert all(p.num_prompts == p.concurrency for p in points)


def test_clamp_shortens_output_then_input() -> None:
    assert clamp(4096, 2048, 2048) == (1024, 1024)
    assert clamp(100, 128, 4096) == (100, 128)
    assert concurrency_levels(1) == [1, 2]


def test_single_point_and_endurance_modes() -> None:
    single = stress_plan({"run_mode": "single", "isl": 256, "osl": 16, "concurrency": 2}, 4096, 8)
    assert single.points == (Point(256, 16, 2, 2),) and single.duration_s == 0
    endurance = stress_plan({"duration": 60, "isl": 5000}, 4096, 8)
    assert endurance.duration_s == 60
    assert endurance.points == (Point(3968, 128, 8, 8),), "clamped to the context"


def test_unknown_stress_argument_is_rejected() -> None:
    with pytest.raises(ValueError, match="does not take colour; it accepts: run_mode"):
        stress_plan({"colour": "red"}, 4096, 8)


def test_benchmark_sweep_for_the_cpu_spec() -> None:
    points = sweep(max_context=4096, max_concurrency=8)
    assert [(p.isl, p.osl, p.concurrency, p.num_prompts) for p in points] == [
        (128, 128, 1, 8),
        (128, 128, 8, 64),
        (128, 1024, 1, 4),
        (128, 1024, 3, 12),
        (1024, 128, 1, 4),
        (1024, 128, 3, 12),
        (2048, 128, 1, 4),
    ]
    llama = sweep(max_context=65536, max_concurrency=32)
    assert (2048, 128, 30, 120) in [(p.isl, p.osl, p.concurrency, p.num_prompts) for p in llama]
    assert max(p.isl + p.osl for p in llama) <= 65536


def test_each_sweep_point_gets_its_own_prompts() -> None:
    from benchmarking.sweep import point_seed

    first, second = Point(128, 128, 1, 8), Point(128, 1024, 1, 4)
    assert point_seed(0, first) != point_seed(0, second), "no prefix-cache hits across points"
    assert point_seed(0, first) == point_seed(0, Point(128, 128, 1, 8)), "and still repeatable"
    assert point_seed(1, first) != point_seed(0, first)
