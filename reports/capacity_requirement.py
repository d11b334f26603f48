"""`capacity:` in a requirements file: the highest load at which the goodput share meets its
minimum (what `search=goodput` finds) must reach a concurrency or a request rate.

    capacity: {min_concurrency: 8, priority: must}     # or {min_rate: 2.5}

It needs `slo` and `goodput.min_share` (what a load must meet). A release with such a file adds
the search to its benchmarks (beside its target points)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

KEYS = ("min_concurrency", "min_rate", "priority")


class CapacityError(ValueError):
    """A `capacity:` entry that cannot be used; the message names the field."""


def check_capacity(raw: object, goodput: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """{over, minimum, priority} from the file's `capacity:`, or None when it has none."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CapacityError("expected a mapping with min_concurrency or min_rate, and priority")
    extra = sorted(set(raw) - set(KEYS))
    if extra:
        raise CapacityError(f"unknown field {', '.join(extra)}; fields: {', '.join(KEYS)}")
    if goodput is None:
        raise CapacityError("needs slo and goodput.min_share: what a load must meet")
    given = [key for key in ("min_concurrency", "min_rate") if key in raw]
    if len(given) != 1:
        raise CapacityError("give one of min_concurrency (a whole number) or min_rate (req/s)")
    key = given[0]
    value = raw[key]
    whole = key == "min_concurrency"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise CapacityError(f"{key}: expected a positive number, got {value!r}")
    if whole and not float(value).is_integer():
        raise CapacityError(f"{key}: expected a whole number, got {value!r}")
    priority = str(raw.get("priority", "must"))
    if priority not in ("must", "should"):
        raise CapacityError(f"priority: '{priority}' is not must or should")
    over = "concurrency" if whole else "rate"
    return {"over": over, "minimum": float(value), "priority": priority}


def search_args(requirements: Mapping[str, Any]) -> dict[str, object]:
    """The benchmarks arguments that find the capacity the requirements ask about: a search
    for the SLOs' goodput beside the sweep; a rate search between a quarter and four times
    the minimum rate."""
    capacity = requirements.get("capacity")
    if not capacity:
        return {}
    slo = requirements["slo"]
    goodput = ",".join(f"{key.removesuffix('_ms')}:{limit:g}" for key, limit in slo.items())
    args: dict[str, object] = {
        "search": "goodput",
        "goodput": goodput,
        "goodput_min": requirements["goodput"]["min_share"],
        "search_over": capacity["over"],
        "search_with_sweep": True,
    }
    if capacity["over"] == "rate":
        args |= {"search_low": capacity["minimum"] / 4, "search_high": capacity["minimum"] * 4}
    return args
