"""The load-shape workflow arguments of a benchmark point, each checked: a time limit with
warm-up and cool-down trimming, a rate ramp. Standard library only: the runner checks them
before the run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarking.arg_values import SettingsError, number, positive

SHAPE_KEYS = ("duration", "warmup_s", "cooldown_s", "ramp", "ramp_start", "ramp_end")
RAMPS = ("linear", "exponential")


@dataclass(frozen=True)
class LoadShape:
    """How long a point sends, and which of its requests its statistics leave out."""

    duration_s: float | None = None  # None: a point is a number of requests
    warmup_s: float = 0.0  # requests sent this long after the start are left out
    cooldown_s: float = 0.0  # and those sent this long before the end
    ramp: str | None = None  # linear or exponential: the rate moves from ramp_start to ramp_end
    ramp_start: float = 0.0  # requests per second at the point's start
    ramp_end: float = 0.0  # and at its end (its last request, or its duration)

    @property
    def timed(self) -> bool:
        return self.duration_s is not None

    def ramp_rate(self, progress: float) -> float:
        """The ramp's rate at `progress` (0: the start, 1: the end) of the point."""
        if self.ramp == "exponential":
            return float(self.ramp_start * (self.ramp_end / self.ramp_start) ** progress)
        return self.ramp_start + (self.ramp_end - self.ramp_start) * progress

    @property
    def tag(self) -> str:
        """'_ramp-linear-1-8' in a ramp's file names; nothing without one."""
        if self.ramp is None:
            return ""
        return f"_ramp-{self.ramp}-{self.ramp_start:g}-{self.ramp_end:g}"


def _trim(value: object, key: str) -> float:
    expected = "a number of seconds, 0 or more (finite)"
    return number(value, key, lambda x: 0 <= x < math.inf, expected)


def _ramp(args: Mapping[str, object]) -> tuple[str | None, float, float]:
    """The ramp and its start and end rates; (None, 0, 0) when none is asked for."""
    ramp = args.get("ramp")
    if ramp is None:
        if "ramp_start" in args or "ramp_end" in args:
            raise SettingsError("ramp_start and ramp_end belong to a ramp: give ramp=linear too")
        return None, 0.0, 0.0
    if ramp not in RAMPS:
        raise SettingsError(f"ramp={ramp}: use linear or exponential")
    if "rate" in args:
        raise SettingsError("ramp sets the request rate itself: leave rate out")
    if "ramp_start" not in args or "ramp_end" not in args:
        raise SettingsError(f"ramp={ramp} needs ramp_start=RPS and ramp_end=RPS")
    start = positive(args["ramp_start"], "ramp_start", "requests per second")
    return str(ramp), start, positive(args["ramp_end"], "ramp_end", "requests per second")


def shape_from(
    args: Mapping[str, object], rates: Sequence[float], warmups: int, num_prompts: int | None
) -> LoadShape:
    """The shape the arguments ask for; a SettingsError names what does not fit together."""
    ramp, start, end = _ramp(args)
    given = args.get("duration")
    duration = None if given is None else positive(given, "duration", "seconds")
    warmup, cooldown = (
        _trim(args.get("warmup_s", 0), "warmup_s"),
        _trim(args.get("cooldown_s", 0), "cooldown_s"),
    )
    if duration is None:
        if warmup or cooldown:
            raise SettingsError("warmup_s and cooldown_s trim a timed point: give duration=SECONDS")
        return LoadShape(ramp=ramp, ramp_start=start, ramp_end=end)
    if warmup + cooldown >= duration:
        raise SettingsError(
            f"warmup_s + cooldown_s ({warmup + cooldown:g} s) leave nothing of duration="
            f"{duration:g} to measure: make them shorter or the duration longer"
        )
    if ramp is None and math.inf in rates and not warmups and num_prompts is None:
        raise SettingsError(
            "duration with rate=inf (all at once) needs warmups=1 or more (their latency says "
            "how many prompts to make) or num_prompts=N (at most N requests)"
        )
    return LoadShape(duration, warmup, cooldown, ramp, start, end)
