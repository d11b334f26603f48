"""The stress parameter space and modes, from a spec's limits (no third-party imports: the
runner checks workflow arguments with it before anything starts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from benchmarking.settings import Settings, settings_from
from benchmarking.sweep import Point

CONTEXT_FRACTIONS = (1.0, 0.75, 0.5, 0.25, 0.1)
OUTPUT_LENGTHS = (128, 2048)
STRESS_KEYS = ("run_mode", "isl", "osl", "concurrency", "num_prompts", "duration")
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


def _first_int(value: object, default: int) -> int:
    return int(str(value).split(",")[0]) if value is not None else default


def stress_plan(args: Mapping[str, object], max_context: int, max_concurrency: int) -> StressPlan:
    unknown = sorted(set(args) - set(STRESS_KEYS) - set(SHARED_KEYS))
    if unknown:
        raise ValueError(
            f"the stress_tests workflow does not take {', '.join(unknown)}; "
            f"it accepts: {', '.join(STRESS_KEYS + SHARED_KEYS)}"
        )
    settings = settings_from({k: v for k, v in args.items() if k in SHARED_KEYS})
    duration = float(str(args.get("duration", 0)))
    single = args.get("run_mode", "endurance" if duration else "multiple") != "multiple"
    if not single:
        return StressPlan(tuple(parameter_space(max_context, max_concurrency)), 0.0, settings)
    isl, osl = clamp(
        _first_int(args.get("isl"), max_context // 2), _first_int(args.get("osl"), 128), max_context
    )
    concurrency = _first_int(args.get("concurrency"), max_concurrency)
    prompts = _first_int(args.get("num_prompts"), concurrency)
    return StressPlan((Point(isl, osl, concurrency, prompts),), duration, settings)
