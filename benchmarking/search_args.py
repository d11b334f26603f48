"""`search=goodput`: the workflow arguments of a search for the highest load that meets the
goodput SLOs, each checked. Standard library only: the runner checks them before the run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from benchmarking.arg_values import SettingsError, flag, fraction, positive, whole

SEARCH_KEYS = (
    "search",
    "search_over",
    "search_low",
    "search_high",
    "search_tolerance",
    "search_points",
    "goodput_min",
    "search_with_sweep",  # the sweep's points too, the search's in a folder of their own
)
OVER = ("concurrency", "rate")


@dataclass(frozen=True)
class Search:
    """Bisect `over` between `low` and `high` for the highest load whose goodput share (the
    requests meeting every SLO of `goodput=`) is at least `min_share`."""

    over: str = "concurrency"  # or "rate" (requests per second)
    low: float = 1.0
    high: float | None = None  # None: the spec's max_concurrency (over concurrency only)
    tolerance: float = 0.1  # over rate: stop when high / low is within 1 + this
    points: int = 10  # at most this many points measured
    min_share: float = 0.9
    with_sweep: bool = False  # measure the sweep's points as well (what a release is judged on)


def _over(value: object) -> str:
    if str(value) not in OVER:
        raise SettingsError(f"search_over={value}: use concurrency or rate")
    return str(value)


def _bound(args: Mapping[str, object], key: str, over: str) -> float | None:
    value = args.get(key)
    if value is None:
        return None
    if over == "concurrency":
        return float(whole(value, key, 1))
    return positive(value, key, "requests per second")


def _refuse_fixed_load(args: Mapping[str, object], over: str, with_sweep: bool) -> None:
    """A search sets its own load; beside a sweep (`search_with_sweep`), `over` sets the
    sweep's points."""
    if over in args and not with_sweep:
        raise SettingsError(
            f"search=goodput over {over} sets the {over} itself: leave {over} out "
            "(search_low and search_high bound it)"
        )
    if "ramp" in args:
        raise SettingsError("search=goodput measures steady loads: leave ramp out")


def search_from(args: Mapping[str, object]) -> Search | None:
    """The search the arguments ask for (None: none); a SettingsError names what is wrong."""
    given = args.get("search")
    if given is None:
        stray = sorted(key for key in SEARCH_KEYS if key in args)
        if stray:
            raise SettingsError(f"{', '.join(stray)} belong to a search: give search=goodput")
        return None
    if given != "goodput":
        raise SettingsError(f"search={given}: use goodput (with goodput=ttft:MS,...)")
    if not args.get("goodput"):
        raise SettingsError("search=goodput needs the SLOs it meets: give goodput=ttft:MS,...")
    over = _over(args.get("search_over", "concurrency"))
    with_sweep = flag(args.get("search_with_sweep", False), "search_with_sweep")
    _refuse_fixed_load(args, over, with_sweep)
    low = _bound(args, "search_low", over) or 1.0
    high = _bound(args, "search_high", over)
    if over == "rate" and high is None:
        raise SettingsError("search_over=rate needs search_high=RPS (the highest rate to try)")
    if high is not None and high <= low:
        raise SettingsError(f"search_high ({high:g}) must be above search_low ({low:g})")
    tolerance = positive(args.get("search_tolerance", 0.1), "search_tolerance")
    points = whole(args.get("search_points", 10), "search_points", 3)
    share = fraction(args.get("goodput_min", 0.9), "goodput_min")
    if share == 0 or math.isnan(share):
        raise SettingsError("goodput_min: expected a share above 0 (0.9: 90% of requests)")
    return Search(over, low, high, tolerance, points, share, with_sweep)
