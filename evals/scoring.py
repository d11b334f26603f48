"""From lm-eval's results file to a verdict: the score (strictly from the configured keys), its
interval, and PASS / FAIL / NOT_COMPARABLE against the reference for the limit that was run.

Rules: the floor is reference x (1 - tolerance), the reference that of the limit that ran (the
full set's: the published score when there is no reference). The score's 95% Wilson interval
over n samples decides: PASS when it lies at or above the floor, FAIL when below it; across it,
the score decides and the verdict is MARGINAL. A limit with no reference of its own, or
hand-picked samples, is NOT_COMPARABLE, never judged against the full-set figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reports.status import Status

if TYPE_CHECKING:
    from evals.config import EvalTask, Limit

Z_95 = 1.959964


class ScoringError(Exception):
    """lm-eval's output lacks what the task's configuration says to score."""


@dataclass(frozen=True)
class Verdict:
    status: Status  # PASS, FAIL or NOT_COMPARABLE
    reason: str
    rule: str
    reference: float | None  # as a fraction: the figure the score was held against
    reference_source: str | None
    ratio_to_reference: float | None
    ratio_to_published: float | None
    interval: tuple[float, float] | None
    marginal: bool = False  # the interval straddles the floor: the score decided


def task_results(results: Mapping[str, Any], task: str) -> Mapping[str, Any]:
    section = results.get("results", {})
    if not isinstance(section, Mapping) or not isinstance(section.get(task), Mapping):
        raise ScoringError(f"lm-eval's results have no entry for task '{task}'")
    return section[task]  # type: ignore[no-any-return]


def extract_score(results: Mapping[str, Any], task: EvalTask) -> float:
    """The task's score as a fraction: its one key, or the mean of its keys. A configured key
    that lm-eval did not report is an error; no other number stands in for it."""
    values = task_results(results, task.task)
    missing = [key for key in task.result_keys if key not in values]
    if missing:
        reported = sorted(key for key in values if "," in key and "_stderr" not in key)
        raise ScoringError(
            f"result key {', '.join(missing)} not in lm-eval's output for {task.task} "
            f"(it reported: {', '.join(reported) or 'nothing'})"
        )
    numbers = [_number(values[key], key) for key in task.result_keys]
    return sum(numbers) / len(numbers)


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ScoringError(f"result key {key} is {value!r}, not a number")
    return float(value)


def sample_count(results: Mapping[str, Any], task: str) -> int:
    """How many samples were scored (lm-eval's effective n)."""
    counts = results.get("n-samples", {}).get(task, {})
    effective = counts.get("effective") if isinstance(counts, Mapping) else None
    if not isinstance(effective, int):
        raise ScoringError(f"lm-eval's results do not say how many samples of {task} ran")
    return effective


def wilson_interval(score: float, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion: sound at small n and at 0 or 1."""
    if n <= 0:
        return (0.0, 1.0)
    p = min(max(score, 0.0), 1.0)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def judge(task: EvalTask, score: float, n: int, limit: Limit, explicit_samples: bool) -> Verdict:
    published = task.to_fraction(task.published.value) if task.published else None
    ratio_published = _ratio(score, published)
    interval = wilson_interval(score, n)
    if explicit_samples:
        why = "hand-picked samples (--eval-samples) have no reference"
        return _not_comparable(why, interval, ratio_published)
    if limit.samples is not None:
        return _judge_limited(task, score, n, limit, ratio_published, interval)
    reference, source = _full_reference(task)
    if reference is None:
        why = "no reference or published score is configured"
        return _not_comparable(why, interval, ratio_published)
    floor = reference * (1 - task.tolerance)
    passed, marginal = decide_score(score, interval, floor)
    reason = _reason(score, n, interval, floor, passed, marginal) + (
        f" (reference {reference:.4f} x (1 - {task.tolerance}))"
    )
    return Verdict(
        Status.PASS if passed else Status.FAIL, reason, "full set: " + RULE, reference, source,
        _ratio(score, reference), ratio_published, interval, marginal,
    )  # fmt: skip


RULE = (
    "the 95% Wilson interval at or above reference x (1 - tolerance) passes, below it fails; "
    "across it the score decides (MARGINAL)"
)


def decide_score(score: float, interval: tuple[float, float], floor: float) -> tuple[bool, bool]:
    """(passed, marginal): decided by where the interval lies, by the score when it straddles."""
    low, high = interval
    if low >= floor or high < floor:
        return low >= floor, False
    return score >= floor, True


def _reason(
    score: float,
    n: int,
    interval: tuple[float, float],
    floor: float,
    passed: bool,
    marginal: bool,
) -> str:
    where = f"95% interval [{interval[0]:.4f}, {interval[1]:.4f}] over {n} samples"
    if not marginal:
        return f"{where} lies {'at or above' if passed else 'below'} {floor:.4f}"
    side = ">=" if passed else "<"
    return (
        f"MARGINAL {'PASS' if passed else 'FAIL'}: {where} straddles {floor:.4f}; "
        f"the score decided, {score:.4f} {side} {floor:.4f}"
    )


def _judge_limited(
    task: EvalTask,
    score: float,
    n: int,
    limit: Limit,
    ratio_published: float | None,
    interval: tuple[float, float],
) -> Verdict:
    if limit.reference is None:
        why = f"no reference is configured for a run limited to {limit.samples} samples"
        return _not_comparable(why, interval, ratio_published)
    reference = task.to_fraction(limit.reference.value)
    floor = reference * (1 - task.tolerance)
    passed, marginal = decide_score(score, interval, floor)
    reason = _reason(score, n, interval, floor, passed, marginal) + (
        f" (reference {reference:.4f} x (1 - {task.tolerance}))"
    )
    return Verdict(
        Status.PASS if passed else Status.FAIL, reason, "limited set: " + RULE, reference,
        limit.reference.source, _ratio(score, reference), ratio_published, interval, marginal,
    )  # fmt: skip


def _full_reference(task: EvalTask) -> tuple[float | None, str | None]:
    chosen = task.reference or task.published
    if chosen is None:
        return None, None
    return task.to_fraction(chosen.value), chosen.source


def _ratio(score: float, reference: float | None) -> float | None:
    return score / reference if reference else None


def _not_comparable(
    reason: str, interval: tuple[float, float], ratio_published: float | None
) -> Verdict:
    return Verdict(
        Status.NOT_COMPARABLE, reason, "not judged", None, None, None, ratio_published, interval
    )
