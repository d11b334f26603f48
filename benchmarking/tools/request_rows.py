"""The tools' per-request records as our `_requests.jsonl` rows (the same keys our generator
writes, from reports.results; what a tool does not measure is null), so one reader serves
every run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports.results import request_row

AIPERF_RECORDS = "profile_export.jsonl"


def _value(metrics: Mapping[str, Any], name: str) -> Any:
    entry = metrics.get(name)
    return entry.get("value") if isinstance(entry, Mapping) else None


def aiperf_rows(records_file: Path) -> list[dict[str, object]]:
    """AIPerf's profile_export.jsonl, measured requests only (warm-ups left out)."""
    if not records_file.is_file():
        return []
    records = [json.loads(line) for line in records_file.read_text().splitlines() if line.strip()]
    measured = [r for r in records if r["metadata"].get("benchmark_phase") == "profiling"]
    start_ns = min((r["metadata"]["request_start_ns"] for r in measured), default=0)
    return [_aiperf_row(index, record, start_ns) for index, record in enumerate(measured)]


def _aiperf_row(index: int, record: Mapping[str, Any], start_ns: int) -> dict[str, object]:
    metrics, metadata = record.get("metrics") or {}, record["metadata"]
    error = record.get("error")
    itl = _value(metrics, "inter_chunk_latency")
    return request_row(
        index=index,
        success=error is None and _value(metrics, "time_to_first_token") is not None,
        error=None if error is None else str(error.get("message", error)),
        start_ms=(metadata["request_start_ns"] - start_ns) / 1e6,
        prompt_tokens=_value(metrics, "input_sequence_length"),
        server_prompt_tokens=_value(metrics, "usage_prompt_tokens"),
        output_tokens=_value(metrics, "output_sequence_length"),
        server_output_tokens=_value(metrics, "usage_completion_tokens"),
        ttft_ms=_value(metrics, "time_to_first_token"),
        tpot_ms=_value(metrics, "inter_token_latency"),
        e2el_ms=_value(metrics, "request_latency"),
        itl_ms=itl if isinstance(itl, list) else [],  # per chunk, as AIPerf measures it
    )


def guidellm_rows(report: Mapping[str, Any]) -> list[dict[str, object]]:
    """GuideLLM's per-request stats of its (one) benchmark: completed, errored and incomplete."""
    requests = report["benchmarks"][0].get("requests") or {}
    found = [
        (stats, kind)
        for kind in ("successful", "errored", "incomplete")
        for stats in requests.get(kind) or []
    ]
    start = min((stats["request_start_time"] for stats, _ in found), default=0.0)
    return [_guidellm_row(i, stats, kind, start) for i, (stats, kind) in enumerate(found)]


def _guidellm_row(
    index: int, stats: Mapping[str, Any], kind: str, start: float
) -> dict[str, object]:
    info = stats.get("info") or {}
    latency = stats.get("request_latency")
    return request_row(
        index=index,
        success=kind == "successful",
        error=None if kind == "successful" else str(info.get("error") or kind),
        start_ms=(stats["request_start_time"] - start) * 1000,
        prompt_tokens=stats.get("prompt_tokens"),
        output_tokens=stats.get("output_tokens"),
        ttft_ms=stats.get("time_to_first_token_ms"),
        tpot_ms=stats.get("inter_token_latency_ms"),  # its own TPOT includes TTFT
        e2el_ms=None if latency is None else latency * 1000,
        itl_ms=[],  # GuideLLM keeps no per-token times
    )
