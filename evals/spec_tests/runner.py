"""Runs checks one by one: each timed, retried once on a connection error, its outcome a
result (a raised check is ERROR, never a crash of the suite)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from benchmarking.deadline import DeadlineExceeded
from evals.spec_tests.catalog import Check
from evals.spec_tests.client import CONNECTION_ERRORS
from evals.spec_tests.suite import Suite
from evals.spec_tests.verdict import ERROR, FAIL, PASS, SKIPPED, CheckFailed, CheckSkipped, short

ATTEMPTS = 2  # a connection error gets one more try
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    duration_s: float
    attempts: int
    message: str
    evidence: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status,
            "duration_s": self.duration_s,
            "attempts": self.attempts,
            "message": self.message,
            "evidence": short(dict(self.evidence)),
        }


def outcome(check: Check, suite: Suite) -> tuple[str, str, Mapping[str, object]]:
    """(status, message, evidence) of one attempt; connection errors go up to be retried. A
    passing check may say something (its evidence's `note`)."""
    try:
        found = dict(check.run(suite))
        return PASS, str(found.pop("note", "")), found
    except CheckFailed as failure:
        return FAIL, failure.message, failure.evidence
    except CheckSkipped as skip:
        return SKIPPED, str(skip), {}
    except CONNECTION_ERRORS:
        raise
    except DeadlineExceeded as late:
        return ERROR, str(late), {"deadline_s": late.seconds}
    except Exception as error:
        log.debug("%s raised", check.name, exc_info=True)
        return ERROR, f"{type(error).__name__}: {error}", {}


def run_check(check: Check, suite: Suite) -> CheckResult:
    started, attempts = time.monotonic(), 0
    while attempts < ATTEMPTS:
        attempts += 1
        try:
            status, message, evidence = outcome(check, suite)
            break
        except CONNECTION_ERRORS as error:
            status, message, evidence = ERROR, f"connection error: {error}", {}
    elapsed = round(time.monotonic() - started, 2)
    return CheckResult(check.name, status, elapsed, attempts, message, evidence)


def skipped(check: Check, reason: str) -> CheckResult:
    return CheckResult(check.name, SKIPPED, 0.0, 0, reason, {"engine_limit": True})


def run_checks(
    checks: Iterable[Check],
    suite: Suite,
    limits: Mapping[str, str],
    done: Callable[[CheckResult], None],
) -> list[CheckResult]:
    """Each check's result, handed to `done` as soon as it exists; an engine's limits skip."""
    results = []
    for check in checks:
        reason = limits.get(check.name)
        result = skipped(check, reason) if reason else run_check(check, suite)
        results.append(result)
        done(result)
    return results
