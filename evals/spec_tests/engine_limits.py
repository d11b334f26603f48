"""engine_limits.yaml, loaded and checked against the suite's check names."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from evals.spec_tests.catalog import NAMES

LIMITS_FILE = Path(__file__).with_name("engine_limits.yaml")


class LimitsError(ValueError):
    """The file is not a mapping of engine -> check -> reason, or names an unknown check."""


@dataclass(frozen=True)
class Limit:
    """An engine's expected lack of what a check asks, and why. With `unless_server_says`
    ("PATH FIELD.SUB", e.g. "/props chat_template_caps.supports_tools"), a server whose own
    description at PATH says true there claims the feature: no lack is expected of it."""

    reason: str
    unless_server_says: str | None = None


def engine_limits(engine: str, path: Path = LIMITS_FILE) -> dict[str, Limit]:
    """check name -> limit, for what `engine` genuinely lacks ({} for an engine not listed)."""
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise LimitsError(f"{path}: expected engine -> check -> reason")
    limits = {str(name): _validate(path, str(name), entries) for name, entries in data.items()}
    return limits.get(engine, {})


def _validate(path: Path, engine: str, limits: object) -> dict[str, Limit]:
    if not isinstance(limits, dict):
        raise LimitsError(f"{path}: {engine}: expected check -> reason")
    for check in limits:
        if check not in NAMES:
            near = difflib.get_close_matches(str(check), NAMES, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise LimitsError(f"{path}: {engine}: unknown check {check!r}{hint}")
    return {
        str(check): _limit(path, f"{engine}: {check}", entry) for check, entry in limits.items()
    }


def _limit(path: Path, where: str, entry: object) -> Limit:
    """A reason, or {reason, unless_server_says}."""
    if isinstance(entry, str):
        return Limit(entry)
    if not (isinstance(entry, dict) and isinstance(entry.get("reason"), str)):
        raise LimitsError(f"{path}: {where}: expected a reason, or reason and unless_server_says")
    claim = entry.get("unless_server_says")
    if claim is not None and len(str(claim).split(" ")) != 2:
        raise LimitsError(f"{path}: {where}: unless_server_says {claim!r} is not 'PATH FIELD'")
    return Limit(entry["reason"], None if claim is None else str(claim))


def expected_lacks(
    limits: Mapping[str, Limit], server_says: Callable[[str], object]
) -> dict[str, str]:
    """check name -> reason, for the lacks expected of this server: a limit whose feature the
    server claims (`server_says(limit.unless_server_says)` is True) is dropped; otherwise what
    the server says joins the reason."""
    lacks = {}
    for check, limit in limits.items():
        claim = limit.unless_server_says
        said = server_says(claim) if claim else None
        if said is True:
            continue
        lacks[check] = f"{limit.reason}; GET {claim}: {json.dumps(said)}" if claim else limit.reason
    return lacks
