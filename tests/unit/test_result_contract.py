"""The result files' contract: each kind's exact key set, so a renamed or dropped field fails
here before it breaks a report. vLLM `bench serve`'s names are kept where it has the field."""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import fields, replace
from pathlib import Path

import pytest
from rich.console import Console

from benchmarking import bench, stress
from benchmarking.client import driver
from benchmarking.settings import settings_from
from benchmarking.sweep import Point
from benchmarking.telemetry.session import scraping
from benchmarking.tools.__main__ import ToolRun, converted, failed_point
from evals.plan import plan_task
from evals.spec_tests.results import spec_tests_document
from evals.spec_tests.runner import CheckResult
from evals.task_result import evals_document, scored_row, skipped_row
from reports.results import SCHEMA_VERSION, write_atomic
from tests.helpers import EVAL_TASK as TASK
from tests.helpers import IDENTITY, Emulator, context, lm_eval_results, point_files, run_context
from workflows import runtime_spec, workflow_release
from workflows.context import RunContext
from workflows.errors import ExitCode
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig

DATA = Path(__file__).parent / "data"
ENVELOPE = ["schema_version", "kind", "run_id", "model_id", "model", "device", "served_model"]
VLLM_SUMMARY = [
    "duration",
    "completed",
    "failed",
    "total_input_tokens",
    "total_output_tokens",
    "request_throughput",
    "request_goodput",
    "output_throughput",
    "total_token_throughput",
    "max_output_tokens_per_s",
    "max_concurrent_requests",
    *(
        f"{stat}_{metric}_ms"
        for metric in ("ttft", "tpot", "itl", "e2el", "queue_time")
        for stat in ("mean", "median", "std", "p50", "p90", "p99")
    ),
]
POINT = {
    *ENVELOPE,
    "date",
    "tool",
    "tool_version",
    "tokenizer",
    "prompt_tokens_exact",
    "backend",
    "endpoint_type",
    "dataset",
    "isl",
    "osl",
    "concurrency",
    "max_concurrency",
    "num_prompts",
    "request_rate",
    "burstiness",
    "seed",
    "max_failed",
    *VLLM_SUMMARY,
    "low_wake_latency",
    "low_wake_latency_reason",
    "request_timeout",
    "total_server_input_tokens",
    "total_server_output_tokens",
    "total_client_output_tokens",
    "achieved_rate",
    "achieved_rate_reason",
    "total_cached_tokens",
    "cached_share",
    "prompt_cache_hit",
    "errors",
    "error_counts",
    "prefix_cache",
    "load_shape",
    "dataset_lengths",
    "conversations",
    "client_cpu_s",
    "client_cpu_share",
    "server_telemetry",
    "interval_95",  # each verdict figure's 95% interval, from the requests (and repeats)
    "interval_method",
    "interval_note",
    "prompt_seed",  # the seed of this point's prompts (fresh ones for each repeat)
    "repeat",
    "repeats",
    "repeat_reason",
}
TELEMETRY = {"available", "reason", "source", "interval_s", "series", "summary"}
TELEMETRY_SUMMARY = {
    "scrapes", "failed_scrapes", "elapsed_s", "peak_running", "peak_waiting", "mean_kv_usage",
    "peak_kv_usage", "preemptions", "prompt_tokens", "cached_prompt_tokens", "decode_tokens",
    "prompt_tokens_per_s",
    "decode_tokens_per_s", "prompt_tokens_per_busy_s", "decode_tokens_per_busy_s",
    "prefix_cache_hit_rate", "scrapes_per_s", "scraper_cpu_s",
}  # fmt: skip
TELEMETRY_ROW = {
    "t_s", "running", "waiting", "kv_usage", "kv_tokens", "busy_slots_per_decode",
    "prompt_tokens", "decode_tokens", "prompt_seconds", "decode_seconds", "decode_calls",
    "cached_prompt_tokens", "preemptions", "prefix_cache_hits", "prefix_cache_queries",
}  # fmt: skip
REQUEST_ROW = {
    "index",
    "success",
    "error",
    "sent_ns",
    "start_ms",
    "queue_ms",
    "prompt_tokens",
    "server_prompt_tokens",
    "cached_tokens",
    "output_tokens",
    "server_output_tokens",
    "client_output_tokens",
    "ttft_ms",
    "first_chunk_ms",
    "response_model",
    "tpot_ms",
    "e2el_ms",
    "itl_ms",
    "conversation",
    "turn",
    "trimmed",
    "repeat",
}
ENDURANCE = {
    *ENVELOPE,
    "date",
    "isl",
    "osl",
    "concurrency",
    "duration_s",
    "windows",
    "ttft_drift",
    "tpot_drift",
    "failed",
    "prompt_cache_hit",
}
WINDOW = {
    "window",
    "prompt_seed",
    "date",
    "completed",
    "failed",
    "mean_ttft_ms",
    "p99_ttft_ms",
    "mean_tpot_ms",
    "output_throughput",
    "cached_share",
    "prompt_cache_hit",
    "elapsed_s",
}

SPEC_TESTS = {*ENVELOPE, "date", "engine", "complete", "summary", "checks"}
SPEC_CHECK = {"name", "status", "duration_s", "attempts", "message", "evidence"}
EVALS = {*ENVELOPE, "date", "engine", "complete", "summary", "tasks"}
EVAL_TASK = {
    "task", "model_type", "output_type", "result_keys", "combine", "limit_mode", "limit",
    "num_concurrent", "max_gen_toks", "num_fewshot", "seed", "tolerance", "published",
    "status", "reason", "score", "unit", "n_samples", "interval_95", "reference",
    "reference_source", "ratio_to_reference", "ratio_to_published", "rule", "key_values",
    "files", "agreement", "marginal",
}  # fmt: skip


def in_process(label: str) -> bench.Progress:
    del label
    return lambda plan, total: driver.run(plan)


def test_benchmark_point_file_and_request_rows(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator("--ttft-ms", "2", "--itl-ms", "1", "--fail-every", "3")
    with scraping(url, tmp_path, 0.05) as telemetry:
        ctx = dataclasses.replace(context(url, tmp_path), telemetry=telemetry)
        bench.run_point(ctx, Point(16, 4, 2, 4), in_process("point"))
    [(document, rows)] = point_files(tmp_path)
    assert set(document) == POINT
    server = document["server_telemetry"]
    assert set(server) == TELEMETRY and server["available"] is True
    assert set(server["summary"]) == TELEMETRY_SUMMARY
    assert server["series"] and all(set(row) == TELEMETRY_ROW for row in server["series"])
    assert (document["schema_version"], document["kind"]) == (SCHEMA_VERSION, "benchmark")
    assert all(set(row) == REQUEST_ROW for row in rows)
    assert [row["success"] for row in rows].count(False) == 1, "failed requests stay as data"


def test_stress_point_and_endurance_files(emulator: Emulator, tmp_path: Path) -> None:
    ctx = context(emulator("--ttft-ms", "2", "--itl-ms", "1"), tmp_path, kind="stress_test")
    stress.endurance(ctx, Point(16, 4, 2, 2), 0.0, in_process)
    [(window, rows)] = point_files(tmp_path)
    assert (set(window), window["kind"]) == (POINT, "stress_test")
    unscraped = window["server_telemetry"]
    assert set(unscraped) == TELEMETRY and (unscraped["available"], unscraped["summary"]) == (
        False,
        None,
    )
    assert all(set(row) == REQUEST_ROW for row in rows)
    endurance = json.loads((tmp_path / "stress_endurance.json").read_text())
    assert (set(endurance), endurance["kind"]) == (ENDURANCE, "stress_endurance")
    assert [set(w) for w in endurance["windows"]] == [WINDOW]


def tool_run(tool: str, tmp_path: Path) -> ToolRun:
    settings = settings_from({"tool": tool, "isl": 32, "osl": 16})
    return ToolRun(
        tool, settings, tmp_path, "http://h:1", "m", tmp_path, IDENTITY, "gguf", Console()
    )


def tool_output(tool: str, out: Path) -> None:
    """The tool's report in `out`, as a real run of it leaves it (from the trimmed samples)."""
    out.mkdir()
    if tool == "aiperf":
        shutil.copy(DATA / "aiperf_profile_export_aiperf.json", out / "profile_export_aiperf.json")
        shutil.copy(DATA / "aiperf_profile_export.jsonl", out / "profile_export.jsonl")
        return
    report = json.loads((DATA / "guidellm_benchmarks.json").read_text())
    requests = json.loads((DATA / "guidellm_requests.json").read_text())
    report["benchmarks"][0]["requests"] = requests["benchmarks"][0]["requests"]
    (out / "benchmarks.json").write_text(json.dumps(report))


@pytest.mark.parametrize("tool", ["aiperf", "guidellm"])
def test_tool_converted_benchmark_file(tool: str, tmp_path: Path) -> None:
    tool_output(tool, tmp_path / tool)
    document, rows = converted(tool_run(tool, tmp_path), Point(32, 16, 2, 6), tmp_path / tool)
    assert set(document) == POINT, "one reader for every generator's files"
    assert document["tool"] == tool and document["tool_version"] is not None
    assert rows and all(set(row) == REQUEST_ROW for row in rows)
    unmeasured, _ = failed_point(tool_run(tool, tmp_path), Point(32, 16, 2, 6))
    assert set(unmeasured) == POINT and unmeasured["error_counts"] == {f"{tool} failed": 6}
    assert set(json.loads(json.dumps(document))["server_telemetry"]) == TELEMETRY


def test_spec_tests_file() -> None:
    results = [CheckResult("chat", "FAIL", 0.5, 1, "HTTP 500", {"status": 500})]
    document = spec_tests_document(IDENTITY, "vllm", results, planned=2)
    assert (set(document), document["kind"]) == (SPEC_TESTS, "spec_tests")
    assert [set(check) for check in document["checks"]] == [SPEC_CHECK]  # type: ignore[attr-defined]
    assert document["summary"] == {"passed": 0, "failed": 1, "skipped": 0, "errors": 0}


def test_evals_file(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(lm_eval_results({"exact_match,strict-match": 0.5}, n=30)))
    plan = plan_task(TASK, "llama_cpp", 4096, 8, "smoke", {})
    scored = scored_row(plan, results, {"results": "r.json"})
    skipped = skipped_row(replace(plan, skip_reason="why"))
    document = evals_document(IDENTITY, "llama_cpp", [scored, skipped], planned=3)
    assert (set(document), document["kind"]) == (EVALS, "evals")
    assert set(scored) == EVAL_TASK and scored["status"] == "PASS"
    assert skipped["status"] == "SKIPPED" and skipped["reason"] == "why"
    assert document["complete"] is False
    assert document["summary"] == {
        "pass": 1, "fail": 0, "not_comparable": 0, "skipped": 1, "error": 0, "planned": 3,
    }  # fmt: skip


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "benchmark.json"
    write_atomic(target, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "new \udc80")  # cannot be encoded: the write fails midway
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["benchmark.json"]


RUNTIME_SPEC = {
    "schema_version", "kind", "run_id", "runner_version", "git_sha", "model_id",
    "engine_version", "served_model", "server_mode", "service_port", "command", "host",
    "model_spec", "run_config", "docker_image_used", "spec_source",
}  # fmt: skip
HOST = {"cpus", "hostname", "platform", "python"}


def test_runtime_spec_file(tmp_path: Path) -> None:
    """Read back by --rerun, --runtime-model-spec-json and every report: its keys are a contract.
    It is versioned on its own (runtime_spec.SCHEMA_VERSION): it is an input as well as a record."""
    recorded = json.loads(run_context(tmp_path).the_folder.runtime_spec.read_text())
    assert (set(recorded), recorded["kind"]) == (RUNTIME_SPEC, "runtime_spec")
    assert (
        recorded["schema_version"] == runtime_spec.SCHEMA_VERSION and set(recorded["host"]) == HOST
    )
    assert set(recorded["run_config"]) == {item.name for item in fields(RunConfig)}
    assert set(recorded["model_spec"]) == {item.name for item in fields(ModelSpec)}


RELEASE = {*ENVELOPE, "date", "children", "narrowed"}
RELEASE_CHILD = {"workflow", "status", "exit_code", "message", "duration_s", "args"}


class PassingChild:
    def __init__(self, name: str) -> None:
        self.name = name

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        del spec, config

    def run(self, ctx: RunContext) -> ExitCode:
        return ExitCode.OK


def test_release_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    children = {name: PassingChild(name) for name in workflow_release.ORDER}
    monkeypatch.setattr(workflow_release, "CHILDREN", children)
    monkeypatch.setattr(workflow_release, "render_and_tell", lambda *args: ExitCode.OK)
    ctx = run_context(tmp_path, workflow="release")  # the CPU spec: evals, benchmarks, spec_tests
    assert workflow_release.ReleaseRun(ctx).run() is ExitCode.OK
    recorded = json.loads((ctx.the_folder.path / "release.json").read_text())
    assert (set(recorded), recorded["kind"]) == (RELEASE, "release")
    assert recorded["schema_version"] == SCHEMA_VERSION
    assert [set(child) for child in recorded["children"]] == [RELEASE_CHILD] * 3
    assert [child["status"] for child in recorded["children"]] == ["passed"] * 3
