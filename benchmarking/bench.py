"""Run one sweep point: prompts, warm-up, the measured run, metrics, result files."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarking import CHECKOUT, intervals, metrics
from benchmarking.client import driver
from benchmarking.client.requests import Prompt, Target, http_request, request_body
from benchmarking.client.result import RequestResult
from benchmarking.client_cpu import CpuClock
from benchmarking.dataset_report import dataset_lengths
from benchmarking.datasets import (
    JsonlDataset,
    MultiTurnDataset,
    RandomDataset,
    SharedPrefixDataset,
    ShareGPTDataset,
    Tokenizer,
    sharegpt_path,
)
from benchmarking.load_shape import (
    achieved_rate,
    closed_loop,
    schedule,
    shape_fields,
    trimmed_as,
)
from benchmarking.point_document import Measurement, Outcome, point_document
from benchmarking.settings import Settings
from benchmarking.shape_args import LoadShape
from benchmarking.sweep import Point, point_seed
from benchmarking.telemetry.point import NOT_SCRAPED, duration_of
from benchmarking.telemetry.session import PointWatch, Session, not_scraped
from reports.results import Identity, request_row, write_json, write_jsonl

TOOL = "readiness-loadgen"
VERSION_FILE = CHECKOUT / "VERSION"
Progress = Callable[[driver.Plan, int], driver.RunOutcome]


@dataclass(frozen=True)
class Context:
    target: Target
    model: str
    settings: Settings
    tokenizer: Tokenizer
    output_dir: Path
    identity: Identity
    kind: str = "benchmark"  # or "stress_test": the result files' kind and name prefix
    telemetry: Session | None = None  # the scraper of the server's /metrics, if it runs

    def watch(self, tag: str) -> PointWatch:
        """The server's metrics from now to the point's end (its start is scraped now)."""
        return self.telemetry.begin(tag) if self.telemetry else not_scraped(NOT_SCRAPED)


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
    longest = max((p.output_tokens for p in prompts), default=0)
    timeout = ctx.settings.request_timeout_s(longest)
    return driver.Plan(
        ctx.target, requests, concurrency, request_timeout_s=timeout, model=ctx.model
    )


def point_path(ctx: Context, point: Point, prefix: str | None = None) -> Path:
    """Where a point's own result file goes (its repeats' files sit beside it)."""
    tag = point_tag(ctx.settings, point) + (f"_prefix-{prefix}" if prefix else "")
    return ctx.output_dir / f"{ctx.kind}_{tag}.json"


def point_tag(settings: Settings, point: Point) -> str:
    shape = settings.dataset if settings.dataset != "random" else f"isl-{point.isl}_osl-{point.osl}"
    count = (
        f"duration-{settings.shape.duration_s:g}"
        if settings.shape.duration_s
        else f"n-{point.num_prompts}"
    )
    return f"{shape}_maxcon-{point.concurrency}_{count}{point.rate_tag}{settings.shape.tag}"


def prefix_variants(mode: str) -> tuple[str, str]:
    """The baseline first (nothing cached for it), then the variant the cache can serve."""
    return ("none", mode)


def run_point(
    ctx: Context,
    point: Point,
    execute: Progress,
    window: int = 0,
    prefix: str | None = None,
    repeat: int = 0,
) -> dict[str, object]:
    """Measure one point (`window` > 0: one window of an endurance run, with prompts of its
    own; `prefix`: the prefix-cache variant; `repeat` > 0: one of several measurements, in
    files of its own, with fresh prompts after the first), write its result files, return
    its document."""
    settings = ctx.settings
    measured, offsets = prompts_and_offsets(
        ctx, point, dataset_for(ctx, point, window, prefix, repeat)
    )
    tag = point_tag(settings, point) + (f"_window-{window:04d}" if window else "")
    tag += f"_prefix-{prefix}" if prefix else ""
    tag += f"_repeat-{repeat}" if repeat else ""
    plan = plan_for(ctx, measured, point.concurrency, tag, offsets)
    plan = dataclasses.replace(plan, send_until_s=settings.shape.duration_s)
    watch = ctx.watch(tag)
    clock = CpuClock.start()
    outcome = sent_only(execute(plan, len(measured)))
    cpu = clock.used()
    trimmed = [trimmed_as(settings.shape, r.sent_ns - outcome.start_ns) for r in outcome.results]
    shown = _measured_shape(point, measured, len(outcome.results) if settings.shape.timed else None)
    document = measured_document(
        ctx, shown, kept_only(outcome, trimmed, settings.shape), plan, watch
    )
    sent = [r.sent_ns - outcome.start_ns for r in outcome.results]
    document["load_shape"] = shape_fields(settings.shape, trimmed, offsets, sent)
    document["prefix_cache"] = _prefix_fields(settings, point, prefix)
    document["dataset_lengths"] = lengths_of(measured, ctx.tokenizer)
    document |= {"prompt_seed": point_seed(settings.seed, point, window, repeat), "repeat": None}
    if repeat:
        document |= {"kind": f"{ctx.kind}_repeat", "repeat": repeat}
    document |= cpu
    rows = [row | {"repeat": repeat or None} for row in request_rows(outcome, trimmed)]
    document |= intervals.interval_fields([intervals.repeat_of(document, rows)])
    write_results(ctx.output_dir, f"{ctx.kind}_{tag}", document, rows)
    return document


def prompts_and_offsets(
    ctx: Context, point: Point, dataset: Dataset
) -> tuple[list[Prompt], list[int]]:
    """The measured prompts and their arrival offsets, after the warm-up requests have run. A
    timed closed-loop point learns from the warm-up's latency how many prompts to make."""
    settings = ctx.settings
    capped, warmups = settings.num_prompts is not None, settings.warmups
    if settings.shape.timed and closed_loop(settings.shape, point):
        latency = warm_up(ctx, point, dataset.prompts(warmups, ctx.tokenizer))
        offsets = schedule(
            settings.shape, point, settings.burstiness, settings.seed, latency, capped
        )
        return dataset.prompts(warmups + len(offsets), ctx.tokenizer)[warmups:], offsets
    offsets = schedule(settings.shape, point, settings.burstiness, settings.seed, capped=capped)
    prompts = dataset.prompts(len(offsets) + warmups, ctx.tokenizer)
    warm_up(ctx, point, prompts[:warmups])
    return prompts[warmups:], offsets[: len(prompts) - warmups]


def warm_up(ctx: Context, point: Point, warm: list[Prompt]) -> float | None:
    """Run the warm-up requests, all at once up to the point's concurrency; the longest
    successful one's latency in seconds (None: none succeeded, or none was asked for)."""
    if not warm:
        return None
    outcome = driver.run(plan_for(ctx, warm, point.concurrency, "warmup", [0] * len(warm)))
    latencies = [r.e2el_ms for r in outcome.results if r.success and r.e2el_ms is not None]
    return max(latencies) / 1e3 if latencies else None


def sent_only(outcome: driver.RunOutcome) -> driver.RunOutcome:
    """A timed point's outcome without the requests its time limit left unsent."""
    sent = [r for r in outcome.results if r.error != driver.NOT_SENT_TIME_UP]
    return dataclasses.replace(outcome, results=sent)


def kept_only(
    outcome: driver.RunOutcome, trimmed: list[str | None], shape: LoadShape
) -> driver.RunOutcome:
    """The requests the statistics count, timed from the end of the warm-up trim."""
    kept = [r for r, why in zip(outcome.results, trimmed, strict=True) if why is None]
    start_ns = outcome.start_ns + int(shape.warmup_s * 1e9)
    return dataclasses.replace(outcome, results=kept, start_ns=start_ns)


def _measured_shape(point: Point, prompts: list[Prompt], sent: int | None = None) -> Point:
    """ShareGPT points have no fixed lengths: report the mean ones; a timed point's request
    count is what it sent."""
    point = point if sent is None else dataclasses.replace(point, num_prompts=sent)
    if point.isl or not prompts:
        return point
    isl = round(sum(p.prompt_tokens for p in prompts) / len(prompts))
    osl = round(sum(p.output_tokens for p in prompts) / len(prompts))
    return dataclasses.replace(point, isl=isl, osl=osl)


def lengths_of(prompts: list[Prompt], tokenizer: Tokenizer) -> dict[str, object]:
    """The prompts' lengths as the tokenizer counts them, and the output lengths asked for."""
    return dataset_lengths(
        [p.prompt_tokens for p in prompts], [p.output_tokens for p in prompts], tokenizer.name
    )


def prefix_tokens(settings: Settings, point: Point) -> int:
    return int(point.isl * settings.prefix_share)


def _prefix_fields(
    settings: Settings, point: Point, prefix: str | None
) -> dict[str, object] | None:
    if prefix is None:
        return None
    fields: dict[str, object] = {"mode": settings.prefix_cache, "variant": prefix}
    if settings.prefix_cache == "multi_turn":
        turns = MultiTurnDataset(point.isl, point.osl, point.concurrency).turns(point.num_prompts)
        return fields | {"turns": turns}
    shared = prefix_tokens(settings, point) if prefix == "shared" else 0
    return fields | {"shared_prefix_tokens": shared}


Dataset = RandomDataset | ShareGPTDataset | SharedPrefixDataset | MultiTurnDataset | JsonlDataset


def dataset_for(
    ctx: Context, point: Point, window: int = 0, prefix: str | None = None, repeat: int = 0
) -> Dataset:
    settings = ctx.settings
    seed = point_seed(settings.seed, point, window, repeat)
    if prefix == "shared":
        return SharedPrefixDataset(point.isl, point.osl, prefix_tokens(settings, point), seed)
    if settings.prefix_cache == "multi_turn" and prefix is not None:
        return MultiTurnDataset(point.isl, point.osl, point.concurrency, seed, prefix != "none")
    if settings.dataset == "sharegpt":
        return ShareGPTDataset(sharegpt_path(settings.dataset_path), seed, settings.osl_fixed)
    if settings.dataset == "jsonl" and settings.dataset_path:
        return JsonlDataset(Path(settings.dataset_path), seed, settings.osl_fixed)
    return RandomDataset(point.isl, point.osl, settings.range_ratio, seed)


def generator_version() -> str | None:
    try:
        return VERSION_FILE.read_text().strip() or None
    except OSError:
        return None


def measured_document(
    ctx: Context, point: Point, outcome: driver.RunOutcome, plan: driver.Plan, watch: PointWatch
) -> dict[str, object]:
    """A point's result document from its requests' results (the summary, errors, prompt cache,
    client and server figures); the caller adds what only it knows."""
    results, settings = outcome.results, ctx.settings
    end_ns = max((r.token_ns[-1] for r in results if r.token_ns), default=time.perf_counter_ns())
    summary = metrics.summarize(
        results,
        outcome.start_ns,
        end_ns,
        settings.percentiles,
        metrics.parse_goodput(settings.goodput),
    )
    measured = Outcome(
        summary,
        metrics.error_counts(r.error for r in results),
        metrics.cache_summary(
            (r.prompt_tokens, r.server_prompt_tokens, r.cached_tokens) for r in results
        ),
        client=_client_fields(outcome, plan)
        | sent_rate(outcome, closed_loop(settings.shape, point)),
        telemetry=watch.finish(outcome.start_ns, duration_of(summary)),
    )
    tokenizer = ctx.tokenizer
    measurement = Measurement(TOOL, generator_version(), tokenizer.name, tokenizer.exact)
    return point_document(ctx.kind, ctx.identity, settings, point, measurement, measured)


def _client_fields(outcome: driver.RunOutcome, plan: driver.Plan) -> dict[str, object]:
    results = outcome.results
    return {
        "low_wake_latency": outcome.wake.held,
        "low_wake_latency_reason": outcome.wake.reason,
        "request_timeout": plan.request_timeout_s,
        "total_server_input_tokens": sum(r.server_prompt_tokens or 0 for r in results),
        "total_server_output_tokens": sum(r.server_output_tokens or 0 for r in results),
        "total_client_output_tokens": sum(r.client_output_tokens for r in results),
    }


ALL_AT_ONCE = (
    "rate=inf: every request is due at once and the concurrency paces the sends, so there is "
    "no arrival rate to achieve (request_throughput is the rate served)"
)


def sent_rate(outcome: driver.RunOutcome, all_at_once: bool) -> dict[str, object]:
    """The arrival rate achieved by a point that asked for one (a rate or a ramp); a closed
    loop has none, and says why."""
    if all_at_once:
        return {"achieved_rate": None, "achieved_rate_reason": ALL_AT_ONCE}
    rate = achieved_rate([r.sent_ns for r in outcome.results])
    why = None if rate is not None else "fewer than two requests were sent"
    return {"achieved_rate": rate, "achieved_rate_reason": why}


def request_rows(
    outcome: driver.RunOutcome, trimmed: list[str | None] | None = None
) -> list[dict[str, object]]:
    """Every request sent, those the statistics trim marked `trimmed` (warmup, cooldown)."""
    marks = trimmed or [None] * len(outcome.results)
    return [
        _request_row(r, outcome.start_ns) | {"trimmed": why}
        for r, why in zip(outcome.results, marks, strict=True)
    ]


def write_results(
    folder: Path, stem: str, document: dict[str, object], rows: list[dict[str, object]]
) -> Path:
    write_jsonl(folder / f"{stem}_requests.jsonl", rows)
    return write_json(folder / f"{stem}.json", document)


def _request_row(result: RequestResult, start_ns: int) -> dict[str, object]:
    return request_row(
        index=result.index,
        success=result.success,
        error=result.error,
        sent_ns=result.sent_ns,
        start_ms=(result.sent_ns - start_ns) / 1e6,
        queue_ms=result.queue_ms,
        prompt_tokens=result.prompt_tokens,
        server_prompt_tokens=result.server_prompt_tokens,
        cached_tokens=result.cached_tokens,
        output_tokens=result.output_tokens,
        server_output_tokens=result.server_output_tokens,
        client_output_tokens=result.client_output_tokens,
        ttft_ms=result.ttft_ms,
        first_chunk_ms=result.first_chunk_ms,
        response_model=result.response_model,
        tpot_ms=result.tpot_ms,
        e2el_ms=result.e2el_ms,
        itl_ms=result.itl_ms,
    )
