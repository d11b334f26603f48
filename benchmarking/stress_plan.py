"""The stress parameter space and modes, from a spec's limits (no third-party imports: the
runner checks workflow arguments with it before anything starts)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmarking.arg_values import SettingsError, number, unknown_keys, wholes
from benchmarking.settings import Settings, settings_from
from benchmarking.sweep import Point, at_rates

CONTEXT_FRACTIONS = (1.0, 0.75, 0.5, 0.25, 0.1)
OUTPUT_LENGTHS = (128, 2048)
STRESS_KEYS = ("run_mode", "isl", "osl", "concurrency", "num_prompts", "duration")
RUN_MODES = ("multiple", "single", "endurance")  # the parameter space, one point, or repeated
SHARED_KEYS = (
    "endpoint",
    "seed",
    "percentiles",
    "workers",
    "ignore_eos",
    "warmups",
    "max_failed",
    "request_timeout",
    "percentile_report",
    "telemetry_interval",
    "repeat",
    "dataset",  # run_mode=single only: a user's prompts or conversations, or ShareGPT
    "dataset_path",
    "rate",  # load shapes (benchmarking/shape_args.py): each point at each rate, or a ramp
    "burstiness",
    "ramp",
    "ramp_start",
    "ramp_end",
)


ENDURANCE_REPEAT = (
    "repeat: an endurance run (duration=) measures its point again in every window, with fresh "
    "prompts, for the whole duration: give a longer duration instead (repeat works with "
    "run_mode=single and multiple)"
)


@dataclass(frozen=True)
class StressPlan:
    points: tuple[Point, ...]
    duration_s: float  # 0: one pass over the points; >0: endurance, repeating the first point
    settings: Settings = field(default_factory=Settings)  # keys shared with benchmarks


def concurrency_levels(max_concurrency: int) -> list[int]:
    return sorted({1, 2, max(max_concurrency // 2, 1), max_concurrency} - {0})


def clamp(isl: int, osl: int, max_context: int) -> tuple[int, int]:
    """Fit ISL + OSL into the context, shortening the output first, then the input."""
    osl = min(osl, max_context // 2)
    return max(min(isl, max_context - osl), 1), osl


def parameter_space(max_context: int, max_concurrency: int) -> list[Point]:
    pairs: list[tuple[int, int]] = []
    for fraction in CONTEXT_FRACTIONS:
        for osl in OUTPUT_LENGTHS:
            pair = clamp(int(max_context * fraction), osl, max_context)
            if pair not in pairs:
                pairs.append(pair)
    return [
        Point(isl, osl, c, c) for isl, osl in pairs for c in concurrency_levels(max_concurrency)
    ]


def _first_int(args: Mapping[str, object], key: str, default: int) -> int:
    given = wholes(args.get(key), key)
    return given[0] if given else default


def _duration(value: object) -> float:
    expected = "a number of seconds, 0 or more (finite; 0: one pass over the points)"
    return number(value, "duration", lambda x: 0 <= x < math.inf, expected)


def _run_mode(value: object, duration: float) -> str:
    mode = str(value) if value is not None else ("endurance" if duration else "multiple")
    if mode not in RUN_MODES:
        raise SettingsError(f"run_mode: expected one of {', '.join(RUN_MODES)}, got {value!r}")
    return mode


def _dataset_point(settings: Settings, mode: str, concurrency: int, prompts: int) -> StressPlan:
    """One point of the dataset's own lengths: the whole file unless num_prompts says."""
    if mode != "single":
        raise SettingsError(
            f"dataset={settings.dataset} runs as one stress point: add run_mode=single"
        )
    count = prompts or settings.dataset_size or concurrency
    return StressPlan((Point(0, 0, concurrency, count),), 0.0, settings)


def stress_plan(args: Mapping[str, object], max_context: int, max_concurrency: int) -> StressPlan:
    """The points (each at each `rate`) and the endurance duration the arguments ask for."""
    plan = _points_of(args, max_context, max_concurrency)
    if plan.duration_s and len(plan.settings.rate) > 1:
        raise SettingsError("an endurance run repeats one point: give one rate, not several")
    return dataclasses.replace(plan, points=tuple(at_rates(plan.points, plan.settings.rate)))


def _points_of(args: Mapping[str, object], max_context: int, max_concurrency: int) -> StressPlan:
    unknown_keys("stress_tests", args, STRESS_KEYS + SHARED_KEYS)
    settings = settings_from({k: v for k, v in args.items() if k in SHARED_KEYS})
    duration = _duration(args.get("duration", 0))
    lengths = {key: _first_int(args, key, 0) for key in ("isl", "osl", "num_prompts")}
    concurrency = _first_int(args, "concurrency", max_concurrency)
    mode = _run_mode(args.get("run_mode"), duration)
    if duration and mode != "multiple" and settings.repeat > 1:
        raise SettingsError(ENDURANCE_REPEAT)
    if settings.dataset != "random":
        return _dataset_point(settings, mode, concurrency, lengths["num_prompts"])
    if mode == "multiple":
        return StressPlan(tuple(parameter_space(max_context, max_concurrency)), 0.0, settings)
    isl, osl = clamp(lengths["isl"] or max_context // 2, lengths["osl"] or 128, max_context)
    prompts = lengths["num_prompts"] or concurrency
    return StressPlan((Point(isl, osl, concurrency, prompts),), duration, settings)
