"""The spec_tests result document, written whole after every check: a crash leaves the checks
that finished, and `complete: false` says the file is partial."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evals.spec_tests.runner import CheckResult
from evals.spec_tests.verdict import ERROR, FAIL, PASS, SKIPPED
from reports.results import Identity, document, write_json

KIND = "spec_tests"
FILE_NAME = "spec_tests.json"


def summary(results: Sequence[CheckResult]) -> dict[str, int]:
    statuses = [result.status for result in results]
    return {
        "passed": statuses.count(PASS),
        "failed": statuses.count(FAIL),
        "skipped": statuses.count(SKIPPED),
        "errors": statuses.count(ERROR),
    }


def spec_tests_document(
    identity: Identity, engine: str, results: Sequence[CheckResult], planned: int
) -> dict[str, object]:
    return document(
        KIND,
        identity,
        {
            "engine": engine,
            "complete": len(results) == planned,
            "summary": summary(results),
            "checks": [result.as_dict() for result in results],
        },
    )


def write_results(
    folder: Path, identity: Identity, engine: str, results: Sequence[CheckResult], planned: int
) -> Path:
    return write_json(folder / FILE_NAME, spec_tests_document(identity, engine, results, planned))
