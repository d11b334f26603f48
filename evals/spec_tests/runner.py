"""Runs checks one by one: each timed, retried once on a connection error, its outcome a
result (a raised check is ERROR, never a crash of the suite)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

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


def against_limit(result: CheckResult, reason: str) -> CheckResult:
    """A check the engine is expected to lack, run all the same: a failure confirms the lack
    (SKIPPED with the reason and what the server did); a pass says the expectation is stale;
    an error stays an error."""
    if result.status == FAIL:
        evidence = {"engine_limit": reason, "server_said": result.message, **result.evidence}
        message = f"{reason} (confirmed: {result.message})"
        return replace(result, status=SKIPPED, message=message, evidence=evidence)
    if result.status == PASS:
        stale = f"passes, though engine_limits.yaml says the engine lacks it ({reason}): stale"
        return replace(result, message=stale, evidence={**result.evidence, "engine_limit": reason})
    return result


def run_checks(
    checks: Iterable[Check],
    suite: Suite,
    limits: Mapping[str, str],
    done: Callable[[CheckResult], None],
) -> list[CheckResult]:
    """Each check's result, handed to `done` as soon as it exists; a check the engine is
    expected to lack is run too, and judged against that expectation."""
    results = []
    for check in checks:
        result = run_check(check, suite)
        reason = limits.get(check.name)
        result = against_limit(result, reason) if reason else result
        results.append(result)
        done(result)
    return results
