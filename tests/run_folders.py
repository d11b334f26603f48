"""Run folders made by the tests: the result files a release writes (runtime spec, benchmark
points with their request rows, evals, spec tests, release record), with the figures chosen."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reports.results import Identity, document, write_json, write_jsonl

RUN_ID = "2026-12-01_10-00-00_TinyModel_cpu_release_0000abcd"
IDENTITY = Identity(RUN_ID, "id_llama-cpp_TinyModel_cpu", "org/TinyModel", "cpu", "org/TinyModel")
TARGET = {
    "isl": 128,
    "osl": 32,
    "concurrency": 1,
    "ttft_ms": 100.0,
    "tput_user": 50.0,
    "tput": 50.0,
}


@dataclass(frozen=True)
class Measured:
    """One benchmark point's figures; `ttfts` are per request (ms), the rest are summaries."""

    isl: int = 128
    osl: int = 32
    concurrency: int = 1
    ttft_ms: float = 80.0
    tpot_ms: float = 16.0  # 62.5 tok/s per user
    output_throughput: float = 60.0
    failed: int = 0
    completed: int = 4
    request_ttfts: Sequence[float] = ()
    max_failed: float = 0.0
    server_telemetry: Mapping[str, Any] | None = None  # None: a file from before telemetry
    cached_share: float | None = 0.0  # prompt tokens from the server's cache; None: not said
    prefix_cache: Mapping[str, Any] | None = None  # a prefix-cache variant: its mode and variant
    spread: float | None = 0.02  # each figure's 95% interval: +-this share of it; None: none


@dataclass
class RunSpec:
    status: str = "functional"
    perf_reference: list[dict[str, Any]] = field(default_factory=lambda: [dict(TARGET)])
    perf_tiers: dict[str, float] = field(
        default_factory=lambda: {"functional": 0.1, "complete": 0.5, "target": 1.0}
    )
    known_issues: list[dict[str, Any]] = field(default_factory=list)
    workflow: str = "release"


def runtime_spec(spec: RunSpec) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "kind": "runtime_spec",
        "run_id": RUN_ID,
        "runner_version": "0.1.0",
        "git_sha": "0123456789abcdef0123456789abcdef01234567",
        "model_id": IDENTITY.model_id,
        "engine_version": "b11434",
        "server_mode": "local",
        "service_port": 8000,
        "command": "python3 run.py --model TinyModel --device cpu --workflow release",
        "model_spec": {
            "model_name": "TinyModel",
            "hf_repo": "org/TinyModel",
            "device": "cpu",
            "impl": "llama_cpp",
            "inference_engine": "llama_cpp",
            "version": "0.1.0",
            "status": spec.status,
            "release_limit_samples_mode": "smoke",  # what run_config's limit says it ran
            "docker_image": "local/readiness-llama-cpp-cpu:0.1.0",
            "tt_metal_commit": None,
            "vllm_commit": None,
            "max_concurrency": 8,
            "max_context": 4096,
            "perf_reference": spec.perf_reference,
            "perf_tiers": spec.perf_tiers,
            "known_issues": spec.known_issues,
        },
        "run_config": {"workflow": spec.workflow, "limit_samples_mode": "smoke"},
    }


def benchmark_document(point: Measured) -> dict[str, Any]:
    # one completed request a TTFT given, as its rows say (request_rows)
    point = replace(point, completed=len(point.request_ttfts) or point.completed)
    total = point.failed + point.completed
    return document(
        "benchmark",
        IDENTITY,
        {
            "tool": "native",
            "isl": point.isl,
            "osl": point.osl,
            "concurrency": point.concurrency,
            "num_prompts": total,
            "max_failed": point.max_failed,
            "completed": point.completed,
            "failed": point.failed,
            "mean_ttft_ms": point.ttft_ms,
            "p99_ttft_ms": point.ttft_ms * 1.5,
            "mean_tpot_ms": point.tpot_ms,
            "mean_e2el_ms": point.ttft_ms + point.tpot_ms * (point.osl - 1),
            "request_throughput": 1.0,
            "output_throughput": point.output_throughput,
            "total_token_throughput": point.output_throughput * 5,
            "cached_share": point.cached_share,
            "prefix_cache": point.prefix_cache,
            "error_counts": {"connection closed before the response ended": point.failed}
            if point.failed
            else {},
            **({"server_telemetry": point.server_telemetry} if point.server_telemetry else {}),
            "interval_95": _intervals(point),
            "interval_method": "percentile bootstrap over requests",
        },
    )


def _intervals(point: Measured) -> dict[str, list[float] | None]:
    figures = {
        "mean_ttft_ms": point.ttft_ms,
        "mean_tpot_ms": point.tpot_ms,
        "output_throughput": point.output_throughput,
    }
    spread = point.spread
    return {
        name: None if spread is None else [value * (1 - spread), value * (1 + spread)]
        for name, value in figures.items()
    }


def server_telemetry(running: Sequence[float], waiting: Sequence[float]) -> dict[str, Any]:
    """A point's telemetry in llama.cpp's names, one scrape a second from just before its start."""
    series = [
        {"t_s": i - 0.1, "running": r, "waiting": w, "kv_usage": None, "decode_tokens": 32.0 * i}
        for i, (r, w) in enumerate(zip(running, waiting, strict=True))
    ]
    summary = {
        "scrapes": len(series), "failed_scrapes": 0, "elapsed_s": len(series) - 1.0,
        "peak_running": max(running), "peak_waiting": max(waiting), "mean_kv_usage": None,
        "peak_kv_usage": None, "preemptions": None, "prompt_tokens": 512.0,
        "cached_prompt_tokens": 0.0,
        "decode_tokens": 32.0 * (len(series) - 1), "prompt_tokens_per_s": 170.7,
        "decode_tokens_per_s": 32.0, "prompt_tokens_per_busy_s": 2048.0,
        "decode_tokens_per_busy_s": 64.0, "prefix_cache_hit_rate": None, "scrapes_per_s": 1.0,
        "scraper_cpu_s": 0.012,
    }  # fmt: skip
    return {"available": True, "reason": None, "source": "llama.cpp", "interval_s": 1.0,
            "series": series, "summary": summary}  # fmt: skip


NO_METRICS = {"available": False, "reason": "GET /metrics answered HTTP 404", "source": None,
              "interval_s": 1.0, "series": [], "summary": None}  # fmt: skip


def request_rows(point: Measured) -> list[dict[str, Any]]:
    ttfts = list(point.request_ttfts) or [point.ttft_ms] * point.completed
    rows = [
        {"index": i, "success": True, "start_ms": 100.0 * i, "ttft_ms": t,
         "tpot_ms": point.tpot_ms, "e2el_ms": t + point.tpot_ms * (point.osl - 1)}
        for i, t in enumerate(ttfts)
    ]  # fmt: skip
    rows += [{"index": len(rows) + i, "success": False} for i in range(point.failed)]
    return rows


def eval_task(name: str, status: str, score: float | None = 0.55, **extra: Any) -> dict[str, Any]:
    return {
        "task": name,
        "status": status,
        "score": score,
        "unit": "fraction",
        "n_samples": 30,
        "interval_95": [0.37, 0.71] if score is not None else None,
        "reference": 0.5333,
        "reference_source": "measured",
        "ratio_to_reference": None if score is None else round(score / 0.5333, 4),
        "published": None,
        "ratio_to_published": None,
        "tolerance": 0.05,
        "limit_mode": "smoke",
        "limit": "30",
        "rule": "limited set",
        "reason": extra.pop("reason", f"{name} {status.lower()}"),
        "duration_s": 40.0,
        **extra,
    }


def spec_check(name: str, status: str = "PASS", message: str = "") -> dict[str, Any]:
    return {"name": name, "status": status, "duration_s": 1.0, "attempts": 1, "message": message}


def spec_summary(checks: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The counts spec_tests.json's summary gives, as the suite writes them."""
    states = [check.get("status") for check in checks]
    counts = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIPPED", "errors": "ERROR"}
    return {key: states.count(state) for key, state in counts.items()}


def evals_summary(tasks: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The counts evals.json's summary gives, as the evals workflow writes them."""
    states = [str(task.get("status")).lower() for task in tasks]
    keys = ("pass", "fail", "skipped", "not_comparable", "error")
    return {key: states.count(key) for key in keys} | {"planned": len(tasks)}


def with_lm_eval_output(folder: Path, task: Mapping[str, Any]) -> Mapping[str, Any]:
    """A task that scored, with the lm-eval output the evals workflow leaves beside it: a
    results file, and a samples file of one answer per sample it counts."""
    n = task.get("n_samples")
    if "files" in task or task.get("score") is None or not isinstance(n, int):
        return task
    where = f"evals/{task['task']}/lm_eval"
    results, samples = f"{where}/results.json", f"{where}/samples_{task['task']}.jsonl"
    (folder / where).mkdir(parents=True, exist_ok=True)
    (folder / results).write_text(json.dumps({"results": {task["task"]: {}}}))
    write_jsonl(folder / samples, [{"doc_id": index} for index in range(n)])
    return {**task, "files": {"results": results, "samples": [samples]}}


def make_run(
    folder: Path,
    spec: RunSpec | None = None,
    points: Sequence[Measured] = (Measured(),),
    tasks: Sequence[Mapping[str, Any]] | None = None,
    checks: Sequence[Mapping[str, Any]] | None = None,
    children: Mapping[str, str] | None = None,
    complete: bool = True,
    stress: Sequence[Measured] = (),
    release: bool = True,
    narrowed: Sequence[str] = (),
    left_out_because: str = "no eval configuration",
) -> Path:
    """A finished release's folder; `tasks`/`checks` None: that child wrote nothing; `release`
    False: a single workflow's folder (no release.json)."""
    spec = spec or RunSpec()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "runtime_spec.json").write_text(json.dumps(runtime_spec(spec), indent=2))
    for point in points:
        name = f"benchmark_isl-{point.isl}_osl-{point.osl}_maxcon-{point.concurrency}"
        write_json(folder / "benchmarks" / f"{name}.json", benchmark_document(point))
        write_jsonl(folder / "benchmarks" / f"{name}_requests.jsonl", request_rows(point))
    for index, point in enumerate(stress):
        document_ = benchmark_document(point) | {"kind": "stress_test", "window": index + 1}
        write_point(folder / "stress_tests" / f"stress_{index}.json", document_, point)
    if tasks is not None:
        tasks = [with_lm_eval_output(folder, task) for task in tasks]
        write_json(
            folder / "evals" / "evals.json",
            document("evals", IDENTITY, {"engine": "llama_cpp", "complete": complete,
                                         "summary": evals_summary(tasks), "tasks": list(tasks)}),
        )  # fmt: skip
    if checks is not None:
        write_json(
            folder / "spec_tests" / "spec_tests.json",
            document("spec_tests", IDENTITY, {"engine": "llama_cpp", "complete": complete,
                                              "summary": spec_summary(checks),
                                              "checks": list(checks)}),
        )  # fmt: skip
    if not release:
        return folder
    states = children or {"evals": "passed", "benchmarks": "passed", "spec_tests": "passed"}
    write_json(
        folder / "release.json",
        document(
            "release",
            IDENTITY,
            {
                "children": [
                    {"workflow": name, "status": state, "exit_code": 0 if state == "passed" else 1,
                     "message": {"passed": "", "failed": "", "left_out": left_out_because}
                     .get(state, "the server died"),
                     "duration_s": 1.0}
                    for name, state in states.items()
                ],
                "narrowed": list(narrowed),
            },
        ),
    )  # fmt: skip
    return folder


def passing_run(folder: Path, **changes: Any) -> Path:
    """A release that meets every target of a functional model."""
    arguments: dict[str, Any] = {
        "tasks": [eval_task("readiness_basics", "PASS")],
        "checks": [spec_check("chat"), spec_check("completions")],
    }
    return make_run(folder, **(arguments | changes))


def set_run_id(folder: Path, run_id: str) -> None:
    """Give a made run another run id: runtime_spec.json's and every result file's, as a run
    writes them (a result file naming another run is no evidence)."""
    for path in [folder / "runtime_spec.json", *folder.glob("*.json"), *folder.glob("*/*.json")]:
        document = json.loads(path.read_text())
        if isinstance(document, dict) and "run_id" in document:
            path.write_text(json.dumps(document | {"run_id": run_id}, indent=2))


def write_point(path: Path, document_: Mapping[str, Any], point: Measured) -> Path:
    """A point's result file and its request rows beside it, one a request it counts."""
    write_jsonl(path.with_name(f"{path.stem}_requests.jsonl"), request_rows(point))
    return write_json(path, document_)
