"""AIPerf (`aiperf profile`) for one sweep point, and its `profile_export_aiperf.json` converted.

AIPerf's names: `time_to_first_token` (ms), `inter_token_latency` (per request, ms: vLLM's TPOT),
`inter_chunk_latency` (every gap between chunks, ms: vLLM's ITL), `request_latency` (ms: E2EL),
each with avg, std, p1..p99; totals `total_isl`, `total_osl`, `benchmark_duration` (s),
`request_count` (completed) and `error_request_count` (failed; absent when nothing failed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarking.endpoints import COMPLETIONS
from benchmarking.settings import Settings
from benchmarking.sweep import Point, point_seed
from benchmarking.tools.convert import stats, throughputs

EXPORT = "profile_export_aiperf.json"
METRIC_NAMES = {
    "ttft": "time_to_first_token",
    "tpot": "inter_token_latency",
    "itl": "inter_chunk_latency",
    "e2el": "request_latency",
}


def command(
    point: Point, settings: Settings, model: str, url: str, tokenizer: Path, out: Path
) -> list[str]:
    """`aiperf profile` arguments; the API key is added by benchmarking.tools.launch."""
    argv = [
        "profile",
        "--model",
        model,
        "--url",
        url,
        "--endpoint-type",
        "completions" if settings.endpoint == COMPLETIONS else "chat",
        "--streaming",
        "--tokenizer",
        str(tokenizer),
        "--concurrency",
        str(point.concurrency),
        "--request-count",
        str(point.num_prompts),
        "--isl",
        str(point.isl),
        "--isl-stddev",
        "0",
        "--osl",
        str(point.osl),
        "--osl-stddev",
        "0",
        "--random-seed",
        str(point_seed(settings.seed, point)),
        "--warmup-request-count",
        str(settings.warmups),
        "--artifact-dir",
        str(out),
        "--ui",
        "none",
        "--no-gpu-telemetry",
        "--no-server-metrics",
    ]
    if settings.ignore_eos:
        argv += ["--extra-inputs", "ignore_eos:true"]
    return argv


def _avg(export: Mapping[str, Any], name: str) -> float:
    entry = export.get(name) or {}
    return float(entry.get("avg") or 0.0)


def _distribution(export: Mapping[str, Any], ours: str, ps: Sequence[float]) -> dict[str, float]:
    entry: Mapping[str, Any] = export.get(METRIC_NAMES[ours]) or {}

    def at(p: float) -> float | None:
        value = entry.get(f"p{p:g}")
        return float(value) if value is not None else None

    median = entry.get("p50", entry.get("avg", 0.0))
    return stats(
        ours,
        _avg(export, METRIC_NAMES[ours]),
        float(median),
        float(entry.get("std") or 0.0),
        at,
        ps,
    )


def convert(export: Mapping[str, Any], percentiles: Sequence[float]) -> dict[str, object]:
    """Our summary fields (vLLM names) from AIPerf's JSON export."""
    completed = int(_avg(export, "request_count"))
    summary = throughputs(
        completed,
        int(_avg(export, "total_isl")),
        int(_avg(export, "total_osl")),
        _avg(export, "benchmark_duration"),
    )
    summary["failed"] = int(_avg(export, "error_request_count"))
    for name in METRIC_NAMES:
        summary |= _distribution(export, name, percentiles)
    summary["tool_version"] = export.get("aiperf_version")
    return summary
