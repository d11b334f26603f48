"""One eval task's result row, from lm-eval's files or from why it did not run; and the
`evals.json` document that gathers them (written after each task, so a crash keeps the rest)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.agreement import Agreement, compare, reference_answers, run_answers
from evals.plan import TaskPlan
from evals.scoring import ScoringError, extract_score, judge, sample_count, task_results
from reports.results import Identity, document, write_json
from reports.status import Status

FAILING = (Status.FAIL, Status.ERROR)


def base_row(plan: TaskPlan) -> dict[str, Any]:
    task = plan.task
    return {
        "task": task.task,
        "model_type": task.model_type,
        "output_type": task.output_type,
        "result_keys": list(task.result_keys),
        "combine": task.combine,
        "limit_mode": plan.mode,
        "limit": plan.limit_text,
        "num_concurrent": plan.num_concurrent,
        "max_gen_toks": plan.max_gen_toks,
        "num_fewshot": task.num_fewshot,
        "seed": task.seed,
        "tolerance": task.tolerance,
        "published": _score_field(task.published, task.to_fraction),
    }


def _score_field(score: Any, to_fraction: Any) -> dict[str, Any] | None:
    if score is None:
        return None
    return {"score": to_fraction(score.value), "source": score.source}


def skipped_row(plan: TaskPlan) -> dict[str, Any]:
    """`required` is false for a task the limit mode itself leaves out (the spec's own plan);
    a task skipped for any other reason could not be judged."""
    required = not plan.limit.skip
    return base_row(plan) | {
        "status": Status.SKIPPED,
        "reason": plan.skip_reason,
        "required": required,
    }


def error_row(plan: TaskPlan, reason: str, files: Mapping[str, Any]) -> dict[str, Any]:
    return base_row(plan) | {"status": Status.ERROR, "reason": reason, "files": dict(files)}


def scored_row(
    plan: TaskPlan,
    results_path: Path,
    files: Mapping[str, Any],
    samples_files: Sequence[Path] = (),
) -> dict[str, Any]:
    """Score, interval and verdict from lm-eval's results file; a missing key is an ERROR. Where
    the limit holds the answers to the reference run's, a run that strays fails."""
    try:
        results = json.loads(results_path.read_text())
        score = extract_score(results, plan.task)
        n = sample_count(results, plan.task.task)
        agreement = agreement_of(plan, samples_files)
    except (ScoringError, ValueError, KeyError, OSError) as error:
        return error_row(plan, str(error), files)
    verdict = judge(plan.task, score, n, plan.limit, plan.samples is not None)
    status, reason = verdict.status, verdict.reason
    if agreement is not None:
        reason = f"{reason}; {agreement.describe()}"
        if status is Status.PASS and not agreement.passed:
            status = Status.FAIL
    reported = task_results(results, plan.task.task)
    return base_row(plan) | {
        "status": status,
        "reason": reason,
        "agreement": agreement.as_dict() if agreement else None,
        "score": score,
        "unit": "fraction",
        "n_samples": n,
        "interval_95": list(verdict.interval) if verdict.interval else None,
        "marginal": verdict.marginal,  # the interval straddled the floor: the score decided
        "reference": verdict.reference,
        "reference_source": verdict.reference_source,
        "ratio_to_reference": verdict.ratio_to_reference,
        "ratio_to_published": verdict.ratio_to_published,
        "rule": verdict.rule,
        "key_values": {key: reported.get(key) for key in plan.task.result_keys},
        "files": dict(files),
    }


def agreement_of(plan: TaskPlan, samples_files: Sequence[Path]) -> Agreement | None:
    """The answers against the reference run's, where this limit asks for it (not for
    hand-picked samples, which have no reference)."""
    most, rows = plan.limit.max_disagreements, plan.task.reference_samples
    if most is None or rows is None or plan.samples is not None:
        return None
    return compare(run_answers(samples_files), reference_answers(rows), most)


def evals_document(
    identity: Identity, engine: str, rows: Sequence[Mapping[str, Any]], planned: int
) -> dict[str, object]:
    statuses = [str(row["status"]) for row in rows]
    summary = {status.value.lower(): statuses.count(status.value) for status in Status}
    body = {
        "engine": engine,
        "complete": len(rows) == planned,
        "summary": summary | {"planned": planned},
        "tasks": list(rows),
    }
    return document("evals", identity, body)


def write_evals(
    path: Path, identity: Identity, engine: str, rows: Sequence[Mapping[str, Any]], planned: int
) -> Path:
    return write_json(path, evals_document(identity, engine, rows, planned))


def failed(rows: Sequence[Mapping[str, Any]]) -> bool:
    """A task that failed or errored, alone or under benchmark traffic (`under_load`)."""
    loaded = [row.get("under_load") for row in rows]
    return any(row["status"] in FAILING for row in rows) or any(
        isinstance(block, Mapping) and block.get("status") in FAILING for block in loaded
    )
