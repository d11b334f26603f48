"""How long the rest of a release may take: the last finished release of the same model and
device in the same runs folder recorded each step's duration (release.json); the steps still to
run are estimated at what they took then. With no such release, the first step's line says so
once (a benchmark sweep still estimates its own time left from its pace)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path


def previous_durations(folder: Path, model: str, device: str) -> dict[str, float]:
    """Each step's duration in the newest other release of (model, device) beside `folder`
    whose steps passed; run folders are named `<stamp>_<model>_<device>_release_<id>`, so the
    newest sorts last."""
    pattern = f"*_{model}_{device}_release_*"
    for other in sorted(folder.parent.glob(pattern), reverse=True):
        if other == folder:
            continue
        durations = _passed_durations(other / "release.json")
        if durations:
            return durations
    return {}


def _passed_durations(record_path: Path) -> dict[str, float]:
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        return {}
    children = record.get("children") if isinstance(record, dict) else None
    durations: dict[str, float] = {}
    for child in children if isinstance(children, list) else []:
        seconds = child.get("duration_s") if isinstance(child, dict) else None
        if child.get("status") == "passed" and isinstance(seconds, (int, float)):
            durations[str(child["workflow"])] = float(seconds)
    return durations


def time_left(durations: Mapping[str, float], remaining: Sequence[str]) -> float | None:
    """The remaining steps' durations added up; None unless every one of them is known."""
    if not remaining or any(name not in durations for name in remaining):
        return None
    return sum(durations[name] for name in remaining)


def eta_suffix(seconds: float | None) -> str:
    """' (about 2m10s left, as the last release's steps took)', or nothing."""
    if seconds is None:
        return ""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    spelled = f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"
    return f" (about {spelled} left, as the last release's steps took)"


FIRST_RELEASE = " (no earlier release here to estimate the time left from; a sweep shows its own)"


def step_suffix(durations: Mapping[str, float], remaining: Sequence[str], first: bool) -> str:
    """What a step's line says of the time left: the estimate from the last release, or, on
    the first step of a release with none before it, why there is none."""
    if not durations:
        return FIRST_RELEASE if first else ""
    return eta_suffix(time_left(durations, remaining))
