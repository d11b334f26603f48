"""The sweep a spec implies: (ISL, OSL) pairs that fit its context, at concurrency 1 and max."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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


def num_prompts(isl: int, osl: int, concurrency: int) -> int:
    """More prompts for short requests, so each point lasts long enough to be steady."""
    if osl > 1024 or isl > 16384:
        return concurrency
    if isl > 4096:
        return 2 * concurrency
    if 128 < osl <= 1024 or 128 < isl <= 4096:
        return 4 * concurrency
    return 8 * concurrency


def sweep(max_context: int, max_concurrency: int, smoke: bool = False) -> list[Point]:
    pairs = (SMOKE_PAIR,) if smoke else ISL_OSL_PAIRS
    points: list[Point] = []
    for isl, osl in pairs:
        if isl + osl > max_context:
            continue
        for concurrency in sorted({1, max(min(max_context // (isl + osl), max_concurrency), 1)}):
            prompts = 2 * concurrency if smoke else num_prompts(isl, osl, concurrency)
            points.append(Point(isl, osl, concurrency, prompts))
    return points


def plan_sweep(max_context: int, max_concurrency: int, settings: SweepSettings) -> list[Point]:
    """The spec's sweep, or the points the workflow arguments ask for."""
    if settings.dataset == "sharegpt":
        levels = settings.concurrency or (1, max_concurrency)
        return [Point(0, 0, c, settings.num_prompts or 8 * c) for c in sorted(set(levels))]
    if not (settings.isl or settings.osl or settings.concurrency or settings.num_prompts):
        return sweep(max_context, max_concurrency, settings.smoke)
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
            sorted({1, max(min(max_context // (isl + osl), max_concurrency), 1)})
        )
        for concurrency in levels:
            count = settings.num_prompts or num_prompts(isl, osl, concurrency)
            points.append(Point(isl, osl, concurrency, count))
    return points


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
