"""Arrival times on an absolute clock: all at once, constant rate, Poisson or gamma bursts, or a
rate that ramps up (or down) over the point."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

RateAt = Callable[[float], float]  # progress (0 to 1) -> requests per second


def gap_s(rng: random.Random, rate: float, burstiness: float) -> float:
    """Seconds to the next arrival at `rate`: 1/rate (burstiness inf), else gamma-distributed
    with mean 1/rate (burstiness 1: exponential, a Poisson process)."""
    if math.isinf(burstiness):
        return 1 / rate
    return rng.gammavariate(burstiness, 1 / (rate * burstiness))


def arrival_offsets_ns(
    count: int, rate: float, burstiness: float = 1.0, seed: int = 0
) -> list[int]:
    """Offsets from the run's start. rate=inf: all at 0. burstiness=1: Poisson; inf: constant;
    <1 burstier, >1 more regular (gamma-distributed gaps with mean 1/rate)."""
    if math.isinf(rate) or count == 0:
        return [0] * count
    if rate <= 0:
        raise ValueError("rate must be positive (requests per second), or inf")
    return ramp_offsets_ns(count, lambda progress: rate, burstiness, seed)


def ramp_offsets_ns(count: int, rate_at: RateAt, burstiness: float, seed: int) -> list[int]:
    """`count` arrivals, request i's gap to the next drawn at the rate of its progress
    i / (count - 1) (vLLM's ramp-up: by request, not by time)."""
    rng = random.Random(seed)
    offsets, clock = [], 0.0
    for index in range(count):
        offsets.append(round(clock * 1e9))
        if index < count - 1:
            clock += gap_s(rng, rate_at(index / max(count - 1, 1)), burstiness)
    return offsets


def timed_offsets_ns(
    duration_s: float, rate_at: RateAt, burstiness: float, seed: int, most: int
) -> list[int]:
    """The arrivals within `duration_s` (at most `most`), each gap drawn at the rate of the
    time it starts from (progress: elapsed / duration)."""
    rng = random.Random(seed)
    offsets: list[int] = []
    clock = 0.0
    while clock < duration_s and len(offsets) < most:
        offsets.append(round(clock * 1e9))
        clock += gap_s(rng, rate_at(clock / duration_s), burstiness)
    return [offset for offset in offsets if offset < duration_s * 1e9]
