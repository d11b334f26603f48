"""The sweep a spec implies: (ISL, OSL) pairs that fit its context, at concurrency 1 and max,
plus every point the spec has a performance target for."""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ISL_OSL_PAIRS = (
    (128, 128),
    (128, 1024),
    (1024, 128),
    (2048, 128),
    (4096, 128),
    (8192, 128),
    (8192, 1024),
    (16384, 128),
    (32768, 128),
    (65536, 128),
    (131072, 128),
)
SMOKE_PAIR = (32, 16)


@dataclass(frozen=True)
class Point:
    isl: int
    osl: int
    concurrency: int
    num_prompts: int
    rate: float = math.inf  # requests per second; inf: all at once (closed loop by concurrency)

    @property
    def rate_tag(self) -> str:
        """'_rate-2.5' in a finite rate's file names and seeds; nothing for all at once."""
        return "" if math.isinf(self.rate) else f"_rate-{self.rate:g}"


def num_prompts(isl: int, osl: int, concurrency: int) -> int:
    """More prompts for short requests, so each point lasts long enough to be steady."""
    if osl > 1024 or isl > 16384:
        return concurrency
    if isl > 4096:
        return 2 * concurrency
    if 128 < osl <= 1024 or 128 < isl <= 4096:
        return 4 * concurrency
    return 8 * concurrency


@dataclass(frozen=True)
class TargetPoint:
    """A point a `perf_reference` target is set at, matched on (ISL, OSL, concurrency)."""

    isl: int
    osl: int
    concurrency: int
    num_prompts: int | None = None

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.isl, self.osl, self.concurrency)

    def fits(self, max_context: int) -> bool:
        return self.isl + self.osl <= max_context

    def point(self) -> Point:
        count = self.num_prompts or num_prompts(self.isl, self.osl, self.concurrency)
        return Point(self.isl, self.osl, self.concurrency, count)


def concurrency_levels(highest: int, powers: bool = False) -> list[int]:
    """1 and the highest level; with `powers`, every power of two below it too."""
    levels = {1, highest}
    if powers:
        levels |= {2**k for k in range(highest.bit_length()) if 2**k < highest}
    return sorted(levels)


def sweep(
    max_context: int, max_concurrency: int, smoke: bool = False, powers: bool = False
) -> list[Point]:
    pairs = (SMOKE_PAIR,) if smoke else ISL_OSL_PAIRS
    points: list[Point] = []
    for isl, osl in pairs:
        if isl + osl > max_context:
            continue
        highest = max(min(max_context // (isl + osl), max_concurrency), 1)
        for concurrency in concurrency_levels(highest, powers):
            prompts = 2 * concurrency if smoke else num_prompts(isl, osl, concurrency)
            points.append(Point(isl, osl, concurrency, prompts))
    return points


def with_targets(
    points: Iterable[Point], targets: Iterable[TargetPoint], max_context: int
) -> list[Point]:
    """The points plus each target that fits the context, once per (ISL, OSL, concurrency); a
    target's own prompt count wins where it sets one."""
    planned = {(p.isl, p.osl, p.concurrency): p for p in points}
    for target in targets:
        if target.fits(max_context) and (target.num_prompts or target.key not in planned):
            planned[target.key] = target.point()
    return sorted(planned.values(), key=lambda p: (p.isl, p.osl, p.concurrency))


def chosen_by_arguments(settings: SweepSettings) -> bool:
    """Workflow arguments that replace the spec's sweep, its target points included."""
    return bool(settings.isl or settings.osl or settings.concurrency or settings.num_prompts)


def plan_sweep(
    max_context: int,
    max_concurrency: int,
    settings: SweepSettings,
    targets: Sequence[TargetPoint] = (),
) -> list[Point]:
    """The spec's sweep with its target points, or the points the workflow arguments ask for."""
    if settings.dataset != "random":  # lengths from the data: one point per concurrency
        levels = settings.concurrency or (1, max_concurrency)
        count = settings.num_prompts or settings.dataset_size
        return [Point(0, 0, c, count or 8 * c) for c in sorted(set(levels))]
    powers = settings.concurrency_sweeps
    if settings.smoke and not chosen_by_arguments(settings):
        return sweep(max_context, max_concurrency, smoke=True, powers=powers)
    if not chosen_by_arguments(settings):
        targets_only = settings.sweep == "targets" and targets
        base = [] if targets_only else sweep(max_context, max_concurrency, powers=powers)
        return with_targets(base, targets, max_context)
    isls = settings.isl or tuple(p[0] for p in ISL_OSL_PAIRS[:1])
    osls = settings.osl or tuple(p[1] for p in ISL_OSL_PAIRS[:1])
    pairs = (
        list(zip(isls, osls, strict=False))
        if len(isls) == len(osls)
        else [(i, o) for i in isls for o in osls]
    )
    points = []
    for isl, osl in pairs:
        levels = settings.concurrency or tuple(
            concurrency_levels(max(min(max_context // (isl + osl), max_concurrency), 1), powers)
        )
        for concurrency in levels:
            count = settings.num_prompts or num_prompts(isl, osl, concurrency)
            points.append(Point(isl, osl, concurrency, count))
    return points


def targets_of(spec: Mapping[str, Any]) -> tuple[TargetPoint, ...]:
    """The target points of a runtime spec's `model_spec` (its `perf_reference`, as JSON)."""
    return tuple(_target(raw) for raw in spec.get("perf_reference") or ())


def _target(raw: Mapping[str, Any]) -> TargetPoint:
    prompts = raw.get("num_prompts")
    return TargetPoint(
        int(raw["isl"]), int(raw["osl"]), int(raw["concurrency"]), int(prompts) if prompts else None
    )


def spec_sweep(spec: Mapping[str, Any], settings: SweepSettings) -> list[Point]:
    """The points to run for a runtime spec's `model_spec` and the workflow arguments."""
    points = plan_sweep(spec["max_context"], spec["max_concurrency"], settings, targets_of(spec))
    return at_rates(points, settings.rate)


def at_rates(points: Iterable[Point], rates: Sequence[float]) -> list[Point]:
    """Each point once per request rate, the rates in the order given."""
    return [dataclasses.replace(point, rate=rate) for point in points for rate in rates]


def unmeasured_targets(spec: Mapping[str, Any], points: Iterable[Point]) -> list[str]:
    """One line per target point of the spec that the planned points leave out, and why."""
    planned = {(p.isl, p.osl, p.concurrency) for p in points}
    max_context = int(spec["max_context"])
    return [
        f"target ISL {t.isl} OSL {t.osl} concurrency {t.concurrency} is not measured: "
        + _why_unmeasured(t, max_context)
        for t in targets_of(spec)
        if t.key not in planned
    ]


def _why_unmeasured(target: TargetPoint, max_context: int) -> str:
    if not target.fits(max_context):
        return f"ISL + OSL = {target.isl + target.osl} exceeds max_context {max_context}"
    return "the workflow arguments chose other points"


class SweepSettings(Protocol):
    @property
    def isl(self) -> tuple[int, ...] | None: ...
    @property
    def osl(self) -> tuple[int, ...] | None: ...
    @property
    def concurrency(self) -> tuple[int, ...] | None: ...
    @property
    def num_prompts(self) -> int | None: ...
    @property
    def smoke(self) -> bool: ...
    @property
    def dataset(self) -> str: ...
    @property
    def dataset_size(self) -> int | None: ...
    @property
    def sweep(self) -> str: ...
    @property
    def concurrency_sweeps(self) -> bool: ...
    @property
    def rate(self) -> tuple[float, ...]: ...


def point_seed(seed: int, point: Point, window: int = 0, repeat: int = 0) -> int:
    """A seed of its own per sweep point, endurance window and repeat (after the first): the
    same seed everywhere would send the same prompts again, and a server's prefix cache would
    answer them from memory."""
    key = f"{seed}:{point.isl}:{point.osl}:{point.concurrency}:{point.num_prompts}"
    key += point.rate_tag
    key += f":{window}" if window else ""
    return zlib.crc32(f"{key}:repeat-{repeat}".encode() if repeat > 1 else key.encode())
