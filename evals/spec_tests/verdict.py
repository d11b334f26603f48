"""How a check ends other than by passing, and the statuses a result can have."""

from __future__ import annotations

from collections.abc import Mapping

from reports.status import Status

PASS, FAIL, SKIPPED, ERROR = Status.PASS, Status.FAIL, Status.SKIPPED, Status.ERROR
EVIDENCE_CHARS = 160


class CheckFailed(Exception):
    """The server answered, but not as the API says it should: the check FAILs."""

    def __init__(self, message: str, evidence: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = dict(evidence or {})


class CheckSkipped(Exception):
    """The check does not apply to this server (auth off, say): SKIPPED with the reason."""


def expect(condition: bool, message: str, evidence: Mapping[str, object] | None = None) -> None:
    if not condition:
        raise CheckFailed(message, evidence)


def short(value: object) -> object:
    """Evidence in short form: long strings cut, with their length said."""
    if isinstance(value, str) and len(value) > EVIDENCE_CHARS:
        return f"{value[:EVIDENCE_CHARS]}... ({len(value)} chars)"
    if isinstance(value, dict):
        return {key: short(item) for key, item in value.items()}
    if isinstance(value, list):
        return [short(item) for item in value[:8]] + (["..."] if len(value) > 8 else [])
    return value
