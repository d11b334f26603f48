"""What the store keeps of one run, read from its folder: the run's row (metadata, pins, the
verdict), its benchmark points with their intervals, eval scores, spec checks and the verdict's
checks. A folder that is not a complete run is refused here, with the reason. Standard library
and the report modules only: no database is touched."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.report_document import benchmark_row
from reports.run_data import Point, ReportError, RunData, load_run, read_json

UNFINISHED = ("running", "not_run", "interrupted")  # release.json child statuses
RUN_ID_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{2})-(\d{2})-(\d{2})_")


class IncompleteRun(ReportError):
    """A folder the store will not take; the message says why."""


@dataclass(frozen=True)
class RunRecord:
    run: Mapping[str, Any]
    points: Sequence[Mapping[str, Any]]
    evals: Sequence[Mapping[str, Any]]
    spec_checks: Sequence[Mapping[str, Any]]
    verdict_checks: Sequence[Mapping[str, Any]]
    note: str | None = None  # report.json said another verdict than the files give now

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])


def read_record(folder: Path, ingested_at: str) -> RunRecord:
    """The store's record of a complete run folder (IncompleteRun if it is not one)."""
    try:
        run = load_run(folder)
    except ReportError as error:
        raise IncompleteRun(str(error)) from None
    problem = incompleteness(run)
    if problem:
        raise IncompleteRun(f"{folder} is not a complete run: {problem}")
    report = judged_now(run)
    return RunRecord(
        run=run_row(run, report, ingested_at),
        points=[point_row(point, "benchmark") for point in run.benchmarks]
        + [point_row(point, "stress_test") for point in run.stress],
        evals=[eval_row(task) for task in report["evals"]["tasks"]],
        spec_checks=[dict(check) for check in report["spec_tests"]["checks"]],
        verdict_checks=[
            {key: check[key] for key in ("key", "category", "outcome", "marginal", "message")}
            for check in report["acceptance"]["checks"]
        ],
        note=verdict_change(run, report),
    )


def incompleteness(run: RunData) -> str | None:
    """Why the run did not finish (or left no results), or None for a complete run."""
    workflow = str((run.runtime.get("run_config") or {}).get("workflow") or "")
    if workflow == "release":
        return _unfinished_release(run)
    found = {
        "benchmarks": bool(run.benchmarks),
        "stress_tests": bool(run.stress),
        "evals": run.evals is not None,
        "spec_tests": run.spec_tests is not None,
    }
    if workflow not in found:
        return f"a {workflow or 'run of no'} workflow leaves no results to store"
    return None if found[workflow] else f"the {workflow} workflow left no result files"


def _unfinished_release(run: RunData) -> str | None:
    if run.release is None:
        return "no release.json: the release did not start its children"
    for child in run.release["children"]:
        if child["status"] in UNFINISHED:
            return f"release.json: {child['workflow']} is {child['status']}"
    return None


def judged_now(run: RunData) -> Mapping[str, Any]:
    """The run's report as its files give it now: the store never takes a verdict from
    report.json, which may be stale (rendered by an older runner) or edited."""
    from reports.acceptance import judge_run
    from reports.report_document import report_document

    return report_document(run, judge_run(run))


def said_verdict(path: Path) -> str | None:
    """The verdict a report.json states; None when there is no such file."""
    if not path.is_file():
        return None
    try:
        document = read_json(path)
    except ReportError:
        return "nothing readable"
    acceptance = document.get("acceptance") if isinstance(document, dict) else None
    verdict = acceptance.get("verdict") if isinstance(acceptance, dict) else None
    return str(verdict) if verdict is not None else "no verdict"


def verdict_change(run: RunData, report: Mapping[str, Any]) -> str | None:
    """A line when the run's report.json says another verdict than its files give now."""
    said = said_verdict(run.folder / "report" / "report.json")
    now = report["acceptance"]["verdict"]
    if said is None or said == now:
        return None
    return (
        f"report.json says {said}, but the run's files give {now} now (report.json is stale "
        f"or was edited); stored as {now}"
    )


def started_at(run_id: str) -> str | None:
    """When a run started, from its id (the host's clock, as the folder is named)."""
    match = RUN_ID_STAMP.match(run_id)
    if match is None:
        return None
    day, hours, minutes, seconds = match.groups()
    return f"{day}T{hours}:{minutes}:{seconds}"


def _started(run: RunData) -> str:
    stamp = started_at(str(run.runtime.get("run_id") or ""))
    if stamp is None:
        raise IncompleteRun(f"{run.folder}: runtime_spec.json has no run id of the runner's form")
    return stamp


def run_row(run: RunData, report: Mapping[str, Any], ingested_at: str) -> dict[str, Any]:
    runtime, spec, meta = run.runtime, run.spec, report["metadata"]
    acceptance = report["acceptance"]
    return {
        "run_id": runtime["run_id"],
        "model": spec.get("model_name"),
        "device": spec.get("device"),
        "workflow": (runtime.get("run_config") or {}).get("workflow"),
        "started_at": _started(run),
        "ingested_at": ingested_at,
        "verdict": acceptance["verdict"],
        "accepted": bool(report.get("acceptance_criteria")),
        "blockers": len(acceptance.get("blockers") or ()),
        "model_id": runtime.get("model_id"),
        "model_repo": spec.get("hf_repo"),
        "impl": spec.get("impl"),
        "inference_engine": spec.get("inference_engine"),
        "engine_version": runtime.get("engine_version"),
        "model_status": spec.get("status"),
        "spec_version": spec.get("version"),
        "tt_metal_commit": spec.get("tt_metal_commit"),
        "vllm_commit": spec.get("vllm_commit"),
        "docker_image": spec.get("docker_image"),
        "docker_image_id": meta.get("docker_image_id"),  # absent from older reports
        "docker_image_origin": meta.get("docker_image_origin"),
        "engine_packages": list(spec.get("engine_packages") or ()),
        "server_mode": runtime.get("server_mode"),
        "runner_version": runtime.get("runner_version"),
        "runner_git_sha": runtime.get("git_sha"),
        "host": runtime.get("host"),
        "requirements": run.requirements,
        "limit_samples_mode": meta.get("limit_samples_mode"),
        "command": meta.get("run_command"),
    }


def point_row(point: Point, kind: str) -> dict[str, Any]:
    """A benchmark or stress point as the report's row has it, with TPOT's interval too."""
    row = benchmark_row(point)
    tpot = (point.document.get("interval_95") or {}).get("mean_tpot_ms")
    low, high = tpot if isinstance(tpot, list) and len(tpot) == 2 else (None, None)
    repeats = point.document.get("repeats")
    return {
        "kind": kind,
        **{key: row.get(key) for key in POINT_FIELDS},
        "mean_tpot_ms_ci95_low": low,
        "mean_tpot_ms_ci95_high": high,
        "repeats": len(repeats) if isinstance(repeats, list) else None,
        "window": row.get("window"),
    }


POINT_FIELDS = (
    "isl", "osl", "concurrency", "num_prompts", "completed", "failed",
    "mean_ttft_ms", "mean_ttft_ms_ci95_low", "mean_ttft_ms_ci95_high", "mean_tpot_ms",
    "tput_user", "tput_user_ci95_low", "tput_user_ci95_high",
    "output_throughput", "output_throughput_ci95_low", "output_throughput_ci95_high",
    "p99_ttft_ms", "mean_e2el_ms", "request_throughput", "total_token_throughput",
    "cached_share", "interval_method", "tool",
)  # fmt: skip


def eval_row(task: Mapping[str, Any]) -> dict[str, Any]:
    interval = task.get("interval_95")
    low, high = interval if isinstance(interval, list) and len(interval) == 2 else (None, None)
    keep = ("task", "status", "score", "unit", "n_samples", "reference", "tolerance", "limit_mode")
    return {
        **{key: task.get(key) for key in keep},
        "score_ci95_low": low,
        "score_ci95_high": high,
    }
