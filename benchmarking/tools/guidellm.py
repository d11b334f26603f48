"""GuideLLM (`guidellm run`) for one sweep point, and its JSON report converted.

GuideLLM's names (each a distribution with `successful`/`errored`/`incomplete`/`total`, holding
mean, median, std_dev and percentiles p001..p999): `time_to_first_token_ms`,
`inter_token_latency_ms` ((last - first token) / (tokens - 1): vLLM's TPOT, and per token its
ITL), `request_latency` (seconds), `prompt_token_count`, `output_token_count`; `request_totals`
counts requests. Its own `time_per_output_token_ms` includes TTFT, so it is not vLLM's TPOT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarking.endpoints import COMPLETIONS
from benchmarking.settings import Settings
from benchmarking.sweep import Point, point_seed
from benchmarking.tools.convert import stats, throughputs

EXPORT = "benchmarks.json"
PERCENTILE_KEYS = {0.1: "p001", 1: "p01", 5: "p05", 10: "p10", 25: "p25", 50: "p50"} | {
    75: "p75",
    90: "p90",
    95: "p95",
    99: "p99",
    99.9: "p999",
}
METRIC_NAMES = {  # ours -> (GuideLLM's, factor to milliseconds)
    "ttft": ("time_to_first_token_ms", 1.0),
    "tpot": ("inter_token_latency_ms", 1.0),
    "itl": ("inter_token_latency_ms", 1.0),
    "e2el": ("request_latency", 1000.0),
}


def command(
    point: Point, settings: Settings, model: str, url: str, tokenizer: Path, out: Path
) -> list[str]:
    """`guidellm run` arguments; the API key is added by benchmarking.tools.launch."""
    request_format = (
        "/v1/completions" if settings.endpoint == COMPLETIONS else "/v1/chat/completions"
    )
    data = f"kind=synthetic_text,prompt_tokens={point.isl},output_tokens={point.osl}"
    return [
        "run",
        "--backend",
        f"kind=openai_http,target={url},model={model},request_format={request_format}",
        "--profile",
        f"kind=concurrent,streams={point.concurrency}",
        "--constraint",
        f"kind=max_requests,count={point.num_prompts}",
        "--data",
        data,
        "--tokenizer",
        f"kind=huggingface_auto,model={tokenizer}",
        "--seed",
        f"kind=static,value={point_seed(settings.seed, point)}",
        "--output",
        f"kind=json,path={out / EXPORT}",
        "--disable-console-interactive",
    ]


def _successful(metrics: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    entry: Mapping[str, Any] = (metrics.get(name) or {}).get("successful") or {}
    return entry


def _distribution(metrics: Mapping[str, Any], ours: str, ps: Sequence[float]) -> dict[str, float]:
    theirs, factor = METRIC_NAMES[ours]
    entry = _successful(metrics, theirs)
    table: Mapping[str, Any] = entry.get("percentiles") or {}

    def at(p: float) -> float | None:
        key = PERCENTILE_KEYS.get(p)
        return float(table[key]) * factor if key is not None and key in table else None

    def value(key: str) -> float:
        return float(entry.get(key) or 0.0) * factor

    return stats(ours, value("mean"), value("median"), value("std_dev"), at, ps)


def convert(report: Mapping[str, Any], percentiles: Sequence[float]) -> dict[str, object]:
    """Our summary fields (vLLM names) from the one benchmark of a GuideLLM JSON report."""
    [benchmark] = report["benchmarks"]
    metrics: Mapping[str, Any] = benchmark["metrics"]
    totals: Mapping[str, Any] = metrics.get("request_totals") or {}
    summary = throughputs(
        int(totals.get("successful", 0)),
        int(_successful(metrics, "prompt_token_count").get("total_sum") or 0),
        int(_successful(metrics, "output_token_count").get("total_sum") or 0),
        float(benchmark.get("duration") or 0.0),
    )
    summary["failed"] = int(totals.get("errored", 0)) + int(totals.get("incomplete", 0))
    for name in METRIC_NAMES:
        summary |= _distribution(metrics, name, percentiles)
    summary["tool_version"] = (report.get("metadata") or {}).get("guidellm_version")
    return summary
