"""Arrival times on an absolute clock: all at once, constant rate, Poisson or gamma bursts."""

from __future__ import annotations

import math
import random


def arrival_offsets_ns(
    count: int, rate: float, burstiness: float = 1.0, seed: int = 0
) -> list[int]:
    """Offsets from the run's start. rate=inf: all at 0. burstiness=1: Poisson; inf: constant;
    <1 burstier, >1 more regular (gamma-distributed gaps with mean 1/rate)."""
    if math.isinf(rate) or count == 0:
        return [0] * count
    if rate <= 0:
        raise ValueError("rate must be positive (requests per second), or inf")
    rng = random.Random(seed)
    offsets, clock = [], 0.0
    for index in range(count):
        offsets.append(round(clock * 1e9))
        if index < count - 1:
            clock += (
                1 / rate
                if math.isinf(burstiness)
                else rng.gammavariate(burstiness, 1 / (rate * burstiness))
            )
    return offsets
