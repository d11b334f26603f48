"""The result document of one benchmark or stress point: the same fields whichever load
generator measured it (ours, AIPerf, GuideLLM), vLLM `bench serve`'s names where it has them,
null where a generator does not measure something. No third-party imports: the tool drivers'
environments build it too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from benchmarking.client_cpu import CPU_KEYS
from benchmarking.metrics import summary_keys
from benchmarking.settings import Settings
from benchmarking.sweep import Point
from benchmarking.telemetry.point import NOT_SCRAPED, ServerTelemetry, unavailable
from reports.results import Identity, document

CLIENT_KEYS = (  # what only our own generator knows
    "low_wake_latency",
    "low_wake_latency_reason",
    "request_timeout",
    "total_server_input_tokens",
    "total_server_output_tokens",
    "total_client_output_tokens",
    "achieved_rate",  # requests sent per second, first send to last; None with a reason
    "achieved_rate_reason",  # why there is none (rate=inf: all at once, no rate was asked)
)
INTERVAL_KEYS = ("interval_95", "interval_method", "interval_note")  # benchmarking/intervals.py
REPEAT_KEYS = (
    "prompt_seed",  # the seed this point's prompts were made from
    "repeat",  # which measurement of several this file is; None: the point's own file
    "repeats",  # the point's own file over several measurements: each one's figures
    "repeat_reason",  # why it was measured more than once
)
CACHE_KEYS = ("total_cached_tokens", "cached_share", "prompt_cache_hit")
UNSCRAPED = unavailable(NOT_SCRAPED)


@dataclass(frozen=True)
class Measurement:
    """Who measured a point, and with which tokenizer its prompts were made."""

    tool: str
    tool_version: str | None
    tokenizer: str
    prompt_tokens_exact: bool


@dataclass(frozen=True)
class Outcome:
    """What a point measured: the summary (vLLM names), the per-request error messages with
    their counts (most common first), the prompt cache's share, notes on the run itself, the
    fields only our generator has, and the server's own metrics while it ran."""

    summary: Mapping[str, object]
    error_counts: Mapping[str, int]
    cache: Mapping[str, object]
    notes: tuple[str, ...] = ()
    client: Mapping[str, object] | None = None
    telemetry: ServerTelemetry = UNSCRAPED


def _asked_rate(settings: Settings, point: Point) -> float | str:
    """Requests per second, "inf" (all at once) or "ramp" (load_shape says from what to what)."""
    if settings.shape.ramp:
        return "ramp"
    return "inf" if point.rate == float("inf") else point.rate


def _shape(settings: Settings, point: Point) -> dict[str, object]:
    chat = settings.endpoint.endswith("chat/completions")
    return {
        "backend": "openai-chat" if chat else "openai",
        "endpoint_type": settings.endpoint,
        "dataset": settings.dataset,
        "isl": point.isl,
        "osl": point.osl,
        "concurrency": point.concurrency,
        "max_concurrency": point.concurrency,
        "num_prompts": point.num_prompts,
        "request_rate": _asked_rate(settings, point),
        "burstiness": settings.burstiness,
        "seed": settings.seed,
        "max_failed": settings.max_failed,
    }


def point_document(
    kind: str,
    identity: Identity,
    settings: Settings,
    point: Point,
    measurement: Measurement,
    outcome: Outcome,
) -> dict[str, object]:
    summary = {key: outcome.summary.get(key) for key in summary_keys(settings.percentiles)}
    client = outcome.client or {}
    return document(
        kind,
        identity,
        {
            "tool": measurement.tool,
            "tool_version": measurement.tool_version,
            "tokenizer": measurement.tokenizer,
            "prompt_tokens_exact": measurement.prompt_tokens_exact,
            **_shape(settings, point),
            **summary,
            **{key: client.get(key) for key in CLIENT_KEYS},
            **{key: outcome.cache.get(key) for key in CACHE_KEYS},
            "errors": [*outcome.error_counts, *outcome.notes][:10],
            "error_counts": dict(outcome.error_counts),
            "prefix_cache": None,  # a prefix-cache run: its mode, variant and shared tokens
            "load_shape": None,  # a timed point: its duration, trimming (benchmarking/load_shape)
            "dataset_lengths": None,  # ISL and OSL (mean, min, max) as the tokenizer counts them
            "conversations": None,  # dataset=conversations: how many, and TTFT by turn
            "server_telemetry": outcome.telemetry.as_dict(),
            **{key: None for key in CPU_KEYS},  # the client's CPU time, set by its caller
            **{key: None for key in INTERVAL_KEYS},  # set from the request rows by its caller
            **{key: None for key in REPEAT_KEYS},  # set by benchmarking/repeats.py
        },
    )
