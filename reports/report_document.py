"""report.json: every figure of a run and its acceptance, in one versioned document. The top-level
names of the upstream runner's report are kept where they exist (`metadata`,
`acceptance_criteria`, `acceptance_blockers`, `acceptance_criteria_metadata`), so tooling written
for it reads ours; what it lacks is added beside them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reports.acceptance import Acceptance
from reports.capacity_view import capacity_rows
from reports.image_words import image_origin, image_used
from reports.run_data import Point, RunData, in_run
from reports.server_view import telemetry_rows
from reports.spec_words import source_words
from reports.targets import measured_figures, measured_intervals

REPORT_SCHEMA_VERSION = "1"
REPORT_KIND = "release_report"
BENCHMARK_COLUMNS = (  # report.json / CSV name, result-file field
    ("isl", "isl"),
    ("osl", "osl"),
    ("concurrency", "concurrency"),
    ("num_prompts", "num_prompts"),
    ("request_rate", "request_rate"),  # asked for, requests per second, or "inf"
    ("completed", "completed"),
    ("failed", "failed"),
    ("mean_ttft_ms", "mean_ttft_ms"),
    ("p99_ttft_ms", "p99_ttft_ms"),
    ("mean_tpot_ms", "mean_tpot_ms"),
    ("mean_e2el_ms", "mean_e2el_ms"),
    ("request_throughput", "request_throughput"),
    ("output_throughput", "output_throughput"),
    ("total_token_throughput", "total_token_throughput"),
    ("cached_share", "cached_share"),  # prompt tokens the server answered from its cache
    ("tool", "tool"),
)


def metadata(run: RunData) -> dict[str, Any]:
    runtime, spec = run.runtime, run.spec
    config = runtime.get("run_config") or {}
    return {
        "report_id": runtime.get("run_id"),
        "run_id": runtime.get("run_id"),
        "model_name": spec.get("model_name"),
        "model_id": runtime.get("model_id"),
        "model_repo": spec.get("hf_repo"),
        "model_impl": spec.get("impl"),
        "inference_engine": spec.get("inference_engine"),
        "engine_version": runtime.get("engine_version"),
        "device": spec.get("device"),
        "model_status": spec.get("status"),
        "server_mode": runtime.get("server_mode"),
        "version": spec.get("version"),
        "tt_metal_commit": spec.get("tt_metal_commit"),
        "vllm_commit": spec.get("vllm_commit"),
        "docker_image": spec.get("docker_image"),
        "docker_image_id": image_used(runtime).get("id"),
        "docker_image_origin": image_origin(image_used(runtime)),
        "runner_version": runtime.get("runner_version"),
        "runner_git_sha": runtime.get("git_sha"),
        "run_command": runtime.get("command") or config.get("command"),
        "workflow": config.get("workflow"),
        "limit_samples_mode": config.get("limit_samples_mode") or eval_limit_mode(run),
        "runtime_model_spec_json": str(run.folder / "runtime_spec.json"),
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def eval_limit_mode(run: RunData) -> str | None:
    """The limit the evals ran on, as evals.json's tasks record it, when the command line gave
    none (the workflow's default): 'smoke', or the modes joined if the tasks differ."""
    tasks = (run.evals or {}).get("tasks") or ()
    modes = sorted({str(task["limit_mode"]) for task in tasks if task.get("limit_mode")})
    return ", ".join(modes) or None


def benchmark_row(point: Point, folder: Path | None = None) -> dict[str, Any]:
    """A point's figures as its result file holds them; with the run folder, that file's
    path in it (`result_file`), so every figure can be traced back."""
    document = point.document
    row = {name: document.get(field) for name, field in BENCHMARK_COLUMNS}
    row["tput_user"] = measured_figures(document)["tput_user"]
    row |= interval_columns(document)
    if document.get("window") is not None:
        row["window"] = document["window"]
    if folder is not None:
        row["result_file"] = in_run(folder, point.path)
    return row


INTERVAL_COLUMNS = (
    ("ttft_ms", "mean_ttft_ms"),
    ("tput_user", "tput_user"),
    ("tput", "output_throughput"),
)


def interval_columns(document: Mapping[str, Any]) -> dict[str, Any]:
    """Each verdict figure's 95% interval as low and high columns, and how it was made."""
    intervals = measured_intervals(document)
    row: dict[str, Any] = {}
    for figure, column in INTERVAL_COLUMNS:
        bounds = intervals[figure]
        row[f"{column}_ci95_low"] = bounds[0] if bounds else None
        row[f"{column}_ci95_high"] = bounds[1] if bounds else None
    row["interval_method"] = document.get("interval_method")
    return row


def target_rows(acceptance: Acceptance, run: RunData) -> list[dict[str, Any]]:
    """Each target point's checks, and the result file its measured figures came from (the
    closed-loop point of its shape; None when it was not measured)."""
    files = {
        point.key: in_run(run.folder, point.path) for point in run.benchmarks if point.closed_loop
    }
    return [
        {
            "result_file": files.get((point.isl, point.osl, point.concurrency))
            if point.measured is not None
            else None,
            "isl": point.isl,
            "osl": point.osl,
            "concurrency": point.concurrency,
            "theoretical": dict(point.theoretical),
            "measured": dict(point.measured) if point.measured is not None else None,
            "tiers": {
                tier.tier: {
                    "fraction": tier.fraction,
                    "enforced": tier.enforced,
                    "verdict": tier.verdict,
                    "checks": {check.metric: asdict(check) for check in tier.checks},
                }
                for tier in point.tiers
            },
        }
        for point in acceptance.target_points
    ]


def _eval_rows(run: RunData) -> list[dict[str, Any]]:
    keep = (
        "task", "status", "score", "unit", "n_samples", "interval_95", "reference",
        "reference_source", "ratio_to_reference", "published", "ratio_to_published",
        "tolerance", "limit_mode", "limit", "rule", "reason", "duration_s", "under_load",
        "files",
    )  # fmt: skip
    return [
        {key: task.get(key) for key in keep} | {"result_file": EVALS_FILE}
        for task in (run.evals or {}).get("tasks", ())
    ]


EVALS_FILE = "evals/evals.json"  # a task's figures; lm-eval's own files are in its `files`
SPEC_TESTS_FILE = "spec_tests/spec_tests.json"


def _spec_test_rows(run: RunData) -> list[dict[str, Any]]:
    keep = ("name", "status", "duration_s", "attempts", "message")
    return [
        {key: check.get(key) for key in keep} | {"result_file": SPEC_TESTS_FILE}
        for check in (run.spec_tests or {}).get("checks", ())
    ]


def _summary_of(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if results is None:
        return None
    return {"complete": results.get("complete"), **(results.get("summary") or {})}


def targets_from(source: str, runtime: Mapping[str, Any]) -> str:
    """`registry` or `requirements: NAME`, and where the spec came from when not the registry
    (its status and waivers still decide with a requirements file)."""
    words = source_words(runtime.get("spec_source"))
    if words is None:
        return source
    return words if source == "registry" else f"{source}; the spec: {words}"


def spec_notes(runtime: Mapping[str, Any]) -> list[str]:
    words = source_words(runtime.get("spec_source"))
    return [] if words is None else [f"The spec is {words}: the verdict is against it."]


def report_document(
    run: RunData, acceptance: Acceptance, comparison: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    verdict = acceptance.verdict
    marginal = {finding.key for finding in acceptance.marginal}
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": REPORT_KIND,
        "metadata": metadata(run),
        "acceptance_criteria": acceptance.accepted,
        "acceptance_blockers": {b.key: b.message for b in acceptance.blockers},
        "acceptance_criteria_metadata": {
            "enforcement_result": verdict,
            "model_status": acceptance.model_status,
            "enforced_tiers": list(acceptance.enforced_tiers),
            "targets_from": targets_from(acceptance.source, run.runtime),
            "spec_source": run.runtime.get("spec_source"),
            "categories": [category.as_dict() for category in acceptance.categories],
        },
        "acceptance": {
            "verdict": verdict,
            "partial": list(acceptance.partial),
            "blockers": [finding.as_dict() for finding in acceptance.blockers],
            "waived": [finding.as_dict() for finding in acceptance.waived],
            "advisories": [finding.as_dict() for finding in acceptance.advisories],
            "marginal": [finding.as_dict() for finding in acceptance.marginal],
            "requirements": [asdict(grade) for grade in acceptance.grades],
            "checks": [
                {
                    "key": key,
                    "category": category.name,
                    "outcome": outcome,
                    "message": message,
                    "marginal": key in marginal,
                }
                for category in acceptance.categories
                for key, outcome, message in category.checks
            ],
            "notes": [*acceptance.notes, *spec_notes(run.runtime)],
        },
        "workflows": list((run.release or {}).get("children", ())),
        "target_checks": target_rows(acceptance, run),
        "benchmarks": [benchmark_row(point, run.folder) for point in run.benchmarks],
        "capacity": capacity_rows(run.capacities),
        "evals": {"summary": _summary_of(run.evals), "tasks": _eval_rows(run)},
        "spec_tests": {"summary": _summary_of(run.spec_tests), "checks": _spec_test_rows(run)},
        "stress_tests": [benchmark_row(point, run.folder) for point in run.stress],
        "server_telemetry": telemetry_rows(run),
        "comparison": dict(comparison) if comparison else None,
    }


def rows_by_key(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[Any, ...], Mapping[str, Any]]:
    """The closed-loop benchmark rows by (ISL, OSL, concurrency), to line two reports up: a
    point at a rate or a ramp is never compared with one all at once."""
    return {
        (row.get("isl"), row.get("osl"), row.get("concurrency")): row
        for row in rows
        if row.get("request_rate") in CLOSED_LOOP_RATES
    }


CLOSED_LOOP_RATES = (None, "inf")  # report.json's request_rate of a point all at once
