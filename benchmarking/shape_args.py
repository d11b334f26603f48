"""The load-shape workflow arguments of a benchmark point, each checked: a time limit with
warm-up and cool-down trimming. Standard library only: the runner checks them before the run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarking.arg_values import SettingsError, number, positive

SHAPE_KEYS = ("duration", "warmup_s", "cooldown_s")


@dataclass(frozen=True)
class LoadShape:
    """How long a point sends, and which of its requests its statistics leave out."""

    duration_s: float | None = None  # None: a point is a number of requests
    warmup_s: float = 0.0  # requests sent this long after the start are left out
    cooldown_s: float = 0.0  # and those sent this long before the end

    @property
    def timed(self) -> bool:
        return self.duration_s is not None


def _trim(value: object, key: str) -> float:
    expected = "a number of seconds, 0 or more (finite)"
    return number(value, key, lambda x: 0 <= x < math.inf, expected)


def shape_from(
    args: Mapping[str, object], rates: Sequence[float], warmups: int, num_prompts: int | None
) -> LoadShape:
    """The shape the arguments ask for; a SettingsError names what does not fit together."""
    given = args.get("duration")
    duration = None if given is None else positive(given, "duration", "seconds")
    warmup, cooldown = (
        _trim(args.get("warmup_s", 0), "warmup_s"),
        _trim(args.get("cooldown_s", 0), "cooldown_s"),
    )
    if duration is None:
        if warmup or cooldown:
            raise SettingsError("warmup_s and cooldown_s trim a timed point: give duration=SECONDS")
        return LoadShape()
    if warmup + cooldown >= duration:
        raise SettingsError(
            f"warmup_s + cooldown_s ({warmup + cooldown:g} s) leave nothing of duration="
            f"{duration:g} to measure: make them shorter or the duration longer"
        )
    if math.inf in rates and not warmups and num_prompts is None:
        raise SettingsError(
            "duration with rate=inf (all at once) needs warmups=1 or more (their latency says "
            "how many prompts to make) or num_prompts=N (at most N requests)"
        )
    return LoadShape(duration, warmup, cooldown)
