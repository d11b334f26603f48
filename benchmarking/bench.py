"""Run one sweep point: prompts, warm-up, the measured run, metrics, result files."""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarking import metrics
from benchmarking.client import driver
from benchmarking.client.requests import Prompt, Target, http_request, request_body
from benchmarking.client.result import RequestResult
from benchmarking.client.wakeup import QOS_DEVICE
from benchmarking.datasets import RandomDataset, ShareGPTDataset, Tokenizer, sharegpt_path
from benchmarking.schedule import arrival_offsets_ns
from benchmarking.settings import Settings
from benchmarking.sweep import Point

SCHEMA_VERSION = "1"
Progress = Callable[[driver.Plan, int], tuple[list[RequestResult], int]]


@dataclass(frozen=True)
class Context:
    target: Target
    model: str
    settings: Settings
    tokenizer: Tokenizer
    output_dir: Path
    identity: Mapping[str, object]  # run_id, model_id, device, ...
    kind: str = "benchmark"  # or "stress_test": the result files' kind and name prefix


def plan_for(
    ctx: Context, prompts: list[Prompt], concurrency: int, prefix: str, offsets: list[int]
) -> driver.Plan:
    requests = tuple(
        driver.Planned(
            i,
            http_request(
                ctx.target,
                ctx.settings.endpoint,
                request_body(ctx.model, p, ctx.settings.endpoint, ctx.settings.ignore_eos),
                f"{prefix}-{i}",
            ),
            offsets[i],
            p.prompt_tokens,
        )
        for i, p in enumerate(prompts)
    )
    return driver.Plan(ctx.target, requests, concurrency)


def run_point(ctx: Context, point: Point, execute: Progress, suffix: str = "") -> dict[str, object]:
    settings = ctx.settings
    prompts = dataset_for(ctx, point).prompts(point.num_prompts + settings.warmups, ctx.tokenizer)
    warm, measured = prompts[: settings.warmups], prompts[settings.warmups :]
    if warm:
        driver.run(plan_for(ctx, warm, point.concurrency, "warmup", [0] * len(warm)))
    offsets = arrival_offsets_ns(len(measured), settings.rate, settings.burstiness, settings.seed)
    shape = "sharegpt" if settings.dataset == "sharegpt" else f"isl-{point.isl}_osl-{point.osl}"
    tag = f"{shape}_maxcon-{point.concurrency}_n-{point.num_prompts}"
    results, start_ns = execute(
        plan_for(ctx, measured, point.concurrency, tag, offsets), len(measured)
    )
    end_ns = max((r.token_ns[-1] for r in results if r.token_ns), default=time.perf_counter_ns())
    summary = metrics.summarize(
        results, start_ns, end_ns, settings.percentiles, metrics.parse_goodput(settings.goodput)
    )
    document = _document(ctx, _measured_shape(point, measured), summary, results)
    write_results(ctx.output_dir, f"{ctx.kind}_{tag}{suffix}", document, results, start_ns)
    return document


def _measured_shape(point: Point, prompts: list[Prompt]) -> Point:
    """ShareGPT points have no fixed lengths: report the mean ones."""
    if point.isl or not prompts:
        return point
    isl = round(sum(p.prompt_tokens for p in prompts) / len(prompts))
    osl = round(sum(p.output_tokens for p in prompts) / len(prompts))
    return Point(isl, osl, point.concurrency, point.num_prompts)


def dataset_for(ctx: Context, point: Point) -> RandomDataset | ShareGPTDataset:
    settings = ctx.settings
    if settings.dataset == "sharegpt":
        return ShareGPTDataset(
            sharegpt_path(settings.dataset_path), settings.seed, settings.osl_fixed
        )
    return RandomDataset(
        point.isl, point.osl, settings.range_ratio, point_seed(settings.seed, point)
    )


def point_seed(seed: int, point: Point) -> int:
    """A seed of its own per sweep point: the same seed everywhere would give every point the
    same first prompts, and a server's prefix cache would answer them from memory."""
    key = f"{seed}:{point.isl}:{point.osl}:{point.concurrency}:{point.num_prompts}"
    return zlib.crc32(key.encode())


def low_wake_latency_available() -> bool:
    return os.access(QOS_DEVICE, os.W_OK)


def _document(
    ctx: Context, point: Point, summary: Mapping[str, object], results: list[RequestResult]
) -> dict[str, object]:
    settings = ctx.settings
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": ctx.kind,
        **ctx.identity,
        "date": datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S"),
        "tool": "readiness-loadgen",
        "backend": "openai-chat" if settings.endpoint.endswith("chat/completions") else "openai",
        "endpoint_type": settings.endpoint,
        "dataset": settings.dataset,
        "tokenizer": ctx.tokenizer.name,
        "prompt_tokens_exact": ctx.tokenizer.exact,
        "low_wake_latency": low_wake_latency_available(),
        "isl": point.isl,
        "osl": point.osl,
        "concurrency": point.concurrency,
        "max_concurrency": point.concurrency,
        "num_prompts": point.num_prompts,
        "request_rate": "inf" if settings.rate == float("inf") else settings.rate,
        "burstiness": settings.burstiness,
        "seed": settings.seed,
        **summary,
        "total_server_output_tokens": sum(r.server_output_tokens or 0 for r in results),
        "total_client_output_tokens": sum(r.client_output_tokens for r in results),
        "total_server_input_tokens": sum(r.server_prompt_tokens or 0 for r in results),
        "errors": sorted({r.error for r in results if r.error})[:10],
    }


def write_results(
    folder: Path,
    stem: str,
    document: Mapping[str, object],
    results: list[RequestResult],
    start_ns: int,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(_request_row(r, start_ns)) for r in results]
    _atomic(folder / f"{stem}_requests.jsonl", "\n".join(lines) + "\n")
    target = folder / f"{stem}.json"
    _atomic(target, json.dumps(document, indent=2) + "\n")
    return target


def _request_row(result: RequestResult, start_ns: int) -> dict[str, object]:
    return {
        "index": result.index,
        "success": result.success,
        "error": result.error,
        "sent_ns": result.sent_ns,  # CLOCK_MONOTONIC: comparable with the server's own stamps
        "start_ms": (result.sent_ns - start_ns) / 1e6,
        "queue_ms": result.queue_ms,
        "prompt_tokens": result.prompt_tokens,
        "server_prompt_tokens": result.server_prompt_tokens,
        "output_tokens": result.output_tokens,
        "server_output_tokens": result.server_output_tokens,
        "client_output_tokens": result.client_output_tokens,
        "ttft_ms": result.ttft_ms,
        "first_chunk_ms": result.first_chunk_ms,
        "tpot_ms": result.tpot_ms,
        "e2el_ms": result.e2el_ms,
        "itl_ms": result.itl_ms,
    }


def _atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    temp.replace(path)
