"""engine_limits.yaml, loaded and checked against the suite's check names."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from evals.spec_tests.catalog import NAMES

LIMITS_FILE = Path(__file__).with_name("engine_limits.yaml")


class LimitsError(ValueError):
    """The file is not a mapping of engine -> check -> reason, or names an unknown check."""


def engine_limits(engine: str, path: Path = LIMITS_FILE) -> dict[str, str]:
    """check name -> reason, for what `engine` genuinely lacks ({} for an engine not listed)."""
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise LimitsError(f"{path}: expected engine -> check -> reason")
    for name, limits in data.items():
        _validate(path, str(name), limits)
    return {str(check): str(reason) for check, reason in (data.get(engine) or {}).items()}


def _validate(path: Path, engine: str, limits: object) -> None:
    if not isinstance(limits, dict):
        raise LimitsError(f"{path}: {engine}: expected check -> reason")
    for check in limits:
        if check not in NAMES:
            near = difflib.get_close_matches(str(check), NAMES, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise LimitsError(f"{path}: {engine}: unknown check {check!r}{hint}")
